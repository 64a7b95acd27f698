// LossLandscape: the subset on the device, three recorded programs (move the weights, evaluate
// a batch, a batch's gradient), the grid loop, CSV and roughness.
#include "analysis/landscape.h"

#include "ops/axpy.h"
#include "ops/gather_batch.h"
#include "ops/metrics_ring.h"
#include "ops/softmax_cross_entropy.h"
#include <charconv>
#include <cmath>
#include <limits>
#include <sstream>

namespace convscope::analysis {

struct LossLandscape::Impl {
    explicit Impl(const model::NetSpec& spec) : net(spec) {}
    model::Network net;
    Tensor images, labels, order, state, x, y, metrics, ring;
    Tensor base, d1, d2, bufBase, bufD1, bufD2, coef;
    ProgramId move = 0, eval = 0, grad = 0;
    std::int64_t steps = 0;
};

LossLandscape::LossLandscape(Backend& be) : m_be(be) {}

namespace {
// A flat vector in a layout, zero-padded to the tensor's element count (the arena's alignment
// can leave a few unused elements at the end of params() and buffers()).
std::vector<double> padded(std::span<const double> v, const Tensor& t) {
    std::vector<double> out(v.begin(), v.end());
    out.resize(std::size_t(t.numel()), 0.0);
    return out;
}
} // namespace
LossLandscape::~LossLandscape() = default;

const model::NetSpec& LossLandscape::spec() const {
    return m->net.spec();
}

Result<std::unique_ptr<LossLandscape>>
LossLandscape::create(Backend& be, const model::Checkpoint& ckpt, const data::ImageDataset& set,
                      std::int64_t images, std::int64_t batch) {
    const char* who = "loss landscape";
    if (images < 0 || images > set.count)
        return Status::error(
            "the subset of " + std::to_string(images) + " images is larger than " + set.name +
                "'s " + std::to_string(set.count),
            who, "Pass --images between 1 and " + std::to_string(set.count) + " (0: all of them)");
    if (images == 0)
        images = set.count;
    if (images == 0)
        return Status::error("the dataset has no images", set.name);
    const model::NetSpec& spec = ckpt.spec;
    const std::int64_t D = spec.channels * spec.height * spec.width;
    if (set.features() != D)
        return Status::error(set.name + "'s images have " + std::to_string(set.features()) +
                                 " values, the network takes " + std::to_string(D),
                             ckpt.path, "Use the dataset the run was trained on");
    if (!(ckpt.std > 0))
        return Status::error("the checkpoint's normalisation has std ≤ 0", ckpt.path);
    if (batch < 0 || batch > 4096)
        return Status::error("the batch must be between 1 and 4096", who);
    const std::int64_t B = std::min(images, batch > 0 ? batch : std::int64_t(500));

    std::unique_ptr<LossLandscape> land(new LossLandscape(be));
    land->m = std::make_unique<Impl>(spec);
    Impl& m = *land->m;
    land->m_images = images;
    land->m_batch = B;
    CS_TRY(be.reset());
    CS_TRY(m.net.plan(be, B));
    if (set.classes > m.net.classes())
        return Status::error(set.name + " has " + std::to_string(set.classes) +
                                 " classes, the network " + std::to_string(m.net.classes()),
                             ckpt.path);
    m.steps = (images + B - 1) / B;
    m.images = be.tensor({ops::paddedBytes(images * D)}, DType::U8);
    m.labels = be.tensor({ops::paddedBytes(images)}, DType::U8);
    m.order = be.tensor({images}, DType::I32);
    m.state = be.tensor({1}, DType::I32);
    m.x = be.tensor({B, D});
    m.y = be.tensor({B}, DType::I32);
    m.metrics = be.tensor({3});
    m.ring = be.tensor({m.steps, 4}, DType::Real, Placement::Host);
    const Shape P = m.net.params().shape;
    m.base = be.tensor(P);
    m.d1 = be.tensor(P);
    m.d2 = be.tensor(P);
    const bool hasBuffers = m.net.buffers().valid();
    if (hasBuffers) {
        const Shape Bf = m.net.buffers().shape;
        m.bufBase = be.tensor(Bf);
        m.bufD1 = be.tensor(Bf);
        m.bufD2 = be.tensor(Bf);
    }
    m.coef = be.tensor({2}, DType::Real, Placement::Host);
    CS_TRY(be.allocate());

    CS_TRY(be.writeBytes(m.images, set.images.data(), std::size_t(images * D)));
    CS_TRY(be.writeBytes(m.labels, set.labels.data(), std::size_t(images)));
    std::vector<std::int32_t> identity(static_cast<std::size_t>(images));
    for (std::size_t i = 0; i < identity.size(); ++i)
        identity[i] = std::int32_t(i);
    CS_TRY(be.writeI32(m.order, identity));
    CS_TRY(model::writeWeights(be, m.net, ckpt.file, ckpt.path));
    land->m_layout = analysis::parameterLayout(be, m.net);
    land->m_bufferLayout = analysis::bufferLayout(be, m.net);
    CS_TRY_ASSIGN(land->m_theta, be.readReal(m.net.params()));
    land->m_theta.resize(std::size_t(flatSize(land->m_layout)));
    if (hasBuffers) {
        CS_TRY_ASSIGN(land->m_thetaBuffers, be.readReal(m.net.buffers()));
        land->m_thetaBuffers.resize(std::size_t(flatSize(land->m_bufferLayout)));
    }
    CS_TRY(be.writeReal(m.base, padded(land->m_theta, m.base)));
    CS_TRY(be.zero(m.d1));
    CS_TRY(be.zero(m.d2));
    if (hasBuffers) {
        CS_TRY(be.writeReal(m.bufBase, padded(land->m_thetaBuffers, m.bufBase)));
        CS_TRY(be.zero(m.bufD1));
        CS_TRY(be.zero(m.bufD2));
    }

    const double scale = 1.0 / (255.0 * ckpt.std), shift = -ckpt.mean / ckpt.std;
    const std::int64_t C = m.net.classes();
    CS_TRY_ASSIGN(m.move, be.record([&]() -> Status {
        CS_TRY(ops::axpy(be, m.base, m.d1, m.d2, m.coef, m.net.params()));
        if (hasBuffers)
            CS_TRY(ops::axpy(be, m.bufBase, m.bufD1, m.bufD2, m.coef, m.net.buffers()));
        return {};
    }));
    // A point's loss needs only the logits: batch norms are folded into the convolutions
    // (Network::recordInference). The gradient (curvature, trajectories) needs the layers whole.
    auto batchForward = [&](bool inference) -> Status {
        CS_TRY(ops::gatherBatch(be, {B, D, images, scale, shift}, m.images, m.labels, m.order,
                                m.state, m.x, m.y));
        CS_TRY(inference ? m.net.recordInference(be, m.x, m.state)
                         : m.net.recordForward(be, m.x, false, m.state));
        return ops::softmaxCrossEntropy(be, B, C, m.net.logits(), m.y, m.net.dlogits(), m.metrics);
    };
    CS_TRY_ASSIGN(m.eval, be.record([&]() -> Status {
        CS_TRY(batchForward(true));
        return ops::metricsRing(be, m.metrics, m.state, m.ring);
    }));
    CS_TRY_ASSIGN(m.grad, be.record([&]() -> Status {
        CS_TRY(batchForward(false));
        CS_TRY(m.net.recordBackward(be, m.state));
        return ops::metricsRing(be, m.metrics, m.state, m.ring);
    }));
    return land;
}

Status LossLandscape::setDirections(std::span<const double> delta, std::span<const double> eta) {
    const auto n = std::size_t(parameterCount());
    if (delta.size() != n || (!eta.empty() && eta.size() != n))
        return Status::error("a direction has the wrong number of elements (the network has " +
                                 std::to_string(n) + " parameters)",
                             "loss landscape");
    CS_TRY(m_be.writeReal(m->base, padded(m_theta, m->base)));
    CS_TRY(m_be.writeReal(m->d1, padded(delta, m->d1)));
    if (eta.empty())
        CS_TRY(m_be.zero(m->d2));
    else
        CS_TRY(m_be.writeReal(m->d2, padded(eta, m->d2)));
    if (m->bufBase.valid()) {
        CS_TRY(m_be.writeReal(m->bufBase, padded(m_thetaBuffers, m->bufBase)));
        CS_TRY(m_be.zero(m->bufD1));
        CS_TRY(m_be.zero(m->bufD2));
    }
    return {};
}

Status LossLandscape::setInterpolation(const io::SafeTensors& from, const io::SafeTensors& to,
                                       const std::string& where) {
    // Each checkpoint through the network's own loader (names and sizes checked), read back flat.
    auto flat = [&](const io::SafeTensors& f, std::vector<double>& p,
                    std::vector<double>& b) -> Status {
        CS_TRY(model::writeWeights(m_be, m->net, f, where));
        CS_TRY_ASSIGN(p, m_be.readReal(m->net.params()));
        if (m->bufBase.valid()) {
            CS_TRY_ASSIGN(b, m_be.readReal(m->net.buffers()));
        }
        return {};
    };
    std::vector<double> p0, b0, p1, b1;
    CS_TRY(flat(from, p0, b0));
    CS_TRY(flat(to, p1, b1));
    for (std::size_t i = 0; i < p1.size(); ++i)
        p1[i] -= p0[i];
    for (std::size_t i = 0; i < b1.size(); ++i)
        b1[i] -= b0[i];
    CS_TRY(m_be.writeReal(m->base, p0));
    CS_TRY(m_be.writeReal(m->d1, p1));
    CS_TRY(m_be.zero(m->d2));
    if (m->bufBase.valid()) {
        CS_TRY(m_be.writeReal(m->bufBase, b0));
        CS_TRY(m_be.writeReal(m->bufD1, b1));
        CS_TRY(m_be.zero(m->bufD2));
    }
    return {};
}

Status LossLandscape::moveTo(double alpha, double beta) {
    if (!std::isfinite(alpha) || !std::isfinite(beta))
        return Status::error("a grid coordinate is not finite", "loss landscape");
    // Nothing is in flight here (every call below waits), so the host may write c directly.
    CS_TRY(m_be.finish());
    m_be.setHostReal(m->coef, 0, alpha);
    m_be.setHostReal(m->coef, 1, beta);
    CS_TRY(m_be.zero(m->state));
    CS_TRY_ASSIGN(Ticket t, m_be.submit(m->move));
    (void)t;
    return {};
}

Result<LossAt> LossLandscape::evaluate(double alpha, double beta) {
    CS_TRY(moveTo(alpha, beta));
    CS_TRY_ASSIGN(Ticket t, m_be.submit(m->eval, std::uint32_t(m->steps)));
    CS_TRY(m_be.wait(t));
    double loss = 0, correct = 0, count = 0;
    for (std::int64_t s = 0; s < m->steps; ++s) {
        const double valid = m_be.hostReal(m->ring, s * 4 + 2);
        loss += m_be.hostReal(m->ring, s * 4 + 0) * valid;
        correct += m_be.hostReal(m->ring, s * 4 + 1) * valid;
        count += valid;
    }
    if (std::int64_t(count) != m_images)
        return Status::error("evaluated " + std::to_string(std::int64_t(count)) + " of " +
                                 std::to_string(m_images) + " images",
                             "loss landscape");
    return LossAt{loss / count, correct / count};
}

Result<std::vector<double>> LossLandscape::meanGradient(double* lossOut) {
    std::vector<double> sum(std::size_t(parameterCount()), 0.0);
    double loss = 0, count = 0;
    for (std::int64_t s = 0; s < m->steps; ++s) {
        CS_TRY_ASSIGN(Ticket t, m_be.submit(m->grad));
        CS_TRY(m_be.wait(t));
        const double valid = m_be.hostReal(m->ring, s * 4 + 2);
        loss += m_be.hostReal(m->ring, s * 4 + 0) * valid;
        count += valid;
        // The batch's gradient is its mean: weigh it by its images.
        CS_TRY_ASSIGN(auto g, m_be.readReal(m->net.grads()));
        for (std::size_t i = 0; i < sum.size(); ++i)
            sum[i] += valid * g[i];
    }
    for (double& v : sum)
        v /= count;
    if (lossOut)
        *lossOut = loss / count;
    return sum;
}

Result<std::vector<double>> LossLandscape::gradient(double alpha, double beta, double* loss) {
    CS_TRY(moveTo(alpha, beta));
    return meanGradient(loss);
}

Result<std::vector<double>> LossLandscape::gradientAlong(std::span<const double> v, double h,
                                                         double* loss) {
    CS_TRY(setDirections(v, {}));
    return gradient(h, 0, loss);
}

// --- grids -----------------------------------------------------------------------------------

Result<Axis> parseAxis(const std::string& text) {
    Axis a;
    double v[3];
    std::size_t start = 0;
    for (int k = 0; k < 3; ++k) {
        const std::size_t end = k < 2 ? text.find(':', start) : text.size();
        if (end == std::string::npos)
            return Status::error("'" + text + "' is not LO:HI:POINTS", "--grid",
                                 "Write it as -1:1:41");
        const std::string item = text.substr(start, end - start);
        std::istringstream in(item);
        in >> v[k];
        if (item.empty() || !in.eof() || in.fail() || !std::isfinite(v[k]))
            return Status::error("'" + item + "' is not a number", "--grid", "Write it as -1:1:41");
        start = end + 1;
    }
    a.lo = v[0];
    a.hi = v[1];
    if (v[2] != std::floor(v[2]) || v[2] < 1 || v[2] > 1001)
        return Status::error("the number of points must be a whole number from 1 to 1001", "--grid",
                             "41 is Li et al.'s choice; 1,000,000 points would take days");
    a.points = int(v[2]);
    if (!(a.hi > a.lo) && a.points > 1)
        return Status::error("HI must be larger than LO", "--grid", "Write it as -1:1:41");
    return a;
}

int Surface::rowsDone() const {
    return int(std::count(done.begin(), done.end(), true));
}

Surface emptySurface(const Axis& alpha, const Axis& beta) {
    Surface s;
    s.alpha = alpha;
    s.beta = beta;
    const auto n = std::size_t(alpha.points) * std::size_t(beta.points);
    s.loss.assign(n, std::numeric_limits<double>::quiet_NaN());
    s.accuracy.assign(n, std::numeric_limits<double>::quiet_NaN());
    s.done.assign(std::size_t(beta.points), false);
    return s;
}

Status computeRows(LossLandscape& land, Surface& s, int firstRow, int lastRow, Progress* progress,
                   const std::function<Status(int row)>& onRow) {
    firstRow = std::max(firstRow, 0);
    lastRow = std::min(lastRow, s.beta.points);
    std::int64_t total = 0, finished = 0;
    for (int r = firstRow; r < lastRow; ++r)
        total += s.done[std::size_t(r)] ? 0 : s.alpha.points;
    for (int r = firstRow; r < lastRow; ++r) {
        if (s.done[std::size_t(r)])
            continue;
        for (int c = 0; c < s.alpha.points; ++c) {
            if (cancelled(progress))
                return Progress::cancelledStatus("loss landscape");
            CS_TRY_ASSIGN(LossAt v, land.evaluate(s.alpha.at(c), s.beta.at(r)));
            const auto i = std::size_t(r) * std::size_t(s.alpha.points) + std::size_t(c);
            s.loss[i] = v.loss;
            s.accuracy[i] = v.accuracy;
            if (progress)
                progress->report(++finished, total, "loss landscape");
        }
        s.done[std::size_t(r)] = true;
        if (onRow)
            CS_TRY(onRow(r));
    }
    return {};
}

std::string surfaceCsv(const Surface& s) {
    std::string out = "alpha,beta,loss,accuracy\n";
    char line[160];
    for (int r = 0; r < s.beta.points; ++r) {
        if (!s.done[std::size_t(r)])
            continue;
        for (int c = 0; c < s.alpha.points; ++c) {
            const auto i = std::size_t(r) * std::size_t(s.alpha.points) + std::size_t(c);
            std::snprintf(line, sizeof line, "%.17g,%.17g,%.9g,%.9g\n", s.alpha.at(c), s.beta.at(r),
                          s.loss[i], s.accuracy[i]);
            out += line;
        }
    }
    return out;
}

Status readSurfaceCsv(const std::string& text, Surface& s, const std::string& where) {
    std::istringstream in(text);
    std::string line;
    if (!std::getline(in, line) || line.rfind("alpha,beta,loss,accuracy", 0) != 0)
        return Status::error("not a landscape CSV (no alpha,beta,loss,accuracy header)", where);
    // The nearest grid index of a coordinate, or −1 when it is not on the grid.
    auto index = [](const Axis& a, double v) {
        if (a.points == 1)
            return std::abs(v - a.lo) < 1e-9 ? 0 : -1;
        const double step = (a.hi - a.lo) / (a.points - 1);
        const double k = std::round((v - a.lo) / step);
        if (k < 0 || k >= a.points || std::abs(a.at(int(k)) - v) > 1e-6 * std::max(1.0, step))
            return -1;
        return int(k);
    };
    std::vector<int> filled(std::size_t(s.beta.points), 0);
    int lineNo = 1;
    while (std::getline(in, line)) {
        ++lineNo;
        if (line.empty())
            continue;
        double v[4];
        std::istringstream ls(line);
        std::string item;
        int k = 0;
        while (k < 4 && std::getline(ls, item, ',')) {
            try {
                std::size_t used = 0;
                v[k] = std::stod(item, &used);
                if (used != item.size())
                    k = 99;
            } catch (const std::exception&) {
                k = 99;
            }
            ++k;
        }
        if (k != 4)
            return Status::error("line " + std::to_string(lineNo) + " is not four numbers", where,
                                 "Delete the file to start the grid again");
        const int c = index(s.alpha, v[0]), r = index(s.beta, v[1]);
        if (c < 0 || r < 0)
            return Status::error("line " + std::to_string(lineNo) + " (α " + std::to_string(v[0]) +
                                     ", β " + std::to_string(v[1]) + ") is not on this grid",
                                 where, "Merge files computed with the same --grid");
        const auto i = std::size_t(r) * std::size_t(s.alpha.points) + std::size_t(c);
        if (std::isnan(s.loss[i]))
            ++filled[std::size_t(r)];
        s.loss[i] = v[2];
        s.accuracy[i] = v[3];
    }
    for (int r = 0; r < s.beta.points; ++r)
        if (filled[std::size_t(r)] >= s.alpha.points)
            s.done[std::size_t(r)] = true;
    return {};
}

Roughness roughness(const Surface& s, double radius) {
    Roughness out;
    const int R = s.beta.points, C = s.alpha.points;
    const double ha = C > 1 ? (s.alpha.hi - s.alpha.lo) / (C - 1) : 1;
    const double hb = R > 1 ? (s.beta.hi - s.beta.lo) / (R - 1) : 1;
    out.minLoss = std::numeric_limits<double>::infinity();
    double lap = 0;
    int lapCount = 0;
    for (int r = 0; r < R; ++r)
        for (int c = 0; c < C; ++c) {
            const double a = s.alpha.at(c), b = s.beta.at(r), L = s.lossAt(r, c);
            if (std::abs(a) > radius + 1e-12 || std::abs(b) > radius + 1e-12 || std::isnan(L))
                continue;
            ++out.pointsInSquare;
            if (L < out.minLoss) {
                out.minLoss = L;
                out.minAlpha = a;
                out.minBeta = b;
            }
            if (r == 0 || c == 0 || r == R - 1 || c == C - 1)
                continue;
            bool lowest = true;
            for (int dr = -1; dr <= 1; ++dr)
                for (int dc = -1; dc <= 1; ++dc)
                    if ((dr || dc) && !(L < s.lossAt(r + dr, c + dc)))
                        lowest = false;
            out.localMinima += lowest;
            const double l = (s.lossAt(r, c + 1) + s.lossAt(r, c - 1) - 2 * L) / (ha * ha) +
                             (s.lossAt(r + 1, c) + s.lossAt(r - 1, c) - 2 * L) / (hb * hb);
            if (std::isfinite(l)) {
                lap += std::abs(l);
                ++lapCount;
            }
        }
    out.meanAbsLaplacian = lapCount ? lap / lapCount : 0;
    return out;
}

} // namespace convscope::analysis
