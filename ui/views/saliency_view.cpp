// SaliencyView: the browser, the maps, the sanity check and the adversarial panel; every number
// comes from the session's analysis jobs (engine thread), so the window never waits.
#include "saliency_view.h"
#include "map_strip.h"
#include "probability_bars.h"
#include "training_session.h"

#include <QChart>
#include <QChartView>
#include <QCheckBox>
#include <QComboBox>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineSeries>
#include <QListWidget>
#include <QPainter>
#include <QPushButton>
#include <QScrollArea>
#include <QSlider>
#include <QSpinBox>
#include <QSplitter>
#include <QStackedWidget>
#include <QTextStream>
#include <QTimer>
#include <QVBoxLayout>
#include <QValueAxis>
#include <cmath>

namespace convscope::ui {

namespace {
constexpr double kEpsStep = 0.005; // the slider's unit: ε in [0, 0.3]
constexpr int kMaxListed = 400;    // thumbnails in the browser at once
} // namespace

SaliencyView::SaliencyView(TrainingSession& session, QWidget* parent)
    : View(parent), m_session(session) {
    auto* split = new QSplitter(Qt::Horizontal);
    split->addWidget(buildBrowser());
    auto* right = new QSplitter(Qt::Vertical);
    right->addWidget(buildMaps());
    right->addWidget(buildAttack());
    right->setStretchFactor(0, 1);
    right->setStretchFactor(1, 1);
    split->addWidget(right);
    split->setStretchFactor(0, 1);
    split->setStretchFactor(1, 4);
    split->setSizes({230, 1000});
    // In a scroll area: the tab's many controls must not make the window wider than a
    // 1280-pixel projector (a tab widget is as wide as its widest page).
    auto* scroll = new QScrollArea;
    scroll->setWidget(split);
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    auto* box = new QVBoxLayout(this);
    box->setContentsMargins(0, 0, 0, 0);
    box->addWidget(scroll);

    connect(&m_session, &TrainingSession::analysisModelChanged, this, &SaliencyView::markStale);
    connect(&m_session, &TrainingSession::testSetReady, this, [this](const TestSet& t) {
        if (!t.error.isEmpty()) {
            m_listInfo->setText(t.error);
            return;
        }
        m_test = t;
        const QString current = m_filter->currentText();
        const QSignalBlocker quiet(m_filter);
        m_filter->clear();
        m_filter->addItems({tr("All test images"), tr("Misclassified")});
        for (const QString& n : t.classNames)
            m_filter->addItem(tr("True class: %1").arg(n));
        m_filter->setCurrentIndex(std::max(0, m_filter->findText(current)));
        {
            const QSignalBlocker quietTarget(m_target);
            const int at = m_target->currentIndex();
            while (m_target->count() > 2)
                m_target->removeItem(2);
            for (const QString& n : t.classNames)
                m_target->addItem(tr("class: %1").arg(n));
            m_target->setCurrentIndex(at < m_target->count() ? at : 0);
        }
        fillList();
    });
    connect(&m_session, &TrainingSession::confusionReady, this, &SaliencyView::onConfusion);
    connect(&m_session, &TrainingSession::saliencyReady, this, &SaliencyView::onSaliency);
    connect(&m_session, &TrainingSession::attackReady, this, &SaliencyView::onAttack);
    connect(&m_session, &TrainingSession::curvePoint, this, &SaliencyView::onCurvePoint);
    connect(&m_session, &TrainingSession::curveFinished, this, [this](const QString& error) {
        m_curveButton->setEnabled(true);
        if (!error.isEmpty())
            m_attackInfo->setText(error);
    });
}

QWidget* SaliencyView::buildBrowser() {
    auto* w = new QWidget;
    auto* box = new QVBoxLayout(w);
    m_filter = new QComboBox;
    m_filter->setObjectName("image filter");
    m_filter->addItems({tr("All test images"), tr("Misclassified")});
    m_filter->setToolTip(tr("Which test images to list: misclassified ones are where the "
                            "network's reasons are most interesting"));
    connect(m_filter, &QComboBox::currentIndexChanged, this, [this] {
        m_cellTruth = m_cellPredicted = -1;
        fillList();
    });
    m_list = new QListWidget;
    m_list->setObjectName("test images");
    m_list->setViewMode(QListView::IconMode);
    // The caption's width is the icon's: 56 px holds "✗ 100%".
    m_list->setIconSize(QSize(56, 56));
    m_list->setGridSize(QSize(80, 82));
    m_list->setResizeMode(QListView::Adjust);
    m_list->setMovement(QListView::Static);
    m_list->setUniformItemSizes(true);
    m_list->setWordWrap(true);
    m_list->setToolTip(tr("Click an image to compute its saliency maps and attack it"));
    connect(m_list, &QListWidget::currentItemChanged, this, [this](QListWidgetItem* item) {
        if (item)
            selectImage(item->data(Qt::UserRole).toInt());
    });
    m_listInfo = new QLabel(tr("Train a network or open a run: its test images appear here"));
    m_listInfo->setWordWrap(true);
    box->addWidget(m_filter);
    box->addWidget(m_list, 1);
    box->addWidget(m_listInfo);
    w->setMinimumWidth(200);
    return w;
}

QWidget* SaliencyView::buildMaps() {
    auto* w = new QWidget;
    auto* box = new QVBoxLayout(w);
    auto* bar = new QHBoxLayout;
    m_target = new QComboBox;
    m_target->setObjectName("target class");
    m_target->addItems({tr("predicted class"), tr("true class")});
    m_target->setToolTip(tr("Whose score y_c to explain: the gradient ∂y_c/∂x of the "
                            "pre-softmax score of this class"));
    m_layer = new QComboBox;
    m_layer->setObjectName("gradcam layer");
    m_layer->addItem(tr("last spatial layer"));
    m_layer->setToolTip(tr("Grad-CAM's layer A: weights w_k = spatial mean of ∂y_c/∂A_k, "
                           "map = ReLU(Σ_k w_k A_k), upsampled to the image"));
    m_opacity = new QSlider(Qt::Horizontal);
    m_opacity->setObjectName("overlay opacity");
    m_opacity->setRange(0, 100);
    m_opacity->setValue(100);
    m_opacity->setMaximumWidth(160);
    m_opacity->setToolTip(tr("How opaque the maps are over the image (100: the maps alone)"));
    m_sanityButton = new QPushButton(tr("Sanity check"));
    m_sanityButton->setToolTip(
        tr("Adebayo et al. 2018: re-initialise the layers from the output down, one at a time, "
           "and recompute every map. Maps that do not change are not explaining the network"));
    bar->addWidget(new QLabel(tr("Explain")));
    bar->addWidget(m_target);
    bar->addWidget(new QLabel(tr("Grad-CAM layer")));
    bar->addWidget(m_layer);
    bar->addWidget(new QLabel(tr("Opacity")));
    bar->addWidget(m_opacity);
    bar->addStretch(1);
    bar->addWidget(m_sanityButton);
    connect(m_target, &QComboBox::currentIndexChanged, this, [this] { requestMaps(); });
    connect(m_layer, &QComboBox::currentIndexChanged, this, [this] { requestMaps(); });
    connect(m_opacity, &QSlider::valueChanged, this, [this] {
        drawMaps();
        drawSanity();
    });
    connect(m_sanityButton, &QPushButton::clicked, this, [this] { requestMaps(true); });
    m_maps = new MapStrip;
    m_maps->setObjectName("saliency maps");
    m_info = new QLabel(tr("Pick a test image on the left"));
    m_info->setWordWrap(true);
    m_info->setTextInteractionFlags(Qt::TextSelectableByMouse);
    auto* mapsPage = new QWidget;
    auto* mapsBox = new QVBoxLayout(mapsPage);
    mapsBox->setContentsMargins(0, 0, 0, 0);
    mapsBox->addWidget(m_maps, 1);
    mapsBox->addWidget(m_info);
    // The sanity check: a row per randomisation step, and the correlation per method.
    auto* sanityPage = new QWidget;
    auto* sanityBox = new QVBoxLayout(sanityPage);
    sanityBox->setContentsMargins(0, 0, 0, 0);
    auto* head = new QHBoxLayout;
    m_sanityInfo = new QLabel(tr("Sanity check (Adebayo et al. 2018): the layers re-initialised "
                                 "from the output down, one more per column (named by the last "
                                 "one randomised). A map that still looks the same does not "
                                 "depend on what the network learned"));
    m_sanityInfo->setWordWrap(true);
    auto* back = new QPushButton(tr("Back to the maps"));
    connect(back, &QPushButton::clicked, this, [this] { m_stack->setCurrentIndex(0); });
    head->addWidget(m_sanityInfo, 1);
    head->addWidget(back);
    m_sanityStrip = new MapStrip;
    m_sanityStrip->setObjectName("sanity strip");
    m_sanityChart = new QChart;
    m_sanityChart->setTitle(tr("Spearman ρ of |map| vs the trained network"));
    m_sanityX = new QValueAxis;
    m_sanityX->setTitleText(tr("layers randomised"));
    m_sanityX->setLabelFormat("%d");
    auto* y = new QValueAxis;
    y->setRange(-0.5, 1.0);
    y->setTickCount(4);
    m_sanityChart->addAxis(m_sanityX, Qt::AlignBottom);
    m_sanityChart->addAxis(y, Qt::AlignLeft);
    m_sanityChart->legend()->setAlignment(Qt::AlignBottom);
    auto* chartView = new QChartView(m_sanityChart);
    chartView->setRenderHint(QPainter::Antialiasing);
    chartView->setMinimumWidth(200);
    auto* sanityRow = new QHBoxLayout;
    sanityRow->addWidget(m_sanityStrip, 3);
    sanityRow->addWidget(chartView, 2);
    sanityBox->addLayout(head);
    sanityBox->addLayout(sanityRow, 1);
    m_stack = new QStackedWidget;
    m_stack->addWidget(mapsPage);
    m_stack->addWidget(sanityPage);
    box->addLayout(bar);
    box->addWidget(m_stack, 1);
    return w;
}

QWidget* SaliencyView::buildAttack() {
    auto* split = new QSplitter(Qt::Horizontal);
    auto* w = new QGroupBox(tr("Adversarial examples: x' = clip(x + ε·sign(∇x L), 0, 1)"));
    auto* box = new QHBoxLayout(w);
    auto* controls = new QVBoxLayout;
    m_eps = new QSlider(Qt::Horizontal);
    m_eps->setObjectName("epsilon");
    m_eps->setRange(0, 60);
    m_eps->setValue(20);
    m_eps->setToolTip(tr("ε in pixel units (the image is in [0, 1]): each pixel moves by at most "
                         "ε. Drag it: the attack follows"));
    m_epsLabel = new QLabel;
    m_epsLabel->setWordWrap(true);
    m_pgd = new QCheckBox(tr("PGD"));
    m_pgd->setObjectName("pgd");
    m_pgd->setToolTip(tr("Projected gradient descent (Madry et al.): k steps of 2.5ε/k, each "
                         "projected back to the ε-ball and to [0, 1] — the iterated FGSM"));
    m_pgdSteps = new QSpinBox;
    m_pgdSteps->setRange(1, 100);
    m_pgdSteps->setValue(10);
    m_pgdSteps->setSuffix(tr(" steps"));
    auto* pgdRow = new QHBoxLayout;
    pgdRow->addWidget(m_pgd);
    pgdRow->addWidget(m_pgdSteps);
    m_curveButton = new QPushButton(tr("Accuracy vs ε"));
    m_curveButton->setToolTip(tr("Attack the first N test images at ε = 0, 0.025, …, 0.3; an "
                                 "image misclassified when clean counts as wrong at every ε"));
    m_curveCount = new QSpinBox;
    m_curveCount->setRange(10, 10000);
    m_curveCount->setValue(1000);
    m_curveCount->setSuffix(tr(" images"));
    m_attackInfo = new QLabel;
    m_attackInfo->setWordWrap(true);
    controls->addWidget(new QLabel(tr("ε (pixel units)")));
    controls->addWidget(m_eps);
    controls->addWidget(m_epsLabel);
    controls->addLayout(pgdRow);
    controls->addWidget(m_curveCount);
    controls->addWidget(m_curveButton);
    controls->addWidget(m_attackInfo, 1);
    m_attackStrip = new MapStrip;
    m_attackStrip->setObjectName("attack images");
    m_bars = new ProbabilityBars;
    m_curveChart = new QChart;
    m_curveChart->setTitle(tr("Test accuracy vs ε"));
    m_fgsmCurve = new QLineSeries;
    m_fgsmCurve->setName(tr("FGSM"));
    m_fgsmCurve->setPointsVisible(true);
    m_pgdCurve = new QLineSeries;
    m_pgdCurve->setName(tr("PGD"));
    m_pgdCurve->setPointsVisible(true);
    m_curveChart->addSeries(m_fgsmCurve);
    m_curveChart->addSeries(m_pgdCurve);
    m_curveX = new QValueAxis;
    m_curveX->setRange(0, 0.3);
    m_curveX->setTitleText(tr("ε"));
    m_curveX->setLabelFormat("%.1f");
    m_curveX->setTickCount(4);
    auto* acc = new QValueAxis;
    acc->setRange(0, 1);
    acc->setTitleText(tr("accuracy"));
    m_curveChart->addAxis(m_curveX, Qt::AlignBottom);
    m_curveChart->addAxis(acc, Qt::AlignLeft);
    for (QLineSeries* s : {m_fgsmCurve, m_pgdCurve}) {
        s->attachAxis(m_curveX);
        s->attachAxis(acc);
    }
    auto* curve = new QChartView(m_curveChart);
    curve->setRenderHint(QPainter::Antialiasing);
    curve->setMinimumWidth(170);
    auto* controlsBox = new QWidget;
    controlsBox->setLayout(controls);
    controlsBox->setMaximumWidth(180);
    controls->setContentsMargins(0, 0, 0, 0);
    box->addWidget(controlsBox, 1);
    box->addWidget(m_attackStrip, 3);
    box->addWidget(m_bars, 2);
    split->addWidget(w);
    split->addWidget(curve);
    split->setStretchFactor(0, 2);
    split->setStretchFactor(1, 1);
    split->setSizes({640, 320});
    connect(m_eps, &QSlider::valueChanged, this, [this] { requestAttack(); });
    connect(m_pgd, &QCheckBox::toggled, this, [this] { requestAttack(); });
    connect(m_pgdSteps, &QSpinBox::valueChanged, this, [this] {
        if (m_pgd->isChecked())
            requestAttack();
    });
    connect(m_curveButton, &QPushButton::clicked, this, [this] {
        m_fgsmCurve->clear();
        m_pgdCurve->clear();
        m_pgdCurve->setName(tr("PGD-%1").arg(m_pgdSteps->value()));
        m_curveButton->setEnabled(false);
        CurveRequest r;
        r.count = m_curveCount->value();
        for (int i = 0; i <= 12; ++i)
            r.eps << 0.025 * i;
        m_session.requestCurve(r);
        if (m_pgd->isChecked()) {
            r.pgdSteps = m_pgdSteps->value();
            m_session.requestCurve(r);
        }
    });
    m_epsLabel->setText(tr("ε = %1").arg(eps(), 0, 'f', 3));
    return split;
}

double SaliencyView::eps() const {
    return m_eps->value() * kEpsStep;
}

int SaliencyView::curvePoints() const {
    return int(m_fgsmCurve->count() + m_pgdCurve->count());
}

int SaliencyView::sanityRows() const { // randomisation steps shown (columns of the strip)
    return m_saliency.sanityMaps.isEmpty() ? 0 : int(m_sanityStrip->panels().size());
}

QString SaliencyView::className(int k) const {
    return m_test.classNames.value(k, QString::number(k));
}

void SaliencyView::refresh() {
    m_session.requestTestSet();
    m_session.requestConfusion(0); // the predictions the browser shows
    if (m_image >= 0) {
        requestMaps();
        requestAttack();
    }
}

void SaliencyView::onConfusion(const ConfusionResult& r) {
    if (r.eps > 0)
        return; // an adversarial matrix (Train tab): not the clean predictions
    if (!r.error.isEmpty()) {
        m_listInfo->setText(r.error);
        return;
    }
    m_predicted = r.predicted;
    m_confidence = r.confidence;
    fillList();
}

void SaliencyView::showCell(int truth, int predicted) {
    m_cellTruth = truth;
    m_cellPredicted = predicted;
    fillList();
    if (m_list->count() > 0)
        m_list->setCurrentRow(0);
}

void SaliencyView::fillList() {
    const int keep = m_image;
    const QSignalBlocker quiet(m_list);
    m_list->clear();
    if (m_test.count == 0)
        return;
    const int filter = m_filter->currentIndex();
    const int D = m_test.channels * m_test.h * m_test.w;
    int matching = 0;
    for (int i = 0; i < m_test.count; ++i) {
        const int label = m_test.labels.value(i);
        const int pred = i < m_predicted.size() ? m_predicted[i] : -1;
        bool show = true;
        if (m_cellTruth >= 0)
            show = label == m_cellTruth && pred == m_cellPredicted;
        else if (filter == 1)
            show = pred >= 0 && pred != label;
        else if (filter >= 2)
            show = label == filter - 2;
        if (!show)
            continue;
        if (++matching > kMaxListed)
            continue;
        QVector<float> px(D);
        for (int k = 0; k < D; ++k)
            px[k] = float(quint8(m_test.images[qsizetype(i) * D + k])) / 255.0f;
        const QImage img = pixelsImage(px, m_test.channels, m_test.h, m_test.w)
                               .scaled(56, 56, Qt::KeepAspectRatio, Qt::FastTransformation);
        auto* item = new QListWidgetItem(QIcon(QPixmap::fromImage(img)),
                                         pred >= 0 ? QString("%1 %2%")
                                                         .arg(pred == label ? "✓" : "✗")
                                                         .arg(qRound(100 * m_confidence.value(i)))
                                                   : QString("#%1").arg(i));
        item->setData(Qt::UserRole, i);
        item->setToolTip(pred >= 0 ? tr("test image %1: true %2, predicted %3 (%4 %)")
                                         .arg(i)
                                         .arg(className(label), className(pred))
                                         .arg(100.0 * m_confidence.value(i), 0, 'f', 1)
                                   : tr("test image %1: true %2").arg(i).arg(className(label)));
        if (pred >= 0 && pred != label)
            item->setForeground(QColor(0xd5, 0x5e, 0x00));
        m_list->addItem(item);
        if (i == keep)
            m_list->setCurrentItem(item);
    }
    const QString what =
        m_cellTruth >= 0
            ? tr("true %1, predicted %2").arg(className(m_cellTruth), className(m_cellPredicted))
            : m_filter->currentText();
    m_listInfo->setText(
        matching > kMaxListed
            ? tr("%1: %2 images, the first %3 shown").arg(what).arg(matching).arg(kMaxListed)
            : tr("%1: %2 images").arg(what).arg(matching));
}

void SaliencyView::selectImage(int index) {
    if (index < 0)
        return;
    m_image = index;
    requestMaps();
    requestAttack();
}

void SaliencyView::requestMaps(bool sanity) {
    if (m_image < 0)
        return;
    SaliencyRequest r;
    r.image = m_image;
    const int t = m_target->currentIndex();
    r.target = t == 0 ? "predicted" : t == 1 ? "true" : "class";
    r.targetClass = std::max(0, t - 2);
    r.layer = m_layer->currentIndex() > 0 ? m_layer->currentText() : QString();
    r.sanity = sanity;
    if (sanity) {
        m_sanityButton->setEnabled(false);
        m_info->setText(tr("Randomising the layers one by one and recomputing the maps…"));
    }
    m_session.requestSaliency(r);
}

void SaliencyView::requestAttack() {
    m_epsLabel->setText(
        tr("ε = %1 (%2 of 255 grey levels)").arg(eps(), 0, 'f', 3).arg(eps() * 255, 0, 'f', 1));
    if (m_image < 0)
        return;
    m_session.requestAttack({m_image, eps(), m_pgd->isChecked() ? m_pgdSteps->value() : 0});
}

void SaliencyView::onSaliency(const SaliencyResult& r) {
    if (r.request.sanity)
        m_sanityButton->setEnabled(true);
    if (!r.error.isEmpty()) {
        m_info->setText(r.error);
        return;
    }
    if (r.image != m_image)
        return; // an answer for an image no longer shown
    m_saliency = r;
    {
        const QSignalBlocker quiet(m_layer);
        const QString current = m_layer->currentIndex() > 0 ? m_layer->currentText() : QString();
        m_layer->clear();
        m_layer->addItem(tr("last spatial layer (%1)").arg(r.gradcamLayer));
        m_layer->addItems(r.layers);
        if (!current.isEmpty())
            m_layer->setCurrentIndex(std::max(0, m_layer->findText(current)));
    }
    m_info->setText(
        tr("Test image %1: true <b>%2</b>, predicted <b>%3</b> (%4 %), explaining <b>%5</b> · "
           "integrated gradients: Σ attribution − Δy_c = %6 of Δy_c = %7 · weights of step %8")
            .arg(r.image)
            .arg(className(r.label), className(r.predicted))
            .arg(100 * r.probabilities.value(r.predicted), 0, 'f', 1)
            .arg(className(r.target))
            .arg(r.igGap, 0, 'g', 3)
            .arg(r.igDelta, 0, 'g', 3)
            .arg(r.step));
    drawMaps();
    drawSanity();
    m_stack->setCurrentIndex(r.request.sanity ? 1 : 0);
    if (r.request.sanity) // the strip needs the height: the attack panel gives some
        if (auto* right = qobject_cast<QSplitter*>(m_stack->parentWidget()->parentWidget()))
            right->setSizes({right->height() * 2 / 3, right->height() / 3});
}

void SaliencyView::drawMaps() {
    const SaliencyResult& r = m_saliency;
    if (r.pixels.isEmpty())
        return;
    const double opacity = m_opacity->value() / 100.0;
    const QImage image = pixelsImage(r.pixels, r.channels, r.h, r.w);
    QVector<MapPanel> panels;
    panels.push_back({tr("input"), className(r.label), image, false, false, 0});
    for (const MapImage& m : r.maps) {
        bool diverging = false;
        const QVector<float> shown = displayedMap(m, &diverging);
        MapPanel p;
        p.title =
            m.method == "gradcam" ? tr("Grad-CAM (%1)").arg(r.gradcamLayer) : methodTitle(m.method);
        p.diverging = diverging;
        p.legend = true;
        // Grad-CAM is read over the image; the others alone unless the slider says otherwise.
        p.image = mapImage(shown, m.h, m.w, diverging, image,
                           m.method == "gradcam" ? std::min(opacity, 0.6) : opacity, &p.scale);
        if (m.method == "ig")
            p.caption = tr("gap %1").arg(r.igGap, 0, 'g', 2);
        panels.push_back(p);
    }
    m_maps->setPanels(panels);
}

void SaliencyView::drawSanity() {
    const SaliencyResult& r = m_saliency;
    m_sanityChart->removeAllSeries();
    if (r.sanityMaps.isEmpty()) {
        m_sanityStrip->setRows({});
        return;
    }
    const double opacity = m_opacity->value() / 100.0;
    const QImage image = pixelsImage(r.pixels, r.channels, r.h, r.w);
    // A row per method, a column per randomisation step (the image first).
    QVector<QVector<MapPanel>> rows;
    QStringList titles;
    const int methods = int(r.sanityMaps.first().size());
    for (int k = 0; k < methods; ++k) {
        QVector<MapPanel> panels;
        for (int s = 0; s < r.sanityMaps.size(); ++s) {
            const MapImage& m = r.sanityMaps[s].value(k);
            bool diverging = false;
            const QVector<float> shown = displayedMap(m, &diverging);
            MapPanel p;
            p.title = k > 0 ? QString() : s == 0 ? tr("trained") : r.sanityLayers[s];
            p.caption = tr("ρ %1").arg(r.sanityRho[s].value(k), 0, 'f', 2);
            p.diverging = diverging;
            p.image = mapImage(shown, m.h, m.w, diverging, image,
                               m.method == "gradcam" ? std::min(opacity, 0.6) : opacity, &p.scale);
            panels.push_back(p);
        }
        rows.push_back(panels);
        titles << methodTitle(r.sanityMaps.first().value(k).method);
    }
    m_sanityStrip->setRows(rows, titles);
    // The correlation curves, one per method (Okabe–Ito colours).
    static const QColor colours[] = {
        {0, 114, 178}, {230, 159, 0}, {0, 158, 115}, {213, 94, 0}, {204, 121, 167}};
    auto* yAxis = m_sanityChart->axes(Qt::Vertical).value(0);
    for (int k = 0; k < r.maps.size(); ++k) {
        auto* series = new QLineSeries;
        series->setName(methodTitle(r.maps[k].method));
        series->setPointsVisible(true);
        QPen pen(colours[k % 5]);
        pen.setWidth(m_presenter ? 5 : 2);
        series->setPen(pen);
        for (int s = 0; s < r.sanityRho.size(); ++s)
            series->append(s, r.sanityRho[s].value(k));
        m_sanityChart->addSeries(series);
        series->attachAxis(m_sanityX);
        if (yAxis)
            series->attachAxis(yAxis);
    }
    m_sanityX->setRange(0, std::max<qsizetype>(1, r.sanityRho.size() - 1));
    m_sanityX->setTickCount(
        int(std::min<qsizetype>(12, std::max<qsizetype>(2, r.sanityRho.size()))));
}

void SaliencyView::onAttack(const AttackResult& r) {
    if (!r.error.isEmpty()) {
        m_attackInfo->setText(r.error);
        return;
    }
    if (r.request.image != m_image)
        return;
    m_attack = r;
    drawAttack();
}

void SaliencyView::drawAttack() {
    const AttackResult& r = m_attack;
    if (r.clean.isEmpty())
        return;
    const QImage clean = pixelsImage(r.clean, r.channels, r.h, r.w);
    const QImage adv = pixelsImage(r.adversarial, r.channels, r.h, r.w);
    // The perturbation x' − x (summed over colours), on ±ε: amplified to the full scale.
    QVector<float> delta(r.h * r.w, 0.0f);
    for (int c = 0; c < r.channels; ++c)
        for (int i = 0; i < r.h * r.w; ++i)
            delta[i] += r.adversarial.value(c * r.h * r.w + i) - r.clean.value(c * r.h * r.w + i);
    MapPanel perturbation;
    perturbation.title =
        tr("x' − x (×%1)").arg(r.request.eps > 0 ? 1.0 / r.request.eps : 1.0, 0, 'f', 0);
    perturbation.image = mapImage(delta, r.h, r.w, true, QImage(), 1.0, &perturbation.scale);
    perturbation.legend = true;
    perturbation.diverging = true;
    const QString name = r.request.pgdSteps > 0 ? tr("PGD-%1").arg(r.request.pgdSteps) : "FGSM";
    m_attackStrip->setPanels({{tr("clean"),
                               tr("%1 %2 %")
                                   .arg(className(r.predictedBefore))
                                   .arg(qRound(100 * r.before.value(r.predictedBefore))),
                               clean, false, false, 0},
                              {tr("%1 ε %2").arg(name).arg(r.request.eps, 0, 'g', 3),
                               tr("%1 %2 %")
                                   .arg(className(r.predictedAfter))
                                   .arg(qRound(100 * r.after.value(r.predictedAfter))),
                               adv, false, false, 0},
                              perturbation});
    m_bars->setProbabilities(r.before, r.after, r.classNames, r.label);
    m_attackInfo->setText(
        r.predictedAfter == r.label
            ? tr("Still %1: a larger ε is needed").arg(className(r.label))
            : tr("Now <b>%1</b>: the network is fooled").arg(className(r.predictedAfter)));
}

void SaliencyView::onCurvePoint(const CurvePoint& p) {
    (p.pgdSteps > 0 ? m_pgdCurve : m_fgsmCurve)->append(p.eps, p.accuracy);
    m_curveX->setRange(0, std::max(0.3, p.eps));
}

bool SaliencyView::exportCsv(const QString& path) {
    return writeText(path, [this](QTextStream& out) {
        const SaliencyResult& r = m_saliency;
        out << "# saliency maps of test image " << r.image << " (target class " << r.target
            << "), pixel units\nmethod,channel,y,x,value\n";
        for (const MapImage& m : r.maps)
            for (int c = 0; c < m.channels; ++c)
                for (int y = 0; y < m.h; ++y)
                    for (int x = 0; x < m.w; ++x)
                        out << m.method << ',' << c << ',' << y << ',' << x << ','
                            << m.values.value((c * m.h + y) * m.w + x) << '\n';
        const AttackResult& a = m_attack;
        out << "\n# attack of test image " << a.request.image << ", eps " << a.request.eps
            << ", pgd steps " << a.request.pgdSteps << "\nclass,probability_clean,"
            << "probability_adversarial\n";
        for (int k = 0; k < a.before.size(); ++k)
            out << quoted(a.classNames.value(k)) << ',' << a.before[k] << ',' << a.after.value(k)
                << '\n';
        out << "\n# accuracy vs eps\nmethod,eps,accuracy\n";
        for (const QPointF& p : m_fgsmCurve->points())
            out << "fgsm," << p.x() << ',' << p.y() << '\n';
        for (const QPointF& p : m_pgdCurve->points())
            out << quoted(m_pgdCurve->name()) << ',' << p.x() << ',' << p.y() << '\n';
    });
}

void SaliencyView::setPresenterMode(bool on) {
    View::setPresenterMode(on);
    for (QChart* c : {m_curveChart, m_sanityChart})
        setChartFont(c, font());
    for (QLineSeries* s : {m_fgsmCurve, m_pgdCurve}) {
        QPen p = s->pen();
        p.setWidth(on ? 5 : 2);
        s->setPen(p);
    }
    m_list->setIconSize(on ? QSize(84, 84) : QSize(56, 56));
    m_list->setGridSize(on ? QSize(120, 120) : QSize(80, 82));
    drawSanity();
}

} // namespace convscope::ui
