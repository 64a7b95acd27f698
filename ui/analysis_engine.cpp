// AnalysisEngine: an Inspector kept in step with the model being analysed, and the conversions
// from the engine's results to the views' types.
#include "analysis_engine.h"

#include "analysis/adversarial.h"
#include "analysis/saliency.h"
#include "backend/backend.h"
#include "data/datasets.h"
#include "model/network.h"
#include "model/weights.h"

#include <QObject>
#include <cstdlib>

namespace convscope::ui {

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
    // The inspector and what it holds.
    std::unique_ptr<Backend> backend;
    std::unique_ptr<analysis::Inspector> inspector;
    std::string inspectorSpec, inspectorSource;
    std::int64_t inspectorStep = -1;
};

AnalysisEngine::AnalysisEngine() : m(std::make_unique<State>()) {}
AnalysisEngine::~AnalysisEngine() = default;

void AnalysisEngine::useLive(Backend* backend, const model::Network* network,
                             const data::TrainTestSplit* data, std::int64_t step,
                             const std::string& backendName) {
    m->live = true;
    m->liveBackend = backend;
    m->liveNetwork = network;
    m->liveData = data;
    m->liveStep = step;
    m->backendName = backendName;
}

QString AnalysisEngine::useRun(const QString& dir, const QString& dataDir,
                               const std::string& backendName) {
    auto c = model::loadCheckpoint(dir.toStdString());
    if (!c.ok())
        return QString::fromStdString(c.status().message());
    data::DatasetRequest dr;
    dr.name = c->dataset.empty() ? "fashion-mnist" : c->dataset;
    dr.dir = dataDir.toStdString();
    dr.side = int(c->spec.height);
    dr.channels = int(c->spec.channels);
    auto d = data::loadDataset(dr);
    if (!d.ok())
        return QString::fromStdString(d.status().message());
    if (!c->hasNormalization) {
        c->mean = d->mean;
        c->std = d->std;
    }
    m->checkpoint = std::make_unique<model::Checkpoint>(std::move(*c));
    m->runData = std::make_unique<data::TrainTestSplit>(std::move(*d));
    m->live = false;
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
        BackendOptions bo;
        bo.backend =
            m->backendName == "vulkan" || m->backendName == "cpu" ? m->backendName : "auto";
        bo.validation = std::getenv("CONVSCOPE_VALIDATION") &&
                        std::string(std::getenv("CONVSCOPE_VALIDATION")) == "1";
        CS_TRY_ASSIGN(auto choice, createBackend(bo));
        m->backend = std::move(choice.backend);
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
