// TrainingSession: the one door between the widgets and the engine. The engine runs on a worker
// thread that owns the backend and the trainer; the session sends it requests (start, pause,
// step, stop) and receives immutable snapshots through queued signals, at most ~30 per second.
// Widgets see only the plain Qt types declared here, never engine types.
#pragma once

#include <QObject>
#include <QPointF>
#include <QString>
#include <QStringList>
#include <QThread>
#include <QVector>
#include <atomic>
#include <memory>

namespace convscope::ui {

struct TrainRequest {
    QString preset = "lenet5";
    QString dataset = "fashion-mnist"; // or gratings, blobs, cifar10, folder
    QString dataDir;
    QString backend = "auto";
    QString optimizer = "momentum";
    double lr = 0.02;
    int batch = 64;
    int epochs = 1;
    quint64 seed = 1;
};

// What the views draw; copied across threads, never shared.
struct TrainSnapshot {
    qint64 step = 0, stepsPerEpoch = 0, totalSteps = 0;
    int epoch = 0;
    QVector<QPointF> loss;         // (step, loss) since the last snapshot
    QVector<QPointF> testAccuracy; // (step, accuracy) of epochs finished since the last one
    double imagesPerSecond = 0, lr = 0;
    // The first convolution's weights (count, channels, h, w), a few times a second; empty
    // when this snapshot carries none.
    QVector<float> filters;
    int filterCount = 0, filterChannels = 0, filterH = 0, filterW = 0;
    // Per learnable layer, input to output, about once a second; empty when not in this one.
    QStringList layerNames;
    QVector<double> gradientNorms;
    QString status;
    QString runDir; // where this run autosaves (spec.json, metrics.csv, checkpoints/)
};

class TrainingWorker;

class TrainingSession : public QObject {
    Q_OBJECT
public:
    explicit TrainingSession(QObject* parent = nullptr);
    ~TrainingSession() override; // stops training and joins the thread

    static QStringList presets();
    static QStringList datasets();
    // One line per layer: "conv1  conv2d  6x28x28  156 params", or the named error.
    static QString describePreset(const QString& preset, bool* ok = nullptr);

    bool busy() const { return m_busy; }
    bool started() const { return m_started; }

public slots:
    void start(const convscope::ui::TrainRequest& request); // builds everything, then trains
    void resume();                                          // after pause()
    void step();                                            // one step, then pause
    void pause();                                           // stops after the steps in flight
    void stop();                                            // pause and forget the model

signals:
    void snapshot(const convscope::ui::TrainSnapshot& s);
    void stateChanged(bool busy, bool started);
    void message(const QString& text); // status lines: backend chosen, errors with their hints
    void failed(const QString& error);

private:
    void setState(bool busy, bool started);
    QThread m_thread;
    TrainingWorker* m_worker = nullptr; // lives in m_thread
    std::shared_ptr<std::atomic<bool>> m_cancel;
    bool m_busy = false, m_started = false;
};

} // namespace convscope::ui

Q_DECLARE_METATYPE(convscope::ui::TrainRequest)
Q_DECLARE_METATYPE(convscope::ui::TrainSnapshot)
