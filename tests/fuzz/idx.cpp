// Fuzz target: IDX files (data::readIdx), gzip-compressed or raw, written to a scratch file.
// Checks: no crash or leak; a file read has values for exactly its dimensions; an error names the
// file; the heap grows by at most 4 × the larger of the file and what it inflates to.
#include "data/idx.h"
#include "fuzz_support.h"

#include <zlib.h>

using namespace convscope;

namespace {

// The bytes the file inflates to (raw files: their size), counted without keeping them.
std::uint64_t inflatedSize(const std::string& path) {
    gzFile f = gzopen(path.c_str(), "rb");
    if (!f)
        return 0;
    static std::uint8_t buf[1 << 16];
    std::uint64_t total = 0;
    for (int n; (n = gzread(f, buf, sizeof buf)) > 0 && total < (8ull << 30);)
        total += std::uint64_t(n);
    gzclose(f);
    return total;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string path = fuzz::writeScratch("idx/input-idx3-ubyte.gz", data, size);
    const std::uint64_t inflated = inflatedSize(path);
    fuzz::AllocationBound bound;
    {
        auto r = data::readIdx(path);
        if (r.ok()) {
            std::uint64_t n = 1;
            for (auto d : r->dims)
                n *= std::uint64_t(d);
            if (r->dims.empty() || n != r->values.size())
                std::abort();
        } else if (r.status().message().find(path) == std::string::npos) {
            std::abort();
        }
    }
    bound.check("idx", std::max<std::uint64_t>(size, inflated), 4);
    return 0;
}
