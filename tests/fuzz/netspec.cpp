// Fuzz target: NetSpec JSON (model::parseNetSpec), then shape inference (model::analyze) and the
// editors' partial analysis on what parses.
// Checks: no crash, leak, stack overflow or undefined behaviour (signed overflow in the shape,
// parameter and FLOP arithmetic); a parsed spec writes JSON (toJson) that parses back to the
// same JSON; errors name the file; the heap grows by at most 128 × the input's size (a JSON
// tree, the parsed layers and one analysis row each).
#include "model/netspec.h"
#include "fuzz_support.h"

using namespace convscope;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    const std::string where = "fuzz.json";
    fuzz::AllocationBound bound;
    {
        auto spec = model::parseNetSpec(text, where);
        if (!spec.ok()) {
            if (spec.status().where().rfind(where, 0) != 0)
                std::abort();
        } else {
            Status partialError;
            const model::Analysis partial = model::analyzePartial(*spec, partialError);
            auto a = model::analyze(*spec);
            if (a.ok() != partialError.ok())
                std::abort();
            if (a.ok())
                (void)a->table();
            const std::string json = model::toJson(*spec);
            auto back = model::parseNetSpec(json, "toJson");
            if (!back.ok() || model::toJson(*back) != json)
                std::abort();
            (void)partial;
        }
    }
    bound.check("netspec", size, 128);
    return 0;
}
