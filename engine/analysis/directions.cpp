// Directions: Li et al.'s Gaussian directions and their normalisations; safetensors I/O.
#include "analysis/directions.h"

#include "core/random.h"
#include <cmath>

namespace convscope::analysis {

namespace {
std::vector<Slice> layoutOf(const Backend& be, const model::Network& net, bool parameters) {
    const Tensor& whole = parameters ? net.params() : net.buffers();
    std::vector<Slice> out;
    for (const model::NamedTensor& t : net.namedTensors()) {
        if (t.parameter != parameters)
            continue;
        Slice s;
        s.name = t.name;
        s.dims = t.dims;
        s.offset = std::int64_t(t.tensor.offset - whole.offset) /
                   std::int64_t(be.elementSize(DType::Real));
        s.numel = t.tensor.numel();
        out.push_back(std::move(s));
    }
    return out;
}
} // namespace

std::vector<Slice> parameterLayout(const Backend& be, const model::Network& net) {
    return layoutOf(be, net, true);
}
std::vector<Slice> bufferLayout(const Backend& be, const model::Network& net) {
    return layoutOf(be, net, false);
}

std::int64_t flatSize(const std::vector<Slice>& layout) {
    std::int64_t n = 0;
    for (const Slice& s : layout)
        n = std::max(n, s.offset + s.numel);
    return n;
}

bool parseDirectionNorm(const std::string& text, DirectionNorm& out) {
    if (text == "filter")
        out = DirectionNorm::Filter;
    else if (text == "layer")
        out = DirectionNorm::Layer;
    else if (text == "none")
        out = DirectionNorm::None;
    else
        return false;
    return true;
}

const char* directionNormName(DirectionNorm n) {
    switch (n) {
    case DirectionNorm::Filter:
        return "filter";
    case DirectionNorm::Layer:
        return "layer";
    case DirectionNorm::None:
        return "none";
    }
    return "?";
}

double norm2(std::span<const double> v) {
    return std::sqrt(dot(v, v));
}

double dot(std::span<const double> a, std::span<const double> b) {
    double s = 0;
    for (std::size_t i = 0; i < a.size() && i < b.size(); ++i)
        s += a[i] * b[i];
    return s;
}

void normalizeDirection(const std::vector<Slice>& layout, std::span<const double> theta,
                        DirectionNorm norm, std::span<double> d) {
    for (const Slice& s : layout) {
        std::span<double> ds = d.subspan(std::size_t(s.offset), std::size_t(s.numel));
        std::span<const double> ws = theta.subspan(std::size_t(s.offset), std::size_t(s.numel));
        if (!s.multiDimensional()) { // biases, γ, β: Li et al.'s ignore='biasbn'
            std::fill(ds.begin(), ds.end(), 0.0);
            continue;
        }
        if (norm == DirectionNorm::None)
            continue;
        // Filter: one slice per index of the first dimension; layer: the whole tensor.
        const std::int64_t slices = norm == DirectionNorm::Filter ? s.dims[0] : 1;
        const std::size_t len = std::size_t(s.numel / slices);
        for (std::int64_t i = 0; i < slices; ++i) {
            auto di = ds.subspan(std::size_t(i) * len, len);
            const double scale = norm2(ws.subspan(std::size_t(i) * len, len)) / (norm2(di) + 1e-10);
            for (double& v : di)
                v *= scale;
        }
    }
}

std::vector<double> randomDirection(const std::vector<Slice>& layout, std::span<const double> theta,
                                    DirectionNorm norm, std::uint64_t seed, int index) {
    const std::int64_t n = flatSize(layout);
    // One stream per direction: δ and η are independent and each is reproducible on its own.
    Rng rng(seed * 0x9e3779b97f4a7c15ull + std::uint64_t(index) * 0xd1b54a32d192ed03ull + 1);
    std::vector<double> drawn(std::size_t(n), 0.0), d(std::size_t(n), 0.0);
    for (double& v : drawn)
        v = rng.normal();
    // Only the tensors' elements: the arena's alignment gaps between them stay zero.
    for (const Slice& s : layout)
        std::copy_n(drawn.begin() + s.offset, s.numel, d.begin() + s.offset);
    normalizeDirection(layout, theta, norm, d);
    return d;
}

io::SafeTensors directionsFile(const std::vector<Slice>& layout, std::span<const double> delta,
                               std::span<const double> eta,
                               std::map<std::string, std::string> metadata) {
    io::SafeTensors f;
    f.metadata = std::move(metadata);
    for (const auto& [prefix, v] : {std::pair{"delta.", delta}, std::pair{"eta.", eta}}) {
        if (v.empty())
            continue;
        for (const Slice& s : layout) {
            io::StoredTensor t;
            t.shape = s.dims;
            t.f32.assign(v.begin() + s.offset, v.begin() + s.offset + s.numel);
            f.tensors[prefix + s.name] = std::move(t);
        }
    }
    return f;
}

Status readDirections(const io::SafeTensors& file, const std::vector<Slice>& layout,
                      std::vector<double>& delta, std::vector<double>& eta,
                      const std::string& where) {
    if (layout.empty())
        return Status::error("the network has no parameters", where);
    const std::int64_t n = flatSize(layout);
    delta.assign(std::size_t(n), 0.0);
    eta.clear();
    const bool hasEta = file.tensors.count("eta." + layout.front().name) > 0;
    if (hasEta)
        eta.assign(std::size_t(n), 0.0);
    for (const auto& [prefix, v] :
         {std::pair{std::string("delta."), &delta}, std::pair{std::string("eta."), &eta}}) {
        if (v->empty())
            continue;
        for (const Slice& s : layout) {
            auto it = file.tensors.find(prefix + s.name);
            if (it == file.tensors.end() || it->second.dtype != "F32" ||
                it->second.numel() != s.numel)
                return Status::error("tensor \"" + prefix + s.name +
                                         "\" is missing or has the "
                                         "wrong size",
                                     where, "Use the directions written for this network");
            std::copy(it->second.f32.begin(), it->second.f32.end(), v->begin() + s.offset);
        }
    }
    return {};
}

} // namespace convscope::analysis
