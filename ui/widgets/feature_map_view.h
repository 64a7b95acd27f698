// FeatureMapView: what every layer makes of one test image. The image on the left with its true
// class and the network's answer; to the right one row per layer (its name and C×H×W) of the
// channels' maps in grey, black at the layer's smallest value and white at its largest. The
// thumbnails shrink so that every layer fits, as on a projector there is no scrolling.
#pragma once

#include "training_session.h"

#include <QWidget>

namespace convscope::ui {

class FeatureMapView : public QWidget {
    Q_OBJECT
public:
    explicit FeatureMapView(QWidget* parent = nullptr);
    void setProbe(const Probe& probe);
    const Probe& probe() const { return m_probe; }
    QSize sizeHint() const override { return {900, 420}; }

protected:
    void paintEvent(QPaintEvent*) override;

private:
    Probe m_probe;
};

} // namespace convscope::ui
