// CIFAR-10 in its binary form (cifar-10-batches-bin): five training batches and one test batch of
// 10000 records each, a record being 1 label byte followed by 3072 pixel bytes (3 x 32 x 32, CHW).
#pragma once

#include "data/idx.h"

namespace convscope::data {

// Where to get the binary batches; quoted by every error about a missing folder or file.
inline constexpr const char* kCifar10Url =
    "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz";

// Reads one CIFAR-10 binary batch file (any number of records). Errors name the file and say what
// is wrong with it: missing, a size that is not a multiple of 3073 bytes, a label above 9.
Result<ImageDataset> readCifar10Batch(const std::string& path, const std::string& name);

// CIFAR-10 from `dir`, the extracted cifar-10-batches-bin folder: data_batch_1.bin ..
// data_batch_5.bin (train) and test_batch.bin (test). Class names come from batches.meta.txt
// when the folder has it, else the standard ten. mean/std are those of the training pixels.
Result<TrainTestSplit> loadCifar10(const std::string& dir);

} // namespace convscope::data
