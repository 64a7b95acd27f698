// FilterView: painting the filter grid with a diverging colour scale, and its legend.
#include "filter_view.h"

#include <QMouseEvent>
#include <QPainter>
#include <algorithm>
#include <cmath>

namespace convscope::ui {

namespace {
// Blue (−1) → white (0) → red (+1): readable by red–green colour-blind viewers. High contrast
// ends in the Okabe–Ito blue (0,114,178) and vermillion (213,94,0).
QColor diverging(double v, bool highContrast) {
    v = std::clamp(v, -1.0, 1.0);
    const QColor end = highContrast ? (v >= 0 ? QColor(213, 94, 0) : QColor(0, 114, 178))
                                    : (v >= 0 ? QColor(255, 0, 0) : QColor(0, 0, 255));
    const double a = std::abs(v);
    auto mix = [a](int c) { return int(std::lround(255.0 + (c - 255.0) * a)); };
    return QColor(mix(end.red()), mix(end.green()), mix(end.blue()));
}
} // namespace

FilterView::FilterView(QWidget* parent) : QWidget(parent) {
    setToolTip(tr("First-layer filters: each is a small image the network slides over the input. "
                  "Trained on natural images they become edge and grating detectors (Gabor-like). "
                  "Blue < 0 < red, each filter on its own scale. Click one to enlarge it."));
    setMinimumSize(320, 240);
}

void FilterView::setFilters(const QVector<float>& weights, int count, int channels, int h, int w) {
    m_weights = weights;
    m_count = weights.isEmpty() ? 0 : count;
    m_channels = channels;
    m_h = h;
    m_w = w;
    m_selected = std::min(m_selected, std::max(0, m_count - 1));
    update();
}

void FilterView::setHighContrast(bool on) {
    m_highContrast = on;
    update();
}

QRect FilterView::cell(int i) const {
    const int cols = std::max(1, int(std::ceil(std::sqrt(double(m_count)))));
    const int gridW = width() * 3 / 5;
    const int side = std::max(8, std::min(gridW / cols, (height() - 40) / cols)) - 6;
    return {10 + (i % cols) * (side + 6), 10 + (i / cols) * (side + 6), side, side};
}

QRect FilterView::largeArea() const {
    const int x = width() * 3 / 5 + 20, side = std::min(width() - x - 20, height() - 80);
    return {x, 30, std::max(side, 10), std::max(side, 10)};
}

void FilterView::paintEvent(QPaintEvent*) {
    QPainter p(this);
    p.fillRect(rect(), palette().window());
    if (m_count == 0) {
        p.drawText(rect(), Qt::AlignCenter,
                   tr("The first layer's filters appear here when training starts"));
        return;
    }
    const int taps = m_h * m_w, per = m_channels * taps;
    auto draw = [&](int f, const QRect& r) {
        double scale = 1e-12;
        for (int k = 0; k < per; ++k)
            scale = std::max(scale, double(std::abs(m_weights[f * per + k])));
        const double cw = double(r.width()) / m_w, ch = double(r.height()) / m_h;
        for (int y = 0; y < m_h; ++y)
            for (int x = 0; x < m_w; ++x) {
                const float* w = m_weights.constData() + f * per + y * m_w + x;
                QColor colour;
                if (m_channels == 3) { // RGB filters in colour: grey 0, each channel ±max
                    auto level = [&](int c) {
                        return int(std::lround(127.5 + 127.5 * double(w[c * taps]) / scale));
                    };
                    colour = QColor(level(0), level(1), level(2));
                } else {
                    double v = 0;
                    for (int c = 0; c < m_channels; ++c)
                        v += w[c * taps];
                    colour = diverging(v / m_channels / scale, m_highContrast);
                }
                p.fillRect(QRectF(r.x() + x * cw, r.y() + y * ch, std::ceil(cw), std::ceil(ch)),
                           colour);
            }
        p.setPen(f == m_selected ? QPen(palette().highlight(), 3) : QPen(palette().mid(), 1));
        p.drawRect(r);
    };
    for (int f = 0; f < m_count; ++f)
        draw(f, cell(f));
    const QRect big = largeArea();
    draw(m_selected, big);
    p.setPen(palette().text().color());
    p.drawText(QRect(big.x(), 4, big.width(), 22), Qt::AlignCenter,
               tr("filter %1 of %2 (%3x%4)").arg(m_selected + 1).arg(m_count).arg(m_h).arg(m_w));
    const QRect legend(big.x(), big.bottom() + 16, big.width(), 14);
    if (m_channels == 3) {
        p.drawText(QRect(legend.x(), legend.y(), legend.width(), 40),
                   Qt::AlignCenter | Qt::TextWordWrap,
                   tr("RGB: grey is 0, each channel from −max to +max"));
        return;
    }
    // Legend: the colour scale.
    for (int x = 0; x < legend.width(); ++x)
        p.fillRect(legend.x() + x, legend.y(), 1, legend.height(),
                   diverging(2.0 * x / std::max(1, legend.width() - 1) - 1.0, m_highContrast));
    p.drawText(QRect(legend.x(), legend.bottom() + 2, legend.width(), 18), Qt::AlignLeft,
               tr("−max"));
    p.drawText(QRect(legend.x(), legend.bottom() + 2, legend.width(), 18), Qt::AlignHCenter, "0");
    p.drawText(QRect(legend.x(), legend.bottom() + 2, legend.width(), 18), Qt::AlignRight,
               tr("+max"));
}

void FilterView::mousePressEvent(QMouseEvent* e) {
    for (int f = 0; f < m_count; ++f)
        if (cell(f).contains(e->pos())) {
            m_selected = f;
            update();
            return;
        }
}

} // namespace convscope::ui
