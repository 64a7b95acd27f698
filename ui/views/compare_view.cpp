// CompareView: runs read from their folders (TrainingSession::openRun), drawn with QtCharts on
// axes shared by every run, so "one scale" holds overlaid and side by side.
#include "compare_view.h"

#include "contour_map.h"
#include "filter_view.h"

#include <QCategoryAxis>
#include <QChart>
#include <QChartView>
#include <QComboBox>
#include <QDialog>
#include <QDialogButtonBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLegendMarker>
#include <QLineSeries>
#include <QListWidget>
#include <QLogValueAxis>
#include <QMenu>
#include <QPainter>
#include <QPushButton>
#include <QScatterSeries>
#include <QScrollArea>
#include <QTextStream>
#include <QToolButton>
#include <QVBoxLayout>
#include <QValueAxis>
#include <cmath>
#include <limits>

namespace convscope::ui {

namespace {

// The training loss smoothed as the Train tab smooths it (an exponential moving average with
// its start-up bias removed), thinned to at most ~800 points a run.
QList<QPointF> smoothed(const QVector<QPointF>& loss) {
    QList<QPointF> out;
    double ema = 0;
    int n = 0;
    const int every = std::max<int>(1, int(loss.size() / 800));
    for (int i = 0; i < loss.size(); ++i) {
        if (!std::isfinite(loss[i].y()))
            continue;
        ema = 0.95 * ema + 0.05 * loss[i].y();
        ++n;
        if (i % every == 0 || i + 1 == loss.size())
            out << QPointF(loss[i].x(), ema / (1.0 - std::pow(0.95, double(n))));
    }
    return out;
}

QLineSeries* line(const QString& name, const QColor& colour, double width, Qt::PenStyle style,
                  const QList<QPointF>& points) {
    auto* s = new QLineSeries;
    s->setName(name);
    QPen pen(colour);
    pen.setWidthF(width);
    pen.setStyle(style);
    s->setPen(pen);
    s->replace(points);
    return s;
}

// One line of a chart: how it looks and its points.
struct Curve {
    QString name;
    QColor colour;
    Qt::PenStyle style;
    QList<QPointF> points;
    bool pointsVisible;
};

// Puts `curves` on `chart` against value axes x (bottom) and y (left). A chart that has these
// curves already (as many, the same names) keeps its series and axes and only gets the new
// points and ranges: a live twin's update repaints the charts instead of making new ones.
void setCurves(QChart* chart, const QList<Curve>& curves, double width, QValueAxis* xNew,
               QValueAxis* yNew) {
    const QList<QAbstractSeries*> have = chart->series();
    bool same = have.size() == curves.size() && !chart->axes(Qt::Horizontal).isEmpty() &&
                !chart->axes(Qt::Vertical).isEmpty();
    for (int i = 0; same && i < curves.size(); ++i)
        same = have[i]->name() == curves[i].name;
    if (same) {
        auto* x = qobject_cast<QValueAxis*>(chart->axes(Qt::Horizontal).first());
        auto* y = qobject_cast<QValueAxis*>(chart->axes(Qt::Vertical).first());
        if (x && y) {
            x->setRange(xNew->min(), xNew->max());
            y->setRange(yNew->min(), yNew->max());
            y->setTickCount(yNew->tickCount());
            delete xNew;
            delete yNew;
            for (int i = 0; i < curves.size(); ++i)
                static_cast<QLineSeries*>(have[i])->replace(curves[i].points);
            return;
        }
    }
    chart->removeAllSeries();
    for (QAbstractAxis* a : chart->axes())
        chart->removeAxis(a), delete a;
    chart->addAxis(xNew, Qt::AlignBottom);
    chart->addAxis(yNew, Qt::AlignLeft);
    for (const Curve& c : curves) {
        QLineSeries* s = line(c.name, c.colour, width, c.style, c.points);
        s->setPointsVisible(c.pointsVisible);
        chart->addSeries(s);
        s->attachAxis(xNew);
        s->attachAxis(yNew);
    }
}

QList<QPointF> finite(const QVector<QPointF>& v, double scale = 1.0) {
    QList<QPointF> out;
    for (const QPointF& p : v)
        if (std::isfinite(p.y()))
            out << QPointF(p.x(), p.y() * scale);
    return out;
}

bool isNorm(const QString& type) {
    return type == "batch_norm" || type == "layer_norm";
}

} // namespace

namespace {

// What "Compare with…" offers: the engine's twin keys (train/twin.h), a label each, and the
// values suggested first (any value the engine accepts can be typed).
struct TwinOffer {
    const char* key;
    const char* label;
    QStringList values;
};

const std::vector<TwinOffer>& twinOffers() {
    static const std::vector<TwinOffer> offers = {
        {"bn", QT_TR_NOOP("Batch norm"), {"off", "on"}},
        {"dropout", QT_TR_NOOP("Dropout"), {"off", "0.5", "0.25"}},
        {"init",
         QT_TR_NOOP("Initialisation"),
         {"zeros", "he", "xavier", "normal(0.01)", "normal(1)"}},
        {"activation", QT_TR_NOOP("Activation"), {"sigmoid", "relu", "tanh", "leaky"}},
        {"shortcut", QT_TR_NOOP("Shortcuts"), {"none", "identity", "projection"}},
        {"optimizer", QT_TR_NOOP("Optimizer"), {"sgd", "momentum", "adam"}},
        {"lr", QT_TR_NOOP("Learning rate"), {"0.002", "0.2", "0.02"}},
        {"batch", QT_TR_NOOP("Batch size"), {"16", "256", "64"}},
    };
    return offers;
}

} // namespace

QStringList CompareView::twinKeys() {
    QStringList keys;
    for (const TwinOffer& o : twinOffers())
        keys << o.key;
    return keys;
}

QString CompareView::twinKeyLabel(const QString& key) {
    for (const TwinOffer& o : twinOffers())
        if (key == o.key)
            return tr(o.label);
    return key;
}

QStringList CompareView::twinValues(const QString& key) {
    for (const TwinOffer& o : twinOffers())
        if (key == o.key)
            return o.values;
    return {};
}

CompareView::CompareView(QWidget* parent) : View(parent) {
    // Okabe–Ito: blue, vermillion, bluish green, reddish purple — apart for colour-blind eyes
    // and on a projector.
    m_palette = {QColor(0x00, 0x72, 0xb2), QColor(0xd5, 0x5e, 0x00), QColor(0x00, 0x9e, 0x73),
                 QColor(0xcc, 0x79, 0xa7)};

    m_list = new QListWidget;
    m_list->setObjectName("compare runs");
    m_list->setMaximumHeight(28); // grows with the runs (rebuildList)
    m_list->setToolTip(tr("The runs compared, each in its colour on every chart"));
    m_add = new QToolButton;
    m_add->setObjectName("add run");
    m_add->setText(tr("Add run"));
    m_add->setToolTip(tr("Add the current run, a recent run or any run folder (up to four)"));
    connect(m_add, &QToolButton::clicked, this, &CompareView::showAddMenu);
    m_remove = new QPushButton(tr("Remove"));
    m_remove->setObjectName("remove run");
    m_remove->setToolTip(tr("Take the selected run off the charts (its folder is kept)"));
    connect(m_remove, &QPushButton::clicked, this, [this] {
        if (m_list->currentRow() >= 0)
            removeRun(m_list->currentRow());
    });
    m_twin = new QPushButton(tr("Compare with…"));
    m_twin->setObjectName("compare with");
    m_twin->setShortcut(QKeySequence(tr("Ctrl+Shift+T")));
    m_twin->setToolTip(
        tr("Train the current network beside a twin that differs in one thing (batch norm, "
           "dropout, initialisation, activation, shortcuts, optimizer, learning rate or batch "
           "size), with the same seed, the same initial weights where shapes agree and the "
           "same data order, interleaved so both curves grow together (Ctrl+Shift+T)"));
    connect(m_twin, &QPushButton::clicked, this, [this] {
        if (m_twinRunning)
            emit twinCancelled();
        else
            askTwin();
    });
    m_layoutBox = new QComboBox;
    m_layoutBox->setObjectName("compare layout");
    m_layoutBox->addItems({tr("Overlaid"), tr("Side by side")});
    m_layoutBox->setToolTip(tr("Overlaid: one chart per measure, a colour per run. Side by side: "
                               "a column per run, all on the same axes"));
    connect(m_layoutBox, &QComboBox::currentIndexChanged, this,
            [this](int i) { setLayout(i == 0 ? Layout::Overlaid : Layout::SideBySide); });
    auto* bar = new QHBoxLayout;
    bar->addWidget(m_add);
    bar->addWidget(m_remove);
    bar->addWidget(m_twin);
    bar->addStretch(1);
    bar->addWidget(new QLabel(tr("Layout:")));
    bar->addWidget(m_layoutBox);

    m_hint = new QLabel(tr("Nothing to compare yet. Train a network, then press “Compare with…” "
                           "to train a twin that differs in one thing — or add finished runs "
                           "with “Add run”."));
    m_hint->setWordWrap(true);
    m_hint->setAlignment(Qt::AlignCenter);

    m_curves = new QWidget;
    m_curvesGrid = new QGridLayout(m_curves);
    m_curvesGrid->setContentsMargins(0, 0, 0, 0);

    m_gradChart = newChart(tr("‖∂L/∂W‖ per layer, last epoch (log scale)"));
    auto* gradView = new QChartView(m_gradChart);
    m_gradView = gradView;
    gradView->setRenderHint(QPainter::Antialiasing);
    gradView->setMinimumHeight(200);
    gradView->setToolTip(tr("Conv and linear layers from the input (left) to the output; a "
                            "sigmoid network's norms fall by up to 4x per layer towards the "
                            "input, ReLU, batch norm and skip connections keep them level"));

    m_filters = new QWidget;
    m_filtersGrid = new QGridLayout(m_filters);
    m_filtersGrid->setContentsMargins(0, 0, 0, 0);
    m_surfaces = new QWidget;
    m_surfacesGrid = new QGridLayout(m_surfaces);
    m_surfacesGrid->setContentsMargins(0, 0, 0, 0);
    m_surfaces->hide();

    m_summary = new QLabel;
    m_summary->setObjectName("compare summary");
    m_summary->setWordWrap(true);
    m_summary->setTextInteractionFlags(Qt::TextSelectableByMouse);

    auto* content = new QWidget;
    m_content = content;
    auto* col = new QVBoxLayout(content);
    col->setContentsMargins(0, 0, 0, 0);
    col->addWidget(m_curves, 5);
    auto* lower = new QHBoxLayout;
    lower->addWidget(gradView, 3);
    lower->addWidget(m_filters, 2);
    col->addLayout(lower, 4);
    col->addWidget(m_surfaces, 2);

    auto* box = new QVBoxLayout(this);
    box->setContentsMargins(4, 4, 4, 4);
    box->addLayout(bar);
    box->addWidget(m_list);
    // (outside the scroll area: a word-wrapped label there makes it lay the charts out at their
    // preferred heights, taller than the window, instead of filling it)
    box->addWidget(m_hint, 1); // (alone, with no runs: the whole tab)
    box->addWidget(m_summary);
    // On a small screen (a projector's 1280x800 in presenter mode) the charts keep the height
    // their labels need and the tab scrolls, instead of squeezing them into "…".
    auto* scroll = new QScrollArea;
    m_scroll = scroll;
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    scroll->setWidget(content);
    box->addWidget(scroll, 1);
    rebuild();
}

// The runs (their colours), the summary line, and the charts and panels, all of them however far
// the tab is scrolled.
bool CompareView::exportPicture(const QString& path, double scale) {
    if (m_runs.isEmpty())
        return exportWidget(this, path, window()->windowTitle(), scale);
    return exportWidgets({m_list, m_summary, m_content}, path, window()->windowTitle(), scale);
}

// The network's name ("lenet5", a twin's "lenet5-bn-on"), else the folder's; the twin's change
// when the name does not spell it already.
QString CompareView::labelOf(const RunRecord& r) {
    QString name = QJsonDocument::fromJson(r.spec).object().value("name").toString();
    if (name.isEmpty())
        name = QFileInfo(r.dir).fileName();
    if (!r.twinChange.isEmpty() && !name.endsWith(QString(r.twinChange).replace('=', '-')))
        name += QStringLiteral(" (%1)").arg(r.twinChange);
    return name;
}

QString CompareView::uniqueLabel(const RunRecord& run, int index) const {
    QString label = labelOf(run);
    for (int i = 0; i < m_runs.size(); ++i)
        if (i != index && labelOf(m_runs[i].record) == label) // two runs of one network:
            return label + QStringLiteral(" · %1").arg(QFileInfo(run.dir).fileName()); // by folder
    return label;
}

bool CompareView::addRun(const QString& dir, QString* error) {
    const RunRecord r = TrainingSession::openRun(dir);
    if (!r.error.isEmpty()) {
        if (error)
            *error = r.error;
        return false;
    }
    return setRun(r, error);
}

bool CompareView::setRun(const RunRecord& run, QString* error) {
    const QString dir = QFileInfo(run.dir).absoluteFilePath();
    for (int i = 0; i < m_runs.size(); ++i)
        if (Entry& e = m_runs[i]; QFileInfo(e.record.dir).absoluteFilePath() == dir) {
            if (labelOf(run) != labelOf(e.record)) // else it keeps its label (and its charts)
                e.label = uniqueLabel(run, i);
            e.record = run;
            if (!m_batching)
                rebuild();
            return true;
        }
    if (m_runs.size() >= kMaxRuns) {
        if (error)
            *error = tr("Four runs are compared already: remove one first (select it, Remove)");
        return false;
    }
    // The first colour no run has.
    QColor colour = m_palette[0];
    for (const QColor& c : m_palette) {
        bool used = false;
        for (const Entry& e : m_runs)
            used = used || e.colour == c;
        if (!used) {
            colour = c;
            break;
        }
    }
    m_runs.push_back({run, uniqueLabel(run, int(m_runs.size())), colour});
    if (!m_batching)
        rebuild();
    return true;
}

void CompareView::setRuns(const QVector<RunRecord>& runs) {
    m_batching = true;
    for (const RunRecord& r : runs)
        setRun(r);
    m_batching = false;
    rebuild();
}

void CompareView::setTwinRunning(bool on) {
    m_twinRunning = on;
    m_twin->setText(on ? tr("Stop the twins") : tr("Compare with…"));
    m_twin->setShortcut(QKeySequence(tr("Ctrl+Shift+T"))); // setText() replaced it
}

void CompareView::removeRun(int index) {
    if (index < 0 || index >= m_runs.size())
        return;
    m_runs.remove(index);
    rebuild();
}

void CompareView::clearRuns() {
    m_runs.clear();
    rebuild();
}

void CompareView::setLayout(Layout l) {
    m_layout = l;
    const QSignalBlocker block(m_layoutBox);
    m_layoutBox->setCurrentIndex(l == Layout::Overlaid ? 0 : 1);
    rebuild();
}

QChart* CompareView::newChart(const QString& title) const {
    auto* chart = new QChart;
    chart->setTitle(title);
    chart->setAnimationOptions(QChart::NoAnimation);
    chart->legend()->setAlignment(Qt::AlignBottom);
    chart->setFont(font());
    return chart;
}

QChart* CompareView::lossChart() const {
    return m_curveViews.isEmpty() ? nullptr : m_curveViews[0]->chart();
}

QChart* CompareView::accuracyChart() const {
    return m_curveViews.size() < 2 ? nullptr : m_curveViews[1]->chart();
}

// The shared axes of every loss chart: steps 0..the longest run, loss 0..the highest smoothed
// or test loss of any run (so side-by-side columns read on one scale).
void CompareView::fillLoss(QChart* chart, const QVector<int>& runs) const {
    double maxStep = 1, maxLoss = 0.1;
    for (const Entry& e : m_runs) {
        maxStep = std::max(maxStep, double(e.record.steps));
        for (const QPointF& p : smoothed(e.record.loss))
            maxLoss = std::max(maxLoss, p.y());
        for (const QPointF& p : finite(e.record.testLoss))
            maxLoss = std::max(maxLoss, p.y());
    }
    auto* x = new QValueAxis;
    x->setTitleText(tr("step"));
    x->setLabelFormat("%.0f");
    x->setRange(0, maxStep);
    auto* y = new QValueAxis;
    y->setTitleText(tr("cross-entropy loss"));
    y->setRange(0, maxLoss * 1.05);
    y->applyNiceNumbers();
    QList<Curve> curves;
    for (int i : runs) {
        const Entry& e = m_runs[i];
        const QString who = m_layout == Layout::Overlaid ? e.label + ": " : QString();
        curves << Curve{who + tr("train"), e.colour, Qt::SolidLine, smoothed(e.record.loss), false}
               << Curve{who + tr("test"), e.colour, Qt::DashLine, finite(e.record.testLoss), true};
    }
    setCurves(chart, curves, m_presenter ? 4 : 2, x, y);
}

void CompareView::fillAccuracy(QChart* chart, const QVector<int>& runs) const {
    double maxStep = 1;
    for (const Entry& e : m_runs)
        maxStep = std::max(maxStep, double(e.record.steps));
    auto* x = new QValueAxis;
    x->setTitleText(tr("step (epoch ends)"));
    x->setLabelFormat("%.0f");
    x->setRange(0, maxStep);
    // From a little below the lowest accuracy of any run to 100 %: differences of a few points
    // are what a comparison shows.
    double lowest = 0; // no epoch ended yet: the whole scale
    bool any = false;
    for (const Entry& e : m_runs)
        for (const QVector<QPointF>* v : {&e.record.testAccuracy, &e.record.trainAccuracy})
            for (const QPointF& p : finite(*v, 100))
                lowest = any ? std::min(lowest, p.y()) : p.y(), any = true;
    auto* y = new QValueAxis;
    y->setTitleText(tr("accuracy (%)"));
    y->setRange(std::max(0.0, 5.0 * std::floor((lowest - 3) / 5.0)), 100);
    y->applyNiceNumbers();
    y->setMax(100);
    QList<Curve> curves;
    for (int i : runs) {
        const Entry& e = m_runs[i];
        const QString who = m_layout == Layout::Overlaid ? e.label + ": " : QString();
        curves << Curve{who + tr("test"), e.colour, Qt::SolidLine,
                        finite(e.record.testAccuracy, 100), true}
               << Curve{who + tr("train"), e.colour.lighter(130), Qt::DotLine,
                        finite(e.record.trainAccuracy, 100), true};
    }
    setCurves(chart, curves, m_presenter ? 4 : 2, x, y);
}

// Conv and linear layers only (γ and β of norm layers would make a saw-tooth), matched by name:
// the x axis is the first run's layers, other runs' layers of the same name sit above them.
void CompareView::fillGradients() {
    m_gradientsShown = gradientKey();
    m_gradChart->removeAllSeries();
    for (QAbstractAxis* a : m_gradChart->axes())
        m_gradChart->removeAxis(a), delete a;
    QStringList order;
    for (const Entry& e : m_runs)
        for (int i = 0; i < e.record.layerNames.size(); ++i)
            if (!isNorm(e.record.layerTypes.value(i)) && !order.contains(e.record.layerNames[i]))
                order << e.record.layerNames[i];
    auto* x = new QCategoryAxis;
    // No axis title (the chart's title and tooltip say it): in this short chart the layers'
    // names need its room, or Qt Charts elides every one of them to "…".
    x->setLabelsPosition(QCategoryAxis::AxisLabelsPositionOnValue);
    x->setLabelsAngle(-45);
    const int every = std::max<int>(1, int((order.size() + 15) / 16));
    for (int i = 0; i < order.size(); i += every)
        x->append(order[i], double(i + 1));
    x->setRange(1, std::max<int>(2, int(order.size())));
    auto* y = new QLogValueAxis;
    y->setTitleText(tr("‖∂L/∂W‖")); // ("gradient norm" does not fit the chart's height)
    y->setLabelFormat("%.0e");
    y->setBase(10);
    m_gradChart->addAxis(x, Qt::AlignBottom);
    m_gradChart->addAxis(y, Qt::AlignLeft);
    double lo = std::numeric_limits<double>::infinity(), hi = 0;
    for (const Entry& e : m_runs) {
        QList<QPointF> points;
        for (int i = 0; i < e.record.layerNames.size(); ++i) {
            const int at = int(order.indexOf(e.record.layerNames[i]));
            const double g = e.record.gradientNorms.value(i);
            if (at < 0 || !std::isfinite(g) || g <= 0)
                continue;
            points << QPointF(at + 1, g);
            lo = std::min(lo, g);
            hi = std::max(hi, g);
        }
        std::sort(points.begin(), points.end(),
                  [](const QPointF& a, const QPointF& b) { return a.x() < b.x(); });
        QLineSeries* s = line(e.label, e.colour, m_presenter ? 4 : 2, Qt::SolidLine, points);
        s->setPointsVisible(true);
        m_gradChart->addSeries(s);
        s->attachAxis(x);
        s->attachAxis(y);
    }
    if (hi > 0)
        y->setRange(std::pow(10.0, std::floor(std::log10(lo))),
                    std::pow(10.0, std::ceil(std::log10(hi))));
    else
        y->setRange(1e-4, 1);
    setChartFont(m_gradChart, font());
}

void CompareView::fillFilters() {
    qDeleteAll(m_filterViews);
    m_filterViews.clear();
    while (QLayoutItem* item = m_filtersGrid->takeAt(0)) {
        delete item->widget();
        delete item;
    }
    for (int i = 0; i < m_runs.size(); ++i) {
        const RunRecord& r = m_runs[i].record;
        auto* title =
            new QLabel(tr("<b style='color:%1'>■</b> %2: first-layer filters")
                           .arg(m_runs[i].colour.name(), m_runs[i].label.toHtmlEscaped()));
        auto* fv = new FilterView;
        fv->setFitsShown(false);
        fv->setHighContrast(m_presenter);
        fv->setMinimumHeight(m_presenter ? 220 : 140);
        if (r.filterCount > 0)
            fv->setFilters(r.filters, r.filterCount, r.filterChannels, r.filterH, r.filterW);
        else {
            fv->setToolTip(tr("No checkpoint yet: the filters appear after the first epoch"));
            fv->setPlaceholder(tr("The filters appear after the first epoch"));
        }
        m_filtersGrid->addWidget(title, 0, i);
        m_filtersGrid->addWidget(fv, 1, i);
        m_filterViews << fv;
    }
}

void CompareView::rebuildList() {
    m_list->clear();
    for (const Entry& e : m_runs) {
        QPixmap swatch(14, 14);
        swatch.fill(e.colour);
        auto* item = new QListWidgetItem(QIcon(swatch), e.label);
        item->setToolTip(e.record.dir);
        m_list->addItem(item);
    }
    m_remove->setEnabled(!m_runs.isEmpty());
    m_add->setEnabled(m_runs.size() < kMaxRuns);
    const int row = m_list->sizeHintForRow(0) > 0 ? m_list->sizeHintForRow(0) : 20;
    m_list->setFixedHeight(row * int(std::max<qsizetype>(1, m_runs.size())) +
                           2 * m_list->frameWidth() + 4);
}

// What the widgets are made for: the layout, the look and each run's label and colour. While
// it stays the same (a twin pair growing), rebuild() updates the charts and filter panels it
// has instead of making new ones.
QString CompareView::shapeKey() const {
    QStringList key{QString::number(int(m_layout)), QString::number(int(m_presenter)),
                    font().toString()};
    for (const Entry& e : m_runs)
        key << e.label << e.colour.name();
    return key.join(QChar(0x1f));
}

void CompareView::rebuild() {
    const QString shape = shapeKey();
    if (shape == m_shape && !m_runs.isEmpty() && m_filterViews.size() == m_runs.size())
        return updateInPlace();
    m_shape = shape;
    rebuildList();
    m_hint->setVisible(m_runs.isEmpty());
    m_scroll->setVisible(!m_runs.isEmpty()); // (no empty gradient chart under the hint)
    // The curve charts: one pair overlaid, or a pair per run side by side.
    for (QChartView* v : m_curveViews)
        delete v;
    m_curveViews.clear();
    QVector<QVector<int>> columns;
    QVector<int> all;
    for (int i = 0; i < m_runs.size(); ++i)
        all << i;
    if (m_layout == Layout::Overlaid)
        columns << all;
    else
        for (int i : all)
            columns << QVector<int>{i};
    if (m_runs.isEmpty())
        columns.clear();
    for (int c = 0; c < columns.size(); ++c) {
        const QString who = m_layout == Layout::Overlaid ? QString() : m_runs[c].label + ": ";
        QChart* loss = newChart(who + tr("loss (solid: training, smoothed; dashed: test)"));
        fillLoss(loss, columns[c]);
        QChart* acc = newChart(who + tr("accuracy per epoch (solid: test, dotted: train)"));
        fillAccuracy(acc, columns[c]);
        int k = 0;
        for (QChart* chart : {loss, acc}) {
            setChartFont(chart, font());
            if (m_layout == Layout::SideBySide)
                chart->legend()->hide();
            auto* v = new QChartView(chart);
            v->setRenderHint(QPainter::Antialiasing);
            v->setMinimumHeight(m_presenter ? 380 : 220); // (presenter: room for the axis titles)
            // Overlaid: loss and accuracy side by side; side by side: a column per run.
            if (m_layout == Layout::Overlaid)
                m_curvesGrid->addWidget(v, 0, k++);
            else
                m_curvesGrid->addWidget(v, k++, c);
            m_curveViews << v;
        }
    }
    for (int k = 0; k < m_curvesGrid->columnCount(); ++k) // every column as wide
        m_curvesGrid->setColumnStretch(k, 1);
    // Keep the order loss, accuracy, loss, accuracy… so lossChart()/accuracyChart() are run 1's.
    fillGradients();
    fillFilters();
    m_summary->setText(summary());
}

// The same widgets, new numbers: the curves' points and axes; the gradient chart and the filter
// panels only when an epoch's end has changed them.
void CompareView::updateInPlace() {
    if (m_layout == Layout::Overlaid) {
        QVector<int> all;
        for (int i = 0; i < m_runs.size(); ++i)
            all << i;
        fillLoss(m_curveViews[0]->chart(), all);
        fillAccuracy(m_curveViews[1]->chart(), all);
    } else {
        for (int i = 0; i < m_runs.size(); ++i) {
            fillLoss(m_curveViews[2 * i]->chart(), {i});
            fillAccuracy(m_curveViews[2 * i + 1]->chart(), {i});
        }
    }
    if (gradientKey() != m_gradientsShown)
        fillGradients();
    bool newPanels = false; // a run's first filters: the panel's "no checkpoint" tip goes too
    for (int i = 0; i < m_runs.size(); ++i)
        newPanels =
            newPanels || (m_runs[i].record.filterCount > 0) != (m_filterViews[i]->count() > 0);
    if (newPanels)
        fillFilters();
    else
        for (int i = 0; i < m_runs.size(); ++i)
            if (const RunRecord& r = m_runs[i].record;
                r.filterCount > 0 && r.filters != m_filterViews[i]->weights())
                m_filterViews[i]->setFilters(r.filters, r.filterCount, r.filterChannels, r.filterH,
                                             r.filterW);
    m_summary->setText(summary());
}

// The gradient chart's data: each run's layers, their types and last-epoch norms.
QString CompareView::gradientKey() const {
    QStringList key;
    for (const Entry& e : m_runs) {
        key << e.label << e.record.layerNames.join(',') << e.record.layerTypes.join(',');
        for (double g : e.record.gradientNorms)
            key << QString::number(g, 'g', 17);
    }
    return key.join(QChar(0x1f));
}

int CompareView::filterPanels() const {
    return m_filterViews.size();
}

int CompareView::surfacePanels() const {
    return m_surfaceMaps.size();
}

QString CompareView::summary() const {
    if (m_runs.isEmpty())
        return {};
    QStringList parts;
    double first = std::numeric_limits<double>::quiet_NaN();
    for (int i = 0; i < m_runs.size(); ++i) {
        const RunRecord& r = m_runs[i].record;
        if (r.testAccuracy.isEmpty()) {
            parts << tr("%1: no epoch finished yet").arg(m_runs[i].label);
            continue;
        }
        const double acc = 100 * r.testAccuracy.back().y();
        const int epochs = int(r.testAccuracy.size());
        QString part = (epochs == 1 ? tr("%1: test accuracy %2 % after %3 epoch")
                                    : tr("%1: test accuracy %2 % after %3 epochs"))
                           .arg(m_runs[i].label)
                           .arg(acc, 0, 'f', 1)
                           .arg(epochs);
        if (!r.trainAccuracy.isEmpty())
            part += tr(" (train %1 %)").arg(100 * r.trainAccuracy.back().y(), 0, 'f', 1);
        if (std::isnan(first))
            first = acc;
        else
            part += tr(", %1%2 points against the first")
                        .arg(acc >= first ? "+" : "")
                        .arg(acc - first, 0, 'f', 1);
        parts << part;
    }
    return parts.join(QStringLiteral(" · "));
}

void CompareView::setSurfaces(const LandscapeResult& r) {
    if (!r.error.isEmpty() || !r.finished)
        return;
    qDeleteAll(m_surfaceMaps);
    m_surfaceMaps.clear();
    while (QLayoutItem* item = m_surfacesGrid->takeAt(0)) {
        delete item->widget();
        delete item;
    }
    // One colour scale for all of them: the same loss is the same colour.
    double lo = std::numeric_limits<double>::infinity(), hi = -lo;
    for (const LandscapeSurface& s : r.surfaces) {
        const auto [a, b] = ContourMap::lossRange(s);
        lo = std::min(lo, a);
        hi = std::max(hi, b);
    }
    for (int i = 0; i < r.surfaces.size(); ++i) {
        auto* title = new QLabel(tr("Loss landscape: %1").arg(r.surfaces[i].title));
        auto* map = new ContourMap;
        map->setSurface(r.surfaces[i]);
        if (lo < hi)
            map->setRange(lo, hi);
        m_surfacesGrid->addWidget(title, 0, i);
        m_surfacesGrid->addWidget(map, 1, i);
        m_surfaceMaps << map;
    }
    m_surfaces->setVisible(!m_surfaceMaps.isEmpty());
}

void CompareView::showAddMenu() {
    QMenu menu(this);
    if (!m_currentRun.isEmpty())
        menu.addAction(tr("The current run (%1)").arg(QFileInfo(m_currentRun).fileName()), this,
                       [this] {
                           QString error;
                           if (!addRun(m_currentRun, &error))
                               emit message(error);
                       });
    const QStringList recent = m_recent ? m_recent() : QStringList();
    if (!recent.isEmpty()) {
        menu.addSection(tr("Recent runs"));
        for (const QString& dir : recent)
            menu.addAction(QFileInfo(dir).fileName(), this, [this, dir] {
                QString error;
                if (!addRun(dir, &error))
                    emit message(error);
            });
    }
    menu.addSeparator();
    menu.addAction(tr("Run folder…"), this, [this] {
        const QString dir = QFileDialog::getExistingDirectory(this, tr("Add a run to compare"));
        QString error;
        if (!dir.isEmpty() && !addRun(dir, &error))
            emit message(error);
    });
    menu.exec(m_add->mapToGlobal(QPoint(0, m_add->height())));
}

void CompareView::askTwin() {
    QDialog dialog(this);
    dialog.setWindowTitle(tr("Compare with a twin"));
    auto* key = new QComboBox;
    key->setObjectName("twin key");
    for (const QString& k : twinKeys())
        key->addItem(twinKeyLabel(k), k);
    auto* value = new QComboBox;
    value->setObjectName("twin value");
    value->setEditable(true);
    auto fillValues = [key, value] {
        value->clear();
        value->addItems(twinValues(key->currentData().toString()));
    };
    connect(key, &QComboBox::currentIndexChanged, &dialog, fillValues);
    fillValues();
    auto* form = new QFormLayout;
    form->addRow(tr("Change"), key);
    form->addRow(tr("To"), value);
    auto* note = new QLabel(tr("Both networks train with the same seed, the same initial weights "
                               "wherever their shapes agree and the same order of images, "
                               "interleaved, so only this one change differs."));
    note->setWordWrap(true);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel);
    buttons->button(QDialogButtonBox::Ok)->setText(tr("Train both"));
    connect(buttons, &QDialogButtonBox::accepted, &dialog, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, &dialog, &QDialog::reject);
    auto* box = new QVBoxLayout(&dialog);
    box->addLayout(form);
    box->addWidget(note);
    box->addWidget(buttons);
    if (dialog.exec() == QDialog::Accepted)
        emit twinRequested(key->currentData().toString(), value->currentText().trimmed());
}

bool CompareView::exportCsv(const QString& path) {
    return writeText(path, [this](QTextStream& out) {
        out << "run,measure,step,layer,value\n";
        for (const Entry& e : m_runs) {
            const QString run = quoted(e.label);
            for (const QPointF& p : e.record.loss)
                out << run << ",train_loss," << qint64(p.x()) << ",," << p.y() << '\n';
            const std::pair<const char*, const QVector<QPointF>*> epochs[] = {
                {"epoch_train_loss", &e.record.trainLoss},
                {"epoch_train_accuracy", &e.record.trainAccuracy},
                {"test_loss", &e.record.testLoss},
                {"test_accuracy", &e.record.testAccuracy}};
            for (const auto& [name, points] : epochs)
                for (const QPointF& p : *points)
                    out << run << ',' << name << ',' << qint64(p.x()) << ",," << p.y() << '\n';
            for (int i = 0; i < e.record.layerNames.size(); ++i)
                out << run << ",grad_norm,," << e.record.layerNames[i] << ','
                    << e.record.gradientNorms.value(i) << '\n';
        }
    });
}

void CompareView::setPresenterMode(bool on) {
    View::setPresenterMode(on);
    m_gradView->setMinimumHeight(on ? 300 : 200);
    rebuild();
}

} // namespace convscope::ui
