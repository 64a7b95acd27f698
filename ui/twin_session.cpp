// TwinSession: the worker loads the dataset, makes the twin, and runs train::trainPair; the
// pair's callbacks gather points and send them to the window a few times a second.
#include "twin_session.h"

#include "engine_glue.h"
#include "train/twin.h"

#include <QElapsedTimer>
#include <QMetaObject>

namespace convscope::ui {

class TwinWorker : public QObject {
    Q_OBJECT
public:
    explicit TwinWorker(std::shared_ptr<std::atomic<bool>> cancel) : m_cancel(std::move(cancel)) {}

public slots:
    void run(const convscope::ui::TrainRequest& r, const QString& key, const QString& value,
             const QString& dirA, const QString& dirB) {
        auto fail = [this](const Status& s) {
            emit finished(QString::fromStdString(s.message()), false);
        };
        auto change = train::checkTwin(key.toStdString(), value.toStdString());
        if (!change.ok())
            return fail(change.status());
        auto data = data::loadDataset(datasetRequest(r));
        if (!data.ok())
            return fail(data.status());
        auto spec = requestSpec(r, *data);
        if (!spec.ok())
            return fail(spec.status());
        auto cfg = trainConfig(r);
        if (!cfg.ok())
            return fail(cfg.status());
        auto twin = train::makeTwin(*spec, *cfg, *change);
        if (!twin.ok())
            return fail(twin.status());
        auto backend = requestBackend(r);
        if (!backend.ok())
            return fail(backend.status());
        emit started(QString::fromStdString(twin->description));
        TwinSnapshot pending;
        QElapsedTimer sinceEmit;
        sinceEmit.start();
        const std::int64_t perEpoch =
            (data->train.count + cfg->batch - 1) / std::max<std::int64_t>(1, cfg->batch);
        const std::int64_t perEpochB = (data->train.count + twin->config.batch - 1) /
                                       std::max<std::int64_t>(1, twin->config.batch);
        pending.totalSteps = std::max(perEpoch * cfg->epochs, perEpochB * twin->config.epochs);
        auto flush = [&] {
            emit snapshot(pending);
            for (int k = 0; k < 2; ++k) {
                pending.loss[k] = {}; // fresh, not clear(): see TrainingWorker's flush
                pending.epochEnded[k] = false;
            }
            sinceEmit.restart();
        };
        train::PairOptions o;
        o.dirs = {dirA.toStdString(), dirB.toStdString()};
        o.datasetName = r.dataset.toStdString();
        o.cancel = m_cancel.get();
        o.onStep = [&](int run, const train::StepReport& s) {
            pending.loss[run].append(QPointF(double(s.step), s.loss));
            pending.steps[run] = s.step;
            if (sinceEmit.elapsed() >= 250)
                flush();
        };
        o.onEpoch = [&](int run, const train::EpochReport&) {
            pending.epochEnded[run] = true; // trainPair has written the folder's epoch row
            flush();
        };
        const Status s = train::trainPair(*backend->backend, *spec, *cfg, *twin, *data, o);
        flush();
        const bool cancelled = m_cancel->load();
        emit finished(s.ok() || cancelled ? QString() : QString::fromStdString(s.message()),
                      cancelled);
    }

signals:
    void started(const QString& description);
    void snapshot(const convscope::ui::TwinSnapshot& s);
    void finished(const QString& error, bool cancelled);

private:
    std::shared_ptr<std::atomic<bool>> m_cancel;
};

TwinSession::TwinSession(QObject* parent)
    : QObject(parent), m_cancel(std::make_shared<std::atomic<bool>>(false)) {
    qRegisterMetaType<convscope::ui::TwinSnapshot>();
    qRegisterMetaType<convscope::ui::TrainRequest>();
    m_worker = new TwinWorker(m_cancel);
    m_worker->moveToThread(&m_thread);
    connect(&m_thread, &QThread::finished, m_worker, &QObject::deleteLater);
    connect(m_worker, &TwinWorker::started, this, &TwinSession::started);
    connect(m_worker, &TwinWorker::snapshot, this, &TwinSession::snapshot);
    connect(m_worker, &TwinWorker::finished, this, [this](const QString& e, bool cancelled) {
        m_busy = false;
        emit finished(e, cancelled);
    });
    m_thread.setObjectName("convscope-twin");
    connect(
        &m_thread, &QThread::started, &m_thread, [] { lowerThisThreadsPriority(); },
        Qt::DirectConnection);
    m_thread.start();
}

TwinSession::~TwinSession() {
    m_cancel->store(true);
    m_thread.quit();
    m_thread.wait();
}

QString TwinSession::check(const TrainRequest& r, const QString& key, const QString& value) {
    auto change = train::checkTwin(key.toStdString(), value.toStdString());
    if (!change.ok())
        return QString::fromStdString(change.status().message());
    auto spec = r.spec.isEmpty() ? model::preset(r.preset.toStdString())
                                 : model::parseNetSpec(r.spec.toStdString(), "the network");
    if (!spec.ok())
        return QString::fromStdString(spec.status().message());
    auto cfg = trainConfig(r);
    if (!cfg.ok())
        return QString::fromStdString(cfg.status().message());
    auto twin = train::makeTwin(*spec, *cfg, *change);
    return twin.ok() ? QString() : QString::fromStdString(twin.status().message());
}

void TwinSession::start(const TrainRequest& r, const QString& key, const QString& value,
                        const std::array<QString, 2>& dirs) {
    if (m_busy)
        return;
    m_busy = true;
    m_dirs = dirs;
    m_cancel->store(false);
    QMetaObject::invokeMethod(m_worker, "run", Qt::QueuedConnection,
                              Q_ARG(convscope::ui::TrainRequest, r), Q_ARG(QString, key),
                              Q_ARG(QString, value), Q_ARG(QString, dirs[0]),
                              Q_ARG(QString, dirs[1]));
}

void TwinSession::cancel() {
    m_cancel->store(true);
}

} // namespace convscope::ui

#include "twin_session.moc"
