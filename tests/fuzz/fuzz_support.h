// Shared by the fuzz targets (tests/fuzz/<target>.cpp): a per-process scratch folder for the
// loaders that take a path, and the allocation check.
//
// The allocation check (fuzz builds only, CONVSCOPE_FUZZ_ALLOC_CHECK): ASan's malloc and free
// hooks keep the bytes live on the heap; AllocationBound measures the peak while one input is
// loaded and aborts (a crash libFuzzer saves) when it exceeds
//     multiple × reference + slack,
// reference being the input's size (or, where the format is compressed, the size it inflates
// to: a target passes that). libFuzzer's own -malloc_limit_mb catches a single huge allocation
// in the same run; this catches the sum.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>

#ifdef CONVSCOPE_FUZZ_ALLOC_CHECK
#include <sanitizer/allocator_interface.h>
#endif

namespace convscope::fuzz {

// $TMPDIR/convscope-fuzz-<pid>/, made once and removed at a normal exit.
inline const std::filesystem::path& scratch() {
    // On the heap and never freed, so it outlives the exit handler that removes the folder.
    static const std::filesystem::path* dir = [] {
        auto* d = new std::filesystem::path(std::filesystem::temp_directory_path() /
                                            ("convscope-fuzz-" + std::to_string(::getpid())));
        std::filesystem::create_directories(*d);
        std::atexit([] {
            std::error_code ec;
            std::filesystem::remove_all(scratch(), ec);
        });
        return d;
    }();
    return *dir;
}

inline std::string writeScratch(const std::string& name, const std::uint8_t* data,
                                std::size_t size) {
    const auto path = scratch() / name;
    std::filesystem::create_directories(path.parent_path());
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), std::streamsize(size));
    if (!out) {
        std::fprintf(stderr, "fuzz: cannot write %s\n", path.c_str());
        std::abort();
    }
    return path.string();
}

#ifdef CONVSCOPE_FUZZ_ALLOC_CHECK
namespace detail {
inline std::atomic<bool> tracking{false};
inline std::atomic<std::int64_t> live{0}, peak{0};

inline void onMalloc(const volatile void*, std::size_t size) {
    if (!tracking.load(std::memory_order_relaxed))
        return;
    const std::int64_t now =
        live.fetch_add(std::int64_t(size), std::memory_order_relaxed) + std::int64_t(size);
    std::int64_t p = peak.load(std::memory_order_relaxed);
    while (now > p && !peak.compare_exchange_weak(p, now, std::memory_order_relaxed)) {
    }
}
inline void onFree(const volatile void* ptr) {
    if (!tracking.load(std::memory_order_relaxed))
        return;
    const void* p = const_cast<const void*>(ptr);
    if (p && __sanitizer_get_ownership(p)) // a double free is ASan's to report
        live.fetch_sub(std::int64_t(__sanitizer_get_allocated_size(p)), std::memory_order_relaxed);
}
inline bool installHooks() {
    return __sanitizer_install_malloc_and_free_hooks(onMalloc, onFree) != 0;
}
} // namespace detail
#endif

// Peak heap growth while it lives, checked against multiple × reference + slack on check().
class AllocationBound {
public:
    AllocationBound() {
#ifdef CONVSCOPE_FUZZ_ALLOC_CHECK
        static const bool installed = detail::installHooks();
        if (!installed) {
            std::fprintf(stderr, "fuzz: cannot install the allocation hooks\n");
            std::abort();
        }
        detail::live = 0;
        detail::peak = 0;
        detail::tracking = true;
#endif
    }
    ~AllocationBound() {
#ifdef CONVSCOPE_FUZZ_ALLOC_CHECK
        detail::tracking = false;
#endif
    }
    AllocationBound(const AllocationBound&) = delete;
    AllocationBound& operator=(const AllocationBound&) = delete;

    // The heap's peak growth since construction, in bytes (0 without the check).
    static std::int64_t peak() {
#ifdef CONVSCOPE_FUZZ_ALLOC_CHECK
        return detail::peak.load();
#else
        return 0;
#endif
    }

    // Aborts when the peak exceeded multiple × reference + slack. With CONVSCOPE_FUZZ_PEAKS set
    // (bench/fuzz.sh --peaks), the largest growth and growth / reference seen are printed at exit.
    void check(const char* target, std::uint64_t reference, std::uint64_t multiple,
               std::uint64_t slack = kSlack) const {
#ifdef CONVSCOPE_FUZZ_ALLOC_CHECK
        const std::uint64_t limit = multiple * reference + slack;
        const auto p = std::uint64_t(std::max<std::int64_t>(peak(), 0));
        static const bool report = [target] {
            static const char* name = target;
            if (std::getenv("CONVSCOPE_FUZZ_PEAKS"))
                std::atexit([] {
                    const Peaks& w = worst();
                    std::fprintf(stderr,
                                 "fuzz %s: largest heap growth %llu bytes (reference %llu); "
                                 "largest growth / reference for references of 64 KiB or more: "
                                 "%.2f (%llu / %llu)\n",
                                 name, (unsigned long long)w.peak, (unsigned long long)w.peakRef,
                                 w.ratio, (unsigned long long)w.ratioPeak,
                                 (unsigned long long)w.ratioRef);
                });
            return true;
        }();
        (void)report;
        Peaks& w = worst();
        if (p > w.peak)
            w.peak = p, w.peakRef = reference;
        if (reference >= (64u << 10) && double(p) / double(reference) > w.ratio)
            w.ratio = double(p) / double(reference), w.ratioPeak = p, w.ratioRef = reference;
        if (p > limit) {
            std::fprintf(stderr,
                         "fuzz %s: the loader's heap grew by %llu bytes for a reference size of "
                         "%llu bytes (limit %llu × %llu + %llu = %llu)\n",
                         target, (unsigned long long)p, (unsigned long long)reference,
                         (unsigned long long)multiple, (unsigned long long)reference,
                         (unsigned long long)slack, (unsigned long long)limit);
            std::abort();
        }
#else
        (void)target, (void)reference, (void)multiple, (void)slack;
#endif
    }

    struct Peaks {
        std::uint64_t peak = 0, peakRef = 0, ratioPeak = 0, ratioRef = 0;
        double ratio = 0;
    };
    static Peaks& worst() {
        static Peaks w;
        return w;
    }

    // Fixed costs that do not grow with the input: zlib's window and buffers, stb_image's
    // decoder state, error messages, a few paths.
    static constexpr std::uint64_t kSlack = 1u << 20;
};

} // namespace convscope::fuzz
