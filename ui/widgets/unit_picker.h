// UnitPicker: a layer's feature maps for one test image, one tile a channel (grey, black at the
// layer's smallest value, white at its largest), to pick a unit by clicking: the unit (channel,
// y, x) under the mouse. The picked position is framed in every channel, its channel (when one
// is picked) highlighted.
#pragma once

#include "analysis_types.h"

#include <QWidget>

namespace convscope::ui {

class UnitPicker : public QWidget {
    Q_OBJECT
public:
    explicit UnitPicker(QWidget* parent = nullptr);
    void setMaps(const MapImage& maps);
    // The unit shown as picked; channel −1: every channel at (y, x).
    void setUnit(int channel, int y, int x);
    const MapImage& maps() const { return m_maps; }
    // The unit at widget position `pos`, or false.
    bool unitAt(const QPoint& pos, int* channel, int* y, int* x) const;
    // The centre of unit (channel, y, x) in widget coordinates (for tests).
    QPoint positionOf(int channel, int y, int x) const;
    QSize sizeHint() const override { return {420, 420}; }
    QSize minimumSizeHint() const override { return {160, 160}; }

signals:
    void unitPicked(int channel, int y, int x);

protected:
    void paintEvent(QPaintEvent*) override;
    void mousePressEvent(QMouseEvent* e) override;

private:
    struct Layout {
        int cols = 1, rows = 1;
        double scale = 1; // screen pixels per map pixel
        double gap = 4;
        QPointF origin;
    };
    Layout layout() const;
    QRectF tile(const Layout& l, int channel) const;
    MapImage m_maps;
    QVector<QImage> m_tiles;
    int m_channel = -1, m_y = -1, m_x = -1;
};

} // namespace convscope::ui
