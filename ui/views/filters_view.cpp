// FiltersView: a splitter of, above, the filters (each beside its Gabor fit) with the Gabor panel
// (the orientation rose, the Gabor-like fraction over steps) under the Gabor-like rule, and below,
// the feature maps with their image picker.
#include "filters_view.h"
#include "feature_map_view.h"
#include "filter_view.h"
#include "orientation_rose.h"
#include "train_view.h"

#include <QChart>
#include <QChartView>
#include <QCheckBox>
#include <QDir>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QLabel>
#include <QLegend>
#include <QLineSeries>
#include <QPainter>
#include <QPushButton>
#include <QSpinBox>
#include <QSplitter>
#include <QTextStream>
#include <QVBoxLayout>
#include <QValueAxis>

namespace convscope::ui {

FiltersView::FiltersView(QWidget* parent) : View(parent) {
    m_filters = new FilterView;
    m_start = new FilterView;
    m_start->setObjectName("filters at start");
    m_start->setFitsShown(false); // the start is drawn raw: the chart's first point tells its fits
    m_compare = new QCheckBox(tr("At start / now"));
    m_compare->setObjectName("compare filters");
    m_compare->setToolTip(tr("The first layer's filters when the run started beside the current "
                             "ones: what training changed"));
    const QString rule = GaborFitter::ruleText();
    m_fitsBox = new QCheckBox(tr("Fits"));
    m_fitsBox->setObjectName("gabor fits");
    m_fitsBox->setChecked(true);
    m_fitsBox->setToolTip(
        tr("Each filter beside the Gabor function fitted to it, "
           "A·exp(−(x′² + γ²y′²)/2σ²)·cos(2πx′/λ + φ) + c with x′ along the wave's direction θ, "
           "the model of a simple cell in the visual cortex; for RGB filters the fit is of the "
           "channel mean. Under each pair R² of the fit / the null R²: the same fit on the "
           "filter's pixels shuffled, since a small kernel is easy to fit (a random 7×7 filter "
           "reaches about 0.3). %1. Off: the raw filters only.")
            .arg(rule));
    m_startLabel = new QLabel(tr("at the start"));
    m_nowLabel = new QLabel(tr("now"));
    m_rule = new QLabel(rule + tr(" (green frame, ✓)"));
    m_rule->setObjectName("gabor rule");
    m_rule->setWordWrap(true);
    m_rule->setToolTip(m_fitsBox->toolTip());

    // The Gabor panel: the rose and the chart.
    m_rose = new OrientationRose;
    m_rose->setObjectName("orientation rose");
    m_chart = new QChart;
    m_fraction = new QLineSeries;
    m_medianR2 = new QLineSeries;
    m_medianNull = new QLineSeries;
    m_x = new QValueAxis;
    m_x->setTitleText(tr("step"));
    m_x->setLabelFormat("%d");
    setNiceRange(m_x, 100);
    auto* y = new QValueAxis;
    y->setTitleText(tr("fraction, R²"));
    y->setRange(0, 1);
    y->setTickCount(6);
    y->setLabelFormat("%.1f");
    m_chart->addAxis(m_x, Qt::AlignBottom);
    m_chart->addAxis(y, Qt::AlignLeft);
    for (QLineSeries* s : {m_fraction, m_medianR2, m_medianNull}) {
        m_chart->addSeries(s);
        s->attachAxis(m_x);
        s->attachAxis(y);
    }
    // The title and key are a label under the chart: it wraps where a legend would truncate.
    m_chart->legend()->setVisible(false);
    m_chart->setMargins(QMargins(2, 2, 12, 2)); // room for the step axis's last label
    auto* chartView = new QChartView(m_chart);
    chartView->setObjectName("gabor chart");
    chartView->setRenderHint(QPainter::Antialiasing);
    chartView->setMinimumSize(240, 180);
    chartView->setToolTip(
        tr("After each refit of the filters during training: the fraction that is Gabor-like "
           "(green), the median R² of the fits (blue) and the median R² of the same fits on "
           "shuffled pixels (grey, dashed). Oriented, localised filters have emerged when R² "
           "pulls away from its null."));
    auto* key = new QLabel(tr("<b>Over training:</b> "
                              "<span style='color:#009e73'>━━</span>&nbsp;Gabor-like &nbsp; "
                              "<span style='color:#0072b2'>━━</span>&nbsp;median&nbsp;R² &nbsp; "
                              "<span style='color:#808080'>╍╍</span>&nbsp;median&nbsp;null&nbsp;"
                              "R²"));
    key->setWordWrap(true);
    key->setAlignment(Qt::AlignHCenter);
    key->setToolTip(chartView->toolTip());
    applyChartPalette();
    m_gaborPanel = new QWidget;
    m_gaborPanel->setObjectName("gabor panel");
    auto* panelBox = new QHBoxLayout(m_gaborPanel);
    panelBox->setContentsMargins(0, 0, 0, 0);
    panelBox->addWidget(m_rose, 2);
    auto* chartBox = new QVBoxLayout;
    chartBox->addWidget(chartView, 1);
    chartBox->addWidget(key);
    panelBox->addLayout(chartBox, 3);

    // Above the splitter: the options and the rule; under them the filters at the start (when
    // compared), now, and the Gabor panel.
    auto* top = new QWidget;
    auto* topBox = new QVBoxLayout(top);
    topBox->setContentsMargins(0, 0, 0, 0);
    auto* bar = new QHBoxLayout;
    bar->addWidget(m_compare);
    bar->addWidget(m_fitsBox);
    bar->addSpacing(12);
    bar->addWidget(m_rule, 1);
    bar->addStretch(0); // keeps the boxes on the left while the rule is hidden
    topBox->addLayout(bar);
    auto* row = new QHBoxLayout;
    auto column = [](QLabel* label, FilterView* view) {
        auto* w = new QWidget;
        auto* b = new QVBoxLayout(w);
        b->setContentsMargins(0, 0, 0, 0);
        b->addWidget(label);
        b->addWidget(view, 1);
        return w;
    };
    auto* startColumn = column(m_startLabel, m_start);
    row->addWidget(startColumn, 1);
    row->addWidget(column(m_nowLabel, m_filters), 1);
    row->addWidget(m_gaborPanel, 1);
    topBox->addLayout(row, 1);
    startColumn->setVisible(false);
    m_nowLabel->setVisible(false);
    connect(m_compare, &QCheckBox::toggled, this, [this, startColumn](bool on) {
        startColumn->setVisible(on);
        m_nowLabel->setVisible(on);
    });
    connect(m_fitsBox, &QCheckBox::toggled, this, [this](bool on) {
        m_filters->setFitsShown(on);
        m_gaborPanel->setVisible(on);
        m_rule->setVisible(on);
    });
    connect(&m_fitter, &GaborFitter::fitted, this, &FiltersView::showFits);

    auto* split = new QSplitter(Qt::Vertical);
    m_split = split;
    split->addWidget(top);
    auto* maps = new QWidget;
    auto* mapsBox = new QVBoxLayout(maps);
    auto* mapsBar = new QHBoxLayout;
    m_probe = new QSpinBox;
    m_probe->setObjectName("test image");
    m_probe->setRange(0, 9999);
    m_probe->setToolTip(tr("Which test image to send through the network"));
    auto* next = new QPushButton(tr("Next image"));
    connect(next, &QPushButton::clicked, this, [this] { m_probe->setValue(m_probe->value() + 1); });
    mapsBar->addWidget(new QLabel(tr("Feature maps of test image")));
    mapsBar->addWidget(m_probe);
    mapsBar->addWidget(next);
    mapsBar->addStretch(1);
    mapsBox->addLayout(mapsBar);
    m_maps = new FeatureMapView;
    mapsBox->addWidget(m_maps, 1);
    split->addWidget(maps);
    split->setStretchFactor(0, 1);
    split->setStretchFactor(1, 1);
    auto* box = new QVBoxLayout(this);
    box->setContentsMargins(0, 0, 0, 0);
    box->addWidget(split);
    connect(m_probe, &QSpinBox::valueChanged, this, &FiltersView::probeChanged);
}

void FiltersView::setFilters(const QVector<float>& weights, int count, int channels, int h, int w,
                             qint64 step) {
    if (!m_haveStart && !weights.isEmpty()) {
        m_start->setFilters(weights, count, channels, h, w);
        m_haveStart = true;
    }
    m_filters->setFilters(weights, count, channels, h, w);
    if (!m_filters->fitsMatch()) // a new shape: the old fits are gone
        m_rose->setAngles({});
    if (weights.isEmpty())
        m_fitter.clear();
    else
        m_fitter.fit(weights, count, channels, h, w, step);
}

void FiltersView::newRun() {
    m_haveStart = false;
    m_fitter.clear();
    m_filters->setFits({});
    m_rose->setAngles({});
    for (QLineSeries* s : {m_fraction, m_medianR2, m_medianNull})
        s->clear();
    setNiceRange(m_x, 100);
}

const GaborFits& FiltersView::fits() const {
    return m_filters->fits();
}

QVector<QPointF> FiltersView::fractionPoints() const {
    const QList<QPointF> points = m_fraction->points();
    return {points.begin(), points.end()};
}

void FiltersView::showFits(const GaborFits& fits) {
    // Fits of filters of another shape (a network changed meanwhile) are not these filters'.
    if (fits.count != m_filters->count() || fits.channels != m_filters->channels() ||
        fits.h != m_filters->filterH() || fits.w != m_filters->filterW())
        return;
    m_filters->setFits(fits);
    QVector<double> angles;
    for (const GaborFilterFit& f : fits.filters)
        if (f.gaborLike)
            angles.push_back(f.thetaDeg);
    m_rose->setAngles(angles);
    // One point per fitted step, in step order (a step the chart has passed is not redrawn).
    if (fits.step < 0 ||
        (m_fraction->count() > 0 && fits.step <= m_fraction->at(m_fraction->count() - 1).x()))
        return;
    const double step = double(fits.step);
    m_fraction->append(step, fits.fraction);
    m_medianR2->append(step, fits.medianR2);
    m_medianNull->append(step, fits.medianNullR2);
    // A long run: at most ~2,000 points a series, every other one dropped when it gets there.
    if (m_fraction->count() > 2000)
        for (QLineSeries* s : {m_fraction, m_medianR2, m_medianNull}) {
            QList<QPointF> kept;
            const QList<QPointF> all = s->points();
            for (qsizetype i = 0; i < all.size(); i += 2)
                kept << all[i];
            if (kept.last() != all.last())
                kept << all.last();
            s->replace(kept);
        }
    for (QLineSeries* s : {m_fraction, m_medianR2, m_medianNull}) // a lone point is a dot
        s->setPointsVisible(s->count() < 30);
    setNiceRange(m_x, std::max(10.0, step));
    if (m_x->max() / m_x->tickInterval() > 5.5) // a narrow chart: at most ~6 step labels
        m_x->setTickInterval(2 * m_x->tickInterval());
}

QString FiltersView::fitsCsvPath(const QString& path) {
    const QFileInfo f(path);
    return f.dir().filePath(f.completeBaseName() + "-gabor." +
                            (f.suffix().isEmpty() ? QString("csv") : f.suffix()));
}

bool FiltersView::exportCsv(const QString& path) {
    const bool weights = writeText(path, [this](QTextStream& out) {
        out << "filter,channel,y,x,weight\n";
        const QVector<float>& w = m_filters->weights();
        const int n = m_filters->count(), per = n > 0 ? int(w.size()) / n : 0;
        const int fh = m_filters->filterH(), fw = m_filters->filterW();
        for (int i = 0; i < int(w.size()); ++i) {
            const int k = i % per;
            out << i / per << ',' << k / (fh * fw) << ',' << (k / fw) % fh << ',' << k % fw << ','
                << w[i] << '\n';
        }
    });
    // The fits of the filters written above (of their shape), then the chart's points.
    return weights && writeText(fitsCsvPath(path), [this](QTextStream& out) {
               out << "filter,r2,null_r2,gabor_like,theta_deg,wavelength,sigma,phase_deg,gamma,"
                      "amplitude,offset,x0,y0,colour_contrast\n";
               const GaborFits& g = m_filters->fits();
               if (m_filters->fitsMatch())
                   for (int f = 0; f < int(g.filters.size()); ++f) {
                       const GaborFilterFit& x = g.filters[f];
                       out << f << ',' << x.r2 << ',' << x.nullR2 << ',' << (x.gaborLike ? 1 : 0)
                           << ',' << x.thetaDeg << ',' << x.wavelength << ',' << x.sigma << ','
                           << x.phaseDeg << ',' << x.gamma << ',' << x.amplitude << ',' << x.offset
                           << ',' << x.x0 << ',' << x.y0 << ',' << x.colourContrast << '\n';
                   }
               out << "\nstep,fraction_gabor_like,median_r2,median_null_r2\n";
               for (int i = 0; i < m_fraction->count(); ++i)
                   out << qint64(m_fraction->at(i).x()) << ',' << m_fraction->at(i).y() << ','
                       << m_medianR2->at(i).y() << ',' << m_medianNull->at(i).y() << '\n';
           });
}

void FiltersView::setPresenterMode(bool on) {
    View::setPresenterMode(on);
    m_filters->setHighContrast(on);
    m_start->setHighContrast(on);
    m_rose->setHighContrast(on);
    setChartFont(m_chart, font());
    applyChartPalette();
    // The filters and their Gabor chart get two thirds of the height on a projector (its fonts
    // need it: under a lesson's banner at 1280x800 the chart's labels were all "…"); the feature
    // maps the rest. The divider can still be dragged.
    m_maps->setMinimumHeight(on ? 100 : 200); // (its 200 px left the filters' row 200 too)
    m_splitPending = true;
    applySplit();
}

// The presenter's split once the splitter has a height (a window opened in presenter mode sets
// the mode before it is shown).
void FiltersView::applySplit() {
    const int h = m_split->height();
    if (!m_splitPending || h <= 0 || !m_split->isVisible())
        return;
    m_splitPending = false;
    const int top = m_presenter ? 2 * h / 3 : h / 2;
    m_split->setSizes({top, h - top});
}

void FiltersView::resizeEvent(QResizeEvent* e) {
    View::resizeEvent(e);
    applySplit();
}

void FiltersView::showEvent(QShowEvent* e) {
    View::showEvent(e);
    applySplit();
}

// The fraction in bluish green (the frames' colour), thick; the median R² in
// blue; its null dashed grey. Thicker on a projector.
void FiltersView::applyChartPalette() {
    const int scale = m_presenter ? 2 : 1;
    QPen fraction(QColor(0, 158, 115), 3 * scale);
    m_fraction->setPen(fraction);
    m_fraction->setColor(fraction.color());
    QPen r2(QColor(0, 114, 178), 2 * scale);
    m_medianR2->setPen(r2);
    m_medianR2->setColor(r2.color());
    QPen null(QColor(0x80, 0x80, 0x80), 2 * scale);
    null.setStyle(Qt::DashLine);
    m_medianNull->setPen(null);
    m_medianNull->setColor(null.color());
}

} // namespace convscope::ui
