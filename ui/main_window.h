// MainWindow: the convscope window. This first slice holds the Train view: the network and
// dataset pickers, the optimizer settings, Train / Pause / Step / Stop, the live loss and test
// accuracy chart, images/s, ETA and a progress bar. It talks to the engine only through
// TrainingSession.
#pragma once

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
class QSpinBox;

class QChart;
class QTabWidget;
class QChartView;
class QLineSeries;
class QScatterSeries;
class QValueAxis;
class QLogValueAxis;

namespace convscope::ui {

class BuildView;
class FeatureMapView;
class FilterView;

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
    // Export: the visible tab as PNG or SVG (by the file's suffix), and its numbers as CSV.
    bool exportView(const QString& path);
    bool exportCsv(const QString& path);
    // Presenter mode (F11): larger fonts and thicker lines for a projector, controls hidden.
    void setPresenterMode(bool on);
    bool presenterMode() const { return m_presenter; }
    QAction* presenterAction() const { return m_presenterAction; }
    int gradientPoints() const;
    FilterView* filterView() const { return m_filters; }
    FeatureMapView* featureMapView() const { return m_featureMaps; }
    BuildView* buildView() const { return m_build; }
    QSpinBox* probeBox() const { return m_probeIndex; }
    QComboBox* initBox() const { return m_init; }
    // Reopens a run folder: its network, curves and last filters; false with a message if not.
    bool openRun(const QString& dir);
    // Copies the current run's folder into `parent` (atomically: a partial copy is renamed last).
    bool saveRun(const QString& parent, QString* error);
    // The newest autosaved run folders, newest first (File → Recent runs).
    static QStringList recentRuns(int count);
    int testLossPoints() const;
    int accuracyPoints() const;
    enum Tab { BuildTab, TrainTab, FiltersTab, GradientsTab };
    QTabWidget* tabs() const { return m_tabs; }
    qint64 lastStep() const { return m_lastStep; }
    QString runDir() const { return m_runDir; }

private slots:
    void onTrain();
    void onSnapshot(const convscope::ui::TrainSnapshot& s);
    void onState(bool busy, bool started);
    void showPreset();
    void onExportView();
    void onExportCsv();
    void onSpecChanged(bool valid);
    void onDatasetChanged();
    void updateProbe();
    void updateEditActions();
    void forgetReopenedRun();

private:
    void clearCurves();
    void appendLoss(const QVector<QPointF>& points, qint64 totalSteps);
    void applyPalette();
    QWidget* buildControls();
    QWidget* buildChart();
    QWidget* buildGradientChart();
    TrainRequest request() const;

    TrainingSession m_session;
    QComboBox *m_preset = nullptr, *m_dataset = nullptr, *m_backend = nullptr,
              *m_optimizer = nullptr, *m_init = nullptr;
    QLineEdit* m_dataDir = nullptr;
    QWidget* m_dataDirRow = nullptr;
    BuildView* m_build = nullptr;
    FeatureMapView* m_featureMaps = nullptr;
    QSpinBox* m_probeIndex = nullptr;
    QScatterSeries* m_testLoss = nullptr;
    QDoubleSpinBox* m_lr = nullptr;
    QSpinBox *m_batch = nullptr, *m_epochs = nullptr, *m_seed = nullptr;
    QLabel* m_summary = nullptr;
    QAction* m_presenterAction = nullptr;
    QDockWidget* m_dock = nullptr;
    bool m_presenter = false;
    QFont m_normalFont;
    QAction *m_undo = nullptr, *m_redo = nullptr, *m_openNetwork = nullptr;
    QAction *m_train = nullptr, *m_pause = nullptr, *m_step = nullptr, *m_stop = nullptr;
    QProgressBar* m_progress = nullptr;
    QLabel *m_speed = nullptr, *m_statusLine = nullptr;
    QChart* m_chart = nullptr;
    QTabWidget* m_tabs = nullptr;
    QLineSeries* m_gradients = nullptr;
    QValueAxis* m_gradX = nullptr;
    QLogValueAxis* m_gradY = nullptr;
    QStringList m_layerNames;
    FilterView* m_filters = nullptr;
    QLineSeries *m_loss = nullptr, *m_smoothed = nullptr, *m_accuracy = nullptr;
    QValueAxis *m_x = nullptr, *m_yLoss = nullptr, *m_yAcc = nullptr;
    double m_smooth = 0, m_maxLoss = 1; // m_smooth: the moving average before bias correction
    int m_smoothCount = 0;
    qint64 m_lastStep = 0;
    QString m_runDir;
    QString m_reopened;         // a run opened from disk that Train continues
    QJsonObject m_reopenedSpec; // its network: editing it makes Train start afresh
};

} // namespace convscope::ui
