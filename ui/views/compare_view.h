// CompareView: the Compare tab. Two to four runs on one scale — overlaid (one chart per
// measure, a colour per run) or side by side (a column per run, the same axes) — the training
// loss per step, test loss and train/test accuracy per epoch, the per-layer gradient norms of the
// last epoch (the vanishing-gradient chart for every run), the first-layer filters, and the
// Landscape tab's surfaces when it has computed them. Runs come from the run library (File →
// Recent runs, or any run folder) or from a twin trained here ("Compare with…": the current
// network and one change, trained beside it with the same seed, initial weights and data order).
#pragma once

#include "analysis_types.h"
#include "training_session.h"
#include "view.h"

#include <QColor>
#include <QVector>

class QChart;
class QChartView;
class QComboBox;
class QGridLayout;
class QLabel;
class QListWidget;
class QPushButton;
class QToolButton;
class QVBoxLayout;

namespace convscope::ui {

class ContourMap;
class FilterView;

class CompareView : public View {
    Q_OBJECT
public:
    static constexpr int kMaxRuns = 4;
    explicit CompareView(QWidget* parent = nullptr);

    // Adds a run folder (read with TrainingSession::openRun); false with the reason in `error`
    // when it cannot be read or four runs are shown already. A run shown already is reloaded.
    bool addRun(const QString& dir, QString* error = nullptr);
    // A run as read already (a twin growing live: call it again with more points).
    bool setRun(const RunRecord& run, QString* error = nullptr);
    // Several at once, one redraw (a twin pair's snapshot).
    void setRuns(const QVector<RunRecord>& runs);
    // While a twin pair trains, "Compare with…" becomes "Stop the twins".
    void setTwinRunning(bool on);
    QPushButton* twinButton() const { return m_twin; }
    void removeRun(int index);
    void clearRuns();
    int runCount() const { return m_runs.size(); }
    const RunRecord& run(int index) const { return m_runs[index].record; }
    QString runLabel(int index) const { return m_runs[index].label; }
    QColor runColour(int index) const { return m_runs[index].colour; }

    enum class Layout { Overlaid, SideBySide };
    void setLayout(Layout l);
    Layout layoutMode() const { return m_layout; }
    // The charts, for tests: each holds one series per run and measure.
    QChart* lossChart() const;
    QChart* accuracyChart() const;
    QChart* gradientChart() const { return m_gradChart; }
    int filterPanels() const;
    int surfacePanels() const;
    // The line in words under the charts: final test accuracy per run and their difference.
    QString summary() const;

    // The Landscape tab's surfaces (the model's and its twin's) shown at the bottom.
    void setSurfaces(const LandscapeResult& r);
    // The runs the window offers in "Add run" (File → Recent runs).
    void setRecentRunsProvider(std::function<QStringList()> recent) {
        m_recent = std::move(recent);
    }
    // The current run's folder, for "Add the current run" (empty: none yet).
    void setCurrentRun(const QString& dir) { m_currentRun = dir; }

    bool exportCsv(const QString& path) override;
    QString csvDescription() const override {
        return tr("every run's curves (loss per step, per epoch train and test loss and accuracy) "
                  "and last-epoch gradient norms per layer");
    }
    void setPresenterMode(bool on) override;
    // The runs, the summary, the charts and the panels, whole (the tab may be scrolled).
    bool exportPicture(const QString& path, double scale = 2.0) override;

    // The keys "Compare with…" offers and the values it suggests for each.
    static QStringList twinKeys();
    static QStringList twinValues(const QString& key);
    static QString twinKeyLabel(const QString& key);

signals:
    // "Compare with…": train the current network and its twin differing in `key`=`value`.
    void twinRequested(const QString& key, const QString& value);
    void twinCancelled();
    void message(const QString& text);

private:
    struct Entry {
        RunRecord record;
        QString label;
        QColor colour;
    };
    void rebuild();
    void updateInPlace(); // (not View::refresh(), which a first show calls)
    QString shapeKey() const;
    QString gradientKey() const;
    void rebuildList();
    QChart* newChart(const QString& title) const;
    void fillLoss(QChart* chart, const QVector<int>& runs) const;
    void fillAccuracy(QChart* chart, const QVector<int>& runs) const;
    void fillGradients();
    void fillFilters();
    void askTwin();
    void showAddMenu();
    static QString labelOf(const RunRecord& r);
    // labelOf(), and the folder's name too when another run (not `index`) has the same label.
    QString uniqueLabel(const RunRecord& run, int index) const;

    QVector<Entry> m_runs;
    QVector<QColor> m_palette;
    Layout m_layout = Layout::Overlaid;
    QListWidget* m_list = nullptr;
    QToolButton* m_add = nullptr;
    QPushButton *m_remove = nullptr, *m_twin = nullptr;
    QComboBox* m_layoutBox = nullptr;
    QWidget* m_curves = nullptr; // the loss and accuracy charts, rebuilt per layout
    QGridLayout* m_curvesGrid = nullptr;
    QVector<QChartView*> m_curveViews;
    QChart* m_gradChart = nullptr;
    QChartView* m_gradView = nullptr;
    QWidget* m_content = nullptr; // what the scroll area holds
    QWidget* m_scroll = nullptr;
    QWidget* m_filters = nullptr;
    QGridLayout* m_filtersGrid = nullptr;
    QVector<FilterView*> m_filterViews;
    QWidget* m_surfaces = nullptr;
    QGridLayout* m_surfacesGrid = nullptr;
    QVector<ContourMap*> m_surfaceMaps;
    QLabel* m_summary = nullptr;
    QLabel* m_hint = nullptr;
    std::function<QStringList()> m_recent;
    QString m_currentRun;
    bool m_twinRunning = false;
    bool m_batching = false;  // setRuns(): no redraw per run
    QString m_shape;          // shapeKey() of the widgets made last
    QString m_gradientsShown; // gradientKey() of the gradient chart's series
};

} // namespace convscope::ui
