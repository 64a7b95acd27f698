// FiltersView: the Filters tab. The first convolution's filters, live, each beside its fitted
// Gabor function with R² and the null R²; beside them the orientations of the Gabor-like filters
// (a rose) and the Gabor-like fraction over training steps (a chart); below, the feature maps of
// a chosen test image (every layer's maps and the network's answer). The fits run on their own
// thread (GaborFitter), never in the event loop.
#pragma once

#include "gabor_fitter.h"
#include "training_session.h"
#include "view.h"

#include <QPointF>

class QChart;
class QSplitter;
class QCheckBox;
class QLabel;
class QLineSeries;
class QSpinBox;
class QValueAxis;

namespace convscope::ui {

class FeatureMapView;
class FilterView;
class OrientationRose;

class FiltersView : public View {
    Q_OBJECT
public:
    explicit FiltersView(QWidget* parent = nullptr);
    FilterView* filters() const { return m_filters; }
    // The filters at the start of the run (the first ones seen), beside the current ones when
    // "at start / now" is checked.
    FilterView* startFilters() const { return m_start; }
    QCheckBox* compareBox() const { return m_compare; }
    // The run's first filters are the start; a new run forgets them. `step`: the training step
    // the weights are from; it puts a point on the Gabor chart once they are fitted (-1: unknown,
    // e.g. a reopened run's last filters: fitted and shown, no point).
    void setFilters(const QVector<float>& weights, int count, int channels, int h, int w,
                    qint64 step = -1);
    // A new run: forgets the start filters, the fits and the Gabor chart.
    void newRun();
    FeatureMapView* featureMaps() const { return m_maps; }
    QSpinBox* probeBox() const { return m_probe; }

    // The Gabor fits.
    QCheckBox* fitsBox() const { return m_fitsBox; } // "Fits": off shows the raw filters only
    const GaborFits& fits() const;                   // the latest fits shown (step -1: unknown)
    int fitsDone() const { return m_fitter.fitsDone(); }
    OrientationRose* rose() const { return m_rose; }
    QWidget* gaborPanel() const { return m_gaborPanel; } // the rose and the chart
    // The chart's Gabor-like fraction per step (one point per fitted step).
    QVector<QPointF> fractionPoints() const;

    bool exportCsv(const QString& path) override; // the weights; the fits beside (fitsCsvPath)
    QString csvDescription() const override {
        return tr("the first layer's weights, as PyTorch orders them (filter, channel, y, x); "
                  "beside them NAME-gabor.csv: each filter's Gabor fit (R², null R², θ, λ, σ, "
                  "φ, γ) and the Gabor-like fraction per step");
    }
    // Where exportCsv(path) writes the fits: "filters.csv" → "filters-gabor.csv".
    static QString fitsCsvPath(const QString& path);
    void setPresenterMode(bool on) override;

signals:
    void probeChanged(int testImage);

protected:
    void resizeEvent(QResizeEvent* e) override;
    void showEvent(QShowEvent* e) override;

private:
    void applySplit();
    void showFits(const GaborFits& fits);
    void applyChartPalette();

    FilterView *m_filters = nullptr, *m_start = nullptr;
    QCheckBox *m_compare = nullptr, *m_fitsBox = nullptr;
    QLabel *m_startLabel = nullptr, *m_nowLabel = nullptr, *m_rule = nullptr;
    bool m_haveStart = false;
    FeatureMapView* m_maps = nullptr;
    QSpinBox* m_probe = nullptr;
    QWidget* m_gaborPanel = nullptr;
    OrientationRose* m_rose = nullptr;
    QSplitter* m_split = nullptr;
    bool m_splitPending = false; // presenter mode changed: the split follows at the next resize
    QChart* m_chart = nullptr;
    QLineSeries *m_fraction = nullptr, *m_medianR2 = nullptr, *m_medianNull = nullptr;
    QValueAxis* m_x = nullptr;
    GaborFitter m_fitter; // last: its thread stops before the widgets go
};

} // namespace convscope::ui
