// FeatureMapView: layout (thumbnail size chosen to fit) and painting.
#include "feature_map_view.h"

#include <QPainter>
#include <algorithm>
#include <cmath>

namespace convscope::ui {

namespace {

// One map (h, w) as a grey image between lo (black) and hi (white).
QImage grey(const float* v, int h, int w, double lo, double hi) {
    QImage img(w, h, QImage::Format_Grayscale8);
    const double scale = hi > lo ? 255.0 / (hi - lo) : 0.0;
    for (int y = 0; y < h; ++y) {
        uchar* line = img.scanLine(y);
        for (int x = 0; x < w; ++x)
            line[x] = uchar(std::clamp((double(v[y * w + x]) - lo) * scale, 0.0, 255.0));
    }
    return img;
}

} // namespace

FeatureMapView::FeatureMapView(QWidget* parent) : QWidget(parent) {
    setToolTip(
        tr("Feature maps: each layer's output channels for the chosen test image. Early "
           "layers respond to edges and strokes; after each pooling the maps halve and "
           "become more abstract. Grey scale per layer: black = smallest, white = largest."));
    setMinimumSize(320, 200);
}

void FeatureMapView::setProbe(const Probe& probe) {
    m_probe = probe;
    update();
}

void FeatureMapView::paintEvent(QPaintEvent*) {
    QPainter p(this);
    p.fillRect(rect(), palette().base());
    const Probe& pr = m_probe;
    if (pr.index < 0 || pr.image.isEmpty()) {
        p.drawText(rect(), Qt::AlignCenter,
                   tr("Feature maps of the chosen test image appear here once the network is "
                      "built (press Train, or Step)"));
        return;
    }
    const QFontMetrics fm = p.fontMetrics();
    const int line = fm.height();
    // The input image, its class and the network's answer.
    QFont bold = font();
    bold.setBold(true);
    const QFontMetrics boldMetrics(bold);
    const int textW = boldMetrics.horizontalAdvance(tr("predicted:")) + 16;
    int left = std::min(width() / 4, std::max(120, height() - 6 * line));
    for (const QString& n : pr.classNames)
        left = std::max(left,
                        std::min(width() / 3, boldMetrics.horizontalAdvance(n + " (100%)") + 16));
    left = std::max(left, textW);
    {
        const int n = pr.imageH * pr.imageW;
        QImage img(pr.imageW, pr.imageH, QImage::Format_RGB32);
        for (int c = 0; c < std::min(pr.imageChannels, 3); ++c) {
            const auto [lo, hi] =
                std::minmax_element(pr.image.begin() + c * n, pr.image.begin() + (c + 1) * n);
            for (int i = 0; i < n; ++i) {
                const int v = int(255 * (pr.image[c * n + i] - *lo) / std::max(1e-6f, *hi - *lo));
                QRgb px = img.pixel(i % pr.imageW, i / pr.imageW);
                px = pr.imageChannels == 1 ? qRgb(v, v, v)
                     : c == 0              ? qRgb(v, qGreen(px), qBlue(px))
                     : c == 1              ? qRgb(qRed(px), v, qBlue(px))
                                           : qRgb(qRed(px), qGreen(px), v);
                img.setPixel(i % pr.imageW, i / pr.imageW, px);
            }
        }
        const int side = std::min(left - 16, height() - 5 * line - 16);
        const QRect r(8, 8 + line, side, side);
        p.drawText(QRect(8, 4, left, line), Qt::AlignLeft, tr("test image %1").arg(pr.index));
        p.drawImage(r, img);
        auto name = [&](int k) {
            return k >= 0 && k < pr.classNames.size() ? pr.classNames[k] : QString::number(k);
        };
        int best = 0;
        for (int k = 1; k < pr.probabilities.size(); ++k)
            if (pr.probabilities[k] > pr.probabilities[best])
                best = k;
        int y = r.bottom() + 6;
        p.drawText(QRect(8, y, left, line), Qt::AlignLeft, tr("true: %1").arg(name(pr.label)));
        y += line;
        if (!pr.probabilities.isEmpty()) {
            p.setFont(bold);
            p.setPen(best == pr.label ? QColor(0x00, 0x72, 0xb2) : QColor(0xd5, 0x5e, 0x00));
            p.drawText(QRect(8, y, left, line), Qt::AlignLeft, tr("predicted:"));
            p.drawText(QRect(8, y + line, left, line), Qt::AlignLeft,
                       tr("%1 (%2%)").arg(name(best)).arg(100 * pr.probabilities[best], 0, 'f', 0));
            p.setPen(palette().text().color());
            p.setFont(font());
        }
    }
    if (pr.maps.isEmpty())
        return;
    // The layers shown: all of them, or for deep networks (resnet56) an evenly spaced subset,
    // the last included, so that each keeps at least its two label lines.
    const int x0 = left + 8, labelW = fm.horizontalAdvance("64x28x28, first 32") + 12;
    const int availW = std::max(40, width() - x0 - labelW - 8);
    const int availH = height() - 8 - line; // a line for "showing k of n layers"
    const int n = int(pr.maps.size());
    const int fit = std::max(1, std::min(n, availH / (2 * line + 6)));
    QVector<int> shown;
    for (int i = 0; i < fit; ++i)
        shown << (fit == 1 ? n - 1 : int(std::lround(double(i) * (n - 1) / (fit - 1))));
    // The largest thumbnail side at which the shown layers' rows fit.
    auto rowsHeight = [&](int s) {
        const int perRow = std::max(1, availW / (s + 3));
        int h = 0;
        for (int i : shown)
            h += std::max(2 * line, ((pr.maps[i].channels + perRow - 1) / perRow) * (s + 3)) + 6;
        return h;
    };
    int side = 4;
    for (int s = 96; s > 4; --s)
        if (rowsHeight(s) <= availH) {
            side = s;
            break;
        }
    const int perRow = std::max(1, availW / (side + 3));
    int y = 6;
    for (int i : shown) {
        const FeatureMap& m = pr.maps[i];
        p.drawText(QRect(x0, y, labelW, line), Qt::AlignLeft | Qt::AlignTop, m.layer);
        p.drawText(
            QRect(x0, y + line, labelW, line), Qt::AlignLeft | Qt::AlignTop,
            QString("%1x%2x%3%4")
                .arg(m.allChannels)
                .arg(m.h)
                .arg(m.w)
                .arg(m.allChannels > m.channels ? tr(", first %1").arg(m.channels) : QString()));
        const auto [lo, hi] = std::minmax_element(m.values.begin(), m.values.end());
        for (int c = 0; c < m.channels; ++c) {
            const QRect r(x0 + labelW + (c % perRow) * (side + 3), y + (c / perRow) * (side + 3),
                          side, side);
            if (r.bottom() > height())
                break;
            p.drawImage(r, grey(m.values.constData() + c * m.h * m.w, m.h, m.w, *lo, *hi));
        }
        y += std::max(2 * line, ((m.channels + perRow - 1) / perRow) * (side + 3)) + 6;
    }
    if (shown.size() < n)
        p.drawText(QRect(x0, height() - line - 2, width() - x0, line), Qt::AlignLeft,
                   tr("showing %1 of %2 layers, evenly spaced; enlarge the panel for more")
                       .arg(shown.size())
                       .arg(n));
}

} // namespace convscope::ui
