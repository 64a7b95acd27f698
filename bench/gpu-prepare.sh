#!/usr/bin/env bash
# bench/gpu-prepare.sh: run HERE (Debian 12, with the network) before a device run of
# bench/gpu.sh. The device machine (see the device tool's README) has CMake, ninja, a C++
# compiler, CUDA PyTorch and an NVIDIA driver, but no Vulkan loader, no Qt, Eigen, glslc or
# Fashion-MNIST, and no network. This fetches, into folders git ignores:
#   .gl/         the loaders (libvulkan1 and the GL set), as the device README says: gpu.sh
#                unpacks them into / (dpkg -x) and runs ldconfig
#   .gpu-debs/   Debian 12's build dependencies of a headless build (CONVSCOPE_HEADLESS: the
#                engine, convscope-cli, bench and the engine's test suites): Qt 6 Core + Test,
#                Eigen, nlohmann-json, stb, Vulkan headers, glslc, the validation layer, curl's
#                headers, and libcurl4 with its runtime closure (in case the device has no
#                libcurl.so.4); gpu.sh unpacks them into .gpu-root/ (never into /), and of the
#                runtime libraries keeps only those the device does not have (by SONAME)
#   .gpu-data/   Fashion-MNIST for the landscape bench: the first 10,000 training images (the
#                issue's 51×51 resnet20 grid uses 10,000) and the test set (9 MB instead of 31)
# Then, with the device tool: run(carry=[".gl", ".gpu-debs", ".gpu-data"],
#   command="bench/gpu.sh", timeout_s=600) — everything travels under 64 MiB (du prints it).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
mkdir -p .gl .gpu-debs .gpu-data /tmp/amd64/partial
o=(-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64)
apt-get "${o[@]}" update -q >/dev/null
(cd .gl && rm -f ./*.deb &&
  apt-get "${o[@]}" download -q libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
(cd .gpu-debs && rm -f ./*.deb && apt-get "${o[@]}" download -q \
  qt6-base-dev qt6-base-dev-tools qmake6 qmake6-bin libqt6core6 libqt6test6 libqt6dbus6 \
  libicu72 libdouble-conversion3 libpcre2-16-0 libb2-1 \
  libeigen3-dev nlohmann-json3-dev libstb-dev libstb0 \
  libvulkan-dev glslc libshaderc1 vulkan-validationlayers \
  libcurl4-openssl-dev libcurl4 zlib1g-dev \
  libbrotli1 libcom-err2 libdb5.3 libffi8 libgmp10 libgnutls30 libgssapi-krb5-2 libhogweed6 \
  libidn2-0 libk5crypto3 libkeyutils1 libkrb5-3 libkrb5support0 libldap-2.5-0 libnettle8 \
  libnghttp2-14 libp11-kit0 libpsl5 librtmp1 libsasl2-2 libsasl2-modules-db libssh2-1 \
  libtasn1-6 libunistring2 libssl3)
fm=/usr/share/datasets/fashion-mnist
[ -f "$fm/train-images-idx3-ubyte.gz" ] || { echo "needs dataset-fashion-mnist here" >&2; exit 1; }
python3 - "$fm" .gpu-data 10000 <<'PY'
import gzip, shutil, struct, sys
src, dst, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
for name, item in (("train-images-idx3-ubyte.gz", 28 * 28), ("train-labels-idx1-ubyte.gz", 1)):
    with gzip.open(f"{src}/{name}") as f:
        magic = f.read(4)
        dims = magic[3]
        shape = list(struct.unpack(f">{dims}I", f.read(4 * dims)))
        shape[0] = n
        body = f.read(n * item)
    with gzip.open(f"{dst}/{name}", "wb") as g:
        g.write(magic + struct.pack(f">{dims}I", *shape) + body)
for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
    shutil.copy(f"{src}/{name}", f"{dst}/{name}")
PY
grep -qx '/.gpu-debs/' .gitignore 2>/dev/null || echo "note: .gitignore should list /.gpu-debs/ /.gpu-data/ /.gpu-root/" >&2
du -sh .gl .gpu-debs .gpu-data
echo "tree that travels: $(git ls-files -z | xargs -0 du -cb | tail -1 | cut -f1) bytes tracked, plus the three folders above"
