// Safetensors (the Hugging Face layout): an 8-byte little-endian header length, a JSON header
// {"name": {"dtype", "shape", "data_offsets"}, "__metadata__": {...}}, then the raw data.
// Checkpoints use it so a PyTorch user loads them in a few lines (scripts/convscope_torch.py).
#pragma once

#include "core/status.h"
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace convscope::io {

struct StoredTensor {
    std::string dtype = "F32";       // F32 or I64
    std::vector<std::int64_t> shape; // [] for a scalar
    std::vector<float> f32;          // when dtype is F32
    std::vector<std::int64_t> i64;   // when dtype is I64
    std::int64_t numel() const;
};

struct SafeTensors {
    std::map<std::string, StoredTensor> tensors;
    std::map<std::string, std::string> metadata;
};

std::string encodeSafetensors(const SafeTensors& file);
// Errors name the file and what is wrong (truncated, bad header, offsets out of range).
Result<SafeTensors> decodeSafetensors(const std::string& bytes, const std::string& where);
// Written atomically.
Status saveSafetensors(const std::string& path, const SafeTensors& file);
Result<SafeTensors> loadSafetensors(const std::string& path);

} // namespace convscope::io
