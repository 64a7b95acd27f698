// Surface3D: the data proxy, the gradient and the linked cameras.
#include "surface_3d.h"

#include "contour_map.h"
#include "map_strip.h"
#include <QGuiApplication>
#include <QLinearGradient>
#include <QOffscreenSurface>
#include <QOpenGLContext>
#include <QVBoxLayout>
#include <QtDataVisualization/Q3DCamera>
#include <QtDataVisualization/Q3DScene>
#include <QtDataVisualization/Q3DSurface>
#include <QtDataVisualization/Q3DTheme>
#include <QtDataVisualization/QLogValue3DAxisFormatter>
#include <QtDataVisualization/QSurface3DSeries>
#include <QtDataVisualization/QSurfaceDataProxy>
#include <QtDataVisualization/QValue3DAxis>
#include <cmath>

namespace convscope::ui {

bool Surface3D::available() {
    static const bool ok = [] {
        if (QGuiApplication::platformName() == "offscreen" ||
            QGuiApplication::platformName() == "minimal")
            return false;
        QOpenGLContext ctx;
        if (!ctx.create())
            return false;
        QOffscreenSurface surface;
        surface.create();
        const bool current = ctx.makeCurrent(&surface);
        if (current)
            ctx.doneCurrent();
        return current;
    }();
    return ok;
}

Surface3D::Surface3D(QWidget* parent) : QWidget(parent) {
    m_graph = new Q3DSurface;
    m_graph->setAxisX(new QValue3DAxis);
    m_graph->setAxisY(new QValue3DAxis);
    m_graph->setAxisZ(new QValue3DAxis);
    m_graph->axisX()->setTitle(tr("α"));
    m_graph->axisZ()->setTitle(tr("β"));
    m_graph->axisY()->setTitle(tr("loss"));
    for (QValue3DAxis* a : {m_graph->axisX(), m_graph->axisY(), m_graph->axisZ()})
        a->setTitleVisible(true);
    m_graph->axisY()->setLabelFormat("%.2g");
    // A log axis must never include 0 (its default range does): positive from the start.
    m_graph->axisY()->setRange(0.01f, 10.0f);
    m_graph->scene()->activeCamera()->setCameraPreset(Q3DCamera::CameraPresetIsometricRight);
    m_graph->setShadowQuality(QAbstract3DGraph::ShadowQualityNone);
    // Labels a room can read: large, without the default boxes.
    Q3DTheme* theme = m_graph->activeTheme();
    theme->setLabelBackgroundEnabled(false);
    theme->setLabelBorderEnabled(false);
    QFont f = theme->font();
    f.setPointSizeF(f.pointSizeF() * 1.6);
    theme->setFont(f);
    m_series = new QSurface3DSeries;
    m_series->setDrawMode(QSurface3DSeries::DrawSurfaceAndWireframe);
    m_series->setFlatShadingEnabled(false);
    QLinearGradient g;
    for (int k = 0; k <= 8; ++k)
        g.setColorAt(k / 8.0, sequentialColour(k / 8.0));
    m_series->setBaseGradient(g);
    m_series->setColorStyle(Q3DTheme::ColorStyleRangeGradient);
    m_series->setItemLabelFormat(QStringLiteral("α @xLabel, β @zLabel: loss @yLabel"));
    m_graph->addSeries(m_series);
    QWidget* container = QWidget::createWindowContainer(m_graph, this);
    container->setMinimumSize(200, 180);
    container->setToolTip(tr("Drag to turn the surface, scroll to zoom"));
    auto* box = new QVBoxLayout(this);
    box->setContentsMargins(0, 0, 0, 0);
    box->addWidget(container);
    setLogScale(true);
}

Surface3D::~Surface3D() = default;

void Surface3D::setSurface(const LandscapeSurface& s) {
    m_s = s;
    auto* array = new QSurfaceDataArray;
    array->reserve(s.rows);
    for (int r = 0; r < s.rows; ++r) {
        if (s.rowsDone <= r && r > 0) // rows arrive in order: draw the finished ones
            break;
        auto* row = new QSurfaceDataRow(s.cols);
        const double b = s.betaLo + (s.betaHi - s.betaLo) * r / std::max(1, s.rows - 1);
        for (int c = 0; c < s.cols; ++c) {
            const double a = s.alphaLo + (s.alphaHi - s.alphaLo) * c / std::max(1, s.cols - 1);
            double v = s.loss.value(r * s.cols + c, NAN);
            if (!std::isfinite(v))
                v = 0;
            (*row)[c].setPosition(QVector3D(float(a), float(std::max(v, 1e-6)), float(b)));
        }
        array->append(row);
    }
    if (array->size() < 2) { // a surface needs two rows
        qDeleteAll(*array);
        array->clear();
    }
    m_series->dataProxy()->resetArray(array);
    applyRange();
}

void Surface3D::setLogScale(bool on) {
    m_log = on;
    if (on)
        m_graph->axisY()->setFormatter(new QLogValue3DAxisFormatter);
    else
        m_graph->axisY()->setFormatter(new QValue3DAxisFormatter);
    applyRange();
}

void Surface3D::setRange(double lo, double hi) {
    m_lo = lo;
    m_hi = hi;
    applyRange();
}

void Surface3D::applyRange() {
    auto [lo, hi] = m_lo < m_hi ? std::pair{m_lo, m_hi} : ContourMap::lossRange(m_s);
    if (!std::isfinite(lo) || !(hi > lo))
        return;
    m_graph->axisY()->setRange(float(m_log ? std::max({lo * 0.9, hi * 1e-5, 1e-6}) : lo),
                               float(hi));
    m_graph->axisX()->setRange(float(m_s.alphaLo), float(m_s.alphaHi));
    m_graph->axisZ()->setRange(float(m_s.betaLo), float(m_s.betaHi));
}

void Surface3D::linkCamera(Surface3D* other) {
    Q3DCamera* a = m_graph->scene()->activeCamera();
    Q3DCamera* b = other->m_graph->scene()->activeCamera();
    auto follow = [](Surface3D* self, Q3DCamera* from, Q3DCamera* to) {
        QObject::connect(from, &Q3DCamera::xRotationChanged, self, [self, to](float v) {
            if (!self->m_syncing) {
                self->m_syncing = true;
                to->setXRotation(v);
                self->m_syncing = false;
            }
        });
        QObject::connect(from, &Q3DCamera::yRotationChanged, self, [self, to](float v) {
            if (!self->m_syncing) {
                self->m_syncing = true;
                to->setYRotation(v);
                self->m_syncing = false;
            }
        });
        QObject::connect(from, &Q3DCamera::zoomLevelChanged, self, [self, to](float v) {
            if (!self->m_syncing) {
                self->m_syncing = true;
                to->setZoomLevel(v);
                self->m_syncing = false;
            }
        });
    };
    follow(this, a, b);
    follow(other, b, a);
}

int Surface3D::pointCount() const {
    const QSurfaceDataProxy* p = m_series->dataProxy();
    return p->rowCount() * p->columnCount();
}

QImage Surface3D::renderImage(const QSize& size) {
    return m_graph->renderToImage(0, size);
}

} // namespace convscope::ui
