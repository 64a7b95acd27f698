// Fuzz target: CIFAR-10 binary batches (data::readCifar10Batch), written to a scratch file.
// Checks: no crash or leak; a batch read holds size / 3073 records with labels below 10; an error
// names the file; the heap grows by at most 4 × the file's size.
#include "data/cifar.h"
#include "fuzz_support.h"

using namespace convscope;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string path = fuzz::writeScratch("cifar/data_batch_1.bin", data, size);
    fuzz::AllocationBound bound;
    {
        auto r = data::readCifar10Batch(path, "fuzz");
        if (r.ok()) {
            if (r->count * 3073 != std::int64_t(size) ||
                r->images.size() != std::size_t(r->count) * 3072 ||
                r->labels.size() != std::size_t(r->count))
                std::abort();
            for (auto l : r->labels)
                if (l >= 10)
                    std::abort();
        } else if (r.status().message().find(path) == std::string::npos) {
            std::abort();
        }
    }
    bound.check("cifar", size, 4);
    return 0;
}
