// UnitPicker: a layer's maps, click to pick a unit (see unit_picker.h).
#include "unit_picker.h"

#include <QMouseEvent>
#include <QPainter>
#include <algorithm>
#include <cmath>

namespace convscope::ui {

UnitPicker::UnitPicker(QWidget* parent) : QWidget(parent) {
    setCursor(Qt::CrossCursor);
    setToolTip(tr("The layer's output for the test image, one tile per channel. Click a unit: "
                  "its receptive field appears on the left"));
}

void UnitPicker::setMaps(const MapImage& maps) {
    m_maps = maps;
    m_tiles.clear();
    const int HW = maps.h * maps.w;
    if (maps.channels <= 0 || HW <= 0 || maps.values.size() < maps.channels * HW) {
        update();
        return;
    }
    const auto [lo, hi] = std::minmax_element(maps.values.begin(), maps.values.end());
    const double span = *hi > *lo ? double(*hi - *lo) : 1.0;
    for (int c = 0; c < maps.channels; ++c) {
        QImage img(maps.w, maps.h, QImage::Format_Grayscale8);
        for (int y = 0; y < maps.h; ++y) {
            uchar* row = img.scanLine(y);
            for (int x = 0; x < maps.w; ++x)
                row[x] =
                    uchar(std::lround(255 * (maps.values[c * HW + y * maps.w + x] - *lo) / span));
        }
        m_tiles.push_back(img);
    }
    update();
}

void UnitPicker::setUnit(int channel, int y, int x) {
    m_channel = channel;
    m_y = y;
    m_x = x;
    update();
}

UnitPicker::Layout UnitPicker::layout() const {
    Layout l;
    const int n = std::max(1, int(m_tiles.size()));
    if (m_maps.w <= 0 || m_maps.h <= 0)
        return l;
    // The grid that makes the tiles largest.
    double best = 0;
    for (int cols = 1; cols <= n; ++cols) {
        const int rows = (n + cols - 1) / cols;
        const double s = std::min((width() - l.gap * (cols - 1)) / (double(cols) * m_maps.w),
                                  (height() - l.gap * (rows - 1)) / (double(rows) * m_maps.h));
        if (s > best) {
            best = s;
            l.cols = cols;
            l.rows = rows;
        }
    }
    l.scale = std::max(0.5, best);
    const double w = l.cols * m_maps.w * l.scale + (l.cols - 1) * l.gap,
                 h = l.rows * m_maps.h * l.scale + (l.rows - 1) * l.gap;
    l.origin = QPointF(std::max(0.0, (width() - w) / 2), std::max(0.0, (height() - h) / 2));
    return l;
}

QRectF UnitPicker::tile(const Layout& l, int channel) const {
    const int r = channel / l.cols, c = channel % l.cols;
    return QRectF(l.origin.x() + c * (m_maps.w * l.scale + l.gap),
                  l.origin.y() + r * (m_maps.h * l.scale + l.gap), m_maps.w * l.scale,
                  m_maps.h * l.scale);
}

bool UnitPicker::unitAt(const QPoint& pos, int* channel, int* y, int* x) const {
    const Layout l = layout();
    for (int c = 0; c < int(m_tiles.size()); ++c) {
        const QRectF t = tile(l, c);
        if (t.contains(pos)) {
            *channel = c;
            *x = std::clamp(int((pos.x() - t.left()) / l.scale), 0, m_maps.w - 1);
            *y = std::clamp(int((pos.y() - t.top()) / l.scale), 0, m_maps.h - 1);
            return true;
        }
    }
    return false;
}

QPoint UnitPicker::positionOf(int channel, int y, int x) const {
    const Layout l = layout();
    const QRectF t = tile(l, channel);
    return QPointF(t.left() + (x + 0.5) * l.scale, t.top() + (y + 0.5) * l.scale).toPoint();
}

void UnitPicker::mousePressEvent(QMouseEvent* e) {
    int c = 0, y = 0, x = 0;
    if (e->button() == Qt::LeftButton && unitAt(e->position().toPoint(), &c, &y, &x))
        emit unitPicked(c, y, x);
}

void UnitPicker::paintEvent(QPaintEvent*) {
    QPainter p(this);
    p.fillRect(rect(), palette().window());
    if (m_tiles.isEmpty()) {
        p.drawText(rect(), Qt::AlignCenter, tr("No feature maps yet"));
        return;
    }
    const Layout l = layout();
    for (int c = 0; c < int(m_tiles.size()); ++c)
        p.drawImage(tile(l, c), m_tiles[c]);
    if (m_y < 0 || m_x < 0)
        return;
    const double pen = std::max(1.5, l.scale / 5);
    for (int c = 0; c < int(m_tiles.size()); ++c) {
        const QRectF t = tile(l, c);
        const bool picked = m_channel < 0 || c == m_channel;
        if (m_channel >= 0 && c == m_channel) {
            p.setPen(QPen(QColor(0xe6, 0x9f, 0x00), pen));
            p.drawRect(t.adjusted(-pen, -pen, pen, pen));
        }
        p.setPen(QPen(picked ? QColor(0xd5, 0x5e, 0x00) : QColor(0xd5, 0x5e, 0x00, 90), pen));
        p.drawRect(QRectF(t.left() + m_x * l.scale, t.top() + m_y * l.scale, l.scale, l.scale));
    }
}

} // namespace convscope::ui
