// ContourMap: a loss surface seen from above, as Li et al. draw it — the loss on a sequential
// colour scale of log(loss), labelled contour lines (the engine's), the training trajectory with
// its checkpoints marked, θ* as a cross, α and β axes and a colour bar. Works without OpenGL:
// the Landscape tab's fallback for the 3-D view, and the picture it exports.
#pragma once

#include "analysis_types.h"
#include <QWidget>

namespace convscope::ui {

class ContourMap : public QWidget {
    Q_OBJECT
public:
    explicit ContourMap(QWidget* parent = nullptr);
    void setSurface(const LandscapeSurface& s);
    // The colour scale's range (twins share one); lo > hi (the default): the surface's own.
    void setRange(double lo, double hi);
    const LandscapeSurface& surface() const { return m_s; }
    // The time scrubber's step: a ring on the trajectory's snapshot nearest to it (-1: none).
    void setMarkedStep(qint64 step);
    // The path index the ring is on (-1: none drawn).
    int markedPoint() const;
    // The surface's finite loss range.
    static std::pair<double, double> lossRange(const LandscapeSurface& s);
    QSize sizeHint() const override { return {420, 380}; }
    QSize minimumSizeHint() const override { return {220, 200}; }

protected:
    void paintEvent(QPaintEvent*) override;
    void mouseMoveEvent(QMouseEvent* e) override;

private:
    QRectF plotRect() const;
    LandscapeSurface m_s;
    double m_lo = 1, m_hi = 0;
    qint64 m_marked = -1;
};

} // namespace convscope::ui
