// Network: the layer tree, tensor planning (views into flat parameter/gradient blocks, ReLU fused
// into conv/linear, activations in place where the producer's output is not needed again),
// seeded initialisation, and forward/backward recording.
#include "model/network.h"
#include "core/random.h"
#include "ops/add.h"
#include "ops/batch_norm_fold.h"
#include "ops/conv2d.h"
#include "ops/flatten.h"
#include "ops/pool2d.h"

#include <cmath>
#include <cstdio>
#include <functional>

namespace convscope::model {

using NodeList = std::vector<std::unique_ptr<Network::Node>>;

struct Network::Node {
    const LayerSpec* spec = nullptr;
    std::unique_ptr<LayerSpec> ownSpec; // the projection shortcut's synthetic layers
    LayerType type = LayerType::Relu;
    std::string path;
    Dims in, out;
    Tensor x, y, dy;         // input (training mode), output, output gradient
    Tensor dx;               // where the input gradient goes; invalid when not needed
    bool accumulate = false; // add into dx instead of overwriting it
    Tensor dxTmp;            // the input gradient of ops that cannot add into dx
    bool fusedRelu = false;  // conv/linear: ReLU applied in the epilogue
    bool alias = false;      // a ReLU fused into its producer: no op of its own
    Tensor w, b, dw, db, runMean, runVar, mean, invstd, argmax;
    Tensor foldW, foldB; // batch norm after a conv/linear: that layer's folded weights (inference)
    NodeList body, shortcut;        // residual
    std::vector<NodeList> branches; // concat
    ops::ConcatShape cat;
};

namespace {

using Node = Network::Node;
using Fill = Network::InitSlot::Fill;

ops::Activation activationOf(const LayerSpec& l) {
    ops::Activation a;
    a.kind = l.type == LayerType::LeakyRelu ? ops::ActivationKind::LeakyRelu
             : l.type == LayerType::Sigmoid ? ops::ActivationKind::Sigmoid
             : l.type == LayerType::Tanh    ? ops::ActivationKind::Tanh
                                            : ops::ActivationKind::Relu;
    a.slope = l.slope;
    return a;
}

// Producers whose backward pass does not read their own output, so an activation after them may
// overwrite it in place.
bool outputReusable(const Node& n) {
    switch (n.type) {
    case LayerType::Conv2d:
    case LayerType::Linear:
    case LayerType::BatchNorm:
    case LayerType::LayerNorm:
    case LayerType::MaxPool2d:
    case LayerType::AvgPool2d:
    case LayerType::GlobalAvgPool:
    case LayerType::Dropout:
    case LayerType::Concat:
        return !n.fusedRelu;
    case LayerType::Residual:
        return n.spec->activation != LayerType::Relu;
    default:
        return false;
    }
}

Shape shapeOf(std::int64_t n, const Dims& d) {
    return d.flat ? Shape{n, d.c} : Shape{n, d.c, d.h, d.w};
}

Tensor reshaped(const Tensor& t, std::int64_t n, const Dims& d) {
    if (!t.valid())
        return t;
    Tensor r = t;
    r.shape = shapeOf(n, d);
    return r;
}

std::uint64_t hashString(const std::string& s, std::uint64_t h = 1469598103934665603ull) {
    for (unsigned char c : s)
        h = (h ^ c) * 1099511628211ull;
    return h;
}

Result<NodeList> build(const std::vector<LayerSpec>& layers, Dims in, const std::string& prefix);

// A node for a layer the spec does not list (the projection shortcut's conv and batch norm).
std::unique_ptr<Node> syntheticNode(std::unique_ptr<LayerSpec> spec, const std::string& path,
                                    const Dims& in, const Dims& out) {
    auto n = std::make_unique<Node>();
    n->spec = spec.get();
    n->type = spec->type;
    n->ownSpec = std::move(spec);
    n->path = path;
    n->in = in;
    n->out = out;
    return n;
}

Result<std::unique_ptr<Node>> buildNode(const LayerSpec& l, const Dims& in,
                                        const std::string& path) {
    auto n = std::make_unique<Node>();
    n->spec = &l;
    n->type = l.type;
    n->path = path;
    n->in = in;
    if (l.type == LayerType::Residual) {
        CS_TRY_ASSIGN(n->body, build(l.body, in, path + ".body."));
        n->out = n->body.back()->out;
        if (l.shortcut == Shortcut::Projection) {
            auto conv = std::make_unique<LayerSpec>();
            conv->type = LayerType::Conv2d;
            conv->name = "conv";
            conv->out = n->out.c;
            conv->kernelH = conv->kernelW = 1;
            conv->strideH = conv->strideW = projectionStride(in, n->out);
            conv->bias = !l.shortcutBatchNorm;
            n->shortcut.push_back(
                syntheticNode(std::move(conv), path + ".shortcut.conv", in, n->out));
            if (l.shortcutBatchNorm) {
                auto bn = std::make_unique<LayerSpec>();
                bn->type = LayerType::BatchNorm;
                bn->name = "bn";
                n->shortcut.push_back(
                    syntheticNode(std::move(bn), path + ".shortcut.bn", n->out, n->out));
            }
        }
    } else if (l.type == LayerType::Concat) {
        std::int64_t channels = 0;
        for (std::size_t b = 0; b < l.branches.size(); ++b) {
            CS_TRY_ASSIGN(NodeList branch,
                          build(l.branches[b], in, path + ".branch" + std::to_string(b + 1) + "."));
            channels += branch.back()->out.c;
            n->cat.channels.push_back(branch.back()->out.c);
            n->branches.push_back(std::move(branch));
        }
        n->out = {channels, n->branches[0].back()->out.h, n->branches[0].back()->out.w, false};
    } else {
        CS_TRY_ASSIGN(n->out, layerOutput(l, in));
    }
    return n;
}

Result<NodeList> build(const std::vector<LayerSpec>& layers, Dims in, const std::string& prefix) {
    NodeList nodes;
    for (const LayerSpec& l : layers) {
        CS_TRY_ASSIGN(auto n, buildNode(l, in, prefix + l.name));
        in = n->out;
        nodes.push_back(std::move(n));
    }
    return nodes;
}

// Everything planning needs to carry around.
struct Planner {
    Backend& be;
    std::int64_t N;
    struct Slot {
        std::string name;
        std::vector<std::int64_t> dims;
        Tensor* view;
        Tensor* grad; // null for buffers
        Fill fill;
        Init init;
        std::int64_t fanIn = 0, fanOut = 0;
    };
    std::vector<Slot> params, buffers;
    std::vector<Tensor*> zeroed; // bias tensors of bias-free layers
    const Init& defaultInit;

    Tensor act(const Dims& d) { return be.tensor(shapeOf(N, d)); }

    void registerParams(Node& n) {
        const LayerSpec& l = *n.spec;
        if (n.type == LayerType::Conv2d || n.type == LayerType::Linear) {
            const bool conv = n.type == LayerType::Conv2d;
            const std::int64_t fanIn =
                conv ? (n.in.c / l.groups) * l.kernelH * l.kernelW : n.in.numel();
            const std::int64_t fanOut = conv ? l.out * l.kernelH * l.kernelW : l.out;
            std::vector<std::int64_t> dims =
                conv ? std::vector<std::int64_t>{l.out, n.in.c / l.groups, l.kernelH, l.kernelW}
                     : std::vector<std::int64_t>{l.out, n.in.numel()};
            params.push_back({n.path + ".weight", dims, &n.w, &n.dw, Fill::Weights,
                              l.hasInit ? l.init : defaultInit, fanIn, fanOut});
            if (l.bias) {
                params.push_back({n.path + ".bias", {l.out}, &n.b, &n.db, Fill::Zeros, {}, 0, 0});
            } else {
                n.b = be.tensor({l.out});
                n.db = be.tensor({l.out});
                zeroed.push_back(&n.b);
            }
        } else if (n.type == LayerType::BatchNorm) {
            params.push_back({n.path + ".weight", {n.in.c}, &n.w, &n.dw, Fill::Ones, {}, 0, 0});
            params.push_back({n.path + ".bias", {n.in.c}, &n.b, &n.db, Fill::Zeros, {}, 0, 0});
            buffers.push_back(
                {n.path + ".running_mean", {n.in.c}, &n.runMean, nullptr, Fill::Zeros, {}, 0, 0});
            buffers.push_back(
                {n.path + ".running_var", {n.in.c}, &n.runVar, nullptr, Fill::Ones, {}, 0, 0});
        } else if (n.type == LayerType::LayerNorm) {
            std::vector<std::int64_t> dims =
                n.in.flat ? std::vector<std::int64_t>{n.in.c}
                          : std::vector<std::int64_t>{n.in.c, n.in.h, n.in.w};
            params.push_back({n.path + ".weight", dims, &n.w, &n.dw, Fill::Ones, {}, 0, 0});
            params.push_back({n.path + ".bias", dims, &n.b, &n.db, Fill::Zeros, {}, 0, 0});
        }
        for (auto& c : n.body)
            registerParams(*c);
        for (auto& c : n.shortcut)
            registerParams(*c);
        for (auto& br : n.branches)
            for (auto& c : br)
                registerParams(*c);
    }

    // Plans a sequence reading x; its input gradient goes to dx (invalid: not needed), added
    // when `accumulate`. Returns the last node (its y/dy are the sequence's output).
    void sequence(NodeList& nodes, Tensor x, Tensor dx, bool accumulate) {
        Node* prev = nullptr;
        for (auto& np : nodes) {
            Node& n = *np;
            n.x = x;
            n.dx = dx;
            n.accumulate = accumulate && dx.valid();
            node(n, prev);
            if (n.type == LayerType::Flatten) {
                // A view: the next layer reads and writes the same memory, accumulate included.
                x = n.y;
                dx = n.dy;
            } else {
                x = n.y;
                dx = n.dy;
                accumulate = false;
            }
            prev = &n;
        }
    }

    void node(Node& n, Node* prev) {
        const LayerSpec& l = *n.spec;
        const bool ownsDx =
            n.accumulate && n.type != LayerType::Conv2d && n.type != LayerType::Linear;
        switch (n.type) {
        case LayerType::Flatten:
            n.y = ops::flatten(n.x);
            n.dy = n.dx.valid() ? ops::flatten(n.dx) : Tensor{};
            return;
        case LayerType::Relu:
        case LayerType::LeakyRelu:
        case LayerType::Sigmoid:
        case LayerType::Tanh:
            if (prev && l.type == LayerType::Relu &&
                (prev->type == LayerType::Conv2d || prev->type == LayerType::Linear) &&
                !prev->fusedRelu) {
                prev->fusedRelu = true;
                n.alias = true;
                n.y = prev->y;
                n.dy = prev->dy;
                return;
            }
            if (prev && outputReusable(*prev) && prev->dy.valid()) {
                n.y = prev->y; // in place
                n.dy = prev->dy;
                return;
            }
            break;
        case LayerType::MaxPool2d:
            n.argmax = be.tensor(shapeOf(N, n.out), DType::I32);
            break;
        case LayerType::BatchNorm:
            n.mean = be.tensor({n.in.c});
            n.invstd = be.tensor({n.in.c});
            if (prev && (prev->type == LayerType::Conv2d || prev->type == LayerType::Linear) &&
                !prev->fusedRelu) {
                n.foldW = be.tensor({prev->w.numel()});
                n.foldB = be.tensor({n.in.c});
            }
            break;
        case LayerType::LayerNorm:
            n.mean = be.tensor({N});
            n.invstd = be.tensor({N});
            break;
        case LayerType::Residual: {
            // Backward runs the shortcut first (it writes dx), then the body adds its part:
            // the body's backward may overwrite the sum's gradient in place.
            sequence(n.body, n.x, n.dx, n.accumulate || l.shortcut != Shortcut::None);
            Node& last = *n.body.back();
            if (!n.shortcut.empty()) {
                Node& conv = *n.shortcut[0];
                conv.x = n.x;
                conv.dx = n.dx;
                conv.accumulate = n.accumulate && n.dx.valid();
                node(conv, nullptr);
                if (n.shortcut.size() > 1) {
                    Node& bn = *n.shortcut[1];
                    bn.x = conv.y;
                    bn.dx = conv.dy;
                    node(bn, &conv);
                    bn.dy = last.dy; // the sum's gradient reaches both branches
                } else {
                    conv.dy = last.dy;
                }
            }
            if (l.shortcut == Shortcut::None && l.activation != LayerType::Relu) {
                n.y = last.y;
                n.dy = last.dy;
                return;
            }
            n.y = act(n.out);
            n.dy = l.activation == LayerType::Relu ? act(n.out) : last.dy;
            return;
        }
        case LayerType::Concat:
            for (std::size_t b = 0; b < n.branches.size(); ++b)
                sequence(n.branches[b], n.x, n.dx, b > 0 || n.accumulate);
            break;
        default:
            break;
        }
        n.y = act(n.out);
        n.dy = act(n.out);
        if (ownsDx ||
            (!n.dx.valid() && (n.type == LayerType::BatchNorm || n.type == LayerType::LayerNorm)))
            n.dxTmp = act(n.in);
    }
};

} // namespace

Network::Network(NetSpec spec) : m_spec(std::move(spec)) {}
Network::~Network() = default;
Network::Network(Network&&) noexcept = default;

const Tensor& Network::logits() const {
    return m_nodes.back()->y;
}
const Tensor& Network::dlogits() const {
    return m_nodes.back()->dy;
}
std::int64_t Network::classes() const {
    if (!m_nodes.empty())
        return m_nodes.back()->out.numel();
    auto a = analyze(m_spec);
    return a.ok() ? a->output.numel() : 0;
}

std::vector<Network::FeatureMap> Network::featureMaps() const {
    std::vector<FeatureMap> maps;
    for (auto& m : layerOutputs())
        if (!m.dims.flat)
            maps.push_back(std::move(m));
    return maps;
}

std::string Network::summary() const {
    auto a = analyze(m_spec);
    if (!a.ok())
        return m_spec.name + ": " + a.status().message();
    char buf[160];
    std::snprintf(buf, sizeof buf, "%s: %lld parameters, %.2f MFLOPs per image",
                  m_spec.name.c_str(), static_cast<long long>(a->params), double(a->flops) / 1e6);
    return buf;
}

Status Network::plan(Backend& be, std::int64_t batch, bool inputGradient) {
    if (batch <= 0)
        return Status::error("batch size must be positive", m_spec.name);
    CS_TRY_ASSIGN(Analysis a, analyze(m_spec));
    m_batch = batch;
    m_nodes.clear();
    m_named.clear();
    m_paramLayers.clear();
    CS_TRY_ASSIGN(m_nodes, build(m_spec.layers, a.input, ""));

    Planner p{be, batch, {}, {}, {}, m_spec.init};
    for (auto& n : m_nodes)
        p.registerParams(*n);
    const std::int64_t align = std::int64_t(be.alignment() / be.elementSize(DType::Real));
    auto layout = [&](std::vector<Planner::Slot>& slots, Tensor& flat, Tensor* grads) -> void {
        std::vector<std::int64_t> offsets;
        std::int64_t total = 0;
        for (auto& s : slots) {
            offsets.push_back(total);
            std::int64_t count = 1;
            for (auto d : s.dims)
                count *= d;
            total = (total + count + align - 1) / align * align;
        }
        if (total == 0)
            return;
        flat = be.tensor({total});
        if (grads)
            *grads = be.tensor({total});
        for (std::size_t i = 0; i < slots.size(); ++i) {
            std::int64_t count = 1;
            for (auto d : slots[i].dims)
                count *= d;
            *slots[i].view = be.view(flat, offsets[i], {count});
            if (grads)
                *slots[i].grad = be.view(*grads, offsets[i], {count});
            m_named.push_back({slots[i].name, *slots[i].view, grads ? *slots[i].grad : Tensor{},
                               slots[i].dims, grads != nullptr});
        }
    };
    layout(p.params, m_params, &m_grads);
    layout(p.buffers, m_buffers, nullptr);
    m_parameterCount = a.params;

    const Dims& in = a.input;
    m_dx = inputGradient ? be.tensor(shapeOf(batch, in)) : Tensor{};
    // The input is bound when the forward pass is recorded (it sets every node's x).
    p.sequence(m_nodes, Tensor{}, m_dx, false);

    std::function<void(NodeList&)> collect = [&](NodeList& nodes) {
        for (auto& n : nodes) {
            if (n->type == LayerType::Conv2d || n->type == LayerType::Linear ||
                n->type == LayerType::BatchNorm || n->type == LayerType::LayerNorm)
                m_paramLayers.push_back({n->path, n->type, n->w, n->dw,
                                         n->spec->bias || n->type == LayerType::BatchNorm ||
                                                 n->type == LayerType::LayerNorm
                                             ? n->b
                                             : Tensor{},
                                         n->spec->bias ? n->db : Tensor{}});
            collect(n->body);
            collect(n->shortcut);
            for (auto& b : n->branches)
                collect(b);
        }
    };
    collect(m_nodes);
    m_zeroTensors.clear();
    for (Tensor* t : p.zeroed)
        m_zeroTensors.push_back(*t);
    m_slots.clear();
    for (const auto& s : p.params)
        m_slots.push_back({s.name, *s.view, s.fill, s.init, s.fanIn, s.fanOut, true});
    if (const Node& last = *m_nodes.back(); last.type == LayerType::Linear && !last.spec->hasInit)
        for (auto& s : m_slots)
            if (s.name == last.path + ".weight")
                s.scale = 0.1; // the classifier: logits near 0 at the start
    for (const auto& s : p.buffers)
        m_slots.push_back({s.name, *s.view, s.fill, s.init, 0, 0, false});
    if (classes() <= 1)
        return Status::error("the network ends in " + std::to_string(classes()) +
                                 " output; classification needs at least 2",
                             m_spec.name);
    return {};
}

Status Network::initialize(Backend& be, std::uint64_t seed) {
    m_seed = seed;
    const std::int64_t realSize = std::int64_t(be.elementSize(DType::Real));
    std::vector<double> params(std::size_t(m_params.valid() ? m_params.numel() : 0), 0.0),
        buffers(std::size_t(m_buffers.valid() ? m_buffers.numel() : 0), 0.0);
    for (const auto& s : m_slots) {
        std::vector<double>& dst = s.param ? params : buffers;
        const Tensor& flat = s.param ? m_params : m_buffers;
        const std::size_t first = std::size_t(std::int64_t(s.view.offset - flat.offset) / realSize);
        // Each tensor has its own stream: adding a layer leaves the others' values unchanged.
        Rng rng(seed ^ hashString(s.name));
        const std::int64_t n = s.view.numel();
        double sigma = 0, bound = 0;
        switch (s.init.scheme) {
        case InitScheme::HeNormal:
            sigma = std::sqrt(2.0 / double(s.fanIn));
            break;
        case InitScheme::HeUniform:
            bound = std::sqrt(6.0 / double(s.fanIn));
            break;
        case InitScheme::XavierNormal:
            sigma = std::sqrt(2.0 / double(s.fanIn + s.fanOut));
            break;
        case InitScheme::XavierUniform:
            bound = std::sqrt(6.0 / double(s.fanIn + s.fanOut));
            break;
        case InitScheme::Normal:
            sigma = s.init.sigma;
            break;
        default:
            break;
        }
        for (std::int64_t i = 0; i < n; ++i) {
            double v = 0;
            if (s.fill == Fill::Ones)
                v = 1.0;
            else if (s.fill == Fill::Weights) {
                if (s.init.scheme == InitScheme::Constant)
                    v = s.init.value;
                else if (bound > 0)
                    v = (2.0 * rng.uniform() - 1.0) * bound;
                else if (sigma > 0)
                    v = sigma * rng.normal();
            }
            dst[first + std::size_t(i)] = v * s.scale;
        }
    }
    if (m_params.valid()) {
        CS_TRY(be.writeReal(m_params, params));
        CS_TRY(be.zero(m_grads));
    }
    if (m_buffers.valid())
        CS_TRY(be.writeReal(m_buffers, buffers));
    for (const Tensor& t : m_zeroTensors)
        CS_TRY(be.zero(t));
    return {};
}

namespace {

struct Recorder {
    Backend& be;
    std::int64_t N;
    std::uint64_t seed;
    const Tensor& step;
    bool training = true;    // the mode of the forward pass the backward pass follows
    bool weightGrads = true; // false: input gradients only (analysis)
    bool fold = false;       // inference: batch norms folded into the conv/linear before them
    int folded = 0;          // how many were

    ops::Dropout dropoutOf(const Node& n) const {
        return {n.spec->rate, std::uint32_t(hashString(n.path, seed) & 0xffffffffu) | 1u};
    }

    // dst = src: dropout with rate 0 keeps every element and scales by exactly 1.
    Status copy(const Tensor& src, const Tensor& dst) {
        return ops::dropoutForward(be, {0.0, 1}, src, step, dst);
    }

    // Returns the tensor holding the sequence's output.
    Result<Tensor> forward(NodeList& nodes, Tensor in, bool training) {
        for (std::size_t i = 0; i < nodes.size(); ++i) {
            Node& n = *nodes[i];
            Node* bn = fold && i + 1 < nodes.size() && nodes[i + 1]->foldW.valid()
                           ? nodes[i + 1].get()
                           : nullptr;
            if (bn) {
                // conv → batch norm [→ ReLU in place]: one convolution with the folded weights
                // writes the batch norm's output, the ReLU fused into it.
                Node* relu = i + 2 < nodes.size() ? nodes[i + 2].get() : nullptr;
                const bool fuseRelu = relu && relu->type == LayerType::Relu && !relu->alias &&
                                      sameTensor(relu->y, bn->y);
                n.x = in;
                auto s = foldedForward(n, *bn, in, fuseRelu);
                if (!s.ok())
                    return s.within(bn->path);
                ++folded;
                in = bn->y;
                i += fuseRelu ? 2 : 1;
                continue;
            }
            auto out = forward(n, in, training);
            if (!out.ok())
                return out.status().within(n.path);
            in = *out;
        }
        return in;
    }

    static bool sameTensor(const Tensor& a, const Tensor& b) {
        return a.offset == b.offset && a.placement == b.placement && a.bytes == b.bytes;
    }

    Status foldedForward(Node& n, Node& bn, const Tensor& in, bool relu) {
        const LayerSpec& l = *n.spec;
        const ops::BatchNormParams p{bn.w, bn.b, bn.runMean, bn.runVar, {}, {}};
        CS_TRY(ops::batchNormFold(be, {bn.in.c, n.w.numel() / bn.in.c, bn.spec->eps}, n.w, n.b, p,
                                  bn.foldW, bn.foldB));
        if (n.type == LayerType::Conv2d)
            return ops::conv2dForward(be, conv2dShape(l, n.in, N), in, bn.foldW, bn.foldB, bn.y,
                                      relu);
        return ops::linearForward(be, {N, n.in.numel(), l.out}, ops::flatten(in), bn.foldW,
                                  bn.foldB, bn.y, relu);
    }

    Result<Tensor> forward(Node& n, const Tensor& in, bool training) {
        const LayerSpec& l = *n.spec;
        // Both modes bind the input: a backward pass after an evaluation forward (saliency,
        // adversarial examples) reads it too.
        n.x = in;
        switch (n.type) {
        case LayerType::Conv2d:
            CS_TRY(ops::conv2dForward(be, conv2dShape(l, n.in, N), in, n.w, n.b, n.y, n.fusedRelu));
            return n.y;
        case LayerType::Linear:
            CS_TRY(ops::linearForward(be, {N, n.in.numel(), l.out}, ops::flatten(in), n.w, n.b, n.y,
                                      n.fusedRelu));
            return n.y;
        case LayerType::MaxPool2d:
            CS_TRY(ops::maxPool2dForward(be, pool2dShape(l, n.in, N), in, n.y, n.argmax));
            return n.y;
        case LayerType::AvgPool2d:
        case LayerType::GlobalAvgPool:
            CS_TRY(ops::avgPool2dForward(be, pool2dShape(l, n.in, N), in, n.y));
            return n.y;
        case LayerType::Relu:
        case LayerType::LeakyRelu:
        case LayerType::Sigmoid:
        case LayerType::Tanh:
            if (!n.alias)
                CS_TRY(ops::activationForward(be, activationOf(l), in, n.y));
            return n.y;
        case LayerType::BatchNorm:
            CS_TRY(ops::batchNormForward(be, {N, n.in.c, n.in.h * n.in.w, l.eps, l.momentum},
                                         training, in,
                                         {n.w, n.b, n.runMean, n.runVar, n.mean, n.invstd}, n.y));
            return n.y;
        case LayerType::LayerNorm:
            CS_TRY(ops::layerNormForward(be, {N, n.in.numel(), l.eps}, in, n.w, n.b, n.mean,
                                         n.invstd, n.y));
            return n.y;
        case LayerType::Dropout:
            // Evaluation: the identity, copied so the layers after it read the same buffer in
            // both modes (and the feature-map view sees its output).
            CS_TRY(training ? ops::dropoutForward(be, dropoutOf(n), in, step, n.y) : copy(in, n.y));
            return n.y;
        case LayerType::Flatten:
            return reshaped(in, N, n.out);
        case LayerType::Residual: {
            CS_TRY_ASSIGN(Tensor body, forward(n.body, in, training));
            Tensor shortcut = in;
            if (!n.shortcut.empty()) {
                CS_TRY_ASSIGN(shortcut, forward(n.shortcut, in, training));
            }
            if (l.shortcut == Shortcut::None) {
                if (l.activation == LayerType::Relu)
                    CS_TRY(ops::reluForward(be, body, n.y));
                return l.activation == LayerType::Relu ? n.y : body;
            }
            CS_TRY(ops::add(be, body, shortcut, n.y));
            if (l.activation == LayerType::Relu)
                CS_TRY(ops::reluForward(be, n.y, n.y));
            return n.y;
        }
        case LayerType::Concat: {
            std::vector<Tensor> outs;
            for (std::size_t b = 0; b < n.branches.size(); ++b) {
                auto o = forward(n.branches[b], in, training);
                if (!o.ok())
                    return o.status().within("branch " + std::to_string(b + 1));
                outs.push_back(*o);
            }
            ops::ConcatShape s = n.cat;
            s.batch = N;
            s.spatial = n.out.h * n.out.w;
            CS_TRY(ops::concatForward(be, s, outs, n.y));
            return n.y;
        }
        }
        return Status::error("unknown layer type");
    }

    Status backward(NodeList& nodes) {
        for (std::size_t i = nodes.size(); i-- > 0;)
            CS_TRY(backward(*nodes[i]).within(nodes[i]->path));
        return {};
    }

    // The tensor an op writes its input gradient to, and the add that follows when it could not
    // accumulate by itself.
    const Tensor& dxOut(const Node& n) const { return n.dxTmp.valid() ? n.dxTmp : n.dx; }
    Status finishDx(const Node& n) {
        if (n.accumulate && n.dxTmp.valid() && n.dx.valid())
            return ops::add(be, n.dx, n.dxTmp, n.dx);
        return {};
    }

    Status backward(Node& n) {
        const LayerSpec& l = *n.spec;
        switch (n.type) {
        case LayerType::Conv2d: {
            if (n.fusedRelu)
                CS_TRY(ops::reluBackward(be, n.y, n.dy, n.dy));
            const ops::Conv2dShape s = conv2dShape(l, n.in, N);
            if (weightGrads)
                CS_TRY(ops::conv2dBackwardWeight(be, s, n.dy, n.x, n.dw, n.db));
            if (n.dx.valid())
                CS_TRY(ops::conv2dBackwardData(be, s, n.dy, n.w, n.dx, n.accumulate));
            return {};
        }
        case LayerType::Linear: {
            if (n.fusedRelu)
                CS_TRY(ops::reluBackward(be, n.y, n.dy, n.dy));
            const ops::LinearShape s{N, n.in.numel(), l.out};
            if (weightGrads)
                CS_TRY(ops::linearBackwardWeight(be, s, n.dy, ops::flatten(n.x), n.dw, n.db));
            if (n.dx.valid())
                CS_TRY(ops::linearBackwardData(be, s, n.dy, n.w, ops::flatten(n.dx), n.accumulate));
            return {};
        }
        case LayerType::MaxPool2d:
            if (n.dx.valid()) {
                CS_TRY(
                    ops::maxPool2dBackward(be, pool2dShape(l, n.in, N), n.dy, n.argmax, dxOut(n)));
                return finishDx(n);
            }
            return {};
        case LayerType::AvgPool2d:
        case LayerType::GlobalAvgPool:
            if (n.dx.valid()) {
                CS_TRY(ops::avgPool2dBackward(be, pool2dShape(l, n.in, N), n.dy, dxOut(n)));
                return finishDx(n);
            }
            return {};
        case LayerType::Relu:
        case LayerType::LeakyRelu:
        case LayerType::Sigmoid:
        case LayerType::Tanh:
            if (n.alias || !n.dx.valid())
                return {};
            CS_TRY(ops::activationBackward(be, activationOf(l), n.y, n.dy, dxOut(n)));
            return finishDx(n);
        case LayerType::BatchNorm:
            CS_TRY(ops::batchNormBackward(
                be, {N, n.in.c, n.in.h * n.in.w, l.eps, l.momentum}, training, n.dy, n.x,
                {n.w, n.b, n.runMean, n.runVar, n.mean, n.invstd}, dxOut(n), n.dw, n.db));
            return finishDx(n);
        case LayerType::LayerNorm:
            CS_TRY(ops::layerNormBackward(be, {N, n.in.numel(), l.eps}, n.dy, n.x, n.w, n.mean,
                                          n.invstd, dxOut(n), n.dw, n.db));
            return finishDx(n);
        case LayerType::Dropout:
            if (!n.dx.valid())
                return {};
            CS_TRY(training ? ops::dropoutBackward(be, dropoutOf(n), n.dy, step, dxOut(n))
                            : copy(n.dy, dxOut(n)));
            return finishDx(n);
        case LayerType::Flatten:
            return {};
        case LayerType::Residual: {
            const Node& last = *n.body.back();
            if (l.activation == LayerType::Relu)
                CS_TRY(ops::reluBackward(be, n.y, n.dy, last.dy));
            if (l.shortcut == Shortcut::Identity && n.dx.valid())
                CS_TRY(n.accumulate ? ops::add(be, n.dx, last.dy, n.dx) : copy(last.dy, n.dx));
            if (!n.shortcut.empty())
                CS_TRY(backward(n.shortcut).within("shortcut"));
            return backward(n.body);
        }
        case LayerType::Concat: {
            ops::ConcatShape s = n.cat;
            s.batch = N;
            s.spatial = n.out.h * n.out.w;
            std::vector<Tensor> dys;
            for (auto& b : n.branches)
                dys.push_back(b.back()->dy);
            CS_TRY(ops::concatBackward(be, s, n.dy, dys));
            for (std::size_t b = 0; b < n.branches.size(); ++b)
                CS_TRY(backward(n.branches[b]).within("branch " + std::to_string(b + 1)));
            return {};
        }
        }
        return Status::error("unknown layer type");
    }
};

} // namespace

Status Network::recordForward(Backend& be, const Tensor& x, bool training, const Tensor& step) {
    return recordForward(be, x, training, step, false);
}

Status Network::recordInference(Backend& be, const Tensor& x, const Tensor& step) {
    return recordForward(be, x, false, step, true);
}

Status Network::recordForward(Backend& be, const Tensor& x, bool training, const Tensor& step,
                              bool fold) {
    if (m_nodes.empty())
        return Status::error("the network is not planned", m_spec.name, "Call plan() first");
    if (x.numel() != m_batch * inputFeatures())
        return Status::error("the input has " + std::to_string(x.numel()) + " elements, not " +
                                 std::to_string(m_batch * inputFeatures()),
                             m_spec.name);
    Recorder r{be, m_batch, m_seed, step};
    r.fold = fold;
    m_forwardTraining = training;
    m_forwardFolded = fold;
    const Dims in{m_spec.channels, m_spec.height, m_spec.width, false};
    auto out = r.forward(m_nodes, reshaped(x, m_batch, in), training);
    m_foldedBatchNorms = r.folded;
    if (!out.ok())
        return out.status().within(m_spec.name);
    if (out->offset != logits().offset || out->placement != logits().placement)
        return Status::error("the last layer does not write the logits (a dropout at the end?)",
                             m_spec.name, "End the network with a linear layer");
    return {};
}

Status Network::recordBackward(Backend& be, const Tensor& step, const BackwardOptions& o) {
    if (m_nodes.empty() || !m_nodes.front()->x.valid())
        return Status::error("record the forward pass first", m_spec.name);
    if (m_forwardFolded)
        return Status::error("a backward pass cannot follow an inference pass (its batch norms "
                             "are folded away)",
                             m_spec.name, "Record the forward pass with recordForward()");
    const int last = int(m_nodes.size()) - 1;
    const int from = o.from < 0 ? last : o.from;
    if (from > last || o.to < 0 || o.to > from + 1)
        return Status::error("backward range " + std::to_string(from) + ".." +
                                 std::to_string(o.to) + " is outside the " +
                                 std::to_string(m_nodes.size()) + " top-level layers",
                             m_spec.name);
    Recorder r{be, m_batch, m_seed, step, m_forwardTraining, o.weightGradients};
    for (int i = from; i >= o.to; --i)
        CS_TRY(r.backward(*m_nodes[std::size_t(i)])
                   .within(m_nodes[std::size_t(i)]->path)
                   .within(m_spec.name));
    return {};
}

std::vector<Network::FeatureMap> Network::layerOutputs() const {
    std::vector<FeatureMap> out;
    for (std::size_t i = 0; i < m_nodes.size(); ++i) {
        const Node& n = *m_nodes[i];
        if (!n.y.valid() || n.type == LayerType::Flatten)
            continue;
        if (i + 1 < m_nodes.size()) {
            const Node& next = *m_nodes[i + 1];
            if (next.type != LayerType::Flatten && next.y.offset == n.y.offset &&
                next.y.placement == n.y.placement)
                continue; // the next layer overwrites this output in place
        }
        out.push_back(
            {n.path, n.out, reshaped(n.y, m_batch, n.out), reshaped(n.dy, m_batch, n.out), int(i)});
    }
    return out;
}

} // namespace convscope::model
