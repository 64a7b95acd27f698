// Surface3D: a loss surface the room can turn (Qt DataVisualization's Q3DSurface in a window
// container): drag to rotate, wheel to zoom, the loss on a colour gradient, optionally on a log
// axis. Q3DSurface needs OpenGL; under QT_QPA_PLATFORM=offscreen it crashes, so create one only
// when available() says so (design.md), and fall back to ContourMap otherwise.
#pragma once

#include "analysis_types.h"
#include <QWidget>

class Q3DSurface;
class QSurface3DSeries;

namespace convscope::ui {

class Surface3D : public QWidget {
    Q_OBJECT
public:
    // Whether an OpenGL context can be made on this platform (never on "offscreen").
    static bool available();
    explicit Surface3D(QWidget* parent = nullptr);
    ~Surface3D() override;
    void setSurface(const LandscapeSurface& s);
    void setLogScale(bool on);
    // The loss axis' range (twins share one); lo ≥ hi: the surface's own.
    void setRange(double lo, double hi);
    // Rotation and zoom follow `other`'s camera and the other way round (twins: one camera).
    void linkCamera(Surface3D* other);
    Q3DSurface* graph() const { return m_graph; }
    int pointCount() const; // the points in the data proxy (tests)
    QImage renderImage(const QSize& size);

private:
    void applyRange();
    Q3DSurface* m_graph = nullptr;
    QSurface3DSeries* m_series = nullptr;
    LandscapeSurface m_s;
    double m_lo = 1, m_hi = 0;
    bool m_log = true, m_syncing = false;
};

} // namespace convscope::ui
