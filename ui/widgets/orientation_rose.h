// OrientationRose: a polar histogram of the orientations θ of the Gabor-like first-layer filters,
// 12 bins of 15° over [0°, 180°) drawn twice (θ and θ + 180° are the same wave), each wedge as
// long as its count. Angles are drawn as in the filter images: 0° points right and θ grows
// clockwise (rows go down), so a wedge points along the wave, across the stripes.
#pragma once

#include <QVector>
#include <QWidget>

namespace convscope::ui {

class OrientationRose : public QWidget {
    Q_OBJECT
public:
    static constexpr int kBins = 12; // of 180° / 12 = 15°
    explicit OrientationRose(QWidget* parent = nullptr);
    // θ of each Gabor-like filter, degrees (any value; taken modulo 180°).
    void setAngles(const QVector<double>& thetaDeg);
    // Filters per bin: bin k holds θ in [15°·k, 15°·(k + 1)).
    const QVector<int>& bins() const { return m_bins; }
    int count() const { return m_count; }
    QSize sizeHint() const override { return {240, 260}; }
    QSize minimumSizeHint() const override;
    // Presenter mode: the Okabe–Ito colours and thicker lines.
    void setHighContrast(bool on);

protected:
    void paintEvent(QPaintEvent*) override;

private:
    QVector<int> m_bins = QVector<int>(kBins, 0);
    int m_count = 0;
    bool m_highContrast = false;
};

} // namespace convscope::ui
