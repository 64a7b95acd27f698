// Shape and Tensor: a tensor is a typed, shaped view into one of a backend's memory arenas.
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <string>

namespace convscope {

// Element types. `Real` is the backend's compute type: float on Vulkan and in CpuBackend<float>,
// double in CpuBackend<double> (the oracle).
enum class DType : std::uint8_t { Real, U8, I32 };

// Where a tensor lives. Host tensors are mapped and coherent: the host writes batch indices,
// hyper-parameters and reads the metric ring there without staging copies.
enum class Placement : std::uint8_t { Device, Host };

struct Shape {
    static constexpr int kMaxRank = 4;
    std::array<std::int64_t, kMaxRank> dims{};
    int rank = 0;

    Shape() = default;
    Shape(std::initializer_list<std::int64_t> d) {
        for (auto v : d)
            dims[rank++] = v;
    }
    std::int64_t operator[](int i) const { return dims[i]; }
    std::int64_t numel() const {
        std::int64_t n = 1;
        for (int i = 0; i < rank; ++i)
            n *= dims[i];
        return n;
    }
    bool operator==(const Shape& o) const {
        if (rank != o.rank)
            return false;
        for (int i = 0; i < rank; ++i)
            if (dims[i] != o.dims[i])
                return false;
        return true;
    }
    std::string str() const {
        std::string s = "(";
        for (int i = 0; i < rank; ++i) {
            if (i)
                s += ',';
            s += std::to_string(dims[i]);
        }
        return s + ")";
    }
};

struct Tensor {
    Shape shape;
    DType dtype = DType::Real;
    Placement placement = Placement::Device;
    std::uint64_t offset = 0; // bytes from the start of its arena
    std::uint64_t bytes = 0;  // size in bytes (elements x element size of the backend)

    std::int64_t numel() const { return shape.numel(); }
    bool valid() const { return bytes > 0; }
};

} // namespace convscope
