// TrainView: the loss/accuracy chart (Qt Charts) and the confusion matrix.
#include "train_view.h"
#include "confusion_matrix.h"
#include "training_session.h"

#include <QComboBox>
#include <QDoubleSpinBox>
#include <QHBoxLayout>
#include <QLabel>

#include <QChart>
#include <QChartView>
#include <QLineSeries>
#include <QPainter>
#include <QScatterSeries>
#include <QSplitter>
#include <QTextStream>
#include <QVBoxLayout>
#include <QValueAxis>
#include <cmath>

namespace convscope::ui {

void setNiceRange(QValueAxis* axis, double top) {
    const double p = std::pow(10.0, std::floor(std::log10(std::max(top, 1e-9))));
    double end = 10 * p;
    for (double m : {1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0})
        if (m * p >= top * (1 - 1e-9)) {
            end = m * p;
            break;
        }
    const double q = std::pow(10.0, std::floor(std::log10(end) + 1e-9));
    double step = end;
    for (double m : {0.1, 0.2, 0.25, 0.5, 1.0})
        if (end / (m * q) <= 8 + 1e-9) {
            step = m * q;
            break;
        }
    axis->setRange(0, end);
    axis->setTickType(QValueAxis::TicksDynamic);
    axis->setTickAnchor(0);
    axis->setTickInterval(step);
}

TrainView::TrainView(TrainingSession& session, QWidget* parent) : View(parent), m_session(session) {
    m_chart = new QChart;
    m_chart->setTitle(tr("Training loss, test loss and test accuracy"));
    m_loss = new QLineSeries;
    m_loss->setName(tr("loss"));
    m_smoothed = new QLineSeries;
    m_smoothed->setName(tr("smoothed"));
    m_accuracy = new QLineSeries;
    m_accuracy->setName(tr("test acc. %"));
    m_accuracy->setPointsVisible(true);
    m_accuracy->setPointLabelsVisible(true); // the numbers, said: "89.1"
    m_accuracy->setPointLabelsFormat("@yPoint");
    m_accuracy->setPointLabelsClipping(false);
    m_trainAccuracy = new QLineSeries;
    m_trainAccuracy->setName(tr("train acc. %"));
    m_trainAccuracy->setPointsVisible(true);
    m_chance = new QLineSeries;
    m_chance->setName(tr("chance"));
    m_lrSeries = new QLineSeries;
    m_lrSeries->setName(tr("learning rate"));
    m_testLoss = new QScatterSeries; // colours and widths: applyPalette()
    m_testLoss->setName(tr("test loss"));
    for (QXYSeries* s : std::initializer_list<QXYSeries*>{
             m_loss, m_smoothed, m_testLoss, m_accuracy, m_trainAccuracy, m_chance, m_lrSeries})
        m_chart->addSeries(s);
    m_x = new QValueAxis;
    m_x->setTitleText(tr("step"));
    m_x->setLabelFormat("%d");
    m_yLoss = new QValueAxis;
    m_yLoss->setTitleText(tr("cross-entropy loss"));
    m_yLoss->setTickCount(6);
    m_yAcc = new QValueAxis;
    m_yAcc->setTitleText(tr("accuracy (%)"));
    m_yAcc->setRange(0, 100);
    m_yAcc->setLabelFormat("%d");
    m_yAcc->setGridLineVisible(false); // the loss axis draws the grid: one set of lines
    m_chart->addAxis(m_x, Qt::AlignBottom);
    m_chart->addAxis(m_yLoss, Qt::AlignLeft);
    m_chart->addAxis(m_yAcc, Qt::AlignRight);
    m_yLr = new QValueAxis; // the schedule: a raised Epochs count raises it again on Continue
    m_yLr->setTitleText(tr("learning rate"));
    m_yLr->setLabelFormat("%.2g");
    m_yLr->setGridLineVisible(false);
    m_yLr->setRange(0, 0.025);
    m_chart->addAxis(m_yLr, Qt::AlignRight);
    m_lrSeries->attachAxis(m_x);
    m_lrSeries->attachAxis(m_yLr);
    for (QXYSeries* s :
         std::initializer_list<QXYSeries*>{m_loss, m_smoothed, m_testLoss, m_chance}) {
        s->attachAxis(m_x);
        s->attachAxis(m_yLoss);
    }
    for (QXYSeries* s : std::initializer_list<QXYSeries*>{m_accuracy, m_trainAccuracy}) {
        s->attachAxis(m_x);
        s->attachAxis(m_yAcc);
    }

    m_x->setRange(0, 100);
    m_yLoss->setRange(0, 2.5);
    auto* view = new QChartView(m_chart);
    view->setRenderHint(QPainter::Antialiasing);
    connect(m_accuracy, &QLineSeries::hovered, this, [view](const QPointF& p, bool on) {
        if (on)
            view->setToolTip(tr("step %1: test accuracy %2 %").arg(p.x()).arg(p.y()));
    });
    m_confusion = new ConfusionMatrix;
    m_confusion->setObjectName("confusion matrix");
    connect(m_confusion, &ConfusionMatrix::cellClicked, this, &TrainView::confusionCellClicked);
    // Which matrix: the clean test set's (after each epoch) or of adversarial images.
    m_source = new QComboBox;
    m_source->setObjectName("confusion source");
    m_source->addItems({tr("clean test images"), tr("FGSM at ε"), tr("PGD-10 at ε")});
    m_source->setToolTip(tr("The confusion matrix of the test set, or of its adversarial "
                            "versions: which classes does the attack push images into?"));
    m_eps = new QDoubleSpinBox;
    m_eps->setObjectName("confusion epsilon");
    m_eps->setRange(0.005, 0.3);
    m_eps->setSingleStep(0.025);
    m_eps->setDecimals(3);
    m_eps->setValue(0.1);
    m_eps->setPrefix(tr("ε = "));
    m_eps->setEnabled(false);
    connect(m_source, &QComboBox::currentIndexChanged, this, [this](int i) {
        m_eps->setEnabled(i > 0);
        if (i == 0)
            m_confusion->setResult(m_clean);
        else
            requestAdversarial();
    });
    connect(m_eps, &QDoubleSpinBox::editingFinished, this, [this] {
        if (m_source->currentIndex() > 0)
            requestAdversarial();
    });
    connect(&m_session, &TrainingSession::confusionReady, this, [this](const ConfusionResult& r) {
        if (r.eps > 0 && m_source->currentIndex() > 0 && r.error.isEmpty())
            m_confusion->setResult(r);
    });
    auto* matrix = new QWidget;
    auto* matrixBox = new QVBoxLayout(matrix);
    matrixBox->setContentsMargins(0, 0, 0, 0);
    auto* row = new QHBoxLayout;
    row->addWidget(new QLabel(tr("Matrix of")));
    row->addWidget(m_source, 1);
    row->addWidget(m_eps);
    matrixBox->addLayout(row);
    matrixBox->addWidget(m_confusion, 1);
    auto* split = new QSplitter(Qt::Horizontal);
    split->addWidget(view);
    split->addWidget(matrix);
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 2);
    split->setSizes({800, 420}); // the chart first: stretch factors only share extra space
    split->setChildrenCollapsible(false);
    auto* box = new QVBoxLayout(this);
    box->setContentsMargins(0, 0, 0, 0);
    box->addWidget(split);
    applyPalette();
}

void TrainView::clear() {
    for (QXYSeries* s : std::initializer_list<QXYSeries*>{m_loss, m_smoothed, m_accuracy,
                                                          m_testLoss, m_trainAccuracy})
        s->clear();
    m_lr.clear();
    m_lrSeries->clear();
    m_maxLr = 0;
    m_smooth = 0;
    m_smoothCount = 0;
    m_maxLoss = 1;
    m_clean = {};
    m_confusion->setResult({});
}

void TrainView::appendLoss(const QVector<QPointF>& points, qint64 totalSteps,
                           const QVector<double>& lrs) {
    // Thin the raw curve for long runs: the chart keeps at most ~4,000 points per series.
    for (qsizetype k = 0; k < points.size(); ++k) {
        const QPointF& p = points[k];
        // Exponential moving average with Adam's bias correction, so it does not lag at the start.
        m_smooth = 0.95 * m_smooth + 0.05 * p.y();
        ++m_smoothCount;
        const double smoothed = m_smooth / (1.0 - std::pow(0.95, double(m_smoothCount)));
        if (std::isfinite(p.y()))
            m_maxLoss = std::max(m_maxLoss, std::min(p.y(), 10.0));
        if (totalSteps <= 4000 || qint64(p.x()) % (totalSteps / 4000 + 1) == 0) {
            m_loss->append(p);
            m_smoothed->append(p.x(), smoothed);
            m_lr.push_back(k < lrs.size() ? lrs[k] : std::nan(""));
            if (k < lrs.size()) {
                m_lrSeries->append(p.x(), lrs[k]);
                if (lrs[k] > m_maxLr) {
                    m_maxLr = lrs[k];
                    m_yLr->setRange(0, m_maxLr * 1.1);
                }
            }
        }
    }
}

namespace {
// A fraction as a percentage with one decimal (what the point labels print).
QPointF percent(const QPointF& p) {
    return {p.x(), std::round(1000.0 * p.y()) / 10.0};
}
} // namespace

void TrainView::setClasses(int classes) {
    m_classes = classes;
    m_chance->clear();
    if (classes < 2)
        return;
    const double level = std::log(double(classes));
    m_chance->append(0, level);
    m_chance->append(std::max(1.0, m_x->max()), level); // across the axis (setProgress follows)
    m_chance->setName(tr("chance ln %1 = %2").arg(classes).arg(level, 0, 'f', 2));
}

double TrainView::chanceLevel() const {
    return m_chance->count() > 0 ? m_chance->at(0).y() : 0.0;
}

QString TrainView::accuracyText() const {
    if (m_accuracy->count() == 0)
        return {};
    const int epoch = int(m_accuracy->count());
    QString text = tr("test %1 %").arg(m_accuracy->at(epoch - 1).y(), 0, 'f', 1);
    if (m_trainAccuracy->count() > 0)
        text += tr(" · train %1 %")
                    .arg(m_trainAccuracy->at(m_trainAccuracy->count() - 1).y(), 0, 'f', 1);
    return text + tr(" after epoch %1").arg(epoch);
}

int TrainView::lrPoints() const {
    return m_lrSeries->count();
}

int TrainView::trainAccuracyPoints() const {
    return m_trainAccuracy->count();
}

void TrainView::addEpochPoints(const QVector<QPointF>& accuracy, const QVector<QPointF>& loss,
                               const QVector<QPointF>& trainAccuracy) {
    for (const QPointF& p : accuracy)
        m_accuracy->append(percent(p));
    for (const QPointF& p : loss)
        m_testLoss->append(p);
    for (const QPointF& p : trainAccuracy)
        m_trainAccuracy->append(percent(p));
}

void TrainView::setCurves(const QVector<QPointF>& loss, const QVector<QPointF>& accuracy,
                          const QVector<QPointF>& testLoss, qint64 steps) {
    clear();
    appendLoss(loss, steps);
    for (const QPointF& p : accuracy)
        m_accuracy->append(percent(p));
    m_testLoss->replace(QList<QPointF>(testLoss.begin(), testLoss.end()));
    setNiceRange(m_x, double(std::max<qint64>(10, steps)));
    setNiceRange(m_yLoss, m_maxLoss * 1.05);
    stretchChanceLine();
}

void TrainView::setProgress(qint64 step, qint64 totalSteps) {
    setNiceRange(m_x, std::max(10.0, std::min(double(totalSteps), 1.25 * double(step) + 10)));
    setNiceRange(m_yLoss, m_maxLoss * 1.05);
    stretchChanceLine();
}

void TrainView::stretchChanceLine() {
    if (m_chance->count() == 2)
        m_chance->replace(1, QPointF(m_x->max(), m_chance->at(0).y()));
}

void TrainView::setConfusion(const ConfusionResult& r) {
    m_clean = r;
    if (m_source->currentIndex() == 0)
        m_confusion->setResult(r);
}

void TrainView::requestAdversarial() {
    m_session.requestConfusion(0, m_eps->value(), m_source->currentIndex() == 2 ? 10 : 0);
}

QVector<double> TrainView::lossValues() const {
    QVector<double> v;
    for (const QPointF& p : m_loss->points())
        v << p.y();
    return v;
}

int TrainView::lossPoints() const {
    return m_loss->count();
}
int TrainView::accuracyPoints() const {
    return m_accuracy->count();
}
int TrainView::testLossPoints() const {
    return m_testLoss->count();
}

bool TrainView::exportCsv(const QString& path) {
    return writeText(path, [this](QTextStream& out) {
        out << "step,lr,loss,smoothed_loss,test_loss,test_accuracy,train_accuracy\n";
        const auto raw = m_loss->points(), smooth = m_smoothed->points(),
                   acc = m_accuracy->points(), testLoss = m_testLoss->points(),
                   trainAcc = m_trainAccuracy->points();
        for (qsizetype i = 0; i < raw.size(); ++i) {
            out << qint64(raw[i].x()) << ',';
            if (i < m_lr.size() && std::isfinite(m_lr[i]))
                out << m_lr[i];
            out << ',' << raw[i].y() << ',' << (i < smooth.size() ? smooth[i].y() : 0.0) << ",,,\n";
        }
        for (qsizetype i = 0; i < acc.size(); ++i) // accuracies as fractions, as in metrics.csv
            out << qint64(acc[i].x()) << ",,,," << (i < testLoss.size() ? testLoss[i].y() : 0.0)
                << ',' << acc[i].y() / 100 << ','
                << (i < trainAcc.size() ? QString::number(trainAcc[i].y() / 100) : QString())
                << '\n';
        // The confusion matrix after the curves, one row per true class.
        const ConfusionResult& c = m_confusion->result();
        if (c.classes > 0) {
            out << "\ntrue\\predicted";
            for (int k = 0; k < c.classes; ++k)
                out << ',' << quoted(c.classNames.value(k, QString::number(k)));
            out << '\n';
            for (int t = 0; t < c.classes; ++t) {
                out << quoted(c.classNames.value(t, QString::number(t)));
                for (int k = 0; k < c.classes; ++k)
                    out << ',' << c.counts.value(t * c.classes + k);
                out << '\n';
            }
        }
    });
}

void TrainView::setPresenterMode(bool on) {
    View::setPresenterMode(on);
    setChartFont(m_chart, font());
    // Six entries in a large font do not fit in a row: a column beside the chart.
    m_chart->legend()->setAlignment(on ? Qt::AlignRight : Qt::AlignTop);
    applyPalette();
}

// Normal colours, or for a projector the Okabe–Ito palette (safe for colour-blind viewers) with
// thick lines: grey raw loss, black smoothed loss, blue test loss, vermillion accuracy.
void TrainView::applyPalette() {
    const bool hc = m_presenter;
    auto pen = [&](QXYSeries* series, QColor c, int width) {
        QPen p(c);
        p.setWidth(hc ? width * 5 / 2 : width);
        series->setPen(p);
        series->setColor(c);
    };
    pen(m_loss, hc ? QColor(0xa0, 0xa0, 0xa0) : QColor(0x9e, 0xc5, 0xe8), 1);
    pen(m_smoothed, hc ? QColor(0, 0, 0) : QColor(0x00, 0x5a, 0xb5), 2);
    pen(m_accuracy, hc ? QColor(0xd5, 0x5e, 0x00) : QColor(0xdc, 0x32, 0x20), 2);
    pen(m_trainAccuracy, hc ? QColor(0xcc, 0x79, 0xa7) : QColor(0xf0, 0x90, 0x80), 1);
    pen(m_lrSeries, hc ? QColor(0x00, 0x9e, 0x73) : QColor(0x2c, 0xa0, 0x2c), 1);
    QPen dashed(QColor(0x60, 0x60, 0x60));
    dashed.setStyle(Qt::DashLine);
    dashed.setWidth(hc ? 3 : 1);
    m_chance->setPen(dashed);
    m_accuracy->setPointLabelsFont(font());
    m_accuracy->setPointLabelsColor(m_accuracy->color());
    m_testLoss->setColor(hc ? QColor(0x00, 0x72, 0xb2) : QColor(0xe6, 0x9f, 0x00));
    m_testLoss->setMarkerSize(hc ? 16 : 10);
}

} // namespace convscope::ui
