# Shared by scripts/run and scripts/test: install what is missing (apt), then configure and build.
# Sourced, not run. Idempotent: a second run installs nothing and rebuilds only what changed.

CONVSCOPE_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CONVSCOPE_BUILD=${CONVSCOPE_BUILD:-$CONVSCOPE_ROOT/build}

# Everything the build, the tests and the default run need, all from Debian 12.
CONVSCOPE_PACKAGES=(
  cmake ninja-build g++ pkg-config
  qt6-base-dev qt6-base-dev-tools qt6-charts-dev qt6-datavisualization-dev qt6-svg-dev
  qt6-declarative-dev libxkbcommon-dev libgl-dev
  libvulkan-dev glslc mesa-vulkan-drivers vulkan-validationlayers vulkan-tools
  libeigen3-dev nlohmann-json3-dev zlib1g-dev libstb-dev libcurl4-openssl-dev ca-certificates
  dataset-fashion-mnist
  xvfb xauth
)

convscope_install_packages() {
  local missing=()
  for p in "${CONVSCOPE_PACKAGES[@]}" "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "convscope: installing ${missing[*]}"
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
      sudo="sudo"
    else
      echo "convscope: not root and no sudo; install these packages first: ${missing[*]}" >&2
      return 1
    fi
  fi
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null || {
    echo "convscope: apt-get update failed; check the network or the apt sources" >&2; return 1; }
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    "${missing[@]}" || { echo "convscope: apt-get install failed for: ${missing[*]}" >&2; return 1; }
}

convscope_build() {
  local generator=()
  command -v ninja >/dev/null 2>&1 && generator=(-G Ninja)
  if [ ! -f "$CONVSCOPE_BUILD/CMakeCache.txt" ]; then
    cmake -S "$CONVSCOPE_ROOT" -B "$CONVSCOPE_BUILD" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release || return 1
  fi
  cmake --build "$CONVSCOPE_BUILD" --parallel "$(nproc)" || return 1
}
