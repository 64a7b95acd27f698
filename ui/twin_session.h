// TwinSession: "Compare with…" — the current network and its twin (one named change) trained
// interleaved by the engine's train::trainPair on a worker thread of its own, into two run
// folders beside the window's other runs. The window pauses its own training first; the
// Compare tab grows both curves from the snapshots (at most ~4 a second).
#pragma once

#include "training_session.h"

#include <QObject>
#include <QPointF>
#include <QString>
#include <QThread>
#include <QVector>
#include <array>
#include <atomic>
#include <memory>

namespace convscope::ui {

// What both runs did since the last snapshot.
struct TwinSnapshot {
    std::array<QVector<QPointF>, 2> loss;         // (step, loss) per run
    std::array<bool, 2> epochEnded{false, false}; // the run's folder has a new epoch: reread it
    std::array<qint64, 2> steps{0, 0};
    qint64 totalSteps = 0; // of the longer run
};

class TwinWorker;

class TwinSession : public QObject {
    Q_OBJECT
public:
    explicit TwinSession(QObject* parent = nullptr);
    ~TwinSession() override; // cancels and joins

    // Checks the change against the request's network (the engine's rules) without training;
    // empty when it can be made, else why not.
    static QString check(const TrainRequest& r, const QString& key, const QString& value);
    // Trains request `r`'s network (A, from scratch) and its twin (B) into `dirs`.
    void start(const TrainRequest& r, const QString& key, const QString& value,
               const std::array<QString, 2>& dirs);
    void cancel();
    bool busy() const { return m_busy; }
    const std::array<QString, 2>& dirs() const { return m_dirs; }

signals:
    void started(const QString& description); // "batch norm off: 6 batch_norm layers removed"
    void snapshot(const convscope::ui::TwinSnapshot& s);
    // Both stopped: error empty when both trained to the end (or were cancelled: `cancelled`).
    void finished(const QString& error, bool cancelled);

private:
    QThread m_thread;
    TwinWorker* m_worker = nullptr;
    std::shared_ptr<std::atomic<bool>> m_cancel;
    std::array<QString, 2> m_dirs;
    bool m_busy = false;
};

} // namespace convscope::ui

Q_DECLARE_METATYPE(convscope::ui::TwinSnapshot)
