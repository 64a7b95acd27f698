// TrainingSession and its worker: the engine on its own thread, snapshots throttled to ~30/s.
#include "training_session.h"

#include "backend/backend.h"
#include "data/datasets.h"
#include "model/network.h"
#include "train/run_folder.h"
#include "train/trainer.h"

#include <QDateTime>
#include <QDir>
#include <QStandardPaths>

#include <QElapsedTimer>
#include <QPointF>

namespace convscope::ui {

// Lives on the session's thread; every slot runs there and may block it, never the GUI.
class TrainingWorker : public QObject {
    Q_OBJECT
public:
    explicit TrainingWorker(std::shared_ptr<std::atomic<bool>> cancel)
        : m_cancel(std::move(cancel)) {}

public slots:
    void start(const convscope::ui::TrainRequest& r) {
        m_run.reset();
        m_trainer.reset();
        m_network.reset();
        m_backend.reset();
        m_data.reset();
        data::DatasetRequest dr;
        dr.name = r.dataset.toStdString();
        dr.dir = r.dataDir.toStdString();
        dr.seed = r.seed;
        emit message(tr("Loading %1…").arg(r.dataset));
        auto data = data::loadDataset(dr);
        if (!data.ok())
            return fail(data.status());
        m_data = std::make_unique<data::TrainTestSplit>(std::move(*data));
        auto spec = model::preset(r.preset.toStdString());
        if (!spec.ok())
            return fail(spec.status());
        const auto& tr = m_data->train;
        model::fitInput(*spec, tr.channels, tr.height, tr.width);
        BackendOptions bo;
        bo.backend = r.backend.toStdString();
        bo.validation = qEnvironmentVariableIntValue("CONVSCOPE_VALIDATION") != 0;
        auto choice = createBackend(bo);
        if (!choice.ok())
            return fail(choice.status());
        m_backend = std::move(choice->backend);
        emit message(QString::fromStdString(m_backend->description() + " — " + choice->reason));
        m_network = std::make_unique<model::Network>(*spec);
        train::TrainConfig cfg;
        cfg.batch = r.batch;
        cfg.epochs = r.epochs;
        cfg.seed = r.seed;
        cfg.optimizer.lr = r.lr;
        if (!ops::OptimizerConfig::parseKind(r.optimizer.toStdString(), cfg.optimizer.kind))
            return fail(Status::error("unknown optimizer " + r.optimizer.toStdString()));
        cfg.schedule.kind = train::LrSchedule::Kind::Cosine;
        m_trainer = std::make_unique<train::Trainer>(*m_backend, *m_network, *m_data, cfg);
        if (Status s = m_trainer->setup(); !s.ok())
            return fail(s);
        m_totalSteps = m_trainer->stepsPerEpoch() * cfg.epochs;
        // Every run autosaves: nothing a lecturer trained is lost when the window closes.
        const QString dir = QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) +
                            "/runs/" + r.preset + "-" +
                            QDateTime::currentDateTime().toString("yyyyMMdd-hhmmss");
        auto run = train::RunFolder::create(dir.toStdString(), *spec, dr.name, *m_data);
        if (!run.ok())
            return fail(run.status());
        m_run = std::make_unique<train::RunFolder>(std::move(*run));
        m_runDir = dir;
        emit message(QString::fromStdString(m_network->summary()));
        train(0);
    }
    void resume() { train(0); }
    void step() { train(1); }

signals:
    void snapshot(const convscope::ui::TrainSnapshot& s);
    void message(const QString& text);
    // error empty: paused or done without error; complete: every planned step has run
    void finished(const QString& error, bool complete);

private:
    void fail(const Status& s) { emit finished(QString::fromStdString(s.message()), false); }

    void train(std::int64_t steps) {
        if (!m_trainer)
            return emit finished(tr("Nothing to train: press Train first"), false);
        m_cancel->store(false);
        TrainSnapshot pending;
        pending.step = m_trainer->stepsDone();
        pending.runDir = m_runDir;
        QElapsedTimer sinceEmit, sinceFilters, sinceLayers;
        sinceEmit.start();
        sinceFilters.start();
        sinceLayers.start();
        readFilters(pending);
        auto flush = [&] {
            pending.totalSteps = m_totalSteps;
            emit snapshot(pending);
            pending.loss.clear();
            pending.testAccuracy.clear();
            pending.filters.clear();
            pending.layerNames.clear();
            pending.gradientNorms.clear();
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
            if (sinceFilters.elapsed() >= 250) { // reading them waits for the steps in flight
                readFilters(pending);
                sinceFilters.restart();
            }
            if (sinceLayers.elapsed() >= 1000) {
                readLayers(pending);
                sinceLayers.restart();
            }
            if (sinceEmit.elapsed() >= 33) // ~30 snapshots a second at most
                flush();
        };
        auto onEpoch = [&](const train::EpochReport& e) {
            (void)m_run->logEpoch(e, m_trainer->stepsDone());
            (void)m_run->checkpoint(*m_trainer);
            pending.testAccuracy.append(QPointF(double(m_trainer->stepsDone()), e.test.accuracy));
            pending.status = tr("epoch %1: test accuracy %2%")
                                 .arg(e.epoch)
                                 .arg(e.test.accuracy * 100, 0, 'f', 2);
            flush();
        };
        Status s = steps > 0 ? m_trainer->runSteps(steps, onStep, onEpoch, m_cancel.get())
                             : m_trainer->run(onStep, onEpoch, m_cancel.get());
        readFilters(pending);
        readLayers(pending);
        flush();
        autosave();
        const bool cancelled = !s.ok() && s.message().find("cancelled") != std::string::npos;
        const bool complete = s.ok() && m_trainer->stepsDone() >= m_totalSteps;
        if (complete)
            emit message(
                tr("Run complete after %1 steps: Train starts a new one").arg(m_totalSteps));
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
        s.gradientNorms.clear();
        for (const auto& l : *stats) {
            s.layerNames << QString::fromStdString(l.layer);
            s.gradientNorms << l.gradNorm;
        }
    }

    std::shared_ptr<std::atomic<bool>> m_cancel;
    std::unique_ptr<data::TrainTestSplit> m_data;
    std::unique_ptr<Backend> m_backend;
    std::unique_ptr<model::Network> m_network;
    std::unique_ptr<train::Trainer> m_trainer;
    std::unique_ptr<train::RunFolder> m_run;
    QString m_runDir;
    std::int64_t m_totalSteps = 0;
};

TrainingSession::TrainingSession(QObject* parent)
    : QObject(parent), m_cancel(std::make_shared<std::atomic<bool>>(false)) {
    qRegisterMetaType<TrainRequest>();
    qRegisterMetaType<TrainSnapshot>();
    m_thread.setObjectName("convscope-engine");
    m_worker = new TrainingWorker(m_cancel);
    m_worker->moveToThread(&m_thread);
    connect(&m_thread, &QThread::finished, m_worker, &QObject::deleteLater);
    connect(m_worker, &TrainingWorker::snapshot, this, &TrainingSession::snapshot);
    connect(m_worker, &TrainingWorker::message, this, &TrainingSession::message);
    connect(m_worker, &TrainingWorker::finished, this, [this](const QString& error, bool complete) {
        if (!error.isEmpty()) {
            emit failed(error);
            emit message(error);
        }
        // After an error or a complete run, Train starts afresh.
        setState(false, m_started && error.isEmpty() && !complete);
    });
    m_thread.start();
}

TrainingSession::~TrainingSession() {
    m_cancel->store(true); // the trainer stops after the steps in flight
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

QString TrainingSession::describePreset(const QString& preset, bool* ok) {
    auto spec = model::preset(preset.toStdString());
    auto a = spec.ok() ? model::analyze(*spec) : Result<model::Analysis>(spec.status());
    if (ok)
        *ok = a.ok();
    if (!a.ok())
        return QString::fromStdString(a.status().message());
    return QString::fromStdString(spec->description + "\n\n" + a->table());
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
    QMetaObject::invokeMethod(m_worker, "start", Qt::QueuedConnection,
                              Q_ARG(convscope::ui::TrainRequest, request));
}

void TrainingSession::resume() {
    if (m_busy || !m_started)
        return;
    setState(true, true);
    QMetaObject::invokeMethod(m_worker, "resume", Qt::QueuedConnection);
}

void TrainingSession::step() {
    if (m_busy || !m_started)
        return;
    setState(true, true);
    QMetaObject::invokeMethod(m_worker, "step", Qt::QueuedConnection);
}

void TrainingSession::pause() {
    m_cancel->store(true);
}

void TrainingSession::stop() {
    m_cancel->store(true);
    m_started = false;
    emit stateChanged(m_busy, false);
}

} // namespace convscope::ui

#include "training_session.moc"
