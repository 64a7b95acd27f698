// GradientsView: one QLineSeries on a log axis; hover names the layer.
#include "gradients_view.h"

#include <QChart>
#include <QChartView>
#include <QLineSeries>
#include <QLogValueAxis>
#include <QPainter>
#include <QTextStream>
#include <QVBoxLayout>
#include <QValueAxis>
#include <cmath>

namespace convscope::ui {

GradientsView::GradientsView(QWidget* parent) : View(parent) {
    m_chart = new QChart;
    m_chart->setTitle(tr("Gradient norm per layer, ‖∂L/∂W‖ of the last step (log scale)"));
    m_chart->legend()->hide();
    m_series = new QLineSeries;
    m_series->setPointsVisible(true);
    m_chart->addSeries(m_series);
    m_x = new QValueAxis;
    m_x->setTitleText(tr("learnable layer, from the input (1) to the output"));
    m_x->setLabelFormat("%d");
    m_y = new QLogValueAxis;
    m_y->setTitleText(tr("gradient norm"));
    m_y->setLabelFormat("%.0e");
    m_y->setBase(10);
    m_y->setMinorTickCount(8);
    m_chart->addAxis(m_x, Qt::AlignBottom);
    m_chart->addAxis(m_y, Qt::AlignLeft);
    m_series->attachAxis(m_x);
    m_series->attachAxis(m_y);
    m_x->setRange(1, 2);
    m_y->setRange(1e-6, 1);
    auto* view = new QChartView(m_chart);
    view->setRenderHint(QPainter::Antialiasing);
    view->setToolTip(tr("Vanishing gradients: with sigmoid layers (deep-sigmoid) the norm shrinks "
                        "by up to 4x per layer towards the input; ReLU, batch norm and skip "
                        "connections (resnet20) keep it level"));
    connect(m_series, &QLineSeries::hovered, this, [this, view](const QPointF& p, bool on) {
        const int i = qRound(p.x()) - 1;
        if (on && i >= 0 && i < m_layers.size())
            view->setToolTip(tr("%1: %2").arg(m_layers[i]).arg(p.y(), 0, 'g', 3));
    });
    auto* box = new QVBoxLayout(this);
    box->setContentsMargins(0, 0, 0, 0);
    box->addWidget(view);
    setPresenterMode(false);
}

void GradientsView::setNorms(const QStringList& layers, const QVector<double>& norms) {
    QList<QPointF> points;
    double lo = 1e30, hi = 0;
    for (int i = 0; i < norms.size(); ++i) {
        const double g = std::max(norms[i], 1e-12); // a log axis needs > 0
        points << QPointF(i + 1, g);
        lo = std::min(lo, g);
        hi = std::max(hi, g);
    }
    m_layers = layers;
    m_series->replace(points);
    m_x->setRange(1, std::max<qsizetype>(2, points.size()));
    m_x->setTickCount(points.size() <= 16 ? std::max<int>(2, int(points.size())) : 6);
    if (!points.isEmpty())
        m_y->setRange(std::pow(10.0, std::floor(std::log10(lo))),
                      std::pow(10.0, std::ceil(std::log10(hi))));
}

int GradientsView::points() const {
    return m_series->count();
}

bool GradientsView::exportCsv(const QString& path) {
    return writeText(path, [this](QTextStream& out) {
        out << "index,layer,grad_norm\n";
        for (int i = 0; i < m_series->count(); ++i)
            out << i + 1 << ',' << m_layers.value(i) << ',' << m_series->at(i).y() << '\n';
    });
}

void GradientsView::setPresenterMode(bool on) {
    View::setPresenterMode(on);
    setChartFont(m_chart, font());
    QPen p(on ? QColor(0x00, 0x72, 0xb2) : QColor(0x00, 0x5a, 0xb5));
    p.setWidth(on ? 5 : 2);
    m_series->setPen(p);
    m_series->setColor(p.color());
}

} // namespace convscope::ui
