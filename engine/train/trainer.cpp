// Trainer: program recording, the chunked replay loop and evaluation.
#include "train/trainer.h"
#include "backend/cpu_backend.h"
#include "core/format.h"
#include "core/random.h"
#include "io/safetensors.h"
#include "model/weights.h"
#include "ops/gather_batch.h"
#include "ops/metrics_ring.h"
#include "ops/optimizer.h"
#include "ops/softmax_cross_entropy.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <deque>
#include <filesystem>
#include <set>

namespace convscope::train {

namespace {
double now() {
    using namespace std::chrono;
    return duration<double>(steady_clock::now().time_since_epoch()).count();
}
} // namespace

bool LrSchedule::parse(const std::string& name, Kind& kind) {
    if (name == "constant")
        kind = Kind::Constant;
    else if (name == "step")
        kind = Kind::Step;
    else if (name == "cosine")
        kind = Kind::Cosine;
    else
        return false;
    return true;
}

double LrSchedule::at(double base, std::int64_t step, std::int64_t total,
                      std::int64_t perEpoch) const {
    if (warmupSteps > 0 && step < warmupSteps)
        return base * double(step + 1) / double(warmupSteps);
    switch (kind) {
    case Kind::Step:
        return base * std::pow(gamma, double(step / std::max<std::int64_t>(1, perEpoch) /
                                             std::max(1, stepEpochs)));
    case Kind::Cosine: {
        const double span = double(std::max<std::int64_t>(1, total - warmupSteps));
        const double t = std::min(1.0, double(step - warmupSteps) / span);
        return base * 0.5 * (1.0 + std::cos(3.14159265358979323846 * t));
    }
    default:
        return base;
    }
}

std::int64_t Trainer::stepsPerEpoch() const {
    return (m_data.train.count + m_cfg.batch - 1) / m_cfg.batch;
}

Status Trainer::setup() {
    CS_TRY(plan());
    if (Status s = m_be.allocate(); !s.ok())
        return Status::error(s.what() + " (batch " + std::to_string(m_cfg.batch) + ": " +
                                 std::to_string(m_model.parameterCount()) +
                                 " parameters, activations and gradients, the dataset's " +
                                 byteSize(std::uint64_t(m_data.train.count + m_data.test.count) *
                                          std::uint64_t(m_data.train.features())) +
                                 ")",
                             s.where(), s.hint());
    return finishSetup();
}

Status Trainer::setupTogether(const std::vector<Trainer*>& trainers) {
    if (trainers.empty())
        return {};
    Backend& be = trainers.front()->m_be;
    std::int64_t params = 0;
    for (Trainer* t : trainers) {
        if (&t->m_be != &be)
            return Status::error("the trainers are on different backends", "trainer");
        CS_TRY(t->plan());
        params += t->m_model.parameterCount();
    }
    if (Status s = be.allocate(); !s.ok())
        return Status::error(s.what() + " (" + std::to_string(trainers.size()) + " runs, " +
                                 std::to_string(params) + " parameters in all, each with its " +
                                 "activations, gradients and a copy of the dataset)",
                             s.where(), s.hint());
    for (Trainer* t : trainers)
        CS_TRY(t->finishSetup());
    return {};
}

Status Trainer::finishSetup() {
    const auto& tr = m_data.train;
    const auto& te = m_data.test;
    CS_TRY(m_be.writeBytes(m_trainImages, tr.images.data(), tr.images.size()));
    CS_TRY(m_be.writeBytes(m_trainLabels, tr.labels.data(), tr.labels.size()));
    CS_TRY(m_be.writeBytes(m_testImages, te.images.data(), te.images.size()));
    CS_TRY(m_be.writeBytes(m_testLabels, te.labels.data(), te.labels.size()));
    std::vector<std::int32_t> identity(std::size_t(te.count));
    for (std::size_t i = 0; i < identity.size(); ++i)
        identity[i] = std::int32_t(i);
    CS_TRY(m_be.writeI32(m_testOrder, identity));
    CS_TRY(m_be.zero(m_state));
    CS_TRY(m_be.zero(m_optState1));
    CS_TRY(m_be.zero(m_optState2));
    CS_TRY(m_be.zero(m_norm));
    CS_TRY(m_be.writeReal(m_hyper, ops::hyperValues(m_cfg.optimizer)));
    m_currentLr = m_cfg.optimizer.lr;
    CS_TRY(m_model.initialize(m_be, m_cfg.seed));
    return recordPrograms();
}

Result<std::uint64_t> Trainer::bytesNeeded(const model::NetSpec& spec,
                                           const data::TrainTestSplit& shape,
                                           const TrainConfig& cfg) {
    CpuBackend<float> planner(1, false);
    model::Network net(spec);
    Trainer t(planner, net, shape, cfg);
    CS_TRY(t.plan());
    return planner.plannedBytes(Placement::Device) + planner.plannedBytes(Placement::Host);
}

Status Trainer::plan() {
    const auto& tr = m_data.train;
    const auto& te = m_data.test;
    if (tr.features() != m_model.inputFeatures())
        return Status::error("the dataset has " + std::to_string(tr.features()) +
                                 " features per image but the network expects " +
                                 std::to_string(m_model.inputFeatures()),
                             "trainer");
    if (tr.classes > m_model.classes())
        return Status::error("the dataset has " + std::to_string(tr.classes) +
                                 " classes but the network has " +
                                 std::to_string(m_model.classes()) + " outputs",
                             "trainer");
    if (te.features() != tr.features() || te.classes != tr.classes || te.count <= 0)
        return Status::error("the test split (" + std::to_string(te.features()) + " features, " +
                                 std::to_string(te.classes) +
                                 " classes) does not match the training split",
                             te.name);
    if (m_cfg.batch <= 0 || m_cfg.epochs <= 0 || m_cfg.chunk <= 0)
        return Status::error("batch, epochs and chunk must be positive", "trainer");
    CS_TRY(m_cfg.optimizer.check());

    const std::int64_t D = tr.features(), B = m_cfg.batch;
    m_trainImages = m_be.tensor({ops::paddedBytes(tr.count * D)}, DType::U8);
    m_trainLabels = m_be.tensor({ops::paddedBytes(tr.count)}, DType::U8);
    m_testImages = m_be.tensor({ops::paddedBytes(te.count * D)}, DType::U8);
    m_testLabels = m_be.tensor({ops::paddedBytes(te.count)}, DType::U8);
    m_order = m_be.tensor({tr.count}, DType::I32, Placement::Host);
    m_testOrder = m_be.tensor({te.count}, DType::I32);
    m_state = m_be.tensor({1}, DType::I32);
    m_evalState = m_be.tensor({1}, DType::I32);
    m_probeOrder = m_be.tensor({1}, DType::I32);
    m_probeState = m_be.tensor({1}, DType::I32);
    m_x = m_be.tensor({B, D});
    m_y = m_be.tensor({B}, DType::I32);
    m_metrics = m_be.tensor({3});
    m_hyper = m_be.tensor({ops::kHyperSize}, DType::Real, Placement::Host);
    m_norm = m_be.tensor({2});
    m_normPartials = m_be.tensor({ops::kNormPartials});
    m_ring = m_be.tensor({2 * m_cfg.chunk, 4}, DType::Real, Placement::Host);
    m_evalRing = m_be.tensor({(te.count + B - 1) / B, 4}, DType::Real, Placement::Host);
    CS_TRY(m_model.plan(m_be, B));
    m_optState1 = m_be.tensor(m_model.params().shape);
    m_optState2 = m_be.tensor(m_model.params().shape);
    return {};
}

Status Trainer::recordPrograms() {
    const auto& tr = m_data.train;
    const auto& te = m_data.test;
    const std::int64_t B = m_cfg.batch, D = tr.features(), C = m_model.classes();
    // Pixels x in [0, 255] become (x/255 - mean)/std in the gather kernel.
    const double scale = 1.0 / (255.0 * m_data.std), shift = -m_data.mean / m_data.std;

    CS_TRY_ASSIGN(m_step, m_be.record([&]() -> Status {
        ops::GatherShape g{B, D, tr.count, scale, shift};
        g.channels = tr.channels;
        g.height = tr.height;
        g.width = tr.width;
        g.cropPad = m_cfg.cropPad;
        g.hflip = m_cfg.hflip;
        g.seed = std::uint32_t(m_cfg.seed * 2654435761u);
        CS_TRY(ops::gatherBatch(m_be, g, m_trainImages, m_trainLabels, m_order, m_state, m_x, m_y));
        CS_TRY(m_model.recordForward(m_be, m_x, true, m_state));
        CS_TRY(ops::softmaxCrossEntropy(m_be, B, C, m_model.logits(), m_y, m_model.dlogits(),
                                        m_metrics));
        CS_TRY(m_model.recordBackward(m_be, m_state));
        if (m_cfg.optimizer.clipNorm > 0)
            CS_TRY(ops::gradNorm(m_be, m_model.grads(), m_normPartials, m_norm, m_hyper));
        CS_TRY(ops::optimizerUpdate(m_be, m_cfg.optimizer.kind, m_model.params(), m_model.grads(),
                                    m_optState1, m_optState2, m_hyper, m_state, m_norm));
        return ops::metricsRing(m_be, m_metrics, m_state, m_ring);
    }));
    CS_TRY_ASSIGN(m_eval, m_be.record([&]() -> Status {
        CS_TRY(ops::gatherBatch(m_be, {B, D, te.count, scale, shift}, m_testImages, m_testLabels,
                                m_testOrder, m_evalState, m_x, m_y));
        // Only the logits are read: batch norms folded into their convolutions.
        CS_TRY(m_model.recordInference(m_be, m_x, m_evalState));
        CS_TRY(ops::softmaxCrossEntropy(m_be, B, C, m_model.logits(), m_y, m_model.dlogits(),
                                        m_metrics));
        return ops::metricsRing(m_be, m_metrics, m_evalState, m_evalRing);
    }));
    // One image (count 1): the other samples of the batch are zeros.
    CS_TRY_ASSIGN(m_probe, m_be.record([&]() -> Status {
        CS_TRY(ops::gatherBatch(m_be, {B, D, 1, scale, shift}, m_testImages, m_testLabels,
                                m_probeOrder, m_probeState, m_x, m_y));
        return m_model.recordForward(m_be, m_x, false, m_probeState);
    }));
    return {};
}

Status Trainer::probe(std::int64_t testIndex) {
    if (testIndex < 0 || testIndex >= m_data.test.count)
        return Status::error("test image " + std::to_string(testIndex) + " does not exist",
                             m_data.test.name,
                             "Pick one of 0.." + std::to_string(m_data.test.count - 1));
    const std::int32_t index = std::int32_t(testIndex);
    CS_TRY(m_be.writeI32(m_probeOrder, std::span(&index, 1)));
    CS_TRY(m_be.zero(m_probeState));
    CS_TRY_ASSIGN(Ticket t, m_be.submit(m_probe));
    return m_be.wait(t);
}

Status Trainer::setLearningRate(double lr) {
    ops::OptimizerConfig next = m_cfg.optimizer;
    next.lr = lr;
    CS_TRY(next.check());
    m_cfg.optimizer = next;
    m_currentLr = lr;
    // writeReal waits for the steps in flight: none reads the hyper-parameters while they change.
    return m_be.writeReal(m_hyper, ops::hyperValues(next));
}

Result<EvalReport> Trainer::evaluate() {
    const std::int64_t steps = m_evalRing.shape[0];
    CS_TRY(m_be.zero(m_evalState));
    CS_TRY_ASSIGN(Ticket t, m_be.submit(m_eval, std::uint32_t(steps)));
    CS_TRY(m_be.wait(t));
    EvalReport r;
    double lossSum = 0, correct = 0;
    for (std::int64_t s = 0; s < steps; ++s) {
        const double valid = m_be.hostReal(m_evalRing, s * 4 + 2);
        lossSum += m_be.hostReal(m_evalRing, s * 4 + 0) * valid;
        correct += m_be.hostReal(m_evalRing, s * 4 + 1) * valid;
        r.count += std::int64_t(valid);
    }
    if (r.count != m_data.test.count)
        return Status::error("evaluation saw " + std::to_string(r.count) + " of " +
                                 std::to_string(m_data.test.count) + " test images",
                             "trainer");
    r.loss = lossSum / double(r.count);
    r.accuracy = correct / double(r.count);
    return r;
}

Result<std::vector<LayerStat>> Trainer::layerStats() {
    CS_TRY(m_be.finish());
    auto norm = [&](const Tensor& t) -> Result<double> {
        if (!t.valid())
            return 0.0;
        CS_TRY_ASSIGN(auto v, m_be.readReal(t));
        double s = 0;
        for (double x : v)
            s += x * x;
        return s;
    };
    std::vector<LayerStat> stats;
    for (const auto& l : m_model.paramLayers()) {
        LayerStat st;
        st.layer = l.path;
        CS_TRY_ASSIGN(double w2, norm(l.w));
        CS_TRY_ASSIGN(double b2, norm(l.b));
        CS_TRY_ASSIGN(double g2, norm(l.dw));
        CS_TRY_ASSIGN(double d2, norm(l.db));
        st.weightNorm = std::sqrt(w2 + b2);
        st.gradNorm = std::sqrt(g2 + d2);
        st.updateRatio = st.weightNorm > 0 ? m_currentLr * st.gradNorm / st.weightNorm : 0;
        stats.push_back(st);
    }
    return stats;
}

std::vector<Tensor> Trainer::stateTensors() const {
    return {m_model.params(), m_model.buffers(), m_optState1, m_optState2, m_norm, m_state};
}

Status Trainer::captureGuard() {
    const std::vector<Tensor> state = stateTensors();
    m_guard.bytes.resize(state.size());
    for (std::size_t i = 0; i < state.size(); ++i) {
        m_guard.bytes[i].resize(state[i].valid() ? state[i].bytes : 0);
        if (state[i].valid())
            CS_TRY(m_be.readBytes(state[i], m_guard.bytes[i].data(), state[i].bytes));
    }
    m_guard.step = m_stepsDone;
    m_guard.time = now();
    return {};
}

Status Trainer::restoreGuard() {
    const std::vector<Tensor> state = stateTensors();
    if (m_guard.step < 0 || m_guard.bytes.size() != state.size())
        return Status::error("no replay point", "trainer");
    for (std::size_t i = 0; i < state.size(); ++i)
        if (state[i].valid())
            CS_TRY(m_be.writeBytes(state[i], m_guard.bytes[i].data(), state[i].bytes));
    m_stepsDone = m_guard.step;
    m_sums = EpochSums{};
    return {};
}

double Trainer::rateAt(std::int64_t step) const {
    const std::int64_t S = stepsPerEpoch();
    std::int64_t planned = S * m_cfg.epochs;
    if (m_cfg.maxSteps > 0)
        planned = std::min(planned, m_cfg.maxSteps);
    return m_cfg.schedule.at(m_cfg.optimizer.lr, step - step % m_cfg.chunk, planned, S);
}

Result<std::string> Trainer::replay(std::int64_t to, const std::function<std::string()>& check) {
    while (m_stepsDone < to) {
        const std::int64_t next = m_stepsDone;
        // Chunk-aligned blocks at the schedule's rate: the steps the interrupted run took.
        const std::int64_t n =
            check ? 1 : std::min<std::int64_t>(m_cfg.chunk - next % m_cfg.chunk, to - next);
        if (const double lr = rateAt(next); lr != m_currentLr) {
            ops::OptimizerConfig o = m_cfg.optimizer;
            o.lr = lr;
            CS_TRY(m_be.writeReal(m_hyper, ops::hyperValues(o)));
            m_currentLr = lr;
        }
        CS_TRY_ASSIGN(Ticket t, m_be.submit(m_step, std::uint32_t(n)));
        CS_TRY(m_be.wait(t));
        m_stepsDone += n;
        if (check)
            if (std::string where = check(); !where.empty())
                return where;
    }
    return std::string();
}

namespace {
// NaN and ±Inf among a tensor's values ("3 NaN and 861 ±Inf of 864 values"; empty if none).
std::string nonFiniteCount(Backend& be, const Tensor& t) {
    if (!t.valid())
        return {};
    auto v = be.readReal(t);
    if (!v.ok())
        return {};
    const auto nan = std::count_if(v->begin(), v->end(), [](double x) { return std::isnan(x); });
    const auto inf = std::count_if(v->begin(), v->end(), [](double x) { return std::isinf(x); });
    if (nan + inf == 0)
        return {};
    std::string s;
    if (nan > 0)
        s = std::to_string(nan) + " NaN";
    if (inf > 0)
        s += (s.empty() ? "" : " and ") + std::to_string(inf) + " ±Inf";
    return s + " of " + std::to_string(v->size()) + " values";
}
} // namespace

std::string Trainer::largestWeight() {
    double top = 0;
    std::string where;
    for (const auto& l : m_model.paramLayers())
        if (auto v = m_be.readReal(l.w); v.ok())
            for (double x : *v)
                if (std::isfinite(x) && std::abs(x) > top) {
                    top = std::abs(x);
                    where = l.path;
                }
    return where.empty() ? std::string() : shortNumber(top) + " in " + where;
}

std::string Trainer::firstNonFinite(std::int64_t step, const std::string& largestBefore) {
    const std::string at = " of step " + std::to_string(step);
    // The forward case says how large the weights going in were: a huge rate shows as finite
    // but enormous weights whose products overflow a few layers on.
    const std::string hint =
        largestBefore.empty()
            ? std::string()
            : "; the weights going in were finite, the largest |w| " + largestBefore;
    // The forward pass, input to output: each top-level layer's running statistics (batch norm
    // updates them as it normalises) and then its output.
    for (const auto& o : m_model.layerOutputs()) {
        for (const auto& t : m_model.namedTensors())
            if (!t.parameter && t.name.starts_with(o.path + "."))
                if (std::string n = nonFiniteCount(m_be, t.tensor); !n.empty())
                    return "the forward pass" + at + ", in " + t.name + " (" + n + ")" + hint;
        if (std::string n = nonFiniteCount(m_be, o.y); !n.empty())
            return "the forward pass" + at + ", in the output of " + o.path + " (" + n + ")" + hint;
    }
    const std::int64_t slot = (step - 1) % m_ring.shape[0];
    if (const double loss = m_be.hostReal(m_ring, slot * 4); !std::isfinite(loss))
        return "the forward pass" + at + ", in the loss (" + shortNumber(loss) +
               ") while every layer's output was finite";
    // The backward pass, output to input.
    const auto& layers = m_model.paramLayers();
    for (auto l = layers.rbegin(); l != layers.rend(); ++l)
        for (const Tensor* t : {&l->dw, &l->db})
            if (std::string n = nonFiniteCount(m_be, *t); !n.empty())
                return "the backward pass" + at + ", in the gradient of " + l->path + "'s " +
                       (t == &l->dw ? "weights" : "bias") + " (" + n + ")";
    // The update.
    for (const auto& l : layers)
        for (const Tensor* t : {&l.w, &l.b})
            if (std::string n = nonFiniteCount(m_be, *t); !n.empty())
                return "the update" + at + " (η = " + shortNumber(m_currentLr) + "), in the " +
                       (t == &l.w ? "weights" : "bias") + " of " + l.path + " (" + n + ")";
    for (const auto& t : m_model.namedTensors()) // statistics of layers not listed above
        if (!t.parameter)
            if (std::string n = nonFiniteCount(m_be, t.tensor); !n.empty())
                return "the forward pass" + at + ", in " + t.name + " (" + n + ")";
    return {};
}

std::string Trainer::blame(std::int64_t badStep) {
    const std::int64_t S = stepsPerEpoch();
    if (!m_be.finish().ok() || m_guard.step < 0 || m_guard.step >= badStep ||
        badStep - m_guard.step > kMaxReplaySteps || m_guard.step / S != (badStep - 1) / S)
        return {};
    if (!restoreGuard().ok())
        return {};
    std::string largest = largestWeight();
    auto found = replay(badStep, [&] {
        std::string where = firstNonFinite(m_stepsDone, largest);
        if (where.empty())
            largest = largestWeight(); // the weights the next step starts from
        return where;
    });
    // The weights stay diverged: the last finite step may hold finite but enormous weights (a
    // rate of 1e6 makes |w| ~ 1e28 in two steps), so the way back is the last good checkpoint.
    return found.ok() ? *found : std::string();
}

std::string Trainer::nonFiniteReport() {
    if (!m_be.finish().ok())
        return {};
    auto bad = [&](const Tensor& t) -> std::pair<std::int64_t, std::int64_t> {
        if (!t.valid())
            return {0, 0};
        auto v = m_be.readReal(t);
        if (!v.ok())
            return {0, 0};
        const auto n =
            std::count_if(v->begin(), v->end(), [](double x) { return !std::isfinite(x); });
        return {n, std::int64_t(v->size())};
    };
    auto said = [](const std::string& what, std::pair<std::int64_t, std::int64_t> n) {
        return what + " (" + std::to_string(n.first) + " of " + std::to_string(n.second) +
               " values)";
    };
    for (const auto& l : m_model.paramLayers())
        for (const Tensor* t : {&l.w, &l.b})
            if (auto n = bad(*t); n.first > 0)
                return said("the weights of " + l.path, n);
    for (const auto& o : m_model.layerOutputs())
        if (auto n = bad(o.y); n.first > 0)
            return said("the forward output of " + o.path, n);
    for (const auto& l : m_model.paramLayers())
        for (const Tensor* t : {&l.dw, &l.db})
            if (auto n = bad(*t); n.first > 0)
                return said("the gradient of " + l.path, n);
    return {};
}

Status Trainer::collect(std::int64_t from, std::int64_t to, double lr, int epoch, double epochStart,
                        std::int64_t epochFirstStep,
                        const std::function<void(const StepReport&)>& onStep, double& lossSum,
                        double& accSum) {
    const std::int64_t slots = m_ring.shape[0];
    for (std::int64_t s = from; s < to; ++s) {
        const std::int64_t slot = s % slots;
        const double tag = m_be.hostReal(m_ring, slot * 4 + 3);
        if (tag != double(float(s)))
            return Status::error("metrics ring out of step (slot holds step " +
                                     std::to_string(tag) + ", expected " + std::to_string(s) + ")",
                                 "trainer");
        StepReport r;
        r.epoch = epoch;
        r.step = s + 1;
        r.stepInEpoch = s - (epoch - 1) * stepsPerEpoch() + 1;
        r.stepsPerEpoch = stepsPerEpoch();
        r.loss = m_be.hostReal(m_ring, slot * 4 + 0);
        r.accuracy = m_be.hostReal(m_ring, slot * 4 + 1);
        r.lr = lr;
        r.imagesPerSecond =
            double((s - epochFirstStep + 1) * m_cfg.batch) / std::max(1e-9, now() - epochStart);
        if (!std::isfinite(r.loss)) {
            m_diverged = true;
            const std::string lower =
                "Lower the learning rate (now " + shortNumber(m_cfg.optimizer.lr) + ")";
            const std::string first = blame(r.step);
            const std::string where = first.empty() ? nonFiniteReport() : std::string();
            return Status::error(
                "training diverged: the loss became " + shortNumber(r.loss) + " at step " +
                    std::to_string(r.step) +
                    (!first.empty()  ? "; the first NaN or Inf appeared in " + first
                     : where.empty() ? std::string()
                                     : "; the first layer holding NaN or Inf (input to "
                                       "output) is " +
                                           where),
                "epoch " + std::to_string(epoch),
                lower + " and continue from the last good checkpoint, or use a smaller "
                        "initialisation");
        }
        lossSum += r.loss;
        accSum += r.accuracy;
        if (onStep)
            onStep(r);
    }
    return {};
}

Status Trainer::run(const std::function<void(const StepReport&)>& onStep,
                    const std::function<void(const EpochReport&)>& onEpoch,
                    const std::atomic<bool>* cancel) {
    // The device's step counter is the truth (an earlier run may have stopped mid-epoch).
    std::int32_t deviceStep = 0;
    CS_TRY(m_be.readBytes(m_state, &deviceStep, sizeof deviceStep));
    m_stepsDone = deviceStep;
    Status s = runEpochs(onStep, onEpoch, cancel);
    if (!s.ok()) {
        // Let the chunks in flight finish so the device counter and m_stepsDone agree again.
        (void)m_be.finish();
        if (m_be.readBytes(m_state, &deviceStep, sizeof deviceStep).ok())
            m_stepsDone = deviceStep;
    }
    return s;
}

Status Trainer::runSteps(std::int64_t steps, const std::function<void(const StepReport&)>& onStep,
                         const std::function<void(const EpochReport&)>& onEpoch,
                         const std::atomic<bool>* cancel) {
    if (steps <= 0)
        return Status::error("the number of steps must be positive", "trainer");
    std::int32_t deviceStep = 0;
    CS_TRY(m_be.readBytes(m_state, &deviceStep, sizeof deviceStep));
    m_stopAt = std::int64_t(deviceStep) + steps;
    Status s = run(onStep, onEpoch, cancel);
    m_stopAt = 0;
    return s;
}

Status Trainer::runEpochs(const std::function<void(const StepReport&)>& onStep,
                          const std::function<void(const EpochReport&)>& onEpoch,
                          const std::atomic<bool>* cancel) {
    const std::int64_t S = stepsPerEpoch();
    std::int64_t total = S * m_cfg.epochs;
    if (m_cfg.maxSteps > 0)
        total = std::min(total, m_cfg.maxSteps);
    const std::int64_t planned = total; // the schedule spans the planned run, not a pause
    if (m_stopAt > 0)
        total = std::min(total, m_stopAt);
    auto cancelled = [&] { return cancel && cancel->load(); };
    // Epochs follow the device's step counter, so a run stopped mid-epoch resumes that epoch
    // with the same (seeded) order and the same batches.
    while (m_stepsDone < total) {
        const int epoch = int(m_stepsDone / S) + 1;
        Rng rng(m_cfg.seed * 1000003ull + std::uint64_t(epoch));
        std::vector<std::int32_t> order = rng.permutation(m_data.train.count);
        if (!m_cfg.shuffle)
            std::sort(order.begin(), order.end());
        CS_TRY(m_be.writeI32(m_order, order));
        const double start = now();
        const std::int64_t first = m_stepsDone;
        const std::int64_t last = std::min(std::int64_t(epoch) * S, total);
        // The epoch's sums continue where the last run (a runSteps() slice, a pause) left them.
        if (m_sums.epoch != epoch || m_sums.to != m_stepsDone)
            m_sums = EpochSums{epoch, m_stepsDone, m_stepsDone, 0, 0, 0};
        double& lossSum = m_sums.loss;
        double& accSum = m_sums.accuracy;
        // At most two chunks in flight: submit chunk k+1, then read chunk k's ring slots.
        struct Chunk {
            Ticket ticket;
            std::int64_t from, to;
            double lr;
        };
        std::deque<Chunk> inFlight;
        std::int64_t next = first;
        double lastDone = now(); // when the device last finished a chunk (or was idle)
        // The NaN guard's replay point: at every epoch entry and every kGuardSeconds, taken
        // when nothing is in flight (the pipeline drains for it: one chunk's bubble).
        // The quiet hook (autosave) runs at such points too.
        bool guardDue = true;
        if (m_hookTime < 0)
            m_hookTime = now();
        while (next < last || !inFlight.empty()) {
            if (inFlight.empty() && next < last && !cancelled()) {
                if (guardDue) {
                    CS_TRY(captureGuard());
                    guardDue = false;
                }
                if (hookDue()) {
                    m_hookSeconds = m_hook();
                    m_hookTime = now();
                }
            }
            if (next < last && !cancelled() && !guardDue && !hookDue()) {
                // Chunks are aligned to multiples of `chunk` steps and the rate is the
                // schedule's at the aligned start, so a run paused anywhere (or stepped one
                // step at a time) uses exactly the rates of an uninterrupted one.
                std::int64_t n =
                    std::min<std::int64_t>(m_cfg.chunk - next % m_cfg.chunk, last - next);
                // Chunks of about kChunkSeconds, so a pause takes effect within two of them
                // (at most two are in flight) whatever a step costs; the rate is still the
                // aligned block's, so the steps are those of an unchunked run.
                if (m_secondsPerStep > 0)
                    n = std::clamp<std::int64_t>(std::int64_t(kChunkSeconds / m_secondsPerStep), 1,
                                                 n);
                const double lr =
                    m_cfg.schedule.at(m_cfg.optimizer.lr, next - next % m_cfg.chunk, planned, S);
                if (lr != m_currentLr) {
                    // The rate is constant within a chunk; writeReal waits for the steps in
                    // flight, so none sees it change under it.
                    ops::OptimizerConfig o = m_cfg.optimizer;
                    o.lr = lr;
                    CS_TRY(m_be.writeReal(m_hyper, ops::hyperValues(o)));
                    m_currentLr = lr;
                }
                CS_TRY_ASSIGN(Ticket t, m_be.submit(m_step, std::uint32_t(n)));
                inFlight.push_back({t, next, next + n, lr});
                next += n;
            }
            if (inFlight.empty())
                break; // cancelled before anything more was submitted
            // Steps slower than a chunk's time (resnet20 on a CPU): one in flight, so a pause
            // waits for one step at most; otherwise two keep the device busy.
            const std::size_t depth = m_secondsPerStep > kChunkSeconds ? 1 : 2;
            guardDue = guardDue || now() - m_guard.time > kGuardSeconds;
            if (inFlight.size() >= depth || next >= last || cancelled() || guardDue || hookDue()) {
                Chunk c = inFlight.front();
                inFlight.pop_front();
                CS_TRY(m_be.wait(c.ticket));
                const double done = now(), per = (done - lastDone) / double(c.to - c.from);
                m_secondsPerStep = m_secondsPerStep > 0 ? 0.7 * m_secondsPerStep + 0.3 * per : per;
                lastDone = done;
                m_stepsDone = c.to;
                CS_TRY(collect(c.from, c.to, c.lr, epoch, start, first, onStep, lossSum, accSum));
                m_sums.to = c.to;
            }
        }
        const double seconds = m_sums.seconds + (now() - start);
        if (m_stepsDone < last || (m_stepsDone < std::int64_t(epoch) * S && m_stepsDone < planned))
            m_sums.seconds = seconds; // the epoch goes on in a later run
        if (m_stepsDone < last)
            return Status::error("training cancelled after step " + std::to_string(m_stepsDone),
                                 "trainer");
        if (m_stepsDone < std::int64_t(epoch) * S && m_stepsDone < planned)
            return {}; // runSteps stopped mid-epoch: no epoch report, no evaluation
        EpochReport e;
        e.epoch = epoch;
        const double steps = double(m_stepsDone - m_sums.first);
        e.trainLoss = lossSum / steps;
        e.trainAccuracy = accSum / steps;
        e.seconds = seconds;
        e.imagesPerSecond = steps * double(m_cfg.batch) / std::max(seconds, 1e-9);
        CS_TRY_ASSIGN(e.layers, layerStats());
        CS_TRY_ASSIGN(e.test, evaluate());
        if (onEpoch)
            onEpoch(e);
    }
    return {};
}

std::string Trainer::optimizerPath(const std::string& path) {
    const std::filesystem::path p(path);
    return (p.parent_path() / ("optimizer-" + p.filename().string())).string();
}

bool Trainer::hookDue() const {
    return m_hook && m_hookTime >= 0 && now() - m_hookTime >= m_hookSeconds;
}

std::array<Tensor, 2> Trainer::optimizerState(const model::NamedTensor& t) const {
    // The optimizer state has the parameters' layout: the same views into state1/state2.
    const std::int64_t at = std::int64_t(t.tensor.offset - m_model.params().offset) /
                            std::int64_t(m_be.elementSize(DType::Real));
    return {m_be.view(m_optState1, at, {t.tensor.numel()}),
            m_be.view(m_optState2, at, {t.tensor.numel()})};
}

Status Trainer::saveCheckpoint(const std::string& path,
                               const std::map<std::string, std::string>& metadata) {
    CS_TRY_ASSIGN(io::SafeTensors model, model::readWeights(m_be, m_model));
    io::SafeTensors optimizer;
    std::set<std::string> batchNorms;
    for (const auto& t : m_model.namedTensors()) {
        if (t.name.ends_with(".running_mean"))
            batchNorms.insert(t.name.substr(0, t.name.size() - 13));
        if (!t.parameter)
            continue;
        const auto views = optimizerState(t);
        for (int k = 0; k < 2; ++k) {
            CS_TRY_ASSIGN(auto state, m_be.readReal(views[std::size_t(k)]));
            io::StoredTensor os;
            os.shape = t.dims;
            os.f32.assign(state.begin(), state.end());
            optimizer.tensors[t.name + (k == 0 ? ".state1" : ".state2")] = std::move(os);
        }
    }
    for (const auto& bn : batchNorms) {
        io::StoredTensor count;
        count.dtype = "I64";
        count.i64 = {m_stepsDone};
        model.tensors[bn + ".num_batches_tracked"] = std::move(count);
    }
    model.metadata = metadata;
    model.metadata["format"] = "convscope-checkpoint-1";
    model.metadata["step"] = std::to_string(m_stepsDone);
    model.metadata["spec"] = model::toJson(m_model.spec());
    // How the run was trained, so a reopened run can continue with the same settings.
    model.metadata["optimizer"] = m_cfg.optimizer.name();
    model.metadata["lr"] = exactNumber(m_cfg.optimizer.lr);
    model.metadata["weight_decay"] = exactNumber(m_cfg.optimizer.weightDecay);
    model.metadata["batch"] = std::to_string(m_cfg.batch);
    model.metadata["epochs"] = std::to_string(m_cfg.epochs);
    model.metadata["seed"] = std::to_string(m_cfg.seed);
    optimizer.metadata["step"] = std::to_string(m_stepsDone);
    optimizer.metadata["optimizer"] = m_cfg.optimizer.name();
    CS_TRY(io::saveSafetensors(optimizerPath(path), optimizer));
    return io::saveSafetensors(path, model); // last: its presence means both are complete
}

Status Trainer::loadCheckpoint(const std::string& path) {
    CS_TRY_ASSIGN(io::SafeTensors model, io::loadSafetensors(path));
    CS_TRY(model::writeWeights(m_be, m_model, model, path));
    auto optimizer = io::loadSafetensors(optimizerPath(path));
    if (optimizer.ok()) {
        for (const auto& t : m_model.namedTensors()) {
            if (!t.parameter)
                continue;
            const auto views = optimizerState(t);
            for (int k = 0; k < 2; ++k) {
                const std::string n = t.name + (k == 0 ? ".state1" : ".state2");
                auto it = optimizer->tensors.find(n);
                if (it == optimizer->tensors.end() || it->second.dtype != "F32" ||
                    it->second.numel() != views[std::size_t(k)].numel())
                    return Status::error(
                        "the optimizer state \"" + n + "\" is missing or has the wrong size",
                        optimizerPath(path), "Delete that file to continue with a fresh optimizer");
                CS_TRY(
                    m_be.writeReal(views[std::size_t(k)], std::span<const float>(it->second.f32)));
            }
        }
    } else {
        CS_TRY(m_be.zero(m_optState1));
        CS_TRY(m_be.zero(m_optState2));
    }
    std::int32_t step = 0;
    if (auto it = model.metadata.find("step"); it != model.metadata.end()) {
        const std::string& v = it->second;
        const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), step);
        if (ec != std::errc() || end != v.data() + v.size() || step < 0)
            return Status::error("the step \"" + v +
                                     "\" in the checkpoint's metadata is not a "
                                     "step count",
                                 path, "Use another checkpoint from checkpoints/");
    }
    CS_TRY(m_be.writeI32(m_state, std::vector<std::int32_t>{step}));
    m_stepsDone = step;
    m_sums = EpochSums{};
    m_diverged = false;
    m_guard.step = -1; // the next run takes its own replay point
    return {};
}

} // namespace convscope::train
