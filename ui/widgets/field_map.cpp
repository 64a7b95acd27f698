// FieldMap: the effective and theoretical receptive fields on the input (see field_map.h).
#include "field_map.h"

#include "map_strip.h"

#include <QPainter>
#include <QPainterPath>

namespace convscope::ui {

FieldMap::FieldMap(QWidget* parent) : QWidget(parent) {
    setToolTip(tr("The heat map is the effective receptive field: how strongly each input pixel "
                  "moves the chosen unit (|∂unit/∂pixel|, averaged over test images). The white "
                  "square is the theoretical field — every pixel the unit can see; the dashed "
                  "squares hold 50 % and 90 % of the heat. Luo et al. (2016): the effective "
                  "field is Gaussian-like and much smaller than the theoretical one"));
}

void FieldMap::setField(const QImage& image, const QVector<float>& erf, double centreY,
                        double centreX, int rfH, int rfW, int side50, int side90) {
    m_image = image;
    m_erf = erf;
    m_cy = centreY;
    m_cx = centreX;
    m_rfH = rfH;
    m_rfW = rfW;
    m_side50 = side50;
    m_side90 = side90;
    blend();
    update();
}

void FieldMap::clear() {
    m_image = m_blended = QImage();
    m_erf.clear();
    update();
}

void FieldMap::setOpacity(double opacity) {
    m_opacity = std::clamp(opacity, 0.0, 1.0);
    blend();
    update();
}

void FieldMap::blend() {
    if (m_image.isNull() || m_erf.size() != m_image.width() * m_image.height()) {
        m_blended = m_image;
        return;
    }
    m_blended =
        mapImage(m_erf, m_image.height(), m_image.width(), false, m_image, m_opacity, nullptr);
}

void FieldMap::paintEvent(QPaintEvent*) {
    QPainter p(this);
    p.fillRect(rect(), palette().window());
    if (m_blended.isNull()) {
        p.drawText(rect(), Qt::AlignCenter | Qt::TextWordWrap,
                   tr("Click a unit in the feature maps to see what it looks at"));
        return;
    }
    const int H = m_blended.height(), W = m_blended.width();
    const double s = std::max(1.0, std::floor(std::min(width() / double(W), height() / double(H))));
    const QRectF target((width() - W * s) / 2, (height() - H * s) / 2, W * s, H * s);
    p.drawImage(target, m_blended);
    p.setClipRect(target);
    p.setRenderHint(QPainter::Antialiasing);
    // Pixel i covers [i, i + 1) in image units: a square of side n centred on pixel centre c
    // spans c + 0.5 ± n/2.
    auto square = [&](double sideH, double sideW) {
        return QRectF(target.left() + (m_cx + 0.5 - sideW / 2) * s,
                      target.top() + (m_cy + 0.5 - sideH / 2) * s, sideW * s, sideH * s);
    };
    const double pen = std::max(2.0, s / 6);
    if (m_rfH > 0) {
        p.setPen(QPen(QColor(0, 0, 0, 160), pen + 2));
        p.drawRect(square(m_rfH, m_rfW));
        p.setPen(QPen(Qt::white, pen));
        p.drawRect(square(m_rfH, m_rfW));
    }
    for (int side : {m_side90, m_side50})
        if (side > 0) {
            p.setPen(QPen(QColor(0x56, 0xb4, 0xe9), pen, Qt::DashLine));
            p.drawRect(square(side, side));
        }
    // The unit's centre.
    p.setPen(QPen(Qt::white, pen));
    const QPointF c(target.left() + (m_cx + 0.5) * s, target.top() + (m_cy + 0.5) * s);
    p.drawLine(c - QPointF(3 * pen, 0), c + QPointF(3 * pen, 0));
    p.drawLine(c - QPointF(0, 3 * pen), c + QPointF(0, 3 * pen));
}

} // namespace convscope::ui
