// GradientsView: one QLineSeries on a log axis; hover names the layer.
#include "gradients_view.h"

#include <QCategoryAxis>
#include <QChart>
#include <QChartView>
#include <QCheckBox>
#include <QHBoxLayout>
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
    m_x = new QCategoryAxis;
    m_x->setTitleText(tr("learnable layer, from the input to the output"));
    m_x->setLabelsPosition(QCategoryAxis::AxisLabelsPositionOnValue);
    m_x->setLabelsAngle(-45);
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
        if (on && i >= 0 && i < m_shown.size())
            view->setToolTip(tr("%1: %2").arg(m_shown[i]).arg(p.y(), 0, 'g', 3));
    });
    m_hideNorms = new QCheckBox(tr("Hide batch-norm layers"));
    m_hideNorms->setObjectName("hide norms");
    m_hideNorms->setToolTip(tr("Plot conv and linear layers only: γ and β of the norm layers "
                               "make a saw-tooth between them (ResNet-20: 43 points)"));
    m_hold = new QCheckBox(tr("Hold the y-range"));
    m_hold->setObjectName("hold range");
    m_hold->setToolTip(tr("Keep the log axis across runs (it only grows), so deep-sigmoid and "
                          "resnet20 can be compared on one scale"));
    connect(m_hideNorms, &QCheckBox::toggled, this, &GradientsView::redraw);
    connect(m_hold, &QCheckBox::toggled, this, [this](bool on) {
        if (!on)
            m_lo = m_hi = 0;
        redraw();
    });
    auto* bar = new QHBoxLayout;
    bar->addWidget(m_hideNorms);
    bar->addWidget(m_hold);
    bar->addStretch(1);
    auto* box = new QVBoxLayout(this);
    box->setContentsMargins(0, 0, 0, 0);
    box->addLayout(bar);
    box->addWidget(view, 1);
    setPresenterMode(false);
}

void GradientsView::setNorms(const QStringList& layers, const QVector<double>& norms,
                             const QStringList& types) {
    m_layers = layers;
    m_norms = norms;
    m_types = types;
    redraw();
}

void GradientsView::redraw() {
    QList<QPointF> points;
    m_shown.clear();
    double lo = 1e30, hi = 0;
    for (int i = 0; i < m_norms.size(); ++i) {
        const QString type = m_types.value(i);
        if (m_hideNorms->isChecked() && (type == "batch_norm" || type == "layer_norm"))
            continue;
        const double g = std::max(m_norms[i], 1e-12); // a log axis needs > 0
        m_shown << m_layers.value(i);
        points << QPointF(double(m_shown.size()), g);
        lo = std::min(lo, g);
        hi = std::max(hi, g);
    }
    m_series->replace(points);
    // The layers' names on the axis (every k-th when there are many).
    for (const QString& l : m_x->categoriesLabels())
        m_x->remove(l);
    const int n = int(points.size()), every = std::max(1, (n + 19) / 20);
    for (int i = 0; i < n; i += every)
        m_x->append(m_shown[i].isEmpty() ? QString::number(i + 1) : m_shown[i], double(i + 1));
    m_x->setRange(1, std::max(2, n));
    if (points.isEmpty())
        return;
    lo = std::pow(10.0, std::floor(std::log10(lo)));
    hi = std::pow(10.0, std::ceil(std::log10(hi)));
    if (m_hold->isChecked()) {
        m_lo = m_lo > 0 ? std::min(m_lo, lo) : lo;
        m_hi = std::max(m_hi, hi);
        lo = m_lo;
        hi = m_hi;
    }
    m_y->setRange(lo, hi);
}

QPair<double, double> GradientsView::yRange() const {
    return {m_y->min(), m_y->max()};
}

int GradientsView::points() const {
    return m_series->count();
}

bool GradientsView::exportCsv(const QString& path) {
    return writeText(path, [this](QTextStream& out) {
        out << "index,layer,grad_norm\n";
        for (int i = 0; i < m_series->count(); ++i)
            out << i + 1 << ',' << m_shown.value(i) << ',' << m_series->at(i).y() << '\n';
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
