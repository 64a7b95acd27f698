// Inspector: programs (one evaluation forward, backward ranges recorded on first use), seeds
// written by the host, and reads in pixel units.
#include "analysis/inspector.h"

#include <algorithm>
#include <cmath>

namespace convscope::analysis {

std::vector<double> softmaxRows(std::span<const double> logits, std::int64_t classes) {
    std::vector<double> p(logits.begin(), logits.end());
    for (std::size_t r = 0; r + std::size_t(classes) <= p.size(); r += std::size_t(classes)) {
        double top = p[r];
        for (std::int64_t k = 1; k < classes; ++k)
            top = std::max(top, p[r + std::size_t(k)]);
        double sum = 0;
        for (std::int64_t k = 0; k < classes; ++k)
            sum += (p[r + std::size_t(k)] = std::exp(p[r + std::size_t(k)] - top));
        for (std::int64_t k = 0; k < classes; ++k)
            p[r + std::size_t(k)] /= sum;
    }
    return p;
}

int argmax(std::span<const double> row) {
    return int(std::max_element(row.begin(), row.end()) - row.begin());
}

struct Inspector::Plan {
    explicit Plan(const model::NetSpec& spec) : net(spec) {}
    model::Network net;
    Tensor x;
    ProgramId forward = 0;
    std::map<std::tuple<int, int, bool>, ProgramId> backward;
    std::vector<model::Network::FeatureMap> outputs; // Inspector::layers()' tensors
};

Inspector::Inspector(Backend& be, model::NetSpec spec, Normalization norm)
    : m_be(be), m_spec(std::move(spec)), m_norm(norm) {}
Inspector::~Inspector() = default;

Result<std::unique_ptr<Inspector>> Inspector::create(Backend& be, const model::NetSpec& spec,
                                                     std::int64_t batch, Normalization norm) {
    if (batch <= 0 || batch > 4096)
        return Status::error("the analysis batch must be between 1 and 4096", "inspector");
    if (!(norm.std > 0) || !std::isfinite(norm.mean))
        return Status::error("the normalisation's std must be positive", "inspector");
    std::unique_ptr<Inspector> in(new Inspector(be, spec, norm));
    CS_TRY(be.reset());
    in->m_batch = batch;
    std::vector<std::int64_t> sizes{batch};
    if (batch > 1)
        sizes.push_back(1); // a single image costs one image
    for (std::int64_t b : sizes) {
        auto plan = std::make_unique<Plan>(spec);
        CS_TRY(plan->net.plan(be, b, /*inputGradient=*/true));
        plan->x = be.tensor({b, spec.channels, spec.height, spec.width});
        in->m_plans.push_back(std::move(plan));
    }
    in->m_step = be.tensor({1}, DType::I32);
    CS_TRY(be.allocate());
    CS_TRY(be.zero(in->m_step));
    for (auto& plan : in->m_plans) {
        CS_TRY(plan->net.initialize(be, 1));
        CS_TRY(be.zero(plan->x));
        Plan& p = *plan;
        CS_TRY_ASSIGN(p.forward, be.record([&]() -> Status {
            return p.net.recordForward(be, p.x, /*training=*/false, in->m_step);
        }));
        p.outputs = p.net.layerOutputs();
    }
    in->m_cur = in->m_plans.front().get();
    in->m_classes = in->m_cur->net.classes();
    for (const auto& o : in->m_cur->outputs)
        in->m_layers.push_back({o.path, o.dims});
    return in;
}

Result<std::unique_ptr<Inspector>> Inspector::open(Backend& be, const model::Checkpoint& c,
                                                   std::int64_t batch) {
    CS_TRY_ASSIGN(auto in, create(be, c.spec, batch, {c.mean, c.std}));
    CS_TRY(in->loadWeights(c.file, c.path));
    return in;
}

Status Inspector::loadWeights(const io::SafeTensors& weights, const std::string& where) {
    for (auto& p : m_plans)
        CS_TRY(model::writeWeights(m_be, p->net, weights, where));
    m_haveForward = m_haveLogits = false;
    return {};
}

Result<io::SafeTensors> Inspector::weights() {
    return model::readWeights(m_be, m_plans.front()->net);
}

Status Inspector::initialize(std::uint64_t seed) {
    m_haveForward = m_haveLogits = false;
    for (auto& p : m_plans) // seeded per tensor name: every plan gets the same values
        CS_TRY(p->net.initialize(m_be, seed));
    return {};
}

int Inspector::layerIndex(const std::string& name) const {
    for (std::size_t i = 0; i < m_layers.size(); ++i)
        if (m_layers[i].name == name)
            return int(i);
    return -1;
}

int Inspector::lastSpatialLayer() const {
    for (std::size_t i = m_layers.size(); i-- > 0;)
        if (m_layers[i].spatial() && m_layers[i].dims.h * m_layers[i].dims.w > 1)
            return int(i);
    return -1;
}

std::vector<std::string> Inspector::learnableLayers() const {
    std::vector<std::string> out;
    for (const auto& l : m_plans.front()->net.paramLayers())
        out.push_back(l.path);
    return out;
}

std::vector<double> Inspector::pixels(const data::ImageDataset& set,
                                      std::span<const std::int64_t> indices) {
    const std::size_t D = std::size_t(set.features());
    std::vector<double> out;
    out.reserve(indices.size() * D);
    for (std::int64_t i : indices) {
        const std::uint8_t* p = set.images.data() + std::size_t(i) * D;
        for (std::size_t k = 0; k < D; ++k)
            out.push_back(double(p[k]) / 255.0);
    }
    return out;
}

Inspector::Images Inspector::images(const data::ImageDataset& set, std::int64_t first,
                                    std::int64_t count) {
    Images out;
    std::vector<std::int64_t> idx;
    for (std::int64_t i = std::max<std::int64_t>(0, first); i < std::min(set.count, first + count);
         ++i) {
        idx.push_back(i);
        out.labels.push_back(set.labels[std::size_t(i)]);
    }
    out.pixels = pixels(set, idx);
    return out;
}

Status Inspector::setImages(std::span<const double> pixels, std::int64_t count) {
    const std::int64_t D = imageSize();
    if (count < 0 || count > batch() || std::int64_t(pixels.size()) < count * D)
        return Status::error(std::to_string(count) + " images of " + std::to_string(D) +
                                 " pixels do not fit a batch of " + std::to_string(batch()),
                             "inspector");
    m_cur = count == 1 && m_plans.size() > 1 ? m_plans[1].get() : m_plans[0].get();
    std::vector<double> x(std::size_t(m_cur->net.batch() * D), 0.0);
    const double scale = 1.0 / m_norm.std, shift = -m_norm.mean / m_norm.std;
    for (std::size_t i = 0; i < std::size_t(count * D); ++i)
        x[i] = pixels[i] * scale + shift;
    CS_TRY(m_be.writeReal(m_cur->x, x));
    m_haveForward = m_haveLogits = false;
    return {};
}

Status Inspector::forward() {
    CS_TRY_ASSIGN(Ticket t, m_be.submit(m_cur->forward));
    CS_TRY(m_be.wait(t));
    m_haveForward = true;
    m_haveLogits = false;
    return {};
}

Result<std::vector<double>> Inspector::logits() {
    if (!m_haveForward)
        return Status::error("run forward() first", "inspector");
    if (!m_haveLogits) {
        CS_TRY_ASSIGN(m_logits, m_be.readReal(m_cur->net.logits()));
        m_haveLogits = true;
    }
    return m_logits;
}

Result<ProgramId> Inspector::backwardProgram(int from, int to, bool weightGradients) {
    const auto key = std::make_tuple(from, to, weightGradients);
    if (auto it = m_cur->backward.find(key); it != m_cur->backward.end())
        return it->second;
    CS_TRY_ASSIGN(ProgramId id, m_be.record([&]() -> Status {
        model::Network::BackwardOptions o;
        o.weightGradients = weightGradients;
        o.from = from;
        o.to = to;
        return m_cur->net.recordBackward(m_be, m_step, o);
    }));
    m_cur->backward[key] = id;
    return id;
}

Status Inspector::backward(const Seed& seed, int captureLayer, bool weightGradients) {
    if (!m_haveForward)
        return Status::error("run forward() before backward()", "inspector");
    const std::int64_t N = m_cur->net.batch(), K = classes();
    const int last = int(m_cur->outputs.back().index);
    int from = -1;
    if (seed.kind == Seed::Kind::Unit) {
        if (seed.layer < 0 || seed.layer >= int(m_layers.size()))
            return Status::error("no layer " + std::to_string(seed.layer), "inspector");
        const auto& o = m_cur->outputs[std::size_t(seed.layer)];
        const model::Dims& d = o.dims;
        const std::int64_t H = d.flat ? 1 : d.h, W = d.flat ? 1 : d.w;
        if (seed.channel < -1 || seed.channel >= d.c || seed.y < 0 || seed.y >= H || seed.x < 0 ||
            seed.x >= W)
            return Status::error("unit (" + std::to_string(seed.channel) + ", " +
                                     std::to_string(seed.y) + ", " + std::to_string(seed.x) +
                                     ") is outside " + o.path + "'s output " + d.str(),
                                 "inspector");
        if (captureLayer > seed.layer)
            return Status::error("the captured layer must come before the seed's layer",
                                 "inspector");
        std::vector<double> dy(std::size_t(N * d.numel()), 0.0);
        for (std::int64_t n = 0; n < N; ++n)
            for (std::int64_t c = 0; c < d.c; ++c)
                if (seed.channel < 0 || c == seed.channel)
                    dy[std::size_t(n * d.numel() + (c * H + seed.y) * W + seed.x)] = 1.0;
        CS_TRY(m_be.writeReal(o.dy, dy));
        from = o.index;
    } else {
        std::vector<double> g(std::size_t(N * K), 0.0);
        std::vector<double> p;
        if (seed.kind == Seed::Kind::Loss) {
            CS_TRY_ASSIGN(auto z, logits());
            p = softmaxRows(z, K);
        }
        for (std::int64_t n = 0; n < N && n < std::int64_t(seed.classes.size()); ++n) {
            const std::int32_t c = seed.classes[std::size_t(n)];
            if (c < 0)
                continue;
            if (c >= K)
                return Status::error("class " + std::to_string(c) + " does not exist (the " +
                                         "network has " + std::to_string(K) + " outputs)",
                                     "inspector");
            if (seed.kind == Seed::Kind::Loss) { // ∂CE/∂z = softmax(z) − onehot(label)
                for (std::int64_t k = 0; k < K; ++k)
                    g[std::size_t(n * K + k)] = p[std::size_t(n * K + k)];
                g[std::size_t(n * K + c)] -= 1.0;
            } else {
                g[std::size_t(n * K + c)] = 1.0;
            }
        }
        CS_TRY(m_be.writeReal(m_cur->net.dlogits(), g));
        from = last;
    }
    m_captured = -1;
    if (captureLayer >= 0) {
        if (captureLayer >= int(m_layers.size()))
            return Status::error("no layer " + std::to_string(captureLayer), "inspector");
        const int at = m_cur->outputs[std::size_t(captureLayer)].index;
        CS_TRY_ASSIGN(ProgramId top, backwardProgram(from, at + 1, weightGradients));
        if (at + 1 <= from) {
            CS_TRY_ASSIGN(Ticket t, m_be.submit(top));
            CS_TRY(m_be.wait(t));
        }
        CS_TRY_ASSIGN(m_capturedGradient,
                      m_be.readReal(m_cur->outputs[std::size_t(captureLayer)].dy));
        m_captured = captureLayer;
        from = at;
    }
    CS_TRY_ASSIGN(ProgramId rest, backwardProgram(from, 0, weightGradients));
    CS_TRY_ASSIGN(Ticket t, m_be.submit(rest));
    return m_be.wait(t);
}

Result<std::vector<double>> Inspector::inputGradient() {
    CS_TRY_ASSIGN(auto g, m_be.readReal(m_cur->net.inputGradient()));
    for (double& v : g)
        v /= m_norm.std; // x_net = (x − mean)/std
    return g;
}

Result<std::vector<double>> Inspector::layerOutput(int layer) {
    if (layer < 0 || layer >= int(m_layers.size()))
        return Status::error("no layer " + std::to_string(layer), "inspector");
    if (!m_haveForward)
        return Status::error("run forward() first", "inspector");
    return m_be.readReal(m_cur->outputs[std::size_t(layer)].y);
}

Result<std::vector<double>> Inspector::layerGradient(int layer) const {
    if (layer != m_captured || m_captured < 0)
        return Status::error("the last backward pass did not capture layer " +
                                 std::to_string(layer),
                             "inspector", "Pass the layer as backward()'s captureLayer");
    return m_capturedGradient;
}

} // namespace convscope::analysis
