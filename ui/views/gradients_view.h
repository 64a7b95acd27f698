// GradientsView: the Gradients tab. The norm of each learnable layer's weight gradient at the
// last step, input to output, on a log axis: the vanishing-gradient picture.
#pragma once

#include "view.h"

#include <QStringList>
#include <QVector>

class QCategoryAxis;
class QChart;
class QCheckBox;
class QLineSeries;
class QLogValueAxis;

namespace convscope::ui {

class GradientsView : public View {
    Q_OBJECT
public:
    explicit GradientsView(QWidget* parent = nullptr);
    // Per learnable layer (input to output): its name, type and gradient norm.
    void setNorms(const QStringList& layers, const QVector<double>& norms,
                  const QStringList& types = {});
    int points() const;
    QCheckBox* hideNormsBox() const { return m_hideNorms; }
    QCheckBox* holdRangeBox() const { return m_hold; }
    QPair<double, double> yRange() const;
    QStringList shownLayers() const { return m_shown; }
    bool exportCsv(const QString& path) override;
    QString csvDescription() const override { return tr("the gradient norm per layer"); }
    void setPresenterMode(bool on) override;

private:
    void redraw();

    QChart* m_chart = nullptr;
    QLineSeries* m_series = nullptr;
    QCategoryAxis* m_x = nullptr;
    QLogValueAxis* m_y = nullptr;
    QCheckBox *m_hideNorms = nullptr, *m_hold = nullptr;
    QStringList m_layers, m_types, m_shown; // m_shown: the plotted layers
    QVector<double> m_norms;
    double m_lo = 0, m_hi = 0; // the held y-range (0: none)
};

} // namespace convscope::ui
