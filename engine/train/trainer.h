// Trainer: records one training step and one evaluation step once, then replays them. The host
// writes only the epoch's shuffled order and the hyper-parameters; losses come back through a
// host-visible ring that is read one chunk behind the chunk in flight.
#pragma once

#include "backend/backend.h"
#include "data/idx.h"
#include "model/network.h"
#include "ops/optimizer.h"
#include <array>
#include <atomic>
#include <functional>
#include <map>

namespace convscope::train {

// Learning rate over training: constant, step decay (×gamma every `stepEpochs` epochs) or cosine
// to zero over the run, each after an optional linear warm-up from 0 over `warmupSteps` steps.
struct LrSchedule {
    enum class Kind { Constant, Step, Cosine } kind = Kind::Constant;
    int stepEpochs = 1;
    double gamma = 0.1;
    std::int64_t warmupSteps = 0;
    static bool parse(const std::string& name, Kind& kind); // "constant", "step", "cosine"
    // The rate at `step` (0-based) of a run of `totalSteps`, with `stepsPerEpoch`.
    double at(double baseLr, std::int64_t step, std::int64_t totalSteps,
              std::int64_t stepsPerEpoch) const;
};

struct TrainConfig {
    std::int64_t batch = 64;
    int epochs = 1;
    ops::OptimizerConfig optimizer; // SGD with momentum 0.9, lr 0.05 by default
    std::uint64_t seed = 1;
    int chunk = 16;            // steps per submit
    std::int64_t maxSteps = 0; // stop early after this many steps in all (0: no limit)
    bool shuffle = true;       // false: every epoch in file order (parity tests)
    LrSchedule schedule;
    int cropPad = 0; // augmentation of training batches (CIFAR: 4 and flips)
    bool hflip = false;
};

struct StepReport {
    int epoch = 0;                // 1-based
    std::int64_t step = 0;        // global step, 1-based
    std::int64_t stepInEpoch = 0; // 1-based
    std::int64_t stepsPerEpoch = 0;
    double loss = 0, accuracy = 0; // of this step's batch
    double lr = 0;                 // the learning rate the step used
    double imagesPerSecond = 0;    // since the start of the epoch
};

struct EvalReport {
    double loss = 0, accuracy = 0;
    std::int64_t count = 0;
};

// One learnable layer's health: vanishing gradients show as grad norms shrinking towards the
// input; a healthy update/weight ratio is around 1e-3 per step.
struct LayerStat {
    std::string layer; // "conv1", "stage2_block1.body.conv_a"
    double weightNorm = 0, gradNorm = 0;
    double updateRatio = 0; // lr·‖∇w‖ / ‖w‖ of the last step
};

struct EpochReport {
    int epoch = 0;
    double trainLoss = 0, trainAccuracy = 0; // mean over the epoch's steps
    EvalReport test;
    double seconds = 0, imagesPerSecond = 0;
    std::vector<LayerStat> layers; // after the epoch's last step
};

class Trainer {
public:
    Trainer(Backend& be, model::Network& model, const data::TrainTestSplit& data,
            TrainConfig config)
        : m_be(be), m_model(model), m_data(data), m_cfg(config) {}

    // Plans and allocates every tensor, uploads the dataset, initialises and records programs.
    Status setup();
    // setup() for several trainers on one backend (a twin pair): plans every trainer's tensors,
    // allocates them at once, then uploads, initialises and records each. The backend must have
    // nothing allocated (reset() it first).
    static Status setupTogether(const std::vector<Trainer*>& trainers);
    // What setup() allocates for `spec` at cfg.batch with a dataset of `shape`'s sizes (its
    // images are not read: counts, channels, height, width and classes are enough), in bytes:
    // parameters, gradients, activations, optimizer state and the dataset. Planned on a CPU
    // backend, nothing allocated; the Build view compares it with the memory available.
    static Result<std::uint64_t> bytesNeeded(const model::NetSpec& spec,
                                             const data::TrainTestSplit& shape,
                                             const TrainConfig& cfg);
    // Trains cfg.epochs epochs, evaluating on the test split after each.
    Status run(const std::function<void(const StepReport&)>& onStep,
               const std::function<void(const EpochReport&)>& onEpoch,
               const std::atomic<bool>* cancel = nullptr);
    // Runs `steps` more steps (a single step for the GUI's step button); pausing is cancel(),
    // resuming is run() again: both continue from the device's step counter.
    Status runSteps(std::int64_t steps, const std::function<void(const StepReport&)>& onStep,
                    const std::function<void(const EpochReport&)>& onEpoch,
                    const std::atomic<bool>* cancel = nullptr);
    Result<EvalReport> evaluate();
    // An evaluation-mode forward pass of test image `testIndex` alone (the feature-map view):
    // afterwards sample 0 of the network's featureMaps() holds its maps and row 0 of logits()
    // its class scores. Runs after the steps in flight; the next step overwrites both.
    Status probe(std::int64_t testIndex);
    // Per-layer weight and gradient norms of the last step (waits for the steps in flight).
    Result<std::vector<LayerStat>> layerStats();
    // The learning rate is read by the device at run time: no re-recording. Waits for the
    // steps in flight, so no step sees it half-changed.
    Status setLearningRate(double lr);
    // Weights, batch-norm statistics, optimizer state and the step counter, as safetensors: the
    // model in `path` (tensor names from the spec, loadable by PyTorch) and the optimizer state
    // beside it (optimizer-<file name>). Both written atomically.
    Status saveCheckpoint(const std::string& path,
                          const std::map<std::string, std::string>& metadata = {});
    // Restores what saveCheckpoint wrote (after setup()); training continues the same curve.
    Status loadCheckpoint(const std::string& path);
    // Called by run() between chunks with nothing in flight (weights, statistics, optimizer
    // state and step counter agree: a consistent checkpoint), first after `seconds` and then
    // after as many seconds as it returns (the window's autosave). An empty hook: none.
    void setQuietHook(double seconds, std::function<double()> hook) {
        m_hook = std::move(hook);
        m_hookSeconds = seconds;
        m_hookTime = -1;
    }
    // The optimizer state's file beside a checkpoint ("optimizer-step-40.safetensors").
    static std::string optimizerPath(const std::string& checkpointPath);
    const TrainConfig& config() const { return m_cfg; }
    std::int64_t stepsPerEpoch() const;
    std::int64_t stepsDone() const { return m_stepsDone; }
    // The loss became NaN or infinite: the weights are not worth keeping (the way back is the
    // last good checkpoint). The run stops with an error naming the step, the pass and the
    // first layer where a NaN or Inf appeared (the NaN guard's replay, below).
    bool diverged() const { return m_diverged; }
    // After a divergence: where the network holds NaN or ±Inf now, in forward order — the first
    // layer whose weights, forward output or weight gradient is not finite ("the weights of
    // conv1: 150 of 150 values"); empty when everything is finite.
    std::string nonFiniteReport();

private:
    Status plan();        // setup()'s checks and tensor declarations
    Status finishSetup(); // setup() after allocate(): upload, initialise, record
    // The NaN guard's replay point: the whole trainer state (parameters, running statistics,
    // optimizer state, clipping norm, step counter) at a step where nothing was in flight, taken
    // at every epoch entry and every kGuardSeconds. On a divergence the guard restores it and
    // replays one step at a time, checking the forward outputs (input to output), the loss, the
    // weight gradients (output to input) and the updated weights after each step, to name the
    // first layer and pass that produced a NaN or Inf.
    struct Guard {
        std::int64_t step = -1; // stepsDone when taken (-1: none)
        double time = 0;
        std::vector<std::vector<std::byte>> bytes; // one per stateTensors() entry
    };
    std::vector<Tensor> stateTensors() const;
    Status captureGuard();
    Status restoreGuard();
    // The rate step `step` (0-based) runs at: the schedule's at its chunk-aligned start.
    double rateAt(std::int64_t step) const;
    // Runs steps stepsDone()+1 .. `to` (the device counter follows), `check` after each one
    // when given (a non-empty answer stops the replay there and is returned).
    Result<std::string> replay(std::int64_t to, const std::function<std::string()>& check);
    // The first non-finite value of the step that just ran, in the order the step computes;
    // `largestBefore` describes the largest weight the step started from ("3e+09 in conv2").
    std::string firstNonFinite(std::int64_t step, const std::string& largestBefore);
    std::string largestWeight();
    // After the loss of step `badStep` (1-based) came back non-finite: the guard's replay; says
    // where the first NaN or Inf appeared, or nothing when there was no replay point.
    std::string blame(std::int64_t badStep);
    Status recordPrograms();
    Status runEpochs(const std::function<void(const StepReport&)>& onStep,
                     const std::function<void(const EpochReport&)>& onEpoch,
                     const std::atomic<bool>* cancel);
    // A parameter's two optimizer-state tensors (momentum, Adam's moments): views into
    // m_optState1/2 at the parameter's offset.
    std::array<Tensor, 2> optimizerState(const model::NamedTensor& t) const;
    Status collect(std::int64_t fromStep, std::int64_t toStep, double lr, int epoch,
                   double epochStart, std::int64_t epochFirstStep,
                   const std::function<void(const StepReport&)>& onStep, double& lossSum,
                   double& accSum);

    Backend& m_be;
    model::Network& m_model;
    const data::TrainTestSplit& m_data;
    TrainConfig m_cfg;
    Tensor m_trainImages, m_trainLabels, m_testImages, m_testLabels;
    Tensor m_order, m_testOrder, m_state, m_evalState, m_x, m_y, m_metrics, m_hyper, m_ring,
        m_evalRing;
    Tensor m_optState1, m_optState2, m_norm, m_normPartials; // optimizer state, clipping
    Tensor m_probeOrder, m_probeState;                       // probe(): one test image
    ProgramId m_step = 0, m_eval = 0, m_probe = 0;
    std::int64_t m_stepsDone = 0;
    double m_currentLr = 0;
    bool m_diverged = false;
    Guard m_guard;
    std::function<double()> m_hook;
    double m_hookSeconds = 0, m_hookTime = -1; // -1: the clock starts with the next run
    bool hookDue() const;
    static constexpr double kGuardSeconds = 5.0;
    static constexpr std::int64_t kMaxReplaySteps = 4000;
    std::int64_t m_stopAt = 0; // runSteps' limit (0: none)
    // The epoch's sums so far, kept across runSteps() slices and pauses so the epoch report of
    // an epoch run in parts is that of an uninterrupted one (reset when a run starts elsewhere).
    struct EpochSums {
        int epoch = 0;
        std::int64_t first = 0, to = -1; // the steps summed: first .. to
        double loss = 0, accuracy = 0, seconds = 0;
    } m_sums;
    // Measured cost of a step, for sizing chunks by time (0: not yet measured).
    double m_secondsPerStep = 0;
    static constexpr double kChunkSeconds = 0.05;
};

} // namespace convscope::train
