// The PyTorch oracle of the analysis tests: checkpoints written for scripts/convscope_torch.py,
// and tests/analysis/analysis_torch.py run on them (Debian's /usr/bin/python3 with torch).
#pragma once

#include "io/safetensors.h"
#include "model/netspec.h"
#include <QString>
#include <string>
#include <vector>

namespace convscope::testing {

// Empty when /usr/bin/python3 imports torch; else why not (install python3-torch).
QString torchMissing();

// A checkpoint file as the trainer writes it: `weights` plus metadata spec, mean and std.
Status writeCheckpoint(const std::string& path, const model::NetSpec& spec, io::SafeTensors weights,
                       double mean, double std);

// `spec` with its own initialisation (`seed`) and, so that evaluation mode matters, batch-norm
// γ, β and running statistics drawn at random, written as a checkpoint.
Status writeRandomCheckpoint(const std::string& path, const model::NetSpec& spec,
                             std::uint64_t seed, double mean, double std);

// A stored F32 tensor from doubles (rounded to float).
io::StoredTensor storedF32(std::vector<std::int64_t> shape, const std::vector<double>& values);
io::StoredTensor storedI64(const std::vector<std::int64_t>& values);
// The values of a stored tensor (F32, F64 or I64) as doubles; empty when it is missing.
std::vector<double> valuesOf(const io::SafeTensors& f, const std::string& name);

// Runs analysis_torch.py on `checkpoint` with `inputs` (its tensors and metadata: see the
// script) in "float64" or "float32"; the output tensors, or an error with the script's stderr.
Result<io::SafeTensors> torchAnalysis(const std::string& checkpoint, const io::SafeTensors& inputs,
                                      const std::string& dtype = "float64");

} // namespace convscope::testing
