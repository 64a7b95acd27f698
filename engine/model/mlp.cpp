// Mlp: planning of the flat parameter block, He initialisation, forward and backward recording.
#include "model/mlp.h"
#include "core/random.h"
#include "ops/activation.h"

#include <cmath>

namespace convscope::model {

std::int64_t Mlp::parameterCount() const {
    std::int64_t n = 0;
    for (std::size_t i = 1; i < m_sizes.size(); ++i)
        n += m_sizes[i] * m_sizes[i - 1] + m_sizes[i];
    return n;
}

std::string Mlp::summary() const {
    std::string s;
    for (auto v : m_sizes) {
        if (!s.empty())
            s += '-';
        s += std::to_string(v);
    }
    return s + " (" + std::to_string(parameterCount()) + " parameters)";
}

Status Mlp::plan(Backend& be, std::int64_t batch) {
    if (m_sizes.size() < 2)
        return Status::error("an MLP needs an input size and at least one layer", "mlp");
    for (std::size_t i = 0; i < m_sizes.size(); ++i)
        if (m_sizes[i] <= 0)
            return Status::error("size " + std::to_string(m_sizes[i]) + " must be positive",
                                 "mlp layer " + std::to_string(i));
    if (batch <= 0)
        return Status::error("batch size must be positive", "mlp");
    // Element offsets of every W and b, each on an aligned boundary so views stay bindable.
    const std::int64_t align = std::int64_t(be.alignment() / be.elementSize(DType::Real));
    auto roundUp = [&](std::int64_t v) { return (v + align - 1) / align * align; };
    std::vector<std::int64_t> wOff, bOff;
    std::int64_t total = 0;
    for (std::size_t i = 1; i < m_sizes.size(); ++i) {
        wOff.push_back(total);
        total = roundUp(total + m_sizes[i] * m_sizes[i - 1]);
        bOff.push_back(total);
        total = roundUp(total + m_sizes[i]);
    }
    m_params = be.tensor({total});
    m_grads = be.tensor({total});
    m_layers.clear();
    for (std::size_t i = 1; i < m_sizes.size(); ++i) {
        Layer l;
        l.shape = {batch, m_sizes[i - 1], m_sizes[i]};
        l.relu = i + 1 < m_sizes.size();
        l.w = be.view(m_params, wOff[i - 1], {m_sizes[i], m_sizes[i - 1]});
        l.b = be.view(m_params, bOff[i - 1], {m_sizes[i]});
        l.dw = be.view(m_grads, wOff[i - 1], {m_sizes[i], m_sizes[i - 1]});
        l.db = be.view(m_grads, bOff[i - 1], {m_sizes[i]});
        l.y = be.tensor({batch, m_sizes[i]});
        l.dy = be.tensor({batch, m_sizes[i]});
        m_layers.push_back(l);
    }
    return {};
}

Status Mlp::initialize(Backend& be, std::uint64_t seed) {
    Rng rng(seed);
    std::vector<double> values(std::size_t(m_params.numel()), 0.0);
    const std::int64_t realSize = std::int64_t(be.elementSize(DType::Real));
    for (const Layer& l : m_layers) {
        const double sigma = std::sqrt(2.0 / double(l.shape.in)); // He et al. 2015
        const std::int64_t first = std::int64_t(l.w.offset - m_params.offset) / realSize;
        for (std::int64_t i = 0; i < l.w.numel(); ++i)
            values[std::size_t(first + i)] = sigma * rng.normal();
    }
    CS_TRY(be.writeReal(m_params, values));
    return be.zero(m_grads);
}

Status Mlp::recordForward(Backend& be, const Tensor& x) {
    const Tensor* in = &x;
    for (std::size_t i = 0; i < m_layers.size(); ++i) {
        const Layer& l = m_layers[i];
        CS_TRY(ops::linearForward(be, l.shape, *in, l.w, l.b, l.y, l.relu)
                   .within("layer " + std::to_string(i) + " linear"));
        in = &l.y;
    }
    return {};
}

Status Mlp::recordBackward(Backend& be, const Tensor& x) {
    for (std::size_t i = m_layers.size(); i-- > 0;) {
        const Layer& l = m_layers[i];
        const Tensor& dy = l.dy;
        const Tensor& in = i == 0 ? x : m_layers[i - 1].y;
        const std::string where = "layer " + std::to_string(i) + " linear";
        CS_TRY(ops::linearBackwardWeight(be, l.shape, dy, in, l.dw, l.db).within(where));
        if (i == 0)
            break;
        const Layer& prev = m_layers[i - 1];
        CS_TRY(ops::linearBackwardData(be, l.shape, dy, l.w, prev.dy).within(where));
        // The ReLU fused into the previous layer's forward pass, backwards, in place.
        CS_TRY(ops::reluBackward(be, prev.y, prev.dy, prev.dy).within(where));
    }
    return {};
}

} // namespace convscope::model
