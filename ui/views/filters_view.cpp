// FiltersView: a splitter of the filter grid and the feature maps with their image picker.
#include "filters_view.h"
#include "feature_map_view.h"
#include "filter_view.h"

#include <QCheckBox>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QSpinBox>
#include <QSplitter>
#include <QTextStream>
#include <QVBoxLayout>

namespace convscope::ui {

FiltersView::FiltersView(QWidget* parent) : View(parent) {
    m_filters = new FilterView;
    m_start = new FilterView;
    m_start->setObjectName("filters at start");
    m_compare = new QCheckBox(tr("At start / now"));
    m_compare->setObjectName("compare filters");
    m_compare->setToolTip(tr("The first layer's filters when the run started beside the current "
                             "ones: what training changed"));
    m_startLabel = new QLabel(tr("at the start"));
    m_nowLabel = new QLabel(tr("now"));
    auto* pair = new QWidget;
    auto* pairBox = new QGridLayout(pair);
    pairBox->setContentsMargins(0, 0, 0, 0);
    pairBox->addWidget(m_compare, 0, 0, 1, 2);
    pairBox->addWidget(m_startLabel, 1, 0);
    pairBox->addWidget(m_nowLabel, 1, 1);
    pairBox->addWidget(m_start, 2, 0);
    pairBox->addWidget(m_filters, 2, 1);
    pairBox->setRowStretch(2, 1);
    for (QWidget* w : std::initializer_list<QWidget*>{m_start, m_startLabel, m_nowLabel})
        w->setVisible(false);
    connect(m_compare, &QCheckBox::toggled, this, [this](bool on) {
        for (QWidget* w : std::initializer_list<QWidget*>{m_start, m_startLabel, m_nowLabel})
            w->setVisible(on);
    });
    auto* split = new QSplitter(Qt::Vertical);
    split->addWidget(pair);
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
    split->setStretchFactor(0, 2);
    split->setStretchFactor(1, 3);
    auto* box = new QVBoxLayout(this);
    box->setContentsMargins(0, 0, 0, 0);
    box->addWidget(split);
    connect(m_probe, &QSpinBox::valueChanged, this, &FiltersView::probeChanged);
}

void FiltersView::setFilters(const QVector<float>& weights, int count, int channels, int h, int w) {
    if (!m_haveStart && !weights.isEmpty()) {
        m_start->setFilters(weights, count, channels, h, w);
        m_haveStart = true;
    }
    m_filters->setFilters(weights, count, channels, h, w);
}

bool FiltersView::exportCsv(const QString& path) {
    return writeText(path, [this](QTextStream& out) {
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
}

void FiltersView::setPresenterMode(bool on) {
    View::setPresenterMode(on);
    m_filters->setHighContrast(on);
    m_start->setHighContrast(on);
}

} // namespace convscope::ui
