// MapStrip: colour scales (ColorBrewer RdBu reversed; an inferno-like ramp), map pictures and
// the strip's layout.
#include "map_strip.h"

#include <QPainter>
#include <algorithm>
#include <cmath>

namespace convscope::ui {

namespace {
QColor lerp(const QColor* anchors, int n, double t) {
    t = std::clamp(std::isfinite(t) ? t : 0.0, 0.0, 1.0) * double(n - 1);
    const int i = std::min(n - 2, int(t));
    const double f = t - double(i);
    const QColor a = anchors[i], b = anchors[i + 1];
    return QColor::fromRgbF(float(a.redF() + f * (b.redF() - a.redF())),
                            float(a.greenF() + f * (b.greenF() - a.greenF())),
                            float(a.blueF() + f * (b.blueF() - a.blueF())));
}
} // namespace

QColor divergingColour(double t) {
    static const QColor a[] = {{5, 48, 97},     {33, 102, 172}, {146, 197, 222}, {247, 247, 247},
                               {244, 165, 130}, {178, 24, 43},  {103, 0, 31}};
    return lerp(a, 7, 0.5 * (t + 1.0));
}

QColor sequentialColour(double t) {
    static const QColor a[] = {{0, 0, 4},     {40, 11, 84},   {101, 21, 110}, {159, 42, 99},
                               {212, 72, 66}, {245, 125, 21}, {250, 193, 39}, {252, 255, 164}};
    return lerp(a, 8, t);
}

QImage pixelsImage(const QVector<float>& px, int C, int h, int w) {
    QImage img(w, h, QImage::Format_RGB32);
    auto byte = [](float v) { return int(std::lround(std::clamp(double(v), 0.0, 1.0) * 255)); };
    const int plane = h * w;
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) {
            const int at = y * w + x;
            if (px.size() < C * plane)
                img.setPixel(x, y, qRgb(0, 0, 0));
            else if (C >= 3)
                img.setPixel(x, y,
                             qRgb(byte(px[at]), byte(px[plane + at]), byte(px[2 * plane + at])));
            else
                img.setPixel(x, y, qRgb(byte(px[at]), byte(px[at]), byte(px[at])));
        }
    return img;
}

QImage mapImage(const QVector<float>& map, int h, int w, bool diverging, const QImage& background,
                double opacity, double* scaleUsed) {
    double top = 0;
    for (float v : map)
        if (std::isfinite(v))
            top = std::max(top, diverging ? std::abs(double(v)) : double(v));
    if (scaleUsed)
        *scaleUsed = top;
    QImage img(w, h, QImage::Format_RGB32);
    const bool blend = !background.isNull() && background.size() == img.size() && opacity < 1.0;
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) {
            const double v = map.value(y * w + x);
            const double t = top > 0 ? v / top : 0.0; // constant: the scale's zero
            QColor c = diverging ? divergingColour(t) : sequentialColour(std::max(0.0, t));
            if (blend) {
                const QColor b = background.pixelColor(x, y);
                c = QColor::fromRgbF(float(opacity * c.redF() + (1 - opacity) * b.redF()),
                                     float(opacity * c.greenF() + (1 - opacity) * b.greenF()),
                                     float(opacity * c.blueF() + (1 - opacity) * b.blueF()));
            }
            img.setPixelColor(x, y, c);
        }
    return img;
}

QVector<float> displayedMap(const MapImage& m, bool* diverging) {
    const int plane = m.h * m.w;
    QVector<float> out(plane, 0.0f);
    const bool signedMap = m.method == "gradxinput" || m.method == "ig";
    *diverging = signedMap;
    for (int c = 0; c < m.channels; ++c)
        for (int i = 0; i < plane && c * plane + i < m.values.size(); ++i) {
            const float v = m.values[c * plane + i];
            if (signedMap)
                out[i] += v;
            else if (m.method == "gradcam")
                out[i] = v;
            else
                out[i] = std::max(out[i], std::abs(v));
        }
    return out;
}

QString methodTitle(const QString& method) {
    if (method == "grad")
        return QObject::tr("|gradient|");
    if (method == "gradxinput")
        return QObject::tr("gradient × input");
    if (method == "smoothgrad")
        return QObject::tr("SmoothGrad");
    if (method == "ig")
        return QObject::tr("integrated gradients");
    if (method == "gradcam")
        return QObject::tr("Grad-CAM");
    return method;
}

MapStrip::MapStrip(QWidget* parent) : QWidget(parent) {
    setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Expanding);
}

void MapStrip::setRows(const QVector<QVector<MapPanel>>& rows, const QStringList& rowTitles) {
    m_rows = rows;
    m_rowTitles = rowTitles;
    update();
}

const QVector<MapPanel>& MapStrip::panels() const {
    static const QVector<MapPanel> none;
    return m_rows.isEmpty() ? none : m_rows.first();
}

void MapStrip::paintEvent(QPaintEvent*) {
    QPainter p(this);
    p.fillRect(rect(), palette().base());
    int n = 0;
    for (const auto& row : m_rows)
        n = std::max(n, int(row.size()));
    const int R = int(m_rows.size());
    if (n == 0 || R == 0)
        return;
    const QFontMetrics fm(font());
    const int gap = fm.height() / 2, line = fm.height();
    int margin = 0;
    for (const QString& t : m_rowTitles)
        margin = std::max(margin, fm.horizontalAdvance(t) + gap);
    margin = std::min(margin, width() / 4);
    // Each row's text: a title line, a legend and a caption line where any panel has one.
    QVector<int> title(R), below(R);
    int text = 0;
    for (int r = 0; r < R; ++r) {
        bool t = false, legend = false, caption = false;
        for (const MapPanel& m : m_rows[r]) {
            t |= !m.title.isEmpty();
            legend |= m.legend;
            caption |= !m.caption.isEmpty();
        }
        title[r] = t ? line : 0;
        below[r] = 3 + (legend ? line / 2 + line + 1 : 0) + (caption ? line : 0);
        text += title[r] + below[r] + gap;
    }
    const int side =
        std::max(12, std::min((width() - margin - gap * (n + 1)) / n, (height() - gap - text) / R));
    int top = gap;
    for (int r = 0; r < R; ++r) {
        p.setPen(palette().color(QPalette::Text));
        if (r < m_rowTitles.size())
            p.drawText(QRect(0, top + title[r], margin - gap / 2, side),
                       Qt::AlignRight | Qt::AlignVCenter,
                       fm.elidedText(m_rowTitles[r], Qt::ElideRight, margin - gap / 2));
        int x = margin + gap;
        for (const MapPanel& m : m_rows[r]) {
            p.setPen(palette().color(QPalette::Text));
            if (title[r] > 0)
                p.drawText(QRect(x, top, side, line), Qt::AlignLeft | Qt::AlignVCenter,
                           fm.elidedText(m.title, Qt::ElideRight, side));
            const QRect tile(x, top + title[r], side, side);
            p.drawImage(tile, m.image); // nearest-neighbour: pixels stay pixels
            p.setPen(QColor(160, 160, 160));
            p.drawRect(tile.adjusted(0, 0, -1, -1));
            int y = tile.bottom() + 3;
            if (m.legend) {
                const QRect bar(x, y, side, line / 2);
                for (int i = 0; i < bar.width(); ++i) {
                    const double t = double(i) / std::max(1, bar.width() - 1);
                    p.setPen(m.diverging ? divergingColour(2 * t - 1) : sequentialColour(t));
                    p.drawLine(bar.left() + i, bar.top(), bar.left() + i, bar.bottom());
                }
                p.setPen(palette().color(QPalette::Text));
                const QString lo = m.diverging ? QString("−%1").arg(m.scale, 0, 'g', 2) : "0";
                const QString hi = QString(m.diverging ? "+%1" : "%1").arg(m.scale, 0, 'g', 2);
                const QRect under(x, bar.bottom() + 1, side, line);
                if (side >= fm.horizontalAdvance(lo + "  " + hi)) {
                    p.drawText(under, Qt::AlignLeft, lo);
                    p.drawText(under, Qt::AlignRight, hi);
                    if (m.diverging && side > fm.horizontalAdvance(lo + hi + " 0 "))
                        p.drawText(under, Qt::AlignHCenter, "0");
                } else { // too narrow for both ends: one label that says the range
                    const QString range = m.diverging ? QString("±%1").arg(m.scale, 0, 'g', 2)
                                                      : QString("0–%1").arg(m.scale, 0, 'g', 2);
                    p.drawText(under, Qt::AlignHCenter, fm.elidedText(range, Qt::ElideRight, side));
                }
                y = bar.bottom() + 1 + line;
            }
            if (!m.caption.isEmpty()) {
                p.setPen(palette().color(QPalette::Text));
                p.drawText(QRect(x, y, side, line), Qt::AlignLeft | Qt::AlignVCenter,
                           fm.elidedText(m.caption, Qt::ElideRight, side));
            }
            x += side + gap;
        }
        top += title[r] + side + below[r] + gap;
    }
}

} // namespace convscope::ui
