// fuzz_replay TARGET PATH...: runs every file under PATH (a corpus folder, or files) through the
// fuzz target's entry point, in name order, so each input that once crashed a loader stays a
// test of the normal build (ctest fuzz_replay_<target>). The targets' sources are compiled in with
// LLVMFuzzerTestOneInput renamed to convscope_fuzz_<target> (tests/CMakeLists.txt).
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#define X(name) extern "C" int convscope_fuzz_##name(const std::uint8_t*, std::size_t);
CONVSCOPE_FUZZ_TARGETS
#undef X

namespace {

using Entry = int (*)(const std::uint8_t*, std::size_t);

struct Target {
    const char* name;
    Entry entry;
};

#define X(name) {#name, convscope_fuzz_##name},
const Target kTargets[] = {CONVSCOPE_FUZZ_TARGETS};
#undef X

} // namespace

int main(int argc, char** argv) {
    namespace fs = std::filesystem;
    const Target* target = nullptr;
    if (argc >= 2)
        for (const Target& t : kTargets)
            if (std::strcmp(t.name, argv[1]) == 0)
                target = &t;
    if (!target || argc < 3) {
        std::fprintf(stderr, "usage: fuzz_replay TARGET PATH...\ntargets:");
        for (const Target& t : kTargets)
            std::fprintf(stderr, " %s", t.name);
        std::fprintf(stderr, "\n");
        return 2;
    }
    std::vector<fs::path> files;
    for (int i = 2; i < argc; ++i) {
        std::error_code ec;
        if (fs::is_directory(argv[i], ec)) {
            for (const auto& e : fs::recursive_directory_iterator(argv[i]))
                if (e.is_regular_file())
                    files.push_back(e.path());
        } else if (fs::is_regular_file(argv[i], ec)) {
            files.emplace_back(argv[i]);
        } else {
            std::fprintf(stderr, "fuzz_replay: %s is not a file or folder\n", argv[i]);
            return 2;
        }
    }
    if (files.empty()) {
        std::fprintf(stderr, "fuzz_replay: no inputs under the paths given\n");
        return 2;
    }
    std::sort(files.begin(), files.end());
    const auto start = std::chrono::steady_clock::now();
    for (const fs::path& f : files) {
        std::ifstream in(f, std::ios::binary);
        const std::vector<char> bytes{std::istreambuf_iterator<char>(in), {}};
        std::fprintf(stderr, "fuzz_replay %s: %s (%zu bytes)\n", target->name, f.c_str(),
                     bytes.size());
        target->entry(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
    }
    const double s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("fuzz_replay %s: %zu inputs, no crash, %.2f s\n", target->name, files.size(), s);
    return 0;
}
