// MainWindow: the convscope window. Menus and shortcuts, the Train / Pause / Step / Stop toolbar,
// the dock of network and training settings, the status bar (progress, speed, ETA, and the
// running analysis job with its Cancel), runs (open, continue, save) and presenter mode. Each
// tab is a view of ui/views/ that owns its widgets and its export. It talks to the engine only
// through TrainingSession.
#pragma once

#include <array>
#include <functional>

#include "training_session.h"

#include <QFont>
#include <QJsonObject>
#include <QMainWindow>

class QAction;
class QComboBox;
class QDockWidget;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;
class QSlider;
class QSpinBox;
class QTimer;

class QTabWidget;
class QToolButton;

namespace convscope::ui {

class BuildView;
class CompareView;
class LessonPlayer;
class TwinSession;
struct TwinSnapshot;
class FeatureMapView;
class FilterView;
class FiltersView;
class GradientsView;
class LandscapeView;
class ReceptiveFieldView;
class SaliencyView;
class TrainView;
class DatasetFetcher;

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(QWidget* parent = nullptr);
    ~MainWindow() override; // the undo stack dies after the actions it updates

    // For tests and scripts: the controls and what the chart holds.
    TrainingSession& session() { return m_session; }
    QComboBox* presetBox() const { return m_preset; }
    QComboBox* datasetBox() const { return m_dataset; }
    QAction* trainAction() const { return m_train; }
    QAction* pauseAction() const { return m_pause; }
    QAction* stepAction() const { return m_step; }
    int lossPoints() const;
    // Export: the visible tab as PNG (at twice the screen's resolution) or SVG (by the file's
    // suffix), and its numbers as CSV.
    bool exportView(const QString& path);
    bool exportCsv(const QString& path);
    int exportRequests() const { return m_exportRequests; } // Ctrl+E / Ctrl+Shift+E presses
    // Presenter mode (F11): larger fonts and thicker lines for a projector, controls hidden.
    void setPresenterMode(bool on);
    bool presenterMode() const { return m_presenter; }
    QAction* presenterAction() const { return m_presenterAction; }
    QAction* showControlsAction() const { return m_showControls; }
    int gradientPoints() const;
    FilterView* filterView() const;
    FeatureMapView* featureMapView() const;
    BuildView* buildView() const { return m_build; }
    TrainView* trainView() const { return m_trainView; }
    SaliencyView* saliencyView() const { return m_saliency; }
    LandscapeView* landscapeView() const { return m_landscape; }
    ReceptiveFieldView* fieldView() const { return m_fieldView; }
    QSpinBox* probeBox() const;
    QComboBox* initBox() const { return m_init; }
    // File → Get CIFAR-10…: downloads (resumably, verified) and unpacks it into the data folder
    // with a progress dialog, then selects it. `url`, `bytes`, `md5`: another archive (tests).
    void getCifar10(const QString& url = {}, qint64 bytes = -1, const QString& md5 = {});
    DatasetFetcher* fetcher() const { return m_fetcher; }
    // After a divergence (the dialog's Retry): a tenth of the learning rate, and training again —
    // from the run's last checkpoint when it has one (Continue), else from the start.
    void retryWithLowerRate();
    // After the GPU was lost (the dialog's Continue on the CPU): the same run on the CPU
    // backend, from its last checkpoint (else from the start).
    void continueOnCpu();
    QLineEdit* dataDirEdit() const { return m_dataDir; }
    QLabel* statusLine() const { return m_statusLine; }
    // Reopens a run folder: its network, curves and last filters; false with a message if not.
    bool openRun(const QString& dir);
    // Copies the current run's folder into `parent` (atomically: a partial copy is renamed last).
    bool saveRun(const QString& parent, QString* error);
    // The newest autosaved run folders, newest first (File → Recent runs).
    static QStringList recentRuns(int count);
    // Where every run autosaves: <AppDataLocation>/runs.
    static QString runsDir();
    // Mid-epoch autosave interval of the runs this window trains (TrainRequest; 0: epoch ends).
    void setAutosaveSeconds(double seconds) { m_autosaveSeconds = seconds; }
    // Crash recovery: runs whose training process was killed (their training.pid names a process
    // that is gone), newest first; offerRecovery() asks about the newest at start-up and
    // recoverRun() reopens one at its last autosave (Continue trains on).
    QStringList interruptedRuns() const;
    void offerRecovery();
    bool recoverRun(const QString& dir);
    int testLossPoints() const;
    int accuracyPoints() const;
    enum Tab {
        BuildTab,
        TrainTab,
        FiltersTab,
        GradientsTab,
        SaliencyTab,
        LandscapeTab,
        FieldTab,
        CompareTab
    };
    CompareView* compareView() const { return m_compare; }
    // Compare with…: the current network and its twin differing in `key`=`value`, trained
    // interleaved (same seed, initial weights where shapes agree, data order) into two run
    // folders, growing live in the Compare tab.
    void trainTwin(const QString& key, const QString& value);
    TwinSession* twinSession() const { return m_twins; }
    // File → Open lesson (and convscope --lesson FILE): sets up the lesson's network, dataset
    // and settings from fresh weights and shows the player; false with the reason in the status
    // line (and a dialog unless `quiet`: the command line prints it) when the file is not a
    // lesson this window can play.
    bool openLesson(const QString& path, bool quiet = false);
    LessonPlayer* lessonPlayer() const { return m_player; }
    QSlider* scrubber() const { return m_scrubSlider; }
    qint64 rewoundTo() const { return m_rewoundTo; } // -1: live

signals:
    void twinsFinished(const QString& error); // the twin pair stopped (tests)

public:
    QTabWidget* tabs() const { return m_tabs; }
    qint64 lastStep() const { return m_lastStep; }
    QString runDir() const { return m_runDir; }

protected:
    bool eventFilter(QObject* watched, QEvent* e) override;

private slots:
    void onTrain();
    void onSnapshot(const convscope::ui::TrainSnapshot& s);
    void onState(bool busy, bool started);
    void showPreset();
    void syncPresetBox();
    void onExportView();
    void onExportCsv();
    void onSpecChanged(bool valid);
    void onDatasetChanged();
    void updateProbe();
    void updateEditActions();
    void forgetReopenedRun();

private:
    QWidget* buildControls();
    // Reopens the run at its last checkpoint (when it has one), applies `change` and trains.
    void continueFromLastCheckpoint(const std::function<void()>& change, const QString& how);
    void buildJobStatus();
    TrainRequest request() const;

    TrainingSession m_session;
    QComboBox *m_preset = nullptr, *m_dataset = nullptr, *m_backend = nullptr,
              *m_optimizer = nullptr, *m_init = nullptr;
    QLineEdit* m_dataDir = nullptr;
    QWidget* m_dataDirRow = nullptr;
    BuildView* m_build = nullptr;
    CompareView* m_compare = nullptr;
    TwinSession* m_twins = nullptr;
    LessonPlayer* m_player = nullptr;
    // The time scrubber under the lesson bar: a slider over the kept weight snapshots.
    QWidget* buildScrubber();
    void setKeptSteps(const QVector<qint64>& steps);
    void forgetKeptSteps();
    void showRewound(qint64 step);
    QWidget* m_scrubber = nullptr;
    QSlider* m_scrubSlider = nullptr;
    QLabel* m_scrubLabel = nullptr;
    QPushButton* m_live = nullptr;
    QTimer* m_scrubTimer = nullptr;
    QVector<qint64> m_keptSteps;
    qint64 m_rewoundTo = -1;
    qint64 m_stopAtStep = 0; // the next Train stops there (a lesson's step)
    int m_stopAtEpoch = 0;
    void playLessonStep(int index, bool replay);
    std::array<RunRecord, 2> m_twinRuns; // the twin pair as it grows
    void onTwinSnapshot(const convscope::ui::TwinSnapshot& s);
    TrainView* m_trainView = nullptr;
    FiltersView* m_filtersView = nullptr;
    GradientsView* m_gradientsView = nullptr;
    SaliencyView* m_saliency = nullptr;
    LandscapeView* m_landscape = nullptr;
    ReceptiveFieldView* m_fieldView = nullptr;
    QDoubleSpinBox *m_lr = nullptr, *m_weightDecay = nullptr;
    DatasetFetcher* m_fetcher = nullptr;
    QSpinBox *m_batch = nullptr, *m_epochs = nullptr, *m_seed = nullptr;
    QLabel* m_summary = nullptr;
    QAction* m_presenterAction = nullptr;
    QDockWidget* m_dock = nullptr;
    bool m_presenter = false;
    QFont m_normalFont;
    QAction *m_undo = nullptr, *m_redo = nullptr, *m_openNetwork = nullptr;
    QAction *m_train = nullptr, *m_pause = nullptr, *m_step = nullptr, *m_stop = nullptr;
    QProgressBar *m_progress = nullptr, *m_jobProgress = nullptr;
    QLabel *m_speed = nullptr, *m_statusLine = nullptr, *m_jobLabel = nullptr,
           *m_accuracy = nullptr;
    QToolButton* m_jobCancel = nullptr;
    QAction *m_leavePresenter = nullptr, *m_showControls = nullptr;
    bool m_wasMaximized = false;
    QString m_exportDir; // where the last export went
    int m_exportRequests = 0;
    QTabWidget* m_tabs = nullptr;
    qint64 m_lastStep = 0;
    QString m_runDir;
    double m_autosaveSeconds = 60;
    TrainingSession::MemoryCheck m_memory; // the Build view's network at the batch size set
    QString m_reopened;                    // a run opened from disk that Train continues
    QJsonObject m_reopenedSpec;            // its network: editing it makes Train start afresh
    int m_reopenedEpochs = 0;              // the epochs it was planned for (the learning-rate rule)
};

} // namespace convscope::ui
