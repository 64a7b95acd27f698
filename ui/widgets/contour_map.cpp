// ContourMap: QPainter drawing of a LandscapeSurface.
#include "contour_map.h"

#include "analysis/contour.h"

#include "map_strip.h"
#include <QMouseEvent>
#include <QPainter>
#include <QToolTip>
#include <algorithm>
#include <cmath>
#include <vector>

namespace convscope::ui {

namespace {
constexpr double kLossCap = 10.0; // the engine's analysis::kLossCap (the view does not include it)
} // namespace

ContourMap::ContourMap(QWidget* parent) : QWidget(parent) {
    setMouseTracking(true);
    setToolTip(tr("The loss L(θ* + α·δ + β·η) seen from above; θ* (the trained weights) is the "
                  "cross. Contour lines are labelled with the loss; colours are log-scaled. On the "
                  "PCA plane the blue path is training, its dots the snapshots, the big dots the "
                  "ends of epochs. Hover to read a point"));
}

void ContourMap::setSurface(const LandscapeSurface& s) {
    m_s = s;
    update();
}

void ContourMap::setMarkedStep(qint64 step) {
    m_marked = step;
    update();
}

int ContourMap::markedPoint() const {
    if (m_marked < 0 || m_s.path.isEmpty() || m_s.pathSteps.size() != m_s.path.size())
        return -1;
    int best = 0;
    for (int i = 1; i < m_s.pathSteps.size(); ++i)
        if (std::abs(m_s.pathSteps[i] - m_marked) < std::abs(m_s.pathSteps[best] - m_marked))
            best = i;
    return best;
}

void ContourMap::setRange(double lo, double hi) {
    m_lo = lo;
    m_hi = hi;
    update();
}

std::pair<double, double> ContourMap::lossRange(const LandscapeSurface& s) {
    double lo = INFINITY, hi = -INFINITY;
    for (double v : s.loss)
        if (std::isfinite(v)) {
            lo = std::min(lo, v);
            hi = std::max(hi, v);
        }
    return {lo, hi};
}

QRectF ContourMap::plotRect() const {
    const QFontMetrics fm(font());
    const double left = fm.horizontalAdvance("−0.00") + fm.height() + 8;
    const double bottom = 2.2 * fm.height() + 6, top = fm.height() + 6;
    const double bar = fm.horizontalAdvance("00.00") + 24;
    const double side = std::max(40.0, std::min(width() - left - bar - 8, height() - top - bottom));
    return QRectF(left, top, side, side);
}

void ContourMap::paintEvent(QPaintEvent*) {
    QPainter p(this);
    p.setRenderHint(QPainter::Antialiasing);
    p.fillRect(rect(), palette().base());
    const QFontMetrics fm(font());
    p.setPen(palette().color(QPalette::Text));
    p.drawText(QRectF(0, 0, width(), fm.height() + 4), Qt::AlignHCenter | Qt::AlignVCenter,
               m_s.title);
    if (m_s.rows < 2 || m_s.cols < 2) {
        p.drawText(rect(), Qt::AlignCenter, tr("Compute a landscape (Ctrl+L)"));
        return;
    }
    auto [lo, hi] = m_lo <= m_hi ? std::pair{m_lo, m_hi} : lossRange(m_s);
    if (!std::isfinite(lo))
        lo = hi = 1;
    lo = std::max({lo, hi * 1e-5, 1e-9}); // a loss of exactly 0 (an easy set) on a log scale
    // As Li et al. (and the engine's contour levels): losses above 10 in the top colour.
    const bool capped = hi > kLossCap && lo < kLossCap;
    if (capped)
        hi = kLossCap;
    const double la = std::log(std::max(lo, 1e-9)), lb = std::log(std::max(hi, 1e-9));
    auto colourOf = [&](double v) {
        if (!std::isfinite(v))
            return QColor(210, 210, 210);
        const double t = lb > la ? (std::log(std::max(v, 1e-9)) - la) / (lb - la) : 0.5;
        return sequentialColour(std::clamp(t, 0.0, 1.0));
    };
    // The grid as an image (row 0 at the bottom: β grows upwards), smoothly scaled.
    QImage img(m_s.cols, m_s.rows, QImage::Format_RGB32);
    for (int r = 0; r < m_s.rows; ++r)
        for (int c = 0; c < m_s.cols; ++c)
            img.setPixelColor(c, m_s.rows - 1 - r, colourOf(m_s.loss.value(r * m_s.cols + c, NAN)));
    const QRectF plot = plotRect();
    p.save();
    p.setRenderHint(QPainter::SmoothPixmapTransform);
    // Pixel centres on the grid points: the image spans half a cell beyond the outer points.
    const double cw = plot.width() / (m_s.cols - 1), ch = plot.height() / (m_s.rows - 1);
    p.setClipRect(plot);
    p.drawImage(plot.adjusted(-cw / 2, -ch / 2, cw / 2, ch / 2), img);
    p.restore();
    auto toPixel = [&](double gx, double gy) {
        return QPointF(plot.left() + gx * cw, plot.bottom() - gy * ch);
    };
    auto fromAB = [&](double a, double b) {
        const double gx = (a - m_s.alphaLo) / (m_s.alphaHi - m_s.alphaLo) * (m_s.cols - 1);
        const double gy = (b - m_s.betaLo) / (m_s.betaHi - m_s.betaLo) * (m_s.rows - 1);
        return toPixel(gx, gy);
    };
    // Contours, each labelled once where its label overlaps no other: preferably near its
    // upper-right end, else anywhere along it; a level with no free spot stays unlabelled.
    QFont small = font();
    small.setPointSizeF(font().pointSizeF() * 0.85);
    p.setFont(small);
    const QFontMetrics sfm(small);
    p.setPen(QPen(QColor(255, 255, 255, 200), 1.2));
    for (const auto& lines : m_s.contours)
        for (const QLineF& l : lines)
            p.drawLine(toPixel(l.x1(), l.y1()), toPixel(l.x2(), l.y2()));
    std::vector<std::vector<analysis::Segment>> levels;
    std::vector<double> widths;
    for (int k = 0; k < m_s.contours.size(); ++k) {
        levels.emplace_back();
        for (const QLineF& l : m_s.contours[k])
            levels.back().push_back({l.x1(), l.y1(), l.x2(), l.y2()});
        widths.push_back(sfm.horizontalAdvance(QString::number(m_s.levels.value(k), 'g', 2)) + 2);
    }
    const auto boxes = analysis::placeContourLabels(
        levels, widths, sfm.height(),
        [&](double gx, double gy) {
            const QPointF q = toPixel(gx, gy);
            return std::array<double, 2>{q.x(), q.y()};
        },
        {plot.left(), plot.top(), plot.right(), plot.bottom()}, 3);
    for (std::size_t k = 0; k < boxes.size(); ++k) {
        if (boxes[k].w <= 0)
            continue;
        const QRectF box(boxes[k].x, boxes[k].y, boxes[k].w, boxes[k].h);
        p.fillRect(box, QColor(255, 255, 255, 210));
        p.setPen(Qt::black);
        p.drawText(box, Qt::AlignCenter, QString::number(m_s.levels.value(int(k)), 'g', 2));
    }
    p.setFont(font());
    // The trajectory, its checkpoints numbered (epochs when one checkpoint an epoch).
    if (!m_s.path.isEmpty()) {
        p.setPen(QPen(QColor(0x56, 0xb4, 0xe9), 2.5));
        for (int i = 0; i + 1 < m_s.path.size(); ++i)
            p.drawLine(fromAB(m_s.path[i].x(), m_s.path[i].y()),
                       fromAB(m_s.path[i + 1].x(), m_s.path[i + 1].y()));
        // Every snapshot a small dot; the ends of epochs a larger one, numbered.
        p.setBrush(QColor(0x56, 0xb4, 0xe9));
        p.setPen(Qt::NoPen);
        for (const QPointF& a : m_s.path)
            p.drawEllipse(fromAB(a.x(), a.y()), 2, 2);
        for (int k = 0; k < m_s.epochEnds.size(); ++k) {
            const QPointF a = m_s.path.value(m_s.epochEnds[k]);
            const QPointF q = fromAB(a.x(), a.y());
            p.setBrush(QColor(0x56, 0xb4, 0xe9));
            p.setPen(Qt::white);
            p.drawEllipse(q, 5, 5);
            p.drawText(q + QPointF(7, -5), tr("epoch %1").arg(k + 1));
        }
    }
    // The scrubber's step: a ring on its snapshot.
    if (const int i = markedPoint(); i >= 0) {
        p.setBrush(Qt::NoBrush);
        p.setPen(QPen(QColor(0xe6, 0x9f, 0x00), 3));
        const QPointF q = fromAB(m_s.path[i].x(), m_s.path[i].y());
        p.drawEllipse(q, 9, 9);
        p.drawText(q + QPointF(11, 14), tr("step %1").arg(m_s.pathSteps.value(i)));
    }
    // θ*: the cross at the origin.
    const QPointF o = fromAB(0, 0);
    if (plot.contains(o)) {
        p.setPen(QPen(Qt::white, 2));
        p.drawLine(o + QPointF(-7, 0), o + QPointF(7, 0));
        p.drawLine(o + QPointF(0, -7), o + QPointF(0, 7));
    }
    // Axes.
    p.setPen(palette().color(QPalette::Text));
    p.setBrush(Qt::NoBrush);
    p.drawRect(plot);
    for (int k = 0; k <= 4; ++k) {
        const double a = m_s.alphaLo + (m_s.alphaHi - m_s.alphaLo) * k / 4;
        const double b = m_s.betaLo + (m_s.betaHi - m_s.betaLo) * k / 4;
        const double x = plot.left() + plot.width() * k / 4,
                     y = plot.bottom() - plot.height() * k / 4;
        p.drawLine(QPointF(x, plot.bottom()), QPointF(x, plot.bottom() + 4));
        p.drawLine(QPointF(plot.left() - 4, y), QPointF(plot.left(), y));
        const QString ta = QString::number(a, 'g', 3), tb = QString::number(b, 'g', 3);
        p.drawText(QRectF(x - 40, plot.bottom() + 5, 80, fm.height()), Qt::AlignHCenter, ta);
        p.drawText(QRectF(0, y - fm.height() / 2.0, plot.left() - 6, fm.height()),
                   Qt::AlignRight | Qt::AlignVCenter, tb);
    }
    p.drawText(QRectF(plot.left(), plot.bottom() + fm.height() + 6, plot.width(), fm.height()),
               Qt::AlignHCenter, tr("α (along δ)"));
    p.save();
    p.translate(fm.height() / 2.0, plot.center().y());
    p.rotate(-90);
    p.drawText(QRectF(-plot.height() / 2, -fm.height() / 2.0, plot.height(), fm.height()),
               Qt::AlignCenter, tr("β (along η)"));
    p.restore();
    // Colour bar, log scale.
    const QRectF bar(plot.right() + 10, plot.top(), 12, plot.height());
    for (int y = 0; y < int(bar.height()); ++y)
        p.fillRect(QRectF(bar.left(), bar.top() + y, bar.width(), 1),
                   sequentialColour(1 - y / std::max(1.0, bar.height() - 1)));
    p.drawRect(bar);
    p.drawText(QPointF(bar.right() + 3, bar.top() + fm.ascent()),
               QString::number(hi, 'g', 3) + (capped ? "+" : ""));
    p.drawText(QPointF(bar.right() + 3, bar.bottom()), QString::number(lo, 'g', 3));
    if (m_s.rowsDone < m_s.rows)
        p.drawText(QRectF(plot.left(), plot.top(), plot.width(), fm.height() + 4), Qt::AlignCenter,
                   tr("%1 of %2 rows").arg(m_s.rowsDone).arg(m_s.rows));
}

void ContourMap::mouseMoveEvent(QMouseEvent* e) {
    const QRectF plot = plotRect();
    if (m_s.rows < 2 || !plot.contains(e->position()))
        return;
    const double fx = (e->position().x() - plot.left()) / plot.width();
    const double fy = (plot.bottom() - e->position().y()) / plot.height();
    const int c = std::clamp(int(std::lround(fx * (m_s.cols - 1))), 0, m_s.cols - 1);
    const int r = std::clamp(int(std::lround(fy * (m_s.rows - 1))), 0, m_s.rows - 1);
    const double a = m_s.alphaLo + (m_s.alphaHi - m_s.alphaLo) * c / (m_s.cols - 1);
    const double b = m_s.betaLo + (m_s.betaHi - m_s.betaLo) * r / (m_s.rows - 1);
    const double loss = m_s.loss.value(r * m_s.cols + c, NAN);
    const double acc = m_s.accuracy.value(r * m_s.cols + c, NAN);
    QToolTip::showText(e->globalPosition().toPoint(),
                       std::isfinite(loss)
                           ? tr("α %1, β %2: loss %3, accuracy %4 %")
                                 .arg(a, 0, 'g', 3)
                                 .arg(b, 0, 'g', 3)
                                 .arg(loss, 0, 'g', 4)
                                 .arg(100 * acc, 0, 'f', 1)
                           : tr("α %1, β %2: not computed yet").arg(a, 0, 'g', 3).arg(b, 0, 'g', 3),
                       this);
}

} // namespace convscope::ui
