// Fuzz target: safetensors bytes (io::decodeSafetensors: the header JSON and the data), then
// model::checkFinite on what decodes, as loading a checkpoint does.
// Checks: no crash or leak; a decoded file has non-negative shapes whose element counts match its
// data, and encodes and decodes back to the same tensors; an error names the file; the heap grows
// by at most 64 × the input's size (the header's JSON tree dominates).
#include "io/safetensors.h"
#include "fuzz_support.h"
#include "model/weights.h"

#include <cstring>

using namespace convscope;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string bytes(reinterpret_cast<const char*>(data), size);
    const std::string where = "fuzz.safetensors";
    fuzz::AllocationBound bound;
    {
        auto r = io::decodeSafetensors(bytes, where);
        if (!r.ok()) {
            if (r.status().where() != where)
                std::abort();
        } else {
            for (const auto& [name, t] : r->tensors) {
                for (auto d : t.shape)
                    if (d < 0)
                        std::abort();
                const auto n = std::size_t(t.numel());
                if (t.dtype == "F32" ? t.f32.size() != n || !t.i64.empty()
                                     : t.dtype != "I64" || t.i64.size() != n || !t.f32.empty())
                    std::abort();
            }
            (void)model::checkFinite(*r, where);
            auto again = io::decodeSafetensors(io::encodeSafetensors(*r), where);
            if (!again.ok() || again->metadata != r->metadata ||
                again->tensors.size() != r->tensors.size())
                std::abort();
            for (const auto& [name, t] : r->tensors) {
                const auto& u = again->tensors.at(name);
                if (u.dtype != t.dtype || u.shape != t.shape || u.i64 != t.i64 ||
                    u.f32.size() != t.f32.size() ||
                    (!t.f32.empty() &&
                     std::memcmp(u.f32.data(), t.f32.data(), t.f32.size() * 4) != 0))
                    std::abort();
            }
        }
    }
    bound.check("safetensors", size, 64);
    return 0;
}
