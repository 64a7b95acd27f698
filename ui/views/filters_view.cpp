// FiltersView: a splitter of the filter grid and the feature maps with their image picker.
#include "filters_view.h"
#include "feature_map_view.h"
#include "filter_view.h"

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
    auto* split = new QSplitter(Qt::Vertical);
    split->addWidget(m_filters);
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
}

} // namespace convscope::ui
