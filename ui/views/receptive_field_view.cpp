// ReceptiveFieldView: one unit's theoretical and effective receptive field, the per-layer table
// and the depth chart (see receptive_field_view.h).
#include "receptive_field_view.h"
#include "deferred_fit.h"

#include "field_map.h"
#include "map_strip.h"
#include "unit_picker.h"

#include <QCheckBox>
#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QSpinBox>
#include <QSplitter>
#include <QTableWidget>
#include <QTextStream>
#include <QVBoxLayout>
#include <QtCharts/QChart>
#include <QtCharts/QChartView>
#include <QtCharts/QLineSeries>
#include <QtCharts/QScatterSeries>
#include <QtCharts/QValueAxis>

namespace convscope::ui {

namespace {
enum Col { Layer, Output, Theory, Jump, Erf50, Erf90, Erf90Initial, Cols };
} // namespace

ReceptiveFieldView::ReceptiveFieldView(TrainingSession& session, QWidget* parent)
    : View(parent), m_session(session) {
    m_image = new QSpinBox;
    m_image->setObjectName("rf image");
    m_image->setRange(0, 9999);
    m_image->setToolTip(tr("The test image whose feature maps you click in"));
    m_layer = new QComboBox;
    m_layer->setObjectName("rf layer");
    m_layer->setMinimumContentsLength(10);
    m_layer->setToolTip(tr("The layer whose units you pick (layers with a feature map)"));
    m_images = new QSpinBox;
    m_images->setObjectName("rf images");
    m_images->setRange(1, 1000);
    m_images->setValue(64);
    m_images->setSuffix(tr(" images"));
    m_images->setToolTip(tr("The effective field is |∂unit/∂pixel| averaged over this many test "
                            "images (Luo et al. average over many inputs: one image's gradient "
                            "is noisy)"));
    m_allChannels = new QCheckBox(tr("All channels"));
    m_allChannels->setObjectName("rf all channels");
    m_allChannels->setChecked(true);
    m_allChannels->setToolTip(tr("Seed every channel at the clicked position together (Luo et "
                                 "al.'s centre pixel); off: only the clicked channel's unit"));
    m_initial = new QCheckBox(tr("At initialisation"));
    m_initial->setObjectName("rf initial");
    m_initial->setChecked(true);
    m_initial->setToolTip(tr("Also the effective fields with the network's initial weights, to "
                             "see what training does to them"));
    m_title = new QLabel;
    m_title->setTextInteractionFlags(Qt::TextSelectableByMouse);
    auto* controls = new QHBoxLayout;
    controls->addWidget(new QLabel(tr("Test image")));
    controls->addWidget(m_image);
    controls->addWidget(new QLabel(tr("Layer")));
    controls->addWidget(m_layer);
    controls->addWidget(m_images);
    controls->addWidget(m_allChannels);
    controls->addWidget(m_initial);
    controls->addStretch(1);
    controls->addWidget(m_title);

    m_map = new FieldMap;
    m_numbers = new QLabel;
    m_numbers->setObjectName("rf numbers");
    m_numbers->setWordWrap(true);
    m_numbers->setTextInteractionFlags(Qt::TextSelectableByMouse);
    auto* left = new QWidget;
    auto* leftBox = new QVBoxLayout(left);
    leftBox->setContentsMargins(0, 0, 0, 0);
    leftBox->addWidget(m_map, 1);
    leftBox->addWidget(m_numbers);
    m_picker = new UnitPicker;

    m_table = new QTableWidget(0, Cols);
    m_table->setObjectName("rf table");
    m_table->setHorizontalHeaderLabels({tr("Layer"), tr("Output"), tr("RF"), tr("Jump"),
                                        tr("ERF-50"), tr("ERF-90"), tr("at init")});
    m_table->horizontalHeaderItem(Theory)->setToolTip(
        tr("The theoretical receptive field: r = r_prev + (k − 1)·d·j_prev. Two 3×3 "
           "convolutions see 5×5, three see 7×7"));
    m_table->horizontalHeaderItem(Jump)->setToolTip(
        tr("The product of the strides so far: how far apart neighbouring units look"));
    m_table->horizontalHeaderItem(Erf50)->setToolTip(
        tr("The side of the smallest square, centred on the layer's centre unit, holding 50 % of "
           "its effective field"));
    m_table->horizontalHeaderItem(Erf90)->setToolTip(tr("The same for 90 %"));
    m_table->horizontalHeaderItem(Erf90Initial)
        ->setToolTip(tr("ERF-90 with the network's initial weights"));
    m_table->verticalHeader()->setVisible(false);
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    // Every number visible: the columns fit their content, the last takes what is left.
    m_table->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_table->horizontalHeader()->setStretchLastSection(true);

    m_chart = new QChart;
    m_chart->setTitle(tr("Receptive field vs depth"));
    m_theory = new QLineSeries;
    m_theory->setName(tr("RF"));
    m_effective = new QLineSeries;
    m_effective->setName(tr("ERF-90"));
    m_effectiveInitial = new QLineSeries;
    m_effectiveInitial->setName(tr("ERF-90 at init"));
    m_theory->setPen(QPen(QColor(0x00, 0x72, 0xb2), 2.5));
    m_effective->setPen(QPen(QColor(0xd5, 0x5e, 0x00), 2.5));
    m_effectiveInitial->setPen(QPen(QColor(0x88, 0x88, 0x88), 2, Qt::DashLine));
    auto* x = new QValueAxis;
    x->setTitleText(tr("layer (input → output)"));
    x->setLabelFormat("%d");
    auto* y = new QValueAxis;
    y->setTitleText(tr("pixels"));
    y->setLabelFormat("%d");
    m_chart->addAxis(x, Qt::AlignBottom);
    m_chart->addAxis(y, Qt::AlignLeft);
    for (QLineSeries* s : {m_theory, m_effective, m_effectiveInitial}) {
        m_chart->addSeries(s);
        s->attachAxis(x);
        s->attachAxis(y);
    }
    m_chart->legend()->setAlignment(Qt::AlignBottom);
    auto* chartView = new QChartView(m_chart);
    chartView->setRenderHint(QPainter::Antialiasing);
    chartView->setMinimumHeight(200);
    chartView->setToolTip(tr("The theoretical field grows linearly with depth (faster after each "
                             "stride); the effective one grows more slowly — about with the "
                             "square root of the depth for a plain stack (Luo et al.)"));

    auto* right = new QSplitter(Qt::Vertical);
    right->addWidget(m_table);
    right->addWidget(chartView);
    auto* split = new QSplitter;
    split->addWidget(left);
    split->addWidget(m_picker);
    split->addWidget(right);
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 2);
    split->setStretchFactor(2, 4);
    split->setSizes({380, 300, 480});
    auto* box = new QVBoxLayout(this);
    box->addLayout(controls);
    box->addWidget(split, 1);

    m_debounce.setSingleShot(true);
    m_debounce.setInterval(250);
    connect(&m_debounce, &QTimer::timeout, this, &ReceptiveFieldView::refresh);
    connect(m_image, &QSpinBox::valueChanged, this, &ReceptiveFieldView::requestSoon);
    connect(m_images, &QSpinBox::valueChanged, this, &ReceptiveFieldView::requestSoon);
    connect(m_initial, &QCheckBox::toggled, this, &ReceptiveFieldView::requestSoon);
    connect(m_allChannels, &QCheckBox::toggled, this, [this] {
        if (m_channel >= 0 || m_allChannels->isChecked())
            pickUnit(m_allChannels->isChecked() ? -1 : std::max(0, m_result.channel), m_y, m_x);
    });
    connect(m_layer, &QComboBox::activated, this, [this] {
        m_channel = -1; // another layer: its centre until a unit is clicked
        m_y = m_x = -1;
        requestSoon();
    });
    connect(m_picker, &UnitPicker::unitPicked, this,
            [this](int c, int y, int x) { pickUnit(m_allChannels->isChecked() ? -1 : c, y, x); });
    connect(&m_session, &TrainingSession::fieldsReady, this, &ReceptiveFieldView::onResult);
    connect(&m_session, &TrainingSession::analysisModelChanged, this,
            &ReceptiveFieldView::requestSoon);
    connect(&m_session, &TrainingSession::testSetReady, this, [this](const TestSet& t) {
        if (t.error.isEmpty() && t.count > 0)
            m_image->setMaximum(t.count - 1);
    });
}

void ReceptiveFieldView::requestSoon() {
    if (isVisible())
        m_debounce.start();
    else
        markStale(); // asked when the tab is shown
}

void ReceptiveFieldView::pickUnit(int channel, int y, int x) {
    m_channel = channel;
    m_y = y;
    m_x = x;
    m_picker->setUnit(channel, y, x);
    m_debounce.stop();
    refresh();
}

void ReceptiveFieldView::refresh() {
    FieldRequest r;
    if (m_source) {
        const TrainRequest t = m_source();
        r.spec = t.spec;
        r.dataset = t.dataset;
        r.dataDir = t.dataDir;
        r.seed = t.seed;
    }
    r.image = m_image->value();
    r.layer = m_layer->currentText();
    r.channel = m_channel;
    r.y = m_y;
    r.x = m_x;
    r.images = m_images->value();
    r.untrained = m_initial->isChecked();
    m_title->setText(tr("Computing…"));
    m_session.requestFields(r);
}

void ReceptiveFieldView::onResult(const FieldResult& r) {
    if (!r.error.isEmpty()) {
        m_title->setText(tr("<span style='color:#b00020'>%1</span>").arg(r.error.toHtmlEscaped()));
        return;
    }
    m_result = r;
    m_title->setText(r.network);
    {
        const QSignalBlocker quiet(m_layer);
        m_layer->clear();
        m_layer->addItems(r.layers);
        m_layer->setCurrentText(r.layer);
    }
    m_picker->setMaps(r.maps);
    m_picker->setUnit(r.channel, r.y, r.x);
    const QImage image = pixelsImage(r.image.values, r.image.channels, r.image.h, r.image.w);
    m_map->setField(image, r.erf, r.centreY, r.centreX, r.rfH, r.rfW, r.side50, r.side90);
    const QString unit = r.channel < 0 ? tr("(all channels, %1, %2)").arg(r.y).arg(r.x)
                                       : tr("(%1, %2, %3)").arg(r.channel).arg(r.y).arg(r.x);
    const QString rf =
        r.rfH == r.rfW ? QString::number(r.rfH) : QStringLiteral("%1×%2").arg(r.rfH).arg(r.rfW);
    m_numbers->setText(
        tr("<b>%1 %2</b>: theoretical field %3×%3 centred at (%4, %5); effective: 50 % within "
           "%6×%6, 90 % within %7×%7 (%8 % of the theoretical side), over %9 test images")
            .arg(r.layer.toHtmlEscaped(), unit, rf)
            .arg(r.centreY)
            .arg(r.centreX)
            .arg(r.side50)
            .arg(r.side90)
            .arg(qRound(100 * r.ratio90))
            .arg(r.erfImages));
    if (!r.rows.isEmpty()) {
        fillTable(r.rows);
        fillChart(r.rows);
    }
}

void ReceptiveFieldView::setSpecCheck(const SpecCheck& check) {
    // The theoretical column at once (top-level layers, as the table lists them); the effective
    // ones are asked for again.
    QVector<FieldRow> rows;
    for (const SpecRow& s : check.rows) {
        if (s.depth != 0)
            continue;
        FieldRow f;
        f.layer = s.path;
        f.output = s.output;
        f.global = s.rf == "all";
        f.rf = s.rf.section('x', -1).toInt();
        rows.push_back(f);
    }
    fillTable(rows);
    fillChart(rows);
    requestSoon();
}

void ReceptiveFieldView::fillTable(const QVector<FieldRow>& rows) {
    const DeferredFit fit(m_table->horizontalHeader());
    m_table->setRowCount(int(rows.size()));
    auto number = [](int v) { return v > 0 ? QString::number(v) : QStringLiteral("–"); };
    for (int i = 0; i < rows.size(); ++i) {
        const FieldRow& f = rows[i];
        const QStringList cells = {f.layer,
                                   f.output,
                                   f.global ? tr("all") : number(f.rf),
                                   f.global ? QStringLiteral("–") : number(f.jump),
                                   number(f.erf50),
                                   number(f.erf90),
                                   number(f.erf90Initial)};
        for (int c = 0; c < Cols; ++c) {
            auto* item = new QTableWidgetItem(cells[c]);
            if (c >= Theory)
                item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
            m_table->setItem(i, c, item);
        }
    }
}

void ReceptiveFieldView::fillChart(const QVector<FieldRow>& rows) {
    QList<QPointF> theory, effective, initial;
    double top = 1;
    int k = 0;
    for (const FieldRow& f : rows) {
        if (f.global)
            continue;
        ++k;
        theory << QPointF(k, f.rf);
        if (f.erf90 > 0)
            effective << QPointF(k, f.erf90);
        if (f.erf90Initial > 0)
            initial << QPointF(k, f.erf90Initial);
        top = std::max({top, double(f.rf), double(f.erf90), double(f.erf90Initial)});
    }
    m_theory->replace(theory);
    m_effective->replace(effective);
    m_effectiveInitial->replace(initial);
    auto* x = static_cast<QValueAxis*>(m_chart->axes(Qt::Horizontal).first());
    auto* y = static_cast<QValueAxis*>(m_chart->axes(Qt::Vertical).first());
    x->setRange(1, std::max(2, k));
    x->setTickCount(std::clamp(k, 2, 12));
    y->setRange(0, top * 1.05);
    y->applyNiceNumbers();
}

int ReceptiveFieldView::depthPoints(int series) const {
    const QLineSeries* s = series == 0 ? m_theory : series == 1 ? m_effective : m_effectiveInitial;
    return int(s->count());
}

bool ReceptiveFieldView::exportCsv(const QString& path) {
    return writeText(path, [this](QTextStream& out) {
        out << "layer,output,rf,jump,erf50,erf90,erf90_initial\n";
        for (int r = 0; r < m_table->rowCount(); ++r) {
            QStringList cells;
            for (int c = 0; c < Cols; ++c) {
                const QString v = m_table->item(r, c) ? m_table->item(r, c)->text() : QString();
                cells << quoted(v == QStringLiteral("–") ? QString() : v);
            }
            out << cells.join(',') << '\n';
        }
    });
}

void ReceptiveFieldView::setPresenterMode(bool on) {
    View::setPresenterMode(on);
    setChartFont(m_chart, font());
    const qreal w = on ? 4 : 2.5;
    m_theory->setPen(QPen(QColor(0x00, 0x72, 0xb2), w));
    m_effective->setPen(QPen(QColor(0xd5, 0x5e, 0x00), w));
    m_effectiveInitial->setPen(QPen(QColor(0x88, 0x88, 0x88), w - 0.5, Qt::DashLine));
}

} // namespace convscope::ui
