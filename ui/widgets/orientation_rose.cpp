// OrientationRose: painting the wedges, the count rings, the angle labels and, beside each
// labelled angle, a small grating of that θ.
#include "orientation_rose.h"

#include <QPainter>
#include <QPainterPath>
#include <algorithm>
#include <cmath>
#include <numbers>

namespace convscope::ui {

OrientationRose::OrientationRose(QWidget* parent) : QWidget(parent) {
    setToolTip(
        tr("Orientations of the Gabor-like filters. θ is the direction of the wave: it runs "
           "across the stripes, perpendicular to them (θ = 0°: vertical stripes, θ = 90°: "
           "horizontal ones). Drawn as in the images, 0° to the right and growing clockwise; θ "
           "and θ + 180° are the same wave, so the rose is symmetric. Each wedge holds 15°; its "
           "length is the number of filters, the rings count them. Trained on natural images "
           "every orientation appears, often vertical and horizontal ones most."));
}

QSize OrientationRose::minimumSizeHint() const {
    // A disc of 5 lines across, its labels, and the two-line title.
    const QFontMetrics fm(font());
    const int h = fm.height(), disc = 5 * h;
    return {disc + 2 * (h + fm.horizontalAdvance("135°") + 8), 2 * h + 8 + disc + 2 * h + 8};
}

void OrientationRose::setAngles(const QVector<double>& thetaDeg) {
    m_bins.fill(0);
    m_count = 0;
    for (double t : thetaDeg) {
        if (!std::isfinite(t))
            continue;
        const double a = std::fmod(std::fmod(t, 180.0) + 180.0, 180.0);
        ++m_bins[std::min(kBins - 1, int(a / (180.0 / kBins)))];
        ++m_count;
    }
    update();
}

void OrientationRose::setHighContrast(bool on) {
    m_highContrast = on;
    update();
}

void OrientationRose::paintEvent(QPaintEvent*) {
    QPainter p(this);
    p.setRenderHint(QPainter::Antialiasing);
    p.fillRect(rect(), palette().base());
    const QFontMetrics fm(font());
    const QColor text = palette().color(QPalette::Text);
    const QRect title(4, 2, width() - 8, 2 * fm.height());
    p.setPen(text);
    p.drawText(title, Qt::AlignHCenter | Qt::AlignTop | Qt::TextWordWrap,
               m_count == 0   ? tr("θ of the Gabor-like filters")
               : m_count == 1 ? tr("θ of the 1 Gabor-like filter")
                              : tr("θ of the %1 Gabor-like filters").arg(m_count));
    // The disc: below the title, room right and below for the labels ("135°") and their
    // gratings (the upper half mirrors the lower one and is not labelled).
    const double g = fm.height() * 0.9; // a grating's side
    const int margin = int(g) + fm.horizontalAdvance("135°") + 8;
    const int below = int(g) + fm.height() + 8;
    const QRect area = rect().adjusted(margin, title.bottom() + 8, -margin, -below);
    const double radius = std::max(10.0, std::min(area.width(), area.height()) / 2.0);
    const QPointF c = QRectF(area).center();
    auto at = [&](double deg, double r) { // screen angles: clockwise from the right
        const double a = deg * std::numbers::pi / 180.0;
        return c + QPointF(r * std::cos(a), r * std::sin(a));
    };
    const int top = std::max(1, *std::max_element(m_bins.begin(), m_bins.end()));
    const int ringStep = top <= 4 ? 1 : (top + 3) / 4; // at most ~4 rings
    const QColor grid = palette().color(QPalette::Mid);
    p.setBrush(Qt::NoBrush);
    p.setPen(QPen(grid, 1, Qt::DotLine));
    for (int deg = 0; deg < 180; deg += 45)
        p.drawLine(at(deg, radius), at(deg + 180, radius));
    for (int n = ringStep; n <= top; n += ringStep) {
        const double r = radius * n / top;
        p.setPen(QPen(grid, 1, n == top ? Qt::SolidLine : Qt::DotLine));
        p.drawEllipse(c, r, r);
    }
    // The wedges: θ and θ + 180°.
    const QColor fill = m_highContrast ? QColor(0, 158, 115) : QColor(0, 158, 115, 190);
    p.setPen(QPen(fill.darker(150), m_highContrast ? 2.5 : 1));
    p.setBrush(fill);
    const double binDeg = 180.0 / kBins;
    for (int k = 0; k < kBins; ++k) {
        if (m_bins[k] == 0)
            continue;
        const double r = radius * m_bins[k] / top;
        for (double base : {0.0, 180.0}) {
            const double a0 = base + k * binDeg;
            QPainterPath wedge(c);
            // QPainterPath's angles are counter-clockwise on screen: negate.
            wedge.arcTo(QRectF(c.x() - r, c.y() - r, 2 * r, 2 * r), -a0, -binDeg);
            wedge.closeSubpath();
            p.drawPath(wedge);
        }
    }
    // The ring counts, along the upper-right spoke at −45° (= 135°, mirrored).
    p.setPen(text);
    for (int n = ringStep; n <= top; n += ringStep) {
        const QPointF q = at(-60, radius * n / top);
        p.drawText(QRectF(q.x() + 2, q.y() - fm.height(), fm.horizontalAdvance("000"), fm.height()),
                   Qt::AlignLeft | Qt::AlignBottom, QString::number(n));
    }
    // The angles of the lower half, each with a tiny grating of that θ (stripes across the
    // wave) between the disc and the label.
    for (int deg = 0; deg < 180; deg += 45) {
        const double a = deg * std::numbers::pi / 180.0;
        const double ca = std::abs(std::cos(a)), sa = std::abs(std::sin(a));
        const QString label = QString("%1°").arg(deg);
        const double lw = fm.horizontalAdvance(label), lh = fm.height();
        // Half-extents along the spoke: of the grating's square and of the label's box.
        const double iconHalf = g / 2 * (ca + sa), textHalf = lw / 2 * ca + lh / 2 * sa;
        const QPointF icon = at(deg, radius + 4 + iconHalf);
        const QPointF textAt = at(deg, radius + 4 + 2 * iconHalf + 3 + textHalf);
        p.setPen(text);
        p.drawText(QRectF(textAt.x() - lw / 2 - 1, textAt.y() - lh / 2, lw + 2, lh),
                   Qt::AlignCenter, label);
        const QRectF box(icon.x() - g / 2, icon.y() - g / 2, g, g);
        p.save();
        p.setClipRect(box);
        p.fillRect(box, palette().color(QPalette::Base));
        const QPointF along(std::cos(a), std::sin(a)), across(-std::sin(a), std::cos(a));
        p.setPen(QPen(text, std::max(1.0, g / 7)));
        for (int k = -2; k <= 2; ++k) { // a stripe every g/3 along the wave
            const QPointF mid = box.center() + along * (k * g / 3.0);
            p.drawLine(mid - across * g, mid + across * g);
        }
        p.restore();
        p.setPen(QPen(grid, 1));
        p.setBrush(Qt::NoBrush);
        p.drawRect(box);
    }
    if (m_count == 0) {
        p.setPen(text);
        p.drawText(QRectF(c.x() - radius, c.y() - radius, 2 * radius, 2 * radius),
                   Qt::AlignCenter | Qt::TextWordWrap, tr("none yet"));
    }
}

} // namespace convscope::ui
