// MapStrip: pictures side by side, each with a title, a colour legend and a caption: the input
// image and its saliency maps, or one step of the sanity check. Maps are drawn on a diverging
// scale (signed: blue < 0 < red, white at 0, symmetric about 0) or a sequential one (magnitudes:
// black → yellow), each on its own scale (a method's units are its own), over the image with
// the chosen opacity. A constant map sits at the scale's zero: nothing is divided by zero.
#pragma once

#include "analysis_types.h"

#include <QImage>
#include <QWidget>

namespace convscope::ui {

// Colour scales, shared by the analysis views. t in [−1, 1] and [0, 1].
QColor divergingColour(double t);
QColor sequentialColour(double t);
// An image in [0, 1], (channels, h, w), as a QImage (grey or RGB).
QImage pixelsImage(const QVector<float>& pixels, int channels, int h, int w);

struct MapPanel {
    QString title, caption;
    QImage image;        // the picture (scaled to fit, without smoothing)
    bool legend = false; // a colour bar under it
    bool diverging = false;
    double scale = 0; // the legend's end: ±scale (diverging) or 0..scale
};

// A map (h, w) as a picture: signed → diverging by max |·|, else sequential by max, blended over
// `background` (same size) with `opacity` when given. Returns the scale used.
QImage mapImage(const QVector<float>& map, int h, int w, bool diverging, const QImage& background,
                double opacity, double* scaleUsed);
// The map a method shows: max |·| over channels for grad and SmoothGrad, the channel sum for the
// signed ones (gradient × input, integrated gradients), Grad-CAM as it is.
QVector<float> displayedMap(const MapImage& m, bool* diverging);
QString methodTitle(const QString& method);

// One row of panels, or several (the sanity check: a row per randomisation step), the tiles as
// large as the widget allows.
class MapStrip : public QWidget {
    Q_OBJECT
public:
    explicit MapStrip(QWidget* parent = nullptr);
    void setPanels(const QVector<MapPanel>& panels) { setRows({panels}); }
    // `rowTitles` go in a margin on the left (e.g. the method of each row).
    void setRows(const QVector<QVector<MapPanel>>& rows, const QStringList& rowTitles = {});
    const QVector<MapPanel>& panels() const; // the first row
    int rows() const { return int(m_rows.size()); }
    QSize sizeHint() const override { return {900, 240}; }
    QSize minimumSizeHint() const override { return {140, 100}; }

protected:
    void paintEvent(QPaintEvent*) override;

private:
    QVector<QVector<MapPanel>> m_rows;
    QStringList m_rowTitles;
};

} // namespace convscope::ui
