// AnalysisEngine: the session's analysis jobs on the engine thread. It keeps an Inspector on a
// backend of its own, loaded from the live training (weights copied when the step changed) or
// from a reopened run's checkpoint, and turns the engine's results into the views' Qt types.
// Used only by the session's worker (training_session.cpp); no widget sees it.
#pragma once

#include "analysis/inspector.h"
#include "analysis_types.h"
#include "core/progress.h"

#include <functional>
#include <memory>
#include <string>

namespace convscope {
class Backend;
namespace model {
class Network;
struct Checkpoint;
} // namespace model
namespace data {
struct TrainTestSplit;
}

namespace analysis {
class Trajectory;
}

namespace ui {

class AnalysisEngine {
public:
    AnalysisEngine();
    ~AnalysisEngine();

    // The model to analyse: the live training (its backend, network, data, step, run folder and
    // the ring of weight snapshots the Landscape tab's PCA plane uses), or a reopened run (its
    // last checkpoint and dataset). `backendName` picks the analysis backend.
    void useLive(Backend* backend, const model::Network* network, const data::TrainTestSplit* data,
                 std::int64_t step, const std::string& backendName, const std::string& runDir = {},
                 const analysis::Trajectory* trajectory = nullptr);
    QString useRun(const QString& dir, const QString& dataDir, const std::string& backendName);
    bool hasModel() const;

    SaliencyResult saliency(const SaliencyRequest& r, Progress* progress);
    AttackResult attack(const AttackRequest& r, Progress* progress);
    QString curve(const CurveRequest& r, Progress* progress,
                  const std::function<void(const CurvePoint&)>& onPoint);
    // The confusion matrix of the first `count` test images (all when ≤ 0), or of their
    // adversarial versions when eps > 0.
    ConfusionResult confusion(int count, Progress* progress, double eps = 0, int pgdSteps = 0);
    TestSet testSet();
    // Receptive fields of the analysed network when `r.spec` is it (or empty), else of r.spec's
    // network at initialisation (the Build view's edit, nothing trained).
    FieldResult fields(const FieldRequest& r, Progress* progress);
    // The loss landscape of the analysed weights (and of request.twinRun's checkpoint), streamed:
    // `onUpdate` after each row and when done (the last call has finished = true).
    void landscape(const LandscapeRequest& r, Progress* progress,
                   const std::function<void(const LandscapeResult&)>& onUpdate);

private:
    // The surfaces of `models` (checkpoint, run folder) on their datasets (`sets`, one a model,
    // or empty: the analysed model's).
    void landscapeOf(const std::vector<std::pair<model::Checkpoint, std::string>>& models,
                     const std::vector<std::unique_ptr<data::TrainTestSplit>>& sets,
                     const LandscapeRequest& r, Progress* progress,
                     const std::function<void(const LandscapeResult&)>& onUpdate);
    Status ensure(); // the inspector exists, fits the model and holds its current weights
    // ensure(), then test image `index` (pixels and label), or why not.
    Result<analysis::Inspector::Images> image(int index);
    const data::TrainTestSplit* data() const;
    QStringList classNames() const;

    struct State;
    std::unique_ptr<State> m;
};

} // namespace ui
} // namespace convscope
