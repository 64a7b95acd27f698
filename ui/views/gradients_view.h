// GradientsView: the Gradients tab. The norm of each learnable layer's weight gradient at the
// last step, input to output, on a log axis: the vanishing-gradient picture.
#pragma once

#include "view.h"

#include <QStringList>
#include <QVector>

class QLineSeries;
class QLogValueAxis;
class QValueAxis;
class QChart;

namespace convscope::ui {

class GradientsView : public View {
    Q_OBJECT
public:
    explicit GradientsView(QWidget* parent = nullptr);
    void setNorms(const QStringList& layers, const QVector<double>& norms);
    int points() const;
    bool exportCsv(const QString& path) override;
    QString csvDescription() const override { return tr("the gradient norm per layer"); }
    void setPresenterMode(bool on) override;

private:
    QChart* m_chart = nullptr;
    QLineSeries* m_series = nullptr;
    QValueAxis* m_x = nullptr;
    QLogValueAxis* m_y = nullptr;
    QStringList m_layers;
};

} // namespace convscope::ui
