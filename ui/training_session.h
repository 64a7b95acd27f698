// TrainingSession: the one door between the widgets and the engine. The engine runs on a worker
// thread that owns the backend and the trainer; the session sends it requests (start, pause,
// step, stop) and receives immutable snapshots through queued signals, at most ~30 per second.
// Widgets see only the plain Qt types declared here, never engine types.
#pragma once

#include "analysis_types.h"

#include <QObject>
#include <QPointF>
#include <QString>
#include <QStringList>
#include <QThread>
#include <QVector>
#include <atomic>
#include <functional>
#include <memory>

namespace convscope::ui {

struct TrainRequest {
    QString preset = "lenet5";         // used when `spec` is empty
    QByteArray spec;                   // NetSpec JSON (the Build view's network)
    QString resumeDir;                 // continue this run folder from its last checkpoint
    int resumeEpochs = 0;              // the epochs that run was planned for (0: unknown)
    QString dataset = "fashion-mnist"; // or gratings, blobs, cifar10, folder
    QString dataDir;
    QString backend = "auto";
    QString optimizer = "momentum";
    double lr = 0.02;
    double weightDecay = 0; // L2 (decoupled for adamw)
    int batch = 64;
    int epochs = 1;
    quint64 seed = 1;
    // Mid-epoch autosave (a checkpoint, metrics.csv) every this many seconds while training,
    // besides every epoch end; 0: epoch ends only. Stretched when a save is slow, so saving
    // never takes more than 2% of the training time.
    double autosaveSeconds = 60;
    // Pause when the run reaches this step, or the end of this epoch (0: train every epoch): a
    // lesson's "train to epoch 2" stops exactly at the epoch's end, the same step every time.
    qint64 stopAtStep = 0;
    int stopAtEpoch = 0;
};

// One channel-stacked feature map of a layer for one test image: (channels, h, w).
struct FeatureMap {
    QString layer;    // "relu1"
    int channels = 0; // the channels in `values` (at most 32)
    int h = 0, w = 0;
    int allChannels = 0; // the layer's channels
    QVector<float> values;
};

// What the feature-map view shows for one test image: the image, every layer's maps and the
// network's answer.
struct Probe {
    int index = -1;       // the test image
    int label = -1;       // its true class
    QVector<float> image; // (channels, h, w), normalised as the network sees it
    int imageChannels = 0, imageH = 0, imageW = 0;
    QVector<FeatureMap> maps;
    QVector<double> probabilities; // softmax of the logits, one per class
    QStringList classNames;
};

// One row of the layer table of a network being edited (analysis of a NetSpec).
struct SpecRow {
    QString path, type, output, detail; // output empty when not computed (after an error)
    qint64 params = 0, flops = 0;
    int depth = 0;
    QString rf;    // the theoretical receptive field: "7", "5x7" or "all"
    QString rfTip; // its jump and centre, for the tooltip
};

// A NetSpec checked by the engine: parsed at all, shape inference as far as it got, the error
// (by layer) and the row of the layer it names.
struct SpecCheck {
    bool parsed = false, ok = false;
    QString error; // empty when ok
    int errorRow = -1;
    QVector<SpecRow> rows;
    qint64 params = 0, flops = 0;
    QString input, output; // output: when ok
};

// A run reopened from its folder: its network, curves and last filters.
struct RunRecord {
    QString error; // empty when it could be read
    QString dir, dataset;
    QByteArray spec;
    QVector<QPointF> loss, testAccuracy, testLoss;
    QVector<QPointF> trainLoss, trainAccuracy; // per epoch: the means over its steps
    // The last epoch's per-layer norms (layers.csv), input to output.
    QStringList layerNames, layerTypes; // types: "conv2d", "batch_norm", … ("" unknown)
    QVector<double> gradientNorms, weightNorms;
    // A twin trained beside another (twin.json): what differs ("bn=off"; empty for the pair's
    // first run, the network as it was) and the other run.
    QString twinChange, twinOf;
    QVector<float> filters;
    int filterCount = 0, filterChannels = 0, filterH = 0, filterW = 0;
    qint64 steps = 0;
    bool hasCheckpoint = false; // so it can continue
    // How it was trained (from the checkpoint; empty or 0 for checkpoints that predate this).
    QString optimizer;
    double lr = 0, weightDecay = -1; // −1: not recorded (runs from before it was)
    int batch = 0, epochs = 0;
    qint64 seed = -1;
};

// What the views draw; copied across threads, never shared.
struct TrainSnapshot {
    qint64 step = 0, stepsPerEpoch = 0, totalSteps = 0;
    int epoch = 0;
    QVector<QPointF> loss;          // (step, loss) since the last snapshot
    QVector<QPointF> testAccuracy;  // (step, accuracy) of epochs finished since the last one
    QVector<QPointF> trainAccuracy; // (step, mean accuracy of the epoch's batches) likewise
    QVector<double> lrs;            // the learning rate of each step in `loss`
    QVector<QPointF> testLoss;      // (step, loss) likewise
    double imagesPerSecond = 0, lr = 0;
    // The first convolution's weights (count, channels, h, w), a few times a second; empty
    // when this snapshot carries none.
    QVector<float> filters;
    int filterCount = 0, filterChannels = 0, filterH = 0, filterW = 0;
    // Per learnable layer, input to output, about once a second; empty when not in this one.
    QStringList layerNames;
    QStringList layerTypes; // "conv2d", "linear", "batch_norm", "layer_norm", per layer
    QVector<double> gradientNorms;
    QString status;
    QString runDir; // where this run autosaves (spec.json, metrics.csv, checkpoints/)
    Probe probe;    // feature maps of the chosen test image; index -1 when not in this one
    ConfusionResult confusion; // the test set's, after an epoch; classes 0 when not in this one
    // The time scrubber: the steps whose weights are kept (the landscape trajectory's ring),
    // when they changed (empty otherwise); and, when rewindChanged, the step the filters and
    // feature maps show (-1: live).
    QVector<qint64> keptSteps;
    qint64 rewoundTo = -1;
    bool rewindChanged = false;
};

class TrainingWorker;
class AnalysisEngine;
} // namespace convscope::ui
namespace convscope {
class Progress;
}
namespace convscope::ui {

class TrainingSession : public QObject {
    Q_OBJECT
public:
    explicit TrainingSession(QObject* parent = nullptr);
    ~TrainingSession() override; // stops training and joins the thread

    static QStringList presets();
    static QStringList datasets();
    static QByteArray presetJson(const QString& preset); // empty for an unknown name
    static SpecCheck checkSpec(const QByteArray& json);
    // The (channels, height, width) of a dataset's images, without loading it; empty when it
    // depends on files not yet read.
    static QVector<int> datasetInput(const QString& dataset);
    // What training `spec` on `dataset` at `batch` would allocate (parameters, gradients,
    // activations, optimizer state, the dataset), planned without allocating, and the host
    // memory available now; need is -1 when it cannot be known before loading (a folder, a
    // network with an error).
    struct MemoryCheck {
        qint64 need = -1, available = 0;
        bool fits() const { return need < 0 || available <= 0 || need <= available; }
    };
    static MemoryCheck checkMemory(const QByteArray& spec, const QString& dataset, int batch);
    // File → Export network as ONNX: the run's last checkpoint as an ONNX model (opset 13);
    // `summary` says what was written ("12 nodes, 61,706 parameters, 247 KB"). False with the
    // reason in `error`; nothing is written then.
    static bool exportOnnx(const QString& run, const QString& path, QString* summary,
                           QString* error);
    // Reads a run folder written by the GUI or `convscope-cli train --out`.
    static RunRecord openRun(const QString& dir);
    // The feature-map view wants test image `index` (-1: none wanted). While training it is
    // refreshed about once a second; when idle at once.
    void setProbe(int index);

    bool busy() const { return m_busy; }
    bool started() const { return m_started; }

    // Analysis jobs run on the engine thread, one at a time, in the order asked; training
    // pauses for them and resumes after. They analyse the live network (its weights at the
    // step reached) or, after analyseRun(), a run's last checkpoint. Saliency and attack
    // requests are coalesced: while one runs, only the newest waiting one is kept (a slider
    // drag asks many times).
    void requestSaliency(const convscope::ui::SaliencyRequest& r);
    void requestAttack(const convscope::ui::AttackRequest& r);
    void requestCurve(const convscope::ui::CurveRequest& r);
    void requestConfusion(int count = 0, double eps = 0, int pgdSteps = 0);
    void requestTestSet();
    void requestLandscape(const convscope::ui::LandscapeRequest& r);
    // Coalesced like saliency: clicking units quickly asks for the newest only.
    void requestFields(const convscope::ui::FieldRequest& r);
    void analyseRun(const QString& dir, const QString& dataDir = {});
    void cancelJob(); // the running job stops between batches; waiting ones are dropped
    bool jobRunning() const { return m_jobs > 0; }

public slots:
    void start(const convscope::ui::TrainRequest& request); // builds everything, then trains
    void resume();                                          // after pause()
    void step();                                            // one step, then pause
    // Trains the started run until it reaches `step` (or the end of `epoch` when > 0), then
    // pauses; stateChanged(false, true) says when.
    void runTo(qint64 step, int epoch = 0);
    // The time scrubber: every view shows the network as it was at kept step `step` (training
    // pauses); goLive() returns to the weights trained so far, as does training on.
    void rewind(qint64 step);
    void goLive();
    void pause(); // stops after the steps in flight
    void stop();  // pause and forget the model

signals:
    void snapshot(const convscope::ui::TrainSnapshot& s);
    void stateChanged(bool busy, bool started);
    void message(const QString& text); // status lines: backend chosen, errors with their hints
    void failed(const QString& error);
    void saliencyReady(const convscope::ui::SaliencyResult& r);
    void attackReady(const convscope::ui::AttackResult& r);
    void curvePoint(const convscope::ui::CurvePoint& p);
    void curveFinished(const QString& error); // empty: complete
    void confusionReady(const convscope::ui::ConfusionResult& r);
    void testSetReady(const convscope::ui::TestSet& t);
    void landscapeUpdated(const convscope::ui::LandscapeResult& r); // rows as they come, then done
    void fieldsReady(const convscope::ui::FieldResult& r);
    // A run stopped: complete (all its epochs), or paused/stopped/failed; its folder.
    void runFinished(bool complete, const QString& runDir);
    void analysisModelChanged(); // a new network or run to analyse: views ask again
    void jobProgress(double fraction, const QString& job);
    void jobStateChanged(bool running, const QString& job);

private:
    void setState(bool busy, bool started);
    void trainMore(const char* slot);
    // Runs `job` on the worker (pausing training first); `name` is shown in the status bar.
    void post(const QString& name, std::function<void(TrainingWorker*)> job);
    void onJobDone();
    QThread m_thread;
    TrainingWorker* m_worker = nullptr; // lives in m_thread
    std::shared_ptr<std::atomic<bool>> m_cancel;
    std::shared_ptr<std::atomic<int>> m_probe; // the test image the feature-map view shows
    bool m_busy = false, m_started = false;
    QString m_runDir;                // the run being trained (from its snapshots)
    std::shared_ptr<Progress> m_job; // the running job's progress and cancel flag
    int m_jobs = 0;                  // posted and not finished
    bool m_resumeAfterJobs = false;  // training was paused for them
    // Jobs a slider or clicks ask for many times: one runs, the newest waiting one is kept.
    template <class Request>
    struct Coalesced {
        bool inFlight = false;
        std::unique_ptr<Request> pending;
    };
    template <class Request, class Result>
    void postCoalesced(Coalesced<Request>& slot, const Request& r, QString (*name)(const Request&),
                       Result (AnalysisEngine::*job)(const Request&, Progress*),
                       void (TrainingSession::*ready)(const Result&));
    Coalesced<SaliencyRequest> m_saliencyJobs;
    Coalesced<AttackRequest> m_attackJobs;
    Coalesced<FieldRequest> m_fieldJobs;
};

} // namespace convscope::ui

Q_DECLARE_METATYPE(convscope::ui::TrainRequest)
Q_DECLARE_METATYPE(convscope::ui::TrainSnapshot)
