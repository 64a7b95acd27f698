// FieldMap: one unit's receptive field drawn on the input — the test image in grey (or colour),
// the effective field (mean |∂unit/∂pixel|, Luo et al. 2016) as a heat map over it, and the
// theoretical field as a white square with the squares holding 50 % and 90 % of the effective
// field's mass dashed inside it. The picture scales to the widget without smoothing.
#pragma once

#include <QImage>
#include <QWidget>

namespace convscope::ui {

class FieldMap : public QWidget {
    Q_OBJECT
public:
    explicit FieldMap(QWidget* parent = nullptr);
    // `image`: the input (an RGB or grey QImage, h × w); `erf`: h × w; the unit's centre in
    // input pixels; the theoretical size; the sides of the 50 % and 90 % squares (0: none).
    void setField(const QImage& image, const QVector<float>& erf, double centreY, double centreX,
                  int rfH, int rfW, int side50, int side90);
    void clear();
    void setOpacity(double opacity); // of the heat map over the image, 0..1
    bool hasField() const { return !m_image.isNull(); }
    QSize sizeHint() const override { return {360, 360}; }
    QSize minimumSizeHint() const override { return {160, 160}; }

protected:
    void paintEvent(QPaintEvent*) override;

private:
    QImage m_image, m_blended;
    QVector<float> m_erf;
    double m_cy = 0, m_cx = 0, m_opacity = 0.7;
    int m_rfH = 0, m_rfW = 0, m_side50 = 0, m_side90 = 0;
    void blend();
};

} // namespace convscope::ui
