// TrainingSession and its worker: the engine on its own thread, snapshots throttled to ~30/s.
#include "training_session.h"
#include "analysis/trajectory.h"
#include "analysis_engine.h"
#include "engine_glue.h"
#include "thread_handoff.h"

#include "backend/backend.h"
#include "backend/cpu_backend.h"
#include "core/format.h"
#include "core/progress.h"
#include "data/datasets.h"
#include "io/onnx_export.h"
#include "io/safetensors.h"
#include "model/network.h"
#include "model/weights.h"
#include "train/metrics_csv.h"
#include "train/run_folder.h"
#include "train/trainer.h"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLocale>
#include <QStandardPaths>

#include <QElapsedTimer>
#include <QPointF>
#include <algorithm>
#include <clocale>
#ifdef __linux__
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif
#include <cmath>
#include <map>

namespace convscope::ui {

// Lives on the session's thread; every slot runs there and may block it, never the GUI.
class TrainingWorker : public QObject {
    Q_OBJECT
public:
    TrainingWorker(std::shared_ptr<std::atomic<bool>> cancel,
                   std::shared_ptr<std::atomic<int>> probe)
        : m_cancel(std::move(cancel)), m_probeIndex(std::move(probe)) {}

    // --- Analysis jobs (called on this thread by the session's post()).
    AnalysisEngine& analysis() {
        if (m_live && m_trainer)
            m_analysis.useLive(m_backend.get(), m_network.get(), m_data.get(),
                               m_rewoundTo >= 0 ? m_rewoundTo : m_trainer->stepsDone(),
                               m_backendName, m_runDir.toStdString(), &m_trajectory);
        return m_analysis;
    }
    void analyseRun(const QString& dir, const QString& dataDir) {
        emit message(tr("Loading %1 for analysis…").arg(dir));
        const QString error = m_analysis.useRun(dir, dataDir, m_backendName);
        m_live = error.isEmpty() ? false : m_live;
        if (!error.isEmpty()) {
            emit message(error);
            return;
        }
        emit message(tr("Saliency and attacks look at %1, the run's last checkpoint").arg(dir));
        emit analysisModelChanged();
    }

public slots:
    void start(const convscope::ui::TrainRequest& r) {
        m_run.reset();
        m_lastEpoch = {};
        m_trainer.reset();
        m_network.reset();
        m_backend.reset();
        m_data.reset();
        const data::DatasetRequest dr = datasetRequest(r);
        emit message(tr("Loading %1…").arg(r.dataset));
        auto data = data::loadDataset(dr);
        if (!data.ok())
            return fail(data.status());
        m_data = std::make_unique<data::TrainTestSplit>(std::move(*data));
        auto spec = requestSpec(r, *m_data);
        if (!spec.ok())
            return fail(spec.status());
        const QString name =
            spec->name.empty() ? QString("network") : QString::fromStdString(spec->name);
        auto choice = requestBackend(r);
        if (!choice.ok())
            return fail(choice.status());
        m_backend = std::move(choice->backend);
        emit message(QString::fromStdString(m_backend->description() + " — " + choice->reason));
        m_network = std::make_unique<model::Network>(*spec);
        auto config = trainConfig(r);
        if (!config.ok())
            return fail(config.status());
        const train::TrainConfig cfg = *config;
        m_trainer = std::make_unique<train::Trainer>(*m_backend, *m_network, *m_data, cfg);
        if (Status s = m_trainer->setup(); !s.ok())
            return fail(s);
        m_totalSteps = m_trainer->stepsPerEpoch() * cfg.epochs;
        if (!r.resumeDir.isEmpty()) {
            auto checkpoint = train::RunFolder::latestCheckpoint(r.resumeDir.toStdString());
            if (!checkpoint.ok())
                return fail(checkpoint.status());
            if (Status s = m_trainer->loadCheckpoint(*checkpoint); !s.ok())
                return fail(s);
            // The rule, stated: the cosine schedule spans the new total from the step reached,
            // so raising Epochs raises the learning rate again.
            const std::int64_t step = m_trainer->stepsDone(), S = m_trainer->stepsPerEpoch();
            const double now = cfg.schedule.at(cfg.optimizer.lr, step, m_totalSteps, S);
            const int before = r.resumeEpochs; // no second read of the checkpoint
            const double then =
                before > 0 ? cfg.schedule.at(cfg.optimizer.lr, step, S * before, S) : now;
            emit message(
                before > 0 && before != cfg.epochs
                    ? QObject::tr("Continuing %1 from step %2: the cosine schedule now spans %3 "
                                  "epochs (%4 steps), so the learning rate goes from %5 (the "
                                  "end of the %6-epoch run) to %7")
                          .arg(r.resumeDir)
                          .arg(step)
                          .arg(cfg.epochs)
                          .arg(m_totalSteps)
                          .arg(then, 0, 'g', 2)
                          .arg(before)
                          .arg(now, 0, 'g', 2)
                    : QObject::tr("Continuing %1 from step %2 at learning rate %3")
                          .arg(r.resumeDir)
                          .arg(step)
                          .arg(now, 0, 'g', 2));
        }
        // Every run autosaves: nothing a lecturer trained is lost when the window closes.
        const QString dir =
            !r.resumeDir.isEmpty()
                ? r.resumeDir
                : QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) + "/runs/" +
                      name + "-" + QDateTime::currentDateTime().toString("yyyyMMdd-hhmmss");
        auto run = train::RunFolder::create(dir.toStdString(), *spec, dr.name, *m_data);
        if (!run.ok())
            return fail(run.status());
        m_run = std::make_unique<train::RunFolder>(std::move(*run));
        m_runDir = dir;
        if (const double every = r.autosaveSeconds; every > 0)
            m_trainer->setQuietHook(every, [this, every] {
                QElapsedTimer took;
                took.start();
                if (auto wrote = m_run->autosave(*m_trainer); !wrote.ok())
                    emit message(
                        QString::fromStdString("autosave failed: " + wrote.status().message()));
                return std::max(every, 50.0 * double(took.elapsed()) / 1000.0);
            });
        m_live = true; // the analysis views look at this network from now on
        m_trajectory =
            analysis::Trajectory(200, std::max<std::int64_t>(1, m_trainer->stepsPerEpoch() / 20));
        m_bufferRing.clear();
        m_rewoundTo = -1;
        m_liveParams.clear();
        m_liveBuffers.clear();
        m_backendName = r.backend.toStdString();
        emit analysisModelChanged();
        emit message(QString::fromStdString(m_network->summary()));
        if (r.stopAtStep > 0 || r.stopAtEpoch > 0)
            return runTo(r.stopAtStep, r.stopAtEpoch);
        train(0);
    }
    void resume() { train(0); }
    void step() { train(1); }
    // The time scrubber: the network's weights (and running statistics) as they were at kept
    // step `step`; the live ones are kept aside until goLive() (or the next training).
    void rewind(qint64 step) {
        if (!m_trainer)
            return;
        const auto& steps = m_trajectory.steps();
        const auto at = std::find(steps.begin(), steps.end(), step);
        if (at == steps.end())
            return emit message(tr("Step %1 is not among the kept snapshots").arg(step));
        if (m_rewoundTo < 0) {
            auto params = m_backend->readReal(m_network->params());
            if (!params.ok())
                return fail(params.status());
            m_liveParams = std::move(*params);
            m_liveBuffers.clear();
            if (m_network->buffers().valid())
                if (auto b = m_backend->readReal(m_network->buffers()); b.ok())
                    m_liveBuffers = std::move(*b);
        }
        Status s =
            m_backend->writeReal(m_network->params(), m_trajectory.snapshots()[at - steps.begin()]);
        if (const auto b = m_bufferRing.find(step);
            s.ok() && b != m_bufferRing.end() && m_network->buffers().valid())
            s = m_backend->writeReal(m_network->buffers(), b->second);
        if (!s.ok())
            return fail(s);
        m_rewoundTo = step;
        emitRewound();
    }
    void goLive() {
        if (m_rewoundTo < 0 || !m_trainer)
            return;
        Status s = m_backend->writeReal(m_network->params(), m_liveParams);
        if (s.ok() && !m_liveBuffers.empty())
            s = m_backend->writeReal(m_network->buffers(), m_liveBuffers);
        if (!s.ok())
            return fail(s);
        m_rewoundTo = -1;
        m_liveParams.clear();
        m_liveBuffers.clear();
        emitRewound();
    }
    void runTo(qint64 step, int epoch) {
        if (!m_trainer)
            return train(0); // says what is missing
        if (epoch > 0)
            step = epoch * m_trainer->stepsPerEpoch();
        const std::int64_t to = std::min<std::int64_t>(step, m_totalSteps);
        if (to <= m_trainer->stepsDone())
            return emit finished(QString(), m_trainer->stepsDone() >= m_totalSteps);
        train(to - m_trainer->stepsDone());
    }
    // Idle: the feature maps of the wanted test image at once.
    void probe() {
        if (!m_trainer)
            return;
        TrainSnapshot s;
        s.step = m_trainer->stepsDone();
        s.totalSteps = m_totalSteps;
        s.runDir = m_runDir;
        readProbe(s);
        handoff::publish();
        emit snapshot(s);
    }

signals:
    void snapshot(const convscope::ui::TrainSnapshot& s);
    void message(const QString& text);
    // error empty: paused or done without error; complete: every planned step has run
    void finished(const QString& error, bool complete);
    void analysisModelChanged();

private:
    void fail(const Status& s) { emit finished(QString::fromStdString(s.message()), false); }

    void keepBuffers(std::int64_t step) {
        if (m_network->buffers().valid())
            if (auto b = m_backend->readReal(m_network->buffers()); b.ok())
                m_bufferRing[step] = std::move(*b);
        // The ring drops snapshots as it thins: drop their statistics with them.
        const auto& steps = m_trajectory.steps();
        for (auto it = m_bufferRing.begin(); it != m_bufferRing.end();)
            it = std::find(steps.begin(), steps.end(), it->first) == steps.end()
                     ? m_bufferRing.erase(it)
                     : std::next(it);
    }
    QVector<qint64> keptSteps() const {
        return QVector<qint64>(m_trajectory.steps().begin(), m_trajectory.steps().end());
    }
    // The filters and feature maps at the rewound step (or live again), and the views told.
    void emitRewound() {
        TrainSnapshot s;
        s.step = m_trainer->stepsDone();
        s.totalSteps = m_totalSteps;
        s.runDir = m_runDir;
        s.rewoundTo = m_rewoundTo;
        s.rewindChanged = true;
        s.keptSteps = keptSteps();
        readFilters(s);
        readProbe(s);
        handoff::publish();
        emit snapshot(s);
        emit analysisModelChanged(); // saliency and fields ask again, on these weights
    }

    void train(std::int64_t steps) {
        if (!m_trainer)
            return emit finished(tr("Nothing to train: press Train first"), false);
        goLive(); // training continues from the live weights, never from a rewound step
        TrainSnapshot pending;
        pending.step = m_trainer->stepsDone();
        pending.runDir = m_runDir;
        QElapsedTimer sinceEmit, sinceFilters, sinceLayers, sinceProbe;
        sinceEmit.start();
        sinceFilters.start();
        sinceLayers.start();
        sinceProbe.start();
        readFilters(pending);
        // Until this returns, training.pid says a process trains this folder: if it is killed,
        // the next window offers to recover the run from its last (auto)save.
        if (Status marked = m_run->markTraining(); !marked.ok())
            emit message(QString::fromStdString(marked.message()));
        auto flush = [&] {
            pending.totalSteps = m_totalSteps;
            handoff::publish();
            emit snapshot(pending);
            // Fresh lists, not clear(): clear() keeps a buffer the window no longer shares and
            // writes into it again, ordered after the window's reads only by a relaxed load of
            // the reference count (a race for TSan, and for the C++ memory model); dropping the
            // reference is an acquire-release step that orders them.
            pending.loss = {};
            pending.testAccuracy = {};
            pending.trainAccuracy = {};
            pending.lrs = {};
            pending.testLoss = {};
            pending.probe = Probe{};
            pending.confusion = ConfusionResult{};
            pending.filters = {};
            pending.layerNames = {};
            pending.layerTypes = {};
            pending.gradientNorms = {};
            sinceEmit.restart();
        };
        auto onStep = [&](const train::StepReport& r) {
            (void)m_run->logStep(r);
            pending.step = r.step;
            pending.epoch = r.epoch;
            pending.stepsPerEpoch = r.stepsPerEpoch;
            pending.imagesPerSecond = r.imagesPerSecond;
            pending.lr = r.lr;
            pending.loss.append(QPointF(double(r.step), r.loss));
            pending.lrs.append(r.lr);
            if (sinceFilters.elapsed() >= 250) { // reading them waits for the steps in flight
                readFilters(pending);
                sinceFilters.restart();
            }
            if (sinceLayers.elapsed() >= 1000) {
                readLayers(pending);
                sinceLayers.restart();
            }
            // The trajectory for the Landscape tab's PCA plane: the weights every K steps (a
            // bounded ring; reading them waits for the steps in flight, a few times an epoch).
            if (m_trajectory.wants(r.step))
                if (auto theta = m_backend->readReal(m_network->params()); theta.ok()) {
                    m_trajectory.add(r.step, std::move(*theta));
                    keepBuffers(r.step);
                    pending.keptSteps = keptSteps();
                }
            // A probe costs a forward pass: at most ~10% of the time (deep nets probe less
            // often), except that a newly chosen image is answered at once ("Next image").
            const int wanted = m_probeIndex->load();
            if (wanted >= 0 && (wanted != m_probed ||
                                sinceProbe.elapsed() >= std::max<qint64>(1000, 10 * m_probeMs))) {
                QElapsedTimer took;
                took.start();
                readProbe(pending);
                m_probeMs = took.elapsed();
                sinceProbe.restart();
            }
            if (sinceEmit.elapsed() >= 33) // ~30 snapshots a second at most
                flush();
        };
        auto onEpoch = [&](const train::EpochReport& e) {
            (void)m_run->logEpoch(e, m_trainer->stepsDone());
            (void)m_run->checkpoint(*m_trainer);
            pending.testAccuracy.append(QPointF(double(m_trainer->stepsDone()), e.test.accuracy));
            pending.trainAccuracy.append(QPointF(double(m_trainer->stepsDone()), e.trainAccuracy));
            m_lastEpoch = e;
            pending.testLoss.append(QPointF(double(m_trainer->stepsDone()), e.test.loss));
            pending.status = tr("epoch %1: test accuracy %2%")
                                 .arg(e.epoch)
                                 .arg(e.test.accuracy * 100, 0, 'f', 2);
            // The confusion matrix of the test set, for the Train tab (an eval pass).
            pending.confusion = analysis().confusion(0, nullptr);
            pending.confusion.epoch = e.epoch;
            flush();
        };
        Status s = steps > 0 ? m_trainer->runSteps(steps, onStep, onEpoch, m_cancel.get())
                             : m_trainer->run(onStep, onEpoch, m_cancel.get());
        readFilters(pending);
        readLayers(pending);
        readProbe(pending);
        flush();
        autosave();
        m_run->clearTraining();
        const bool cancelled = !s.ok() && s.message().find("cancelled") != std::string::npos;
        const bool complete = s.ok() && m_trainer->stepsDone() >= m_totalSteps;
        if (complete)
            emit message(m_lastEpoch.epoch > 0
                             ? tr("Run complete: test accuracy %1 % after %2 epochs (train %3 %)")
                                   .arg(100 * m_lastEpoch.test.accuracy, 0, 'f', 1)
                                   .arg(m_lastEpoch.epoch)
                                   .arg(100 * m_lastEpoch.trainAccuracy, 0, 'f', 1)
                             : tr("Run complete after %1 steps").arg(m_totalSteps));
        emit finished(s.ok() || cancelled ? QString() : QString::fromStdString(s.message()),
                      complete);
    }

    // The first conv layer's weights into the snapshot (nothing for networks without one).
    void readFilters(TrainSnapshot& s) {
        for (const auto& t : m_network->namedTensors()) {
            if (t.dims.size() != 4 || !t.name.ends_with(".weight"))
                continue;
            auto w = m_backend->readReal(t.tensor);
            if (!w.ok())
                return;
            s.filters = QVector<float>(w->begin(), w->end());
            s.filterCount = int(t.dims[0]);
            s.filterChannels = int(t.dims[1]);
            s.filterH = int(t.dims[2]);
            s.filterW = int(t.dims[3]);
            return;
        }
    }

    // The wanted test image through the network in evaluation mode: its feature maps (at most
    // 32 channels a layer) and the class probabilities.
    void readProbe(TrainSnapshot& s) {
        const int index = m_probeIndex->load();
        if (index < 0 || !m_trainer)
            return;
        const auto& test = m_data->test;
        Probe p;
        p.index = int(std::min<std::int64_t>(index, test.count - 1));
        m_probed = index;
        if (Status st = m_trainer->probe(p.index); !st.ok()) {
            emit message(QString::fromStdString(st.message()));
            return;
        }
        p.label = test.labels[std::size_t(p.index)];
        for (const auto& n : test.classNames)
            p.classNames << QString::fromStdString(n);
        p.imageChannels = int(test.channels);
        p.imageH = int(test.height);
        p.imageW = int(test.width);
        const std::int64_t D = test.features();
        for (std::int64_t i = 0; i < D; ++i)
            p.image << float((test.images[std::size_t(p.index * D + i)] / 255.0 - m_data->mean) /
                             m_data->std);
        auto first = [](Tensor t, std::int64_t elements) { // sample 0 of a batch tensor
            t.bytes = t.bytes / std::uint64_t(t.numel()) * std::uint64_t(elements);
            t.shape = Shape{elements};
            return t;
        };
        for (const auto& m : m_network->featureMaps()) {
            const int channels = int(std::min<std::int64_t>(m.dims.c, 32));
            auto v = m_backend->readReal(first(m.y, channels * m.dims.h * m.dims.w));
            if (!v.ok())
                return;
            p.maps.push_back({QString::fromStdString(m.path), channels, int(m.dims.h),
                              int(m.dims.w), int(m.dims.c), QVector<float>(v->begin(), v->end())});
        }
        auto logits = m_backend->readReal(first(m_network->logits(), m_network->classes()));
        if (!logits.ok())
            return;
        const double top = *std::max_element(logits->begin(), logits->end());
        double sum = 0;
        for (double z : *logits)
            sum += std::exp(z - top);
        for (double z : *logits)
            p.probabilities << std::exp(z - top) / sum;
        s.probe = std::move(p);
    }

    // metrics.csv and a checkpoint of the last step (when paused, stopped or done).
    void autosave() {
        if (!m_run)
            return;
        if (auto wrote = m_run->close(*m_trainer); !wrote.ok())
            emit message(QString::fromStdString("autosave failed: " + wrote.status().message()));
    }

    // Per-layer gradient norms of the last step (the vanishing-gradient picture).
    void readLayers(TrainSnapshot& s) {
        auto stats = m_trainer->layerStats();
        if (!stats.ok() || m_trainer->stepsDone() == 0)
            return;
        s.layerNames.clear();
        s.layerTypes.clear();
        s.gradientNorms.clear();
        const auto& layers = m_network->paramLayers(); // layerStats() follows their order
        for (std::size_t i = 0; i < stats->size(); ++i) {
            s.layerNames << QString::fromStdString((*stats)[i].layer);
            s.layerTypes << (i < layers.size() ? model::layerTypeName(layers[i].type) : "");
            s.gradientNorms << (*stats)[i].gradNorm;
        }
    }

    std::shared_ptr<std::atomic<bool>> m_cancel;
    std::shared_ptr<std::atomic<int>> m_probeIndex;
    qint64 m_probeMs = 0; // how long the last probe took
    int m_probed = -1;    // the test image of the last probe
    std::unique_ptr<data::TrainTestSplit> m_data;
    std::unique_ptr<Backend> m_backend;
    std::unique_ptr<model::Network> m_network;
    std::unique_ptr<train::Trainer> m_trainer;
    analysis::Trajectory m_trajectory{200, 50}; // weight snapshots of the run being trained
    std::map<std::int64_t, std::vector<double>> m_bufferRing; // running statistics at its steps
    std::int64_t m_rewoundTo = -1;                            // the scrubber's step (-1: live)
    std::vector<double> m_liveParams, m_liveBuffers;          // the live weights while rewound
    std::unique_ptr<train::RunFolder> m_run;
    QString m_runDir;
    std::int64_t m_totalSteps = 0;
    train::EpochReport m_lastEpoch; // for the end message
    AnalysisEngine m_analysis;
    bool m_live = false; // the analysis looks at the training network (else at a reopened run)
    std::string m_backendName = "auto";
};

void lowerThisThreadsPriority() {
#ifdef __linux__
    const auto tid = static_cast<id_t>(syscall(SYS_gettid));
    setpriority(PRIO_PROCESS, tid, std::min(getpriority(PRIO_PROCESS, tid) + 5, 19));
#endif
}

TrainingSession::TrainingSession(QObject* parent)
    : QObject(parent), m_cancel(std::make_shared<std::atomic<bool>>(false)),
      m_probe(std::make_shared<std::atomic<int>>(-1)) {
    // QApplication sets the C locale from the environment; the engine writes and reads numbers
    // with printf/strtod (CSV, JSON, checkpoint metadata), which must not become "0,02" under a
    // decimal-comma locale such as de_DE. Set before the worker thread starts.
    std::setlocale(LC_NUMERIC, "C");
    qRegisterMetaType<TrainRequest>();
    qRegisterMetaType<TrainSnapshot>();
    m_thread.setObjectName("convscope-engine");
    m_worker = new TrainingWorker(m_cancel, m_probe);
    m_worker->moveToThread(&m_thread);
    connect(&m_thread, &QThread::finished, m_worker, &QObject::deleteLater);
    qRegisterMetaType<FieldRequest>();
    qRegisterMetaType<FieldResult>();
    qRegisterMetaType<LandscapeRequest>();
    qRegisterMetaType<LandscapeResult>();
    qRegisterMetaType<SaliencyRequest>();
    qRegisterMetaType<SaliencyResult>();
    qRegisterMetaType<AttackRequest>();
    qRegisterMetaType<AttackResult>();
    qRegisterMetaType<CurveRequest>();
    qRegisterMetaType<CurvePoint>();
    qRegisterMetaType<ConfusionResult>();
    qRegisterMetaType<TestSet>();
    // Reports come from the engine thread: queued to this one.
    m_job = std::make_shared<Progress>([this](double f, const std::string& stage) {
        handoff::queue(this,
                       [this, f, stage] { emit jobProgress(f, QString::fromStdString(stage)); });
    });
    connect(m_worker, &TrainingWorker::analysisModelChanged, this,
            &TrainingSession::analysisModelChanged);
    connect(m_worker, &TrainingWorker::snapshot, this, [this](const TrainSnapshot& snap) {
        handoff::received();
        if (!snap.runDir.isEmpty())
            m_runDir = snap.runDir;
        emit snapshot(snap);
    });
    connect(m_worker, &TrainingWorker::message, this, &TrainingSession::message);
    connect(m_worker, &TrainingWorker::finished, this, [this](const QString& error, bool complete) {
        if (!error.isEmpty()) {
            emit failed(error);
            emit message(error);
        }
        // After an error or a complete run, Train starts afresh.
        setState(false, m_started && error.isEmpty() && !complete);
        emit runFinished(complete && error.isEmpty(), m_runDir);
    });
    // The engine thread (and the OpenMP team it starts, which inherits its nice value) yields
    // to the GUI thread: on a 2-core laptop both cores compute, and the window must still
    // repaint within its 50 ms budget. Linux schedules nice per thread; QThread's priorities
    // do nothing under SCHED_OTHER.
    connect(
        &m_thread, &QThread::started, &m_thread, [] { lowerThisThreadsPriority(); },
        Qt::DirectConnection);
    m_thread.start();
}

TrainingSession::~TrainingSession() {
    m_cancel->store(true); // the trainer stops after the steps in flight
    m_job->cancel();       // and a job after its batch
    m_thread.quit();
    m_thread.wait();
}

QStringList TrainingSession::presets() {
    QStringList l;
    for (const auto& n : model::presetNames())
        l << QString::fromStdString(n);
    return l;
}

QStringList TrainingSession::datasets() {
    QStringList l;
    for (const auto& n : data::datasetNames())
        l << QString::fromStdString(n);
    return l;
}

QByteArray TrainingSession::presetJson(const QString& preset) {
    auto spec = model::preset(preset.toStdString());
    return spec.ok() ? QByteArray::fromStdString(model::toJson(*spec)) : QByteArray();
}

SpecCheck TrainingSession::checkSpec(const QByteArray& json) {
    SpecCheck c;
    auto spec = model::parseNetSpec(json.toStdString(), "the network");
    if (!spec.ok()) {
        c.error = QString::fromStdString(spec.status().message());
        return c;
    }
    c.parsed = true;
    Status error;
    const model::Analysis a = model::analyzePartial(*spec, error);
    c.ok = error.ok();
    if (!c.ok)
        c.error = QString::fromStdString(error.message());
    c.errorRow = a.errorRow;
    for (std::size_t i = 0; i < a.layers.size(); ++i) {
        const auto& l = a.layers[i];
        const bool computed = c.ok || int(i) != a.errorRow;
        const bool known = computed && l.out.c > 0;
        SpecRow row{QString::fromStdString(l.path),
                    QString::fromUtf8(model::layerTypeName(l.type)),
                    known ? QString::fromStdString(l.out.str()) : QString(),
                    QString::fromStdString(l.detail),
                    l.params,
                    l.flops,
                    l.depth};
        if (known) {
            row.rf = QString::fromStdString(l.rf.str());
            row.rfTip = l.rf.global
                            ? QObject::tr("Every unit sees the whole image")
                            : QObject::tr("Each unit sees %1×%2 input pixels; neighbouring units "
                                          "are %3 pixels apart (the jump); unit (0, 0) is centred "
                                          "at (%4, %5)")
                                  .arg(l.rf.sizeH)
                                  .arg(l.rf.sizeW)
                                  .arg(l.rf.jumpH)
                                  .arg(l.rf.startH)
                                  .arg(l.rf.startW);
        }
        c.rows.push_back(row);
    }
    c.params = a.params;
    c.flops = a.flops;
    c.input = QString::fromStdString(a.input.str());
    if (c.ok)
        c.output = QString::fromStdString(a.output.str());
    return c;
}

QVector<int> TrainingSession::datasetInput(const QString& dataset) {
    if (dataset == "cifar10")
        return {3, 32, 32};
    if (dataset == "fashion-mnist" || dataset == "gratings" || dataset == "blobs")
        return {1, 28, 28};
    return {}; // spirals are points, folders have the side they are loaded with
}

TrainingSession::MemoryCheck TrainingSession::checkMemory(const QByteArray& json,
                                                          const QString& dataset, int batch) {
    MemoryCheck m;
    m.available = qint64(CpuBackend<float>(1, false).memoryBudget().device);
    data::DatasetRequest dr;
    dr.name = dataset.toStdString();
    data::TrainTestSplit shape;
    auto spec = model::parseNetSpec(json.toStdString(), "the network");
    if (!spec.ok() || !data::datasetShape(dr, shape))
        return m;
    model::fitInput(*spec, shape.train.channels, shape.train.height, shape.train.width);
    train::TrainConfig cfg;
    cfg.batch = batch;
    if (auto need = train::Trainer::bytesNeeded(*spec, shape, cfg); need.ok())
        m.need = qint64(*need);
    return m;
}

bool TrainingSession::exportOnnx(const QString& run, const QString& path, QString* summary,
                                 QString* error) {
    auto r = io::exportOnnx(run.toStdString(), path.toStdString());
    if (!r.ok()) {
        if (error)
            *error = QString::fromStdString(r.status().message());
        return false;
    }
    if (summary)
        *summary = tr("%1: ONNX opset %2, %3 nodes, %4 parameters, %5")
                       .arg(path)
                       .arg(r->opset)
                       .arg(r->nodes)
                       .arg(QLocale::system().toString(qint64(r->parameters)))
                       .arg(QString::fromStdString(byteSize(std::uint64_t(r->bytes))));
    return true;
}

RunRecord TrainingSession::openRun(const QString& dir) {
    RunRecord r;
    r.dir = dir;
    QFile specFile(dir + "/spec.json");
    QFile metrics(dir + "/metrics.csv");
    if (!specFile.open(QIODevice::ReadOnly) || !metrics.open(QIODevice::ReadOnly)) {
        r.error = tr("%1 is not a run folder: it needs spec.json and metrics.csv. Pick a folder "
                     "from the runs list (File → Open run) or one written by convscope-cli "
                     "train --out")
                      .arg(dir);
        return r;
    }
    r.spec = specFile.readAll();
    const train::MetricsCsv csv = train::parseMetricsCsv(metrics.readAll().toStdString());
    for (const train::MetricsRow& row : csv.rows) {
        const double step = double(row.step);
        if (row.kind == train::MetricsRow::Kind::Step)
            r.loss << QPointF(step, row.loss);
        else {
            r.testLoss << QPointF(step, row.testLoss);
            r.testAccuracy << QPointF(step, row.testAccuracy);
            r.trainLoss << QPointF(step, row.loss);
            r.trainAccuracy << QPointF(step, row.accuracy);
        }
        r.steps = std::max(r.steps, qint64(row.step));
    }
    if (QFile layers(dir + "/layers.csv"); layers.open(QIODevice::ReadOnly))
        for (const train::LayerRow& l :
             train::parseLayersCsv(layers.readAll().toStdString()).lastEpoch()) {
            r.layerNames << QString::fromStdString(l.layer);
            r.gradientNorms << l.gradNorm;
            r.weightNorms << l.weightNorm;
        }
    if (QFile twin(dir + "/twin.json"); twin.open(QIODevice::ReadOnly)) {
        const QJsonObject o = QJsonDocument::fromJson(twin.readAll()).object();
        if (o.value("run").toString() != "a") // run a is the network as it was; b has the change
            r.twinChange = o.value("change").toString();
        r.twinOf = o.value("other").toString();
    }
    if (!r.layerNames.isEmpty())
        if (auto spec = model::parseNetSpec(r.spec.toStdString(), "spec.json"); spec.ok())
            if (auto a = model::analyze(*spec); a.ok())
                for (const QString& name : r.layerNames) {
                    QString type;
                    for (const auto& l : a->layers)
                        if (QString::fromStdString(l.path) == name)
                            type = model::layerTypeName(l.type);
                    r.layerTypes << type;
                }
    auto checkpoint = train::RunFolder::latestCheckpoint(dir.toStdString());
    if (!checkpoint.ok())
        return r; // curves without filters: the run stopped before its first checkpoint
    r.hasCheckpoint = true;
    auto file = io::loadSafetensors(*checkpoint);
    Status finite = file.ok() ? model::checkFinite(*file, *checkpoint) : file.status();
    if (!finite.ok()) {
        r.error = QString::fromStdString(finite.message());
        return r;
    }
    auto meta = [&](const char* key) {
        auto it = file->metadata.find(key);
        return it == file->metadata.end() ? QString() : QString::fromStdString(it->second);
    };
    r.dataset = meta("dataset");
    r.optimizer = meta("optimizer");
    r.lr = meta("lr").toDouble();
    r.batch = meta("batch").toInt();
    r.epochs = meta("epochs").toInt();
    r.weightDecay = meta("weight_decay").isEmpty() ? -1 : meta("weight_decay").toDouble();
    r.seed = meta("seed").isEmpty() ? -1 : meta("seed").toLongLong();
    // The first layer's filters: the weights of the spec's first convolution, or else the first
    // conv weights (alphabetically) that read the image's channels.
    auto spec = model::parseNetSpec(r.spec.toStdString(), (dir + "/spec.json").toStdString());
    const std::int64_t channels = spec.ok() ? spec->channels : 1;
    std::string first;
    if (spec.ok())
        if (auto a = model::analyze(*spec); a.ok())
            for (const auto& l : a->layers)
                if (l.type == model::LayerType::Conv2d) {
                    first = l.path + ".weight";
                    break;
                }
    for (const auto& [name, t] : file->tensors) {
        if (t.shape.size() != 4 || t.shape[1] != channels || !name.ends_with(".weight") ||
            (file->tensors.count(first) && name != first))
            continue;
        r.filters = QVector<float>(t.f32.begin(), t.f32.end());
        r.filterCount = int(t.shape[0]);
        r.filterChannels = int(t.shape[1]);
        r.filterH = int(t.shape[2]);
        r.filterW = int(t.shape[3]);
        break;
    }
    return r;
}

void TrainingSession::setProbe(int index) {
    m_probe->store(index);
    if (index >= 0 && !m_busy) // the worker answers when it has a network, trained or not
        QMetaObject::invokeMethod(m_worker, "probe", Qt::QueuedConnection);
}

void TrainingSession::setState(bool busy, bool started) {
    m_busy = busy;
    m_started = started;
    emit stateChanged(busy, started);
}

void TrainingSession::start(const TrainRequest& request) {
    if (m_busy)
        return;
    setState(true, true);
    m_cancel->store(false); // here, not on the worker: a Pause while loading must count
    QMetaObject::invokeMethod(m_worker, "start", Qt::QueuedConnection,
                              Q_ARG(convscope::ui::TrainRequest, request));
}

// Resume and step: more steps of the started run, on the worker.
void TrainingSession::trainMore(const char* slot) {
    if (m_busy || !m_started)
        return;
    setState(true, true);
    m_cancel->store(false);
    QMetaObject::invokeMethod(m_worker, slot, Qt::QueuedConnection);
}

void TrainingSession::resume() {
    trainMore("resume");
}

void TrainingSession::step() {
    trainMore("step");
}

void TrainingSession::runTo(qint64 step, int epoch) {
    if (m_busy || !m_started)
        return;
    setState(true, true);
    m_cancel->store(false);
    QMetaObject::invokeMethod(m_worker, "runTo", Qt::QueuedConnection, Q_ARG(qint64, step),
                              Q_ARG(int, epoch));
}

void TrainingSession::rewind(qint64 step) {
    // A finished run can be rewound too: the worker keeps its network until the next Train.
    if (m_busy)
        pause(); // the rewind waits in the worker's queue until the steps in flight are done
    QMetaObject::invokeMethod(m_worker, "rewind", Qt::QueuedConnection, Q_ARG(qint64, step));
}

void TrainingSession::goLive() {
    QMetaObject::invokeMethod(m_worker, "goLive", Qt::QueuedConnection);
}

void TrainingSession::pause() {
    m_resumeAfterJobs = false; // the user's pause: the jobs must not resume the run
    m_cancel->store(true);
}

void TrainingSession::stop() {
    m_cancel->store(true);
    m_started = false;
    emit stateChanged(m_busy, false);
}

void TrainingSession::post(const QString& name, std::function<void(TrainingWorker*)> job) {
    if (m_busy && !m_resumeAfterJobs) { // training pauses for the job and resumes after
        m_resumeAfterJobs = true;
        m_cancel->store(true);
        emit message(tr("Training paused for %1; it resumes after").arg(name));
    }
    if (m_jobs++ == 0)
        m_job->reset();
    emit jobStateChanged(true, name);
    TrainingWorker* w = m_worker;
    handoff::queue(w, [this, w, job = std::move(job)] {
        job(w);
        QMetaObject::invokeMethod(this, &TrainingSession::onJobDone, Qt::QueuedConnection);
    });
}

void TrainingSession::onJobDone() {
    if (--m_jobs > 0)
        return;
    m_jobs = 0;
    emit jobStateChanged(false, QString());
    if (m_resumeAfterJobs) {
        m_resumeAfterJobs = false;
        if (m_started && !m_busy) // a cancelled job still gives the run back
            resume();
    }
}

// One kind of coalesced job: while one runs, only the newest waiting request is kept; when it
// finishes its result is emitted and the waiting one (if any) is posted.
template <class Request, class Result>
void TrainingSession::postCoalesced(Coalesced<Request>& slot, const Request& r,
                                    QString (*name)(const Request&),
                                    Result (AnalysisEngine::*job)(const Request&, Progress*),
                                    void (TrainingSession::*ready)(const Result&)) {
    if (slot.inFlight) {
        slot.pending = std::make_unique<Request>(r);
        return;
    }
    slot.inFlight = true;
    Progress* p = m_job.get();
    post(name(r), [this, &slot, r, p, name, job, ready](TrainingWorker* w) {
        const Result out = (w->analysis().*job)(r, p);
        handoff::queue(this, [this, &slot, out, name, job, ready] {
            slot.inFlight = false;
            emit(this->*ready)(out);
            if (slot.pending) {
                const Request next = *slot.pending;
                slot.pending.reset();
                postCoalesced(slot, next, name, job, ready);
            }
        });
    });
}

void TrainingSession::requestSaliency(const SaliencyRequest& r) {
    postCoalesced<SaliencyRequest, SaliencyResult>(
        m_saliencyJobs, r,
        [](const SaliencyRequest& q) {
            return q.sanity ? tr("the sanity check") : tr("saliency maps");
        },
        &AnalysisEngine::saliency, &TrainingSession::saliencyReady);
}

void TrainingSession::requestAttack(const AttackRequest& r) {
    postCoalesced<AttackRequest, AttackResult>(
        m_attackJobs, r,
        [](const AttackRequest& q) { return q.pgdSteps > 0 ? tr("PGD") : tr("FGSM"); },
        &AnalysisEngine::attack, &TrainingSession::attackReady);
}

void TrainingSession::requestFields(const FieldRequest& r) {
    postCoalesced<FieldRequest, FieldResult>(
        m_fieldJobs, r, [](const FieldRequest&) { return tr("receptive fields"); },
        &AnalysisEngine::fields, &TrainingSession::fieldsReady);
}

void TrainingSession::requestCurve(const CurveRequest& r) {
    Progress* p = m_job.get();
    post(tr("accuracy vs ε"), [this, r, p](TrainingWorker* w) {
        const QString error = w->analysis().curve(r, p, [this](const CurvePoint& pt) {
            handoff::queue(this, [this, pt] { emit curvePoint(pt); });
        });
        handoff::queue(this, [this, error] { emit curveFinished(error); });
    });
}

void TrainingSession::requestConfusion(int count, double eps, int pgdSteps) {
    Progress* p = m_job.get();
    post(tr("the confusion matrix"), [this, count, p, eps, pgdSteps](TrainingWorker* w) {
        const ConfusionResult out = w->analysis().confusion(count, p, eps, pgdSteps);
        handoff::queue(this, [this, out] { emit confusionReady(out); });
    });
}

void TrainingSession::requestTestSet() {
    post(tr("the test images"), [this](TrainingWorker* w) {
        const TestSet t = w->analysis().testSet();
        handoff::queue(this, [this, t] { emit testSetReady(t); });
    });
}

void TrainingSession::requestLandscape(const LandscapeRequest& r) {
    Progress* p = m_job.get();
    post(tr("the loss landscape"), [this, r, p](TrainingWorker* w) {
        w->analysis().landscape(r, p, [this](const LandscapeResult& out) {
            handoff::queue(this, [this, out] { emit landscapeUpdated(out); });
        });
    });
}

void TrainingSession::analyseRun(const QString& dir, const QString& dataDir) {
    post(tr("loading the run"), [dir, dataDir](TrainingWorker* w) { w->analyseRun(dir, dataDir); });
}

void TrainingSession::cancelJob() {
    m_job->cancel();
    m_saliencyJobs.pending.reset();
    m_attackJobs.pending.reset();
    m_fieldJobs.pending.reset();
}

} // namespace convscope::ui

#include "training_session.moc"
