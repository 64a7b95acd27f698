// FilterView: the first convolution layer's filters as a grid of enlarged images, redrawn as
// training changes them. Each filter has its own symmetric colour scale (blue < 0 < red, white
// at 0), so a filter's pattern is visible whatever its size; RGB filters are drawn in
// colour (grey = 0). With Gabor fits, each filter has its fitted Gabor beside it on the same
// scale and R² / null R² under the pair; Gabor-like pairs are framed in green and ticked. Click
// a filter to see it (and its fit) large.
#pragma once

#include "gabor_fitter.h"

#include <QVector>
#include <QWidget>

namespace convscope::ui {

class FilterView : public QWidget {
    Q_OBJECT
public:
    explicit FilterView(QWidget* parent = nullptr);
    // weights: (count, channels, h, w), PyTorch's layout; an empty vector clears the view.
    void setFilters(const QVector<float>& weights, int count, int channels, int h, int w);
    const QVector<float>& weights() const { return m_weights; }
    int count() const { return m_count; }
    int filterH() const { return m_h; }
    int filterW() const { return m_w; }
    int channels() const { return m_channels; }
    // The fits of these filters (kept while the filters keep their shape; empty: none).
    void setFits(const GaborFits& fits);
    const GaborFits& fits() const { return m_fits; }
    // Whether the fits are drawn beside the filters (they are kept either way).
    void setFitsShown(bool on);
    bool fitsShown() const { return m_showFits; }
    // Whether the fits are of filters of this shape (else they are not drawn).
    bool fitsMatch() const;
    // Whether fits are drawn now: shown, and matching.
    bool drawsFits() const { return m_showFits && fitsMatch(); }
    // One filter in words: its fit's R², null R², θ, λ, σ, φ, γ (the hover tooltip).
    QString describe(int filter) const;
    QSize sizeHint() const override { return {640, 480}; }
    // Presenter mode: the Okabe–Ito blue and vermillion ends, stronger on a projector.
    void setHighContrast(bool on);
    // What an empty view says (default: the filters appear when training starts).
    void setPlaceholder(const QString& text) {
        m_placeholder = text;
        update();
    }

protected:
    void paintEvent(QPaintEvent*) override;
    void mousePressEvent(QMouseEvent* e) override;
    bool event(QEvent* e) override;

private:
    struct Grid {
        int cols = 1, side = 4, labelH = 0, pairW = 4; // pairW: a filter and its fit
    };
    Grid grid(int gridW) const;
    int gridWidth() const;   // the grid's part of the width; the selected filter has the rest
    QRect cell(int i) const; // the filter's square (its fit is to its right when drawn)
    int cellAt(const QPoint& pos) const;
    int largeSide(int gridW) const; // the selected filter's square beside a grid this wide
    QRect largeArea() const;        // empty when there is no room for it
    QVector<float> m_weights;
    int m_count = 0, m_channels = 0, m_h = 0, m_w = 0, m_selected = 0;
    bool m_highContrast = false, m_showFits = true;
    GaborFits m_fits;
    QString m_placeholder;
};

} // namespace convscope::ui
