// FiltersView: the Filters tab. The first convolution's filters, live, above the feature maps of
// a chosen test image (every layer's maps and the network's answer).
#pragma once

#include "training_session.h"
#include "view.h"

class QCheckBox;
class QLabel;
class QSpinBox;

namespace convscope::ui {

class FeatureMapView;
class FilterView;

class FiltersView : public View {
    Q_OBJECT
public:
    explicit FiltersView(QWidget* parent = nullptr);
    FilterView* filters() const { return m_filters; }
    // The filters at the start of the run (the first ones seen), beside the current ones when
    // "at start / now" is checked.
    FilterView* startFilters() const { return m_start; }
    QCheckBox* compareBox() const { return m_compare; }
    // The run's first filters are the start; a new run forgets them.
    void setFilters(const QVector<float>& weights, int count, int channels, int h, int w);
    void newRun() { m_haveStart = false; }
    FeatureMapView* featureMaps() const { return m_maps; }
    QSpinBox* probeBox() const { return m_probe; }
    bool exportCsv(const QString& path) override; // the first layer's weights
    QString csvDescription() const override {
        return tr("the first layer's weights, as PyTorch orders them (filter, channel, y, x)");
    }
    void setPresenterMode(bool on) override;

signals:
    void probeChanged(int testImage);

private:
    FilterView *m_filters = nullptr, *m_start = nullptr;
    QCheckBox* m_compare = nullptr;
    QLabel *m_startLabel = nullptr, *m_nowLabel = nullptr;
    bool m_haveStart = false;
    FeatureMapView* m_maps = nullptr;
    QSpinBox* m_probe = nullptr;
};

} // namespace convscope::ui
