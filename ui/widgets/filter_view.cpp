// FilterView: painting the filter grid (each filter beside its Gabor fit when there is one) with a
// diverging colour scale, its legend, and the per-filter tooltip.
#include "filter_view.h"

#include <QHelpEvent>
#include <QMouseEvent>
#include <QPainter>
#include <QToolTip>
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

// An RGB filter's channel value on its scale: grey (127.5) is 0, 0 and 255 are ∓max.
int level(double v) {
    return int(std::lround(std::clamp(127.5 + 127.5 * v, 0.0, 255.0)));
}

// Gabor-like pairs: the Okabe–Ito bluish green frame.
const QColor kGaborLike(0, 158, 115);
constexpr int kGap = 6;    // between pairs
constexpr int kFitGap = 3; // between a filter and its fit
} // namespace

FilterView::FilterView(QWidget* parent) : QWidget(parent) {
    setToolTip(tr("First-layer filters: each is a small image the network slides over the input. "
                  "Trained on natural images they become edge and grating detectors (Gabor-like). "
                  "Blue < 0 < red, each filter on its own scale. Beside each filter its fitted "
                  "Gabor function on the same scale (for RGB filters, the fit of the channel "
                  "mean, in grey), and under them R² of the fit / R² of the same fit on the "
                  "filter's shuffled pixels: a small kernel is easy to fit, so only a fit well "
                  "above that null counts. Green frame and ✓: Gabor-like. Hover a filter for its "
                  "fit; click one to enlarge it."));
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

void FilterView::setFits(const GaborFits& fits) {
    m_fits = fits;
    update();
}

void FilterView::setFitsShown(bool on) {
    m_showFits = on;
    update();
}

bool FilterView::fitsMatch() const {
    return m_count > 0 && m_fits.count == m_count && m_fits.channels == m_channels &&
           m_fits.h == m_h && m_fits.w == m_w && m_fits.filters.size() == m_count;
}

void FilterView::setHighContrast(bool on) {
    m_highContrast = on;
    update();
}

namespace {
// The labels under the pairs: a little smaller than the text, never below 7 pt.
QFont labelFont(QFont f) {
    if (f.pointSizeF() > 0)
        f.setPointSizeF(std::max(7.0, f.pointSizeF() * 0.9));
    return f;
}
} // namespace

FilterView::Grid FilterView::grid(int gridW) const {
    // The column count that gives the largest squares in gridW × height().
    const bool fits = drawsFits();
    Grid g;
    g.labelH = fits ? QFontMetrics(labelFont(font())).height() + 2 : 0;
    const int gridH = height() - 20;
    int best = 0;
    for (int c = 1; c <= std::max(1, m_count); ++c) {
        const int rows = (m_count + c - 1) / c;
        const int across = (gridW - 10) / c - kGap - (fits ? kFitGap : 0);
        const int s =
            std::min(fits ? across / 2 : across, gridH / std::max(1, rows) - kGap - g.labelH);
        if (s > best) {
            best = s;
            g.cols = c;
        }
    }
    g.side = std::max(best, 4);
    g.pairW = fits ? 2 * g.side + kFitGap : g.side;
    return g;
}

int FilterView::gridWidth() const {
    // The grid's share, less what it leaves unused; the rest is for the selected filter large,
    // unless that would be too small to read.
    const int nominal = drawsFits() ? width() * 2 / 3 : width() * 3 / 5;
    if (largeSide(nominal) < 3 * QFontMetrics(font()).height())
        return width();
    const Grid g = grid(nominal);
    return std::min(nominal, 10 + g.cols * (g.pairW + kGap));
}

int FilterView::largeSide(int gridW) const {
    // One square, or with a fit two side by side, over the legend and four lines of numbers.
    const int room = width() - gridW - 40;
    const int line = QFontMetrics(font()).height();
    const int top = line + 10, legend = 16 + 14 + line + 6 + (m_channels == 3 ? 2 * line : 0);
    const int lines = drawsFits() ? 4 * line + 8 : 0;
    return std::min(drawsFits() ? (room - 8) / 2 : room, height() - top - legend - lines);
}

QRect FilterView::cell(int i) const {
    const Grid g = grid(gridWidth());
    return {10 + (i % g.cols) * (g.pairW + kGap), 10 + (i / g.cols) * (g.side + g.labelH + kGap),
            g.side, g.side};
}

int FilterView::cellAt(const QPoint& pos) const {
    const int fitW = drawsFits() ? kFitGap : 0;
    for (int f = 0; f < m_count; ++f) {
        const QRect r = cell(f);
        if (r.adjusted(0, 0, fitW > 0 ? r.width() + fitW : 0, 0).contains(pos))
            return f;
    }
    return -1;
}

QRect FilterView::largeArea() const {
    const int gridW = gridWidth();
    if (gridW >= width())
        return {};
    const int side = largeSide(gridW);
    return {gridW + 20, QFontMetrics(font()).height() + 10, side, side};
}

QString FilterView::describe(int f) const {
    if (f < 0 || f >= m_count)
        return {};
    QString text = tr("Filter %1 of %2 (%3×%4").arg(f + 1).arg(m_count).arg(m_h).arg(m_w);
    text += m_channels > 1 ? tr("×%1)").arg(m_channels) : QString(")");
    if (!m_showFits)
        return text;
    if (!fitsMatch())
        return text + tr(": no Gabor fit yet");
    const GaborFilterFit& g = m_fits.filters[f];
    text += tr("\nR² %1 of the Gabor fit, %2 on its shuffled pixels: %3")
                .arg(g.r2, 0, 'f', 2)
                .arg(g.nullR2, 0, 'f', 2)
                .arg(g.gaborLike ? tr("Gabor-like ✓") : tr("not Gabor-like"));
    text += tr("\nθ %1° (the wave's direction, across the stripes), λ %2 px, σ %3 px, φ %4°, "
               "γ %5")
                .arg(g.thetaDeg, 0, 'f', 0)
                .arg(g.wavelength, 0, 'f', 1)
                .arg(g.sigma, 0, 'f', 1)
                .arg(g.phaseDeg, 0, 'f', 0)
                .arg(g.gamma, 0, 'f', 2);
    if (m_channels == 3)
        text += tr("\nThe fit is of the channel mean (drawn in grey); colour contrast %1 (0: "
                   "the same pattern in every channel)")
                    .arg(g.colourContrast, 0, 'f', 2);
    else if (m_channels > 1)
        text += tr("\nThe fit is of the channel mean");
    return text;
}

void FilterView::paintEvent(QPaintEvent*) {
    QPainter p(this);
    p.fillRect(rect(), palette().window());
    if (m_count == 0) {
        p.drawText(rect().adjusted(8, 8, -8, -8), Qt::AlignCenter | Qt::TextWordWrap,
                   m_placeholder.isEmpty()
                       ? tr("The first layer's filters appear here when training starts")
                       : m_placeholder);
        return;
    }
    const bool fits = drawsFits();
    const int taps = m_h * m_w, per = m_channels * taps;
    // The filter's own scale: its largest |weight|; the fit is drawn on the same one.
    auto scaleOf = [&](int f) {
        double scale = 1e-12;
        for (int k = 0; k < per; ++k)
            scale = std::max(scale, double(std::abs(m_weights[f * per + k])));
        return scale;
    };
    auto pixels = [&](const QRect& r, auto colourAt) {
        const double cw = double(r.width()) / m_w, ch = double(r.height()) / m_h;
        for (int y = 0; y < m_h; ++y)
            for (int x = 0; x < m_w; ++x)
                p.fillRect(QRectF(r.x() + x * cw, r.y() + y * ch, std::ceil(cw), std::ceil(ch)),
                           colourAt(y, x));
    };
    auto frame = [&](int f, const QRect& r) {
        p.setPen(f == m_selected ? QPen(palette().highlight(), 3) : QPen(palette().mid(), 1));
        p.setBrush(Qt::NoBrush);
        p.drawRect(r);
    };
    auto draw = [&](int f, const QRect& r) {
        const double scale = scaleOf(f);
        pixels(r, [&](int y, int x) {
            const float* w = m_weights.constData() + f * per + y * m_w + x;
            if (m_channels == 3) // RGB filters in colour: grey 0, each channel ±max
                return QColor(level(w[0] / scale), level(w[taps] / scale),
                              level(w[2 * taps] / scale));
            double v = 0;
            for (int c = 0; c < m_channels; ++c)
                v += w[c * taps];
            return diverging(v / m_channels / scale, m_highContrast);
        });
        frame(f, r);
    };
    auto drawFit = [&](int f, const QRect& r) {
        const double scale = scaleOf(f);
        const QVector<float>& map = m_fits.filters[f].map;
        pixels(r, [&](int y, int x) {
            const double v = map.value(y * m_w + x) / scale;
            if (m_channels == 3) { // the channel mean's fit, in grey
                const int l = level(v);
                return QColor(l, l, l);
            }
            return diverging(v, m_highContrast);
        });
        frame(f, r);
    };
    const QFont small = labelFont(font());
    const QFontMetrics sfm(small);
    for (int f = 0; f < m_count; ++f) {
        const QRect r = cell(f);
        draw(f, r);
        if (!fits)
            continue;
        const QRect fit = r.translated(r.width() + kFitGap, 0);
        drawFit(f, fit);
        const GaborFilterFit& g = m_fits.filters[f];
        const QRect pair = r.united(fit);
        if (g.gaborLike) {
            p.setPen(QPen(kGaborLike, m_highContrast ? 4 : 3));
            p.drawRect(pair.adjusted(-3, -3, 3, 3));
        }
        // "R² 0.84 / 0.28 ✓", shortened to what the pair's width holds (at the least R² alone:
        // the null is in the tooltip).
        const QString tick = g.gaborLike ? QStringLiteral(" ✓") : QString();
        const QString r2 = QString::number(g.r2, 'f', 2), null = QString::number(g.nullR2, 'f', 2);
        QString label;
        for (const QString& candidate :
             {tr("R² %1 / %2").arg(r2, null) + tick, QString("%1 / %2").arg(r2, null) + tick,
              QString("%1/%2").arg(r2, null) + tick, r2 + tick, r2}) {
            label = candidate;
            if (sfm.horizontalAdvance(label) <= pair.width() + 4)
                break;
        }
        p.setFont(small);
        p.setPen(g.gaborLike ? kGaborLike.darker(130) : palette().color(QPalette::Text));
        p.drawText(QRect(pair.x() - 2, pair.bottom() + 3, pair.width() + 4, sfm.height()),
                   Qt::AlignHCenter | Qt::AlignTop,
                   sfm.elidedText(label, Qt::ElideRight, pair.width() + 4));
        p.setFont(font());
    }
    const QRect big = largeArea();
    if (big.isEmpty())
        return;
    draw(m_selected, big);
    const QRect bigFit = big.translated(big.width() + 8, 0);
    if (fits)
        drawFit(m_selected, bigFit);
    const QRect both = fits ? big.united(bigFit) : big;
    // Titles and numbers may use the whole right part, wider than the squares.
    const int right = gridWidth() + 10, rightW = width() - right - 4;
    const QFontMetrics fm(font());
    p.setPen(palette().text().color());
    QString title =
        tr("filter %1 of %2 (%3x%4)").arg(m_selected + 1).arg(m_count).arg(m_h).arg(m_w);
    if (fits) // "… · its Gabor fit", or shorter where that does not fit
        title = fm.horizontalAdvance(title + tr(" · its Gabor fit")) <= rightW
                    ? title + tr(" · its Gabor fit")
                    : tr("filter %1 · fit").arg(m_selected + 1);
    p.drawText(QRect(right, 4, rightW, fm.height() + 4), Qt::AlignCenter,
               fm.elidedText(title, Qt::ElideRight, rightW));
    const QRect legend(both.x(), both.bottom() + 16, both.width(), 14);
    int below = legend.bottom() + fm.height() + 6; // where the numbers start
    if (m_channels == 3) {
        const QString note = fits ? tr("RGB: grey is 0, each channel from −max to +max; the fit "
                                       "(grey) is of the channel mean")
                                  : tr("RGB: grey is 0, each channel from −max to +max");
        const int flags = Qt::AlignHCenter | Qt::AlignTop | Qt::TextWordWrap;
        const QRect box = fm.boundingRect(QRect(right, legend.y(), rightW, 0), flags, note);
        p.drawText(QRect(right, legend.y(), rightW, box.height()), flags, note);
        below = legend.y() + box.height() + 6;
    } else {
        // Legend: the colour scale.
        for (int x = 0; x < legend.width(); ++x)
            p.fillRect(legend.x() + x, legend.y(), 1, legend.height(),
                       diverging(2.0 * x / std::max(1, legend.width() - 1) - 1.0, m_highContrast));
        const QRect under(legend.x(), legend.bottom() + 2, legend.width(), fm.height());
        p.drawText(under, Qt::AlignLeft, tr("−max"));
        p.drawText(under, Qt::AlignHCenter, "0");
        p.drawText(under, Qt::AlignRight, tr("+max"));
    }
    if (!fits)
        return;
    // The selected filter's fit in numbers.
    const GaborFilterFit& g = m_fits.filters[m_selected];
    const QRect numbers(right, below, rightW, 4 * fm.height());
    p.setPen(g.gaborLike ? kGaborLike.darker(130) : palette().color(QPalette::Text));
    p.drawText(numbers, Qt::AlignHCenter | Qt::AlignTop | Qt::TextWordWrap,
               tr("R² %1, null %2\n%3\nθ %4°  λ %5  σ %6  γ %7")
                   .arg(g.r2, 0, 'f', 2)
                   .arg(g.nullR2, 0, 'f', 2)
                   .arg(g.gaborLike ? tr("Gabor-like ✓") : tr("not Gabor-like"))
                   .arg(g.thetaDeg, 0, 'f', 0)
                   .arg(g.wavelength, 0, 'f', 1)
                   .arg(g.sigma, 0, 'f', 1)
                   .arg(g.gamma, 0, 'f', 2));
}

void FilterView::mousePressEvent(QMouseEvent* e) {
    if (const int f = cellAt(e->pos()); f >= 0) {
        m_selected = f;
        update();
    }
}

bool FilterView::event(QEvent* e) {
    if (e->type() == QEvent::ToolTip) {
        auto* h = static_cast<QHelpEvent*>(e);
        if (const int f = cellAt(h->pos()); f >= 0) {
            QToolTip::showText(h->globalPos(), describe(f), this);
            return true;
        }
    }
    return QWidget::event(e);
}

} // namespace convscope::ui
