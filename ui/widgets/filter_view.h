// FilterView: the first convolution layer's filters as a grid of enlarged images, redrawn as
// training changes them. Each filter has its own symmetric colour scale (blue < 0 < red, white
// at 0), so a filter's pattern is visible whatever its size; RGB filters are drawn in
// colour (grey = 0). Click a filter to see it large.
#pragma once

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
    QSize sizeHint() const override { return {640, 480}; }
    // Presenter mode: the Okabe–Ito blue and vermillion ends, stronger on a projector.
    void setHighContrast(bool on);

protected:
    void paintEvent(QPaintEvent*) override;
    void mousePressEvent(QMouseEvent* e) override;

private:
    QRect cell(int i) const;
    QRect largeArea() const;
    QVector<float> m_weights;
    int m_count = 0, m_channels = 0, m_h = 0, m_w = 0, m_selected = 0;
    bool m_highContrast = false;
};

} // namespace convscope::ui
