// AnalysisEngine: an Inspector kept in step with the model being analysed, and the conversions
// from the engine's results to the views' types.
#include "analysis_engine.h"

#include "analysis/adversarial.h"
#include "analysis/checkpoint_data.h"
#include "analysis/contour.h"
#include "analysis/hessian.h"
#include "analysis/landscape.h"
#include "analysis/saliency.h"
#include "analysis/trajectory.h"
#include "backend/backend.h"
#include "data/datasets.h"
#include "field_job.h"
#include "model/network.h"
#include "model/weights.h"

#include <QElapsedTimer>
#include <QObject>
#include <cstdlib>
#include <filesystem>

namespace convscope::ui {

namespace {
// A backend for analysis work: the training's choice (vulkan, cpu) or auto; validation as the
// environment asks (the tests).
Result<std::unique_ptr<Backend>> analysisBackend(const std::string& name) {
    BackendOptions bo;
    bo.backend = name == "vulkan" || name == "cpu" ? name : "auto";
    bo.validation = std::getenv("CONVSCOPE_VALIDATION") &&
                    std::string(std::getenv("CONVSCOPE_VALIDATION")) == "1";
    CS_TRY_ASSIGN(auto choice, createBackend(bo));
    return std::move(choice.backend);
}
} // namespace

struct AnalysisEngine::State {
    // The live model (owned by the worker) ...
    Backend* liveBackend = nullptr;
    const model::Network* liveNetwork = nullptr;
    const data::TrainTestSplit* liveData = nullptr;
    std::int64_t liveStep = 0;
    // ... or a reopened run.
    std::unique_ptr<model::Checkpoint> checkpoint;
    std::unique_ptr<data::TrainTestSplit> runData;
    bool live = false;
    std::string backendName = "auto";
    std::string runDir; // the live run's autosave folder, or the reopened run's
    const analysis::Trajectory* trajectory = nullptr; // the live run's weight snapshots
    // The landscapes' backend (a LossLandscape resets its backend: not the inspector's).
    std::unique_ptr<Backend> landscapeBackend;
    // The inspector and what it holds.
    std::unique_ptr<Backend> backend;
    std::unique_ptr<analysis::Inspector> inspector;
    std::string inspectorSpec, inspectorSource;
    std::int64_t inspectorStep = -1;
    // The Receptive field tab's network when it is not the analysed one (initial weights).
    std::unique_ptr<Backend> fieldBackend;
    std::unique_ptr<analysis::Inspector> fieldInspector;
    std::string fieldSpec;
    quint64 fieldSeed = 0;
    std::unique_ptr<data::TrainTestSplit> fieldData;
    std::string fieldDataKey;
};

AnalysisEngine::AnalysisEngine() : m(std::make_unique<State>()) {}
AnalysisEngine::~AnalysisEngine() = default;

void AnalysisEngine::useLive(Backend* backend, const model::Network* network,
                             const data::TrainTestSplit* data, std::int64_t step,
                             const std::string& backendName, const std::string& runDir,
                             const analysis::Trajectory* trajectory) {
    m->live = true;
    m->runDir = runDir;
    m->trajectory = trajectory;
    m->liveBackend = backend;
    m->liveNetwork = network;
    m->liveData = data;
    m->liveStep = step;
    m->backendName = backendName;
}

QString AnalysisEngine::useRun(const QString& dir, const QString& dataDir,
                               const std::string& backendName) {
    auto c = analysis::loadCheckpointData(dir.toStdString(), {}, dataDir.toStdString());
    if (!c.ok())
        return QString::fromStdString(c.status().message());
    m->checkpoint = std::make_unique<model::Checkpoint>(std::move(c->ckpt));
    m->runData = std::make_unique<data::TrainTestSplit>(std::move(c->data));
    m->live = false;
    m->trajectory = nullptr;
    m->runDir = dir.toStdString();
    m->backendName = backendName;
    m->inspectorStep = -1;
    m->inspectorSource.clear();
    return {};
}

bool AnalysisEngine::hasModel() const {
    return m->live ? m->liveNetwork != nullptr : m->checkpoint != nullptr;
}

const data::TrainTestSplit* AnalysisEngine::data() const {
    return m->live ? m->liveData : m->runData.get();
}

QStringList AnalysisEngine::classNames() const {
    QStringList names;
    if (const auto* d = data())
        for (const auto& n : d->test.classNames)
            names << QString::fromStdString(n);
    return names;
}

Status AnalysisEngine::ensure() {
    if (!hasModel() || !data())
        return Status::error("there is no network to analyse yet", "analysis",
                             "Train one (Ctrl+Enter) or open a run (File → Open run)");
    const model::NetSpec& spec = m->live ? m->liveNetwork->spec() : m->checkpoint->spec;
    const std::string json = model::toJson(spec);
    const std::string source = m->live ? "live" : m->checkpoint->path;
    if (!m->backend) {
        CS_TRY_ASSIGN(m->backend, analysisBackend(m->backendName));
    }
    if (!m->inspector || json != m->inspectorSpec) {
        const analysis::Normalization norm =
            m->live ? analysis::Normalization{data()->mean, data()->std}
                    : analysis::Normalization{m->checkpoint->mean, m->checkpoint->std};
        m->inspector.reset();
        CS_TRY_ASSIGN(m->inspector, analysis::Inspector::create(*m->backend, spec, 64, norm));
        m->inspectorSpec = json;
        m->inspectorStep = -1;
        m->inspectorSource.clear();
    }
    const std::int64_t step = m->live ? m->liveStep : m->checkpoint->step;
    if (step != m->inspectorStep || source != m->inspectorSource) {
        if (m->live) {
            CS_TRY_ASSIGN(io::SafeTensors w, model::readWeights(*m->liveBackend, *m->liveNetwork));
            CS_TRY(m->inspector->loadWeights(w, "the live network"));
        } else {
            CS_TRY(m->inspector->loadWeights(m->checkpoint->file, m->checkpoint->path));
        }
        m->inspectorStep = step;
        m->inspectorSource = source;
    }
    return {};
}

Result<analysis::Inspector::Images> AnalysisEngine::image(int index) {
    CS_TRY(ensure());
    const auto& test = data()->test;
    if (index < 0 || index >= test.count)
        return Status::error("test image " + std::to_string(index) + " does not exist", test.name,
                             "Pick one of 0.." + std::to_string(test.count - 1));
    return analysis::Inspector::images(test, index, 1);
}

namespace {
MapImage mapImage(const QString& method, int c, int h, int w, const std::vector<double>& v) {
    MapImage m;
    m.method = method;
    m.channels = c;
    m.h = h;
    m.w = w;
    m.values = QVector<float>(v.begin(), v.end());
    return m;
}

analysis::SaliencyOptions optionsOf(const SaliencyRequest& r, const analysis::Inspector& in) {
    analysis::SaliencyOptions o;
    o.smoothSamples = r.smoothSamples;
    o.smoothNoise = r.smoothNoise;
    o.igSteps = r.igSteps;
    o.baseline = r.baseline == "blur"    ? analysis::SaliencyOptions::Baseline::Blur
                 : r.baseline == "noise" ? analysis::SaliencyOptions::Baseline::Noise
                                         : analysis::SaliencyOptions::Baseline::Black;
    o.gradcamLayer = r.layer.isEmpty() ? -1 : in.layerIndex(r.layer.toStdString());
    return o;
}
} // namespace

SaliencyResult AnalysisEngine::saliency(const SaliencyRequest& r, Progress* progress) {
    SaliencyResult out;
    out.request = r;
    auto one = image(r.image);
    if (!one.ok()) {
        out.error = QString::fromStdString(one.status().message());
        return out;
    }
    analysis::Inspector& in = *m->inspector;
    const auto& pixels = one->pixels;
    const int label = one->labels[0];
    analysis::Target target;
    if (r.target == "true")
        target.kind = analysis::Target::Kind::True;
    else if (r.target == "class")
        target = {analysis::Target::Kind::Class, r.targetClass};
    const auto options = optionsOf(r, in);
    if (!r.layer.isEmpty() && options.gradcamLayer < 0) {
        out.error = QObject::tr("The network has no layer %1").arg(r.layer);
        return out;
    }
    auto res = analysis::saliency(in, pixels, label, target, options, progress);
    if (!res.ok()) {
        out.error = QString::fromStdString(res.status().message());
        return out;
    }
    const int C = int(in.channels()), H = int(in.height()), W = int(in.width());
    out.image = r.image;
    out.label = label;
    out.target = res->target;
    out.predicted = res->predicted;
    out.step = m->inspectorStep;
    out.probabilities = QVector<double>(res->probabilities.begin(), res->probabilities.end());
    out.classNames = classNames();
    out.pixels = QVector<float>(pixels.begin(), pixels.end());
    out.channels = C;
    out.h = H;
    out.w = W;
    for (auto method : analysis::allMethods())
        if (auto it = res->maps.find(method); it != res->maps.end()) {
            const bool cam = method == analysis::Method::GradCam;
            out.maps << mapImage(analysis::methodName(method), cam ? 1 : C, H, W, it->second);
        }
    out.gradcamRaw = mapImage("gradcam-raw", 1, int(res->gradcamHeight), int(res->gradcamWidth),
                              res->gradcamRaw);
    out.gradcamLayer = QString::fromStdString(res->gradcamLayer);
    for (const auto& l : in.layers())
        if (l.spatial() && l.dims.h * l.dims.w > 1)
            out.layers << QString::fromStdString(l.name);
    out.igGap = res->igGap;
    out.igDelta = res->igDelta;
    if (r.sanity) {
        auto steps = analysis::sanityCheck(in, pixels, label, target, options, 7, progress);
        if (!steps.ok()) {
            out.error = QString::fromStdString(steps.status().message());
            return out;
        }
        for (const auto& s : *steps) {
            out.sanityLayers << QString::fromStdString(s.layer);
            QVector<double> rho;
            QVector<MapImage> maps;
            for (auto method : analysis::allMethods())
                if (auto it = s.maps.find(method); it != s.maps.end()) {
                    const bool cam = method == analysis::Method::GradCam;
                    rho << s.spearman.at(method);
                    maps << mapImage(analysis::methodName(method), cam ? 1 : C, H, W, it->second);
                }
            out.sanityRho << rho;
            out.sanityMaps << maps;
        }
    }
    return out;
}

AttackResult AnalysisEngine::attack(const AttackRequest& r, Progress* progress) {
    AttackResult out;
    out.request = r;
    auto one = image(r.image);
    if (!one.ok()) {
        out.error = QString::fromStdString(one.status().message());
        return out;
    }
    analysis::Inspector& in = *m->inspector;
    const auto& pixels = one->pixels;
    const std::int32_t label = one->labels[0];
    auto a = analysis::attack(in, pixels, one->labels, {r.eps, r.pgdSteps}, progress);
    if (!a.ok()) {
        out.error = QString::fromStdString(a.status().message());
        return out;
    }
    out.label = label;
    out.predictedBefore = a->predictedBefore[0];
    out.predictedAfter = a->predictedAfter[0];
    out.clean = QVector<float>(pixels.begin(), pixels.end());
    out.adversarial = QVector<float>(a->adversarial.begin(), a->adversarial.end());
    out.channels = int(in.channels());
    out.h = int(in.height());
    out.w = int(in.width());
    out.before = QVector<double>(a->probsBefore.begin(), a->probsBefore.end());
    out.after = QVector<double>(a->probsAfter.begin(), a->probsAfter.end());
    out.classNames = classNames();
    return out;
}

QString AnalysisEngine::curve(const CurveRequest& r, Progress* progress,
                              const std::function<void(const CurvePoint&)>& onPoint) {
    if (Status s = ensure(); !s.ok())
        return QString::fromStdString(s.message());
    const auto test = analysis::Inspector::images(data()->test, 0, r.count);
    const std::vector<double> eps(r.eps.begin(), r.eps.end());
    auto c =
        analysis::accuracyVsEpsilon(*m->inspector, test.pixels, test.labels, eps, r.pgdSteps,
                                    progress, [&](const analysis::EpsilonPoint& p) {
                                        onPoint({p.eps, p.accuracy, p.meanConfidence, r.pgdSteps});
                                    });
    return c.ok() ? QString() : QString::fromStdString(c.status().message());
}

ConfusionResult AnalysisEngine::confusion(int count, Progress* progress, double eps, int pgdSteps) {
    ConfusionResult out;
    if (Status s = ensure(); !s.ok()) {
        out.error = QString::fromStdString(s.message());
        return out;
    }
    const auto& set = data()->test;
    const auto test = analysis::Inspector::images(set, 0, count > 0 ? count : set.count);
    auto c =
        analysis::confusion(*m->inspector, test.pixels, test.labels, {eps, pgdSteps}, progress);
    if (!c.ok()) {
        out.error = QString::fromStdString(c.status().message());
        return out;
    }
    out.classes = c->classes;
    out.counts = QVector<qint64>(c->counts.begin(), c->counts.end());
    out.predicted = QVector<int>(c->predicted.begin(), c->predicted.end());
    out.confidence = QVector<double>(c->confidence.begin(), c->confidence.end());
    out.classNames = classNames();
    out.step = m->inspectorStep;
    out.eps = eps;
    out.pgdSteps = pgdSteps;
    return out;
}

FieldResult AnalysisEngine::fields(const FieldRequest& r, Progress* progress) {
    auto fail = [&](const Status& s) {
        FieldResult out;
        out.request = r;
        out.error = QString::fromStdString(s.message());
        return out;
    };
    Result<model::NetSpec> asked = Status::error("no network given");
    if (!r.spec.isEmpty())
        asked = model::parseNetSpec(r.spec.toStdString(), "the Build view's network");
    if (hasModel()) {
        const model::NetSpec& mine = m->live ? m->liveNetwork->spec() : m->checkpoint->spec;
        if (r.spec.isEmpty() || (asked.ok() && model::toJson(*asked) == model::toJson(mine))) {
            if (Status s = ensure(); !s.ok())
                return fail(s);
            FieldResult out = computeFields(*m->inspector, *data(), r, true, progress);
            out.network = QString::fromStdString(mine.name) +
                          QObject::tr(" step %1").arg(m->live ? m->liveStep : m->checkpoint->step);
            return out;
        }
    }
    if (!asked.ok())
        return fail(asked.status());
    // Nothing trained to look at: the network at initialisation, on the test images of the
    // analysed model's dataset when they fit, else of the dataset asked for.
    const data::TrainTestSplit* d = data();
    if (!d || d->test.channels != asked->channels || d->test.height != asked->height ||
        d->test.width != asked->width) {
        const std::string key = r.dataset.toStdString() + "|" + r.dataDir.toStdString() + "|" +
                                std::to_string(asked->channels) + "x" +
                                std::to_string(asked->height);
        if (!m->fieldData || key != m->fieldDataKey) {
            auto loaded =
                analysis::loadDatasetFor(*asked, r.dataset.toStdString(), r.dataDir.toStdString(),
                                         "the Build view's network");
            if (!loaded.ok())
                return fail(loaded.status());
            m->fieldData = std::make_unique<data::TrainTestSplit>(std::move(*loaded));
            m->fieldDataKey = key;
        }
        d = m->fieldData.get();
    }
    if (!m->fieldBackend) {
        auto be = analysisBackend(m->backendName);
        if (!be.ok())
            return fail(be.status());
        m->fieldBackend = std::move(*be);
    }
    const std::string json = model::toJson(*asked);
    if (!m->fieldInspector || json != m->fieldSpec || r.seed != m->fieldSeed) {
        m->fieldInspector.reset();
        auto in = analysis::Inspector::create(*m->fieldBackend, *asked, 64, {d->mean, d->std});
        if (!in.ok())
            return fail(in.status());
        if (Status s = (*in)->initialize(r.seed); !s.ok())
            return fail(s);
        m->fieldInspector = std::move(*in);
        m->fieldSpec = json;
        m->fieldSeed = r.seed;
    }
    FieldResult out = computeFields(*m->fieldInspector, *d, r, false, progress);
    out.network = QString::fromStdString(asked->name) + QObject::tr(" (initial weights)");
    return out;
}

TestSet AnalysisEngine::testSet() {
    TestSet t;
    const auto* d = data();
    if (!d) {
        t.error = QObject::tr("No dataset loaded yet");
        return t;
    }
    const auto& test = d->test;
    t.images = QByteArray(reinterpret_cast<const char*>(test.images.data()),
                          qsizetype(test.images.size()));
    t.labels = QVector<int>(test.labels.begin(), test.labels.end());
    t.count = int(test.count);
    t.channels = int(test.channels);
    t.h = int(test.height);
    t.w = int(test.width);
    t.classNames = classNames();
    return t;
}

} // namespace convscope::ui

namespace convscope::ui {

namespace {
// A copy of s that shares no buffer with it.
LandscapeSurface unshared(const LandscapeSurface& s) {
    LandscapeSurface c = s;
    c.title.detach();
    c.loss.detach();
    c.accuracy.detach();
    c.levels.detach();
    c.contours.detach();
    c.lineAlpha.detach();
    c.lineLoss.detach();
    c.path.detach();
    c.pathSteps.detach();
    c.epochEnds.detach();
    return c;
}

// The contour lines of the rows computed so far.
void contoursOf(const analysis::Surface& s, LandscapeSurface& out) {
    out.levels.clear();
    out.contours.clear();
    for (double level : analysis::contourLevels(s)) {
        QVector<QLineF> lines;
        for (const auto& g :
             analysis::contourSegments(s.loss, s.beta.points, s.alpha.points, level))
            lines.push_back(QLineF(g.x0, g.y0, g.x1, g.y1));
        out.levels.push_back(level);
        out.contours.push_back(std::move(lines));
    }
}

// One surface of a landscape job into `out`, streaming rows through `update`.
Status computeSurface(Backend& be, const model::Checkpoint& ckpt, const std::string& runDir,
                      const analysis::Trajectory* ring, const data::ImageDataset& train,
                      const LandscapeRequest& r, Progress* progress, LandscapeSurface& out,
                      const std::function<void()>& update) {
    CS_TRY_ASSIGN(auto land, analysis::LossLandscape::create(be, ckpt, train, r.images));
    analysis::LossLandscape& L = *land;
    std::vector<double> delta, eta;
    double lo = -r.range, hi = r.range;
    // The trajectory: the live run's ring of snapshots (every K steps), else the run's
    // checkpoints (one an epoch); the weights analysed are the last row.
    analysis::RunTrajectory traj;
    if (r.directions == "pca" || r.directions == "auto") {
        if (ring && ring->size() >= 2) {
            const auto n = std::size_t(L.parameterCount());
            for (std::size_t i = 0; i < ring->size(); ++i) {
                std::vector<double> th = ring->snapshots()[i];
                th.resize(n);
                traj.snapshots.push_back(std::move(th));
                traj.steps.push_back(ring->steps()[i]);
            }
            traj.snapshots.push_back(L.theta());
            traj.steps.push_back(ckpt.step);
        } else {
            auto fromRun = analysis::runTrajectory(runDir, ckpt.step, L.layout());
            if (fromRun.ok())
                traj = std::move(*fromRun);
        }
    }
    auto plane = r.directions == "pca" || r.directions == "auto"
                     ? analysis::pcaPlane(traj.snapshots, L.theta(), L.layout())
                     : Result<analysis::PcaPlane>(Status::error("random directions asked"));
    if (r.directions == "pca" && !plane.ok())
        return Status::error(plane.status().message(), runDir.empty() ? "the run" : runDir,
                             "The PCA plane needs at least three weight snapshots: train in this "
                             "window (a snapshot every few steps), or open a run with three "
                             "epochs' checkpoints, or use random directions");
    if (plane.ok()) {
        delta = plane->d1;
        eta = plane->d2;
        double reach = 0;
        for (std::size_t i = 0; i < plane->path.size(); ++i) {
            out.path.push_back(QPointF(plane->path[i][0], plane->path[i][1]));
            out.pathSteps.push_back(traj.steps[i]);
            reach = std::max({reach, std::abs(plane->path[i][0]), std::abs(plane->path[i][1])});
        }
        if (r.range <= 0 || r.directions == "auto") {
            lo = -1.2 * reach;
            hi = 1.2 * reach;
        }
        out.explained1 = plane->explained[0];
        out.explained2 = plane->explained[1];
        // Epoch markers: the path's points nearest the run's checkpoints (one an epoch).
        std::vector<qint64> ends;
        for (const auto& f : model::checkpointFiles(runDir))
            ends.push_back(f.first);
        for (qint64 end : ends) {
            if (end <= 0 || end > ckpt.step)
                continue;
            int best = 0;
            for (int i = 1; i < out.pathSteps.size(); ++i)
                if (std::abs(out.pathSteps[i] - end) < std::abs(out.pathSteps[best] - end))
                    best = i;
            out.epochEnds.push_back(best);
        }
    } else { // random (asked, or "auto" without a trajectory yet)
        analysis::DirectionNorm norm = analysis::DirectionNorm::Filter;
        if (!analysis::parseDirectionNorm(r.norm.toStdString(), norm))
            return Status::error("unknown normalisation " + r.norm.toStdString(), "landscape");
        delta = analysis::randomDirection(L.layout(), L.theta(), norm, r.seed, 0);
        eta = analysis::randomDirection(L.layout(), L.theta(), norm, r.seed, 1);
    }
    if (!(hi > lo))
        return Status::error("the grid's range is empty", "landscape");
    const analysis::Axis axis{lo, hi, r.points};
    // The 1-D line along δ first: quick, and the view shows it while the surface fills in.
    CS_TRY(L.setDirections(delta, {}));
    for (int c = 0; c < r.points; ++c) {
        if (cancelled(progress))
            return Progress::cancelledStatus("loss landscape");
        CS_TRY_ASSIGN(auto v, L.evaluate(axis.at(c), 0));
        out.lineAlpha.push_back(axis.at(c));
        out.lineLoss.push_back(v.loss);
    }
    CS_TRY(L.setDirections(delta, eta));
    analysis::Surface s = analysis::emptySurface(axis, axis);
    out.rows = out.cols = r.points;
    out.alphaLo = out.betaLo = lo;
    out.alphaHi = out.betaHi = hi;
    out.loss = QVector<double>(s.loss.begin(), s.loss.end());
    out.accuracy = out.loss;
    update();
    CS_TRY(analysis::computeRows(L, s, 0, r.points, progress, [&](int row) -> Status {
        for (int c = 0; c < r.points; ++c) {
            const auto i = std::size_t(row * r.points + c);
            out.loss[qsizetype(i)] = s.loss[i];
            out.accuracy[qsizetype(i)] = s.accuracy[i];
        }
        out.rowsDone = s.rowsDone();
        contoursOf(s, out);
        update();
        return {};
    }));
    const analysis::Roughness rough = analysis::roughness(s, 0.5);
    out.localMinima = rough.localMinima;
    out.meanAbsLaplacian = rough.meanAbsLaplacian;
    out.minLoss = analysis::roughness(s, 1e9).minLoss;
    if (r.hessian) {
        analysis::HessianOptions ho;
        CS_TRY_ASSIGN(auto h, analysis::hessianAt(L, ho, progress));
        out.hasHessian = true;
        out.lambdaMax = h.lambdaMax;
        out.lambdaMin = h.lambdaMin;
    }
    return {};
}
// A landscape job that stopped: the error (or "Cancelled") as its last, finished update.
void finishWithError(LandscapeResult& result, const Status& s, double seconds,
                     const std::function<void(const LandscapeResult&)>& onUpdate) {
    result.error = Progress::isCancellation(s) ? QObject::tr("Cancelled")
                                               : QString::fromStdString(s.message());
    result.finished = true;
    result.seconds = seconds;
    onUpdate(result);
}
} // namespace

void AnalysisEngine::landscape(const LandscapeRequest& r, Progress* progress,
                               const std::function<void(const LandscapeResult&)>& onUpdate) {
    auto fail = [&](const Status& s) {
        LandscapeResult result;
        result.request = r;
        finishWithError(result, s, 0, onUpdate);
    };
    if (r.points < 2 || r.points > 201 || r.images < 1)
        return fail(Status::error("the grid needs 2 to 201 points per axis and at least one image",
                                  "landscape"));
    // Runs named in the request (twins trained for it): their checkpoints and datasets.
    if (!r.runs.isEmpty()) {
        std::vector<std::pair<model::Checkpoint, std::string>> models;
        std::vector<std::unique_ptr<data::TrainTestSplit>> sets;
        for (const QString& dir : r.runs) {
            auto c = analysis::loadCheckpointData(dir.toStdString());
            if (!c.ok())
                return fail(c.status());
            sets.push_back(std::make_unique<data::TrainTestSplit>(std::move(c->data)));
            models.emplace_back(std::move(c->ckpt), dir.toStdString());
        }
        return landscapeOf(models, sets, r, progress, onUpdate);
    }
    if (!hasModel() || !data())
        return fail(Status::error("there is no network to analyse yet", "landscape",
                                  "Train one (Ctrl+Enter) or open a run (File → Open run)"));
    // The analysed weights as a checkpoint.
    model::Checkpoint ckpt;
    if (m->live) {
        auto w = model::readWeights(*m->liveBackend, *m->liveNetwork);
        if (!w.ok())
            return fail(w.status());
        ckpt.path = "the live network";
        ckpt.spec = m->liveNetwork->spec();
        ckpt.file = std::move(*w);
        ckpt.mean = data()->mean;
        ckpt.std = data()->std;
        ckpt.step = m->liveStep;
    } else {
        ckpt = *m->checkpoint;
    }
    std::vector<std::pair<model::Checkpoint, std::string>> models{{ckpt, m->runDir}};
    if (!r.twinRun.isEmpty()) {
        auto twin = model::loadCheckpoint(r.twinRun.toStdString());
        if (!twin.ok())
            return fail(twin.status());
        if (twin->spec.channels != ckpt.spec.channels || twin->spec.height != ckpt.spec.height ||
            twin->spec.width != ckpt.spec.width)
            return fail(Status::error("the twin takes other images than this network", twin->path,
                                      "Pick a run trained on the same dataset"));
        if (!twin->hasNormalization) {
            twin->mean = data()->mean;
            twin->std = data()->std;
        }
        models.emplace_back(std::move(*twin), r.twinRun.toStdString());
    }
    landscapeOf(models, {}, r, progress, onUpdate);
}

void AnalysisEngine::landscapeOf(
    const std::vector<std::pair<model::Checkpoint, std::string>>& models,
    const std::vector<std::unique_ptr<data::TrainTestSplit>>& sets, const LandscapeRequest& r,
    Progress* progress, const std::function<void(const LandscapeResult&)>& onUpdate) {
    LandscapeResult result;
    result.request = r;
    QElapsedTimer clock;
    clock.start();
    auto fail = [&](const Status& s) {
        finishWithError(result, s, clock.elapsed() / 1000.0, onUpdate);
    };
    if (!m->landscapeBackend) {
        auto be = analysisBackend(m->backendName);
        if (!be.ok())
            return fail(be.status());
        m->landscapeBackend = std::move(*be);
    }
    for (std::size_t k = 0; k < models.size(); ++k) {
        const auto& [c, dir] = models[k];
        // Each surface on its own run's training images (the analysed model's: data()).
        const data::ImageDataset& train = k < sets.size() ? sets[k]->train : data()->train;
        LandscapeRequest req = r;
        req.images = int(std::min<std::int64_t>(r.images, train.count));
        result.request.images = req.images;
        LandscapeSurface surface;
        surface.title = QString::fromStdString(c.spec.name) + QObject::tr(" step %1").arg(c.step);
        result.surfaces.push_back(surface);
        // The live network's snapshots belong to the first surface only (not to a twin).
        const analysis::Trajectory* ring = k == 0 && m->live ? m->trajectory : nullptr;
        // Computed into `surface` and copied, unshared, into the result at each update: an
        // update shares the result's data with the window (implicitly shared), so it is never
        // written through a reference into it after that (copy-on-write only detaches on a
        // fresh access), and `surface` shares nothing with the window either (writing into a
        // buffer the window has just released is ordered after its reads only by Qt's relaxed
        // load of the reference count).
        Status s =
            computeSurface(*m->landscapeBackend, c, dir, ring, train, req, progress, surface, [&] {
                result.surfaces.last() = unshared(surface);
                result.seconds = clock.elapsed() / 1000.0;
                onUpdate(result);
            });
        if (!s.ok())
            return fail(s);
        result.surfaces.last() = surface;
    }
    result.finished = true;
    result.seconds = clock.elapsed() / 1000.0;
    QStringList parts;
    for (const LandscapeSurface& s : result.surfaces) {
        QString part = QObject::tr("%1: min loss %2, %3 local minima, mean |∇²L| %4 within 0.5")
                           .arg(s.title)
                           .arg(s.minLoss, 0, 'g', 4)
                           .arg(s.localMinima)
                           .arg(s.meanAbsLaplacian, 0, 'g', 4);
        if (s.hasHessian)
            part += QObject::tr(", λ_max %1, λ_min %2")
                        .arg(s.lambdaMax, 0, 'g', 4)
                        .arg(s.lambdaMin, 0, 'g', 4);
        parts << part;
    }
    result.summary = parts.join(QStringLiteral(" · ")) + QObject::tr(" (%1 s, %2 training images)")
                                                             .arg(result.seconds, 0, 'f', 1)
                                                             .arg(result.request.images);
    onUpdate(result);
}

} // namespace convscope::ui
