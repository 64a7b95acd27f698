// Fuzz target: a run folder's metrics.csv (train::parseMetricsCsv).
// Checks: no crash, leak or exception; rows and skipped lines never outnumber the lines; rows
// have non-negative epochs and steps; the heap grows by at most 32 × the input's size.
#include "train/metrics_csv.h"
#include "fuzz_support.h"

#include <algorithm>

using namespace convscope;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    const auto lines = std::int64_t(std::count(text.begin(), text.end(), '\n')) + 1;
    fuzz::AllocationBound bound;
    {
        const train::MetricsCsv csv = train::parseMetricsCsv(text);
        if (std::int64_t(csv.rows.size()) + csv.skipped + (csv.header ? 1 : 0) > lines)
            std::abort();
        for (const auto& r : csv.rows)
            if (r.epoch < 0 || r.step < 0)
                std::abort();
    }
    bound.check("metrics_csv", size, 32);
    return 0;
}
