// LandscapeView: controls, panels (3-D or contour per surface), the 1-D chart, export.
#include "landscape_view.h"

#include "contour_map.h"
#include "surface_3d.h"
#include "training_session.h"

#include <QCheckBox>
#include <QComboBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QPainter>
#include <QPixmap>
#include <QPushButton>
#include <QRegularExpression>
#include <QSpinBox>
#include <QSplitter>
#include <QStackedWidget>
#include <QTextStream>
#include <QVBoxLayout>
#include <QtCharts/QChart>
#include <QtCharts/QChartView>
#include <QtCharts/QLineSeries>
#include <QtCharts/QLogValueAxis>
#include <QtCharts/QValueAxis>
#include <cmath>

namespace convscope::ui {

LandscapeView::LandscapeView(TrainingSession& session, QWidget* parent)
    : View(parent), m_session(session) {
    auto* bar = new QHBoxLayout;
    m_directions = new QComboBox;
    m_directions->setObjectName("landscape directions");
    m_directions->addItem(tr("Random, filter-normalised"), "random:filter");
    m_directions->addItem(tr("Random, layer-normalised"), "random:layer");
    m_directions->addItem(tr("Random, not normalised"), "random:none");
    m_directions->addItem(tr("PCA of the trajectory"), "pca:");
    m_directions->setToolTip(
        tr("The plane θ* + α·δ + β·η is drawn along two directions δ, η:\n"
           "• random Gaussian directions, each filter rescaled to its weights' norm (Li et al.'s "
           "filter normalisation, which makes surfaces of different networks comparable; without "
           "it, scale-invariant nets look flatter or sharper than they are);\n"
           "• the two principal components of the training trajectory (the run's checkpoints): "
           "the plane the optimiser moved in most, with the path drawn over it."));
    m_points = new QSpinBox;
    m_points->setObjectName("landscape points");
    m_points->setRange(5, 101);
    m_points->setValue(21);
    m_points->setSuffix(tr(" × points"));
    m_points->setToolTip(tr("Grid points per axis over [−1, 1] (both ends included). Li et al. "
                            "use 51; 21 takes a quarter of the time of 41"));
    m_images = new QSpinBox;
    m_images->setObjectName("landscape images");
    m_images->setRange(16, 60000);
    m_images->setValue(500);
    m_images->setSingleStep(100);
    m_images->setSuffix(tr(" images"));
    m_images->setToolTip(tr("The loss at each point is the mean cross-entropy over the first N "
                            "training images, in evaluation mode (batch norm's running "
                            "statistics, no dropout)"));
    m_hessian = new QCheckBox(tr("Curvature"));
    m_hessian->setToolTip(tr("Also the Hessian's largest and smallest eigenvalues at θ* (Lanczos "
                             "on Hessian-vector products): |λ_min/λ_max| near 0 means "
                             "locally convex (Li et al., Fig. 7)"));
    m_log = new QCheckBox(tr("Log loss"));
    m_log->setChecked(true);
    m_log->setToolTip(tr("Draw the loss axis of the 3-D surface on a log scale"));
    m_live = new QCheckBox(tr("Live"));
    m_live->setObjectName("landscape live");
    m_live->setToolTip(
        tr("While training: every two epochs a coarse surface (11 × 11 points on 256 "
           "images) along the plane the weights move in (the PCA of snapshots taken every "
           "few steps), with the path drawn over it and the ends of epochs marked; Pause "
           "refines it"));
    m_twin = new QPushButton(tr("Twin…"));
    m_twin->setToolTip(tr("Also compute another run's surface on the same grid (e.g. plain20 "
                          "beside resnet20, trained the same way), shown side by side with one "
                          "colour scale, one z-range and one camera"));
    m_twinLabel = new QLabel;
    m_trainTwins = new QPushButton(tr("Train twins"));
    m_trainTwins->setObjectName("train twins");
    m_trainTwins->setToolTip(
        tr("Train this network and its twin without skip connections (resnet20 ↔ plain20, "
           "resnet56 ↔ plain56, or a copy with shortcuts set to none) the same way — same seed, "
           "same initial weights where the layers agree, same data order — then show both "
           "surfaces side by side (Li et al. 2018, Fig. 5)"));
    m_view3d = new QPushButton(tr("3-D"));
    m_view3d->setCheckable(true);
    m_view3d->setChecked(true);
    m_view3d->setToolTip(
        tr("The 3-D surface (drag to turn it) or the contour map seen from above"));
    m_compute = new QPushButton(tr("Compute"));
    m_compute->setObjectName("landscape compute");
    m_compute->setShortcut(QKeySequence(tr("Ctrl+L")));
    m_compute->setToolTip(tr("Compute the landscape of the analysed weights (Ctrl+L); training "
                             "pauses for it and resumes after"));
    m_cancel = new QPushButton(tr("Cancel"));
    m_cancel->setEnabled(false);
    for (QWidget* w :
         std::initializer_list<QWidget*>{m_directions, m_points, m_images, m_hessian, m_log, m_live,
                                         m_twin, m_twinLabel, m_trainTwins, m_view3d})
        bar->addWidget(w);
    bar->addStretch(1);
    bar->addWidget(m_compute);
    bar->addWidget(m_cancel);

    m_panels = new QSplitter(Qt::Horizontal);
    m_lineChart = new QChart;
    m_lineChart->setTitle(tr("1-D: the loss along δ through θ* (β = 0)"));
    m_lineChart->legend()->setAlignment(Qt::AlignBottom);
    m_lineChart->setMargins(QMargins(4, 0, 4, 0));
    auto* chartView = new QChartView(m_lineChart);
    chartView->setRenderHint(QPainter::Antialiasing);
    chartView->setMinimumHeight(200);
    m_summary = new QLabel(tr("Li et al. (2018): plot L(θ* + α·δ + β·η) on a plane through the "
                              "trained weights θ*. Skip connections make the surface of a deep "
                              "network smooth and nearly convex; without them it turns chaotic. "
                              "Press Compute (Ctrl+L)."));
    m_summary->setWordWrap(true);
    m_summary->setTextInteractionFlags(Qt::TextSelectableByMouse);
    auto* bottom = new QWidget;
    auto* bottomBox = new QHBoxLayout(bottom);
    bottomBox->setContentsMargins(0, 0, 0, 0);
    bottomBox->addWidget(chartView, 3);
    bottomBox->addWidget(m_summary, 2);
    auto* split = new QSplitter(Qt::Vertical);
    split->addWidget(m_panels);
    split->addWidget(bottom);
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 1);
    split->setSizes({520, 210});
    auto* box = new QVBoxLayout(this);
    box->addLayout(bar);
    box->addWidget(split, 1);
    ensurePanels(1);

    connect(m_compute, &QPushButton::clicked, this, &LandscapeView::compute);
    connect(m_cancel, &QPushButton::clicked, this, [this] { m_session.cancelJob(); });
    connect(m_view3d, &QPushButton::toggled, this, &LandscapeView::show3d);
    connect(m_log, &QCheckBox::toggled, this, [this](bool on) {
        for (Surface3D* s : m_surfaces)
            if (s)
                s->setLogScale(on);
    });
    connect(m_twin, &QPushButton::clicked, this, [this] {
        const QString dir = QFileDialog::getExistingDirectory(
            this, tr("The twin's run folder (with checkpoints/)"), m_twinRun);
        if (!dir.isEmpty())
            setTwinRun(dir);
    });
    connect(&m_session, &TrainingSession::landscapeUpdated, this, &LandscapeView::onUpdate);
    connect(&m_session, &TrainingSession::runFinished, this, &LandscapeView::onRunFinished);
    connect(m_trainTwins, &QPushButton::clicked, this, [this] { trainTwins(); });
    connect(&m_session, &TrainingSession::jobStateChanged, this,
            [this](bool running, const QString&) {
                m_jobRunning = running;
                if (!running) {
                    m_cancel->setEnabled(false);
                    m_compute->setEnabled(true);
                }
            });
    // Live: a coarse surface every few epochs, a finer one when training pauses.
    connect(&m_session, &TrainingSession::snapshot, this, [this](const TrainSnapshot& s) {
        if (s.testAccuracy.isEmpty())
            return;
        m_epochsSeen += int(s.testAccuracy.size());
        if (m_live->isChecked() && m_epochsSeen % m_liveEvery == 0 && !m_jobRunning &&
            m_session.busy())
            requestSurface(11, 256, true);
    });
    connect(&m_session, &TrainingSession::analysisModelChanged, this, [this] { m_epochsSeen = 0; });
    connect(&m_session, &TrainingSession::stateChanged, this, [this](bool busy, bool started) {
        if (m_live->isChecked() && !busy && started && !m_jobRunning && m_epochsSeen > 0)
            requestSurface(m_points->value(), m_images->value(), true);
    });
}

void LandscapeView::setTwinRun(const QString& dir) {
    m_twinRun = dir;
    m_twinLabel->setText(dir.isEmpty() ? QString() : tr("twin: %1").arg(QFileInfo(dir).fileName()));
    m_twinLabel->setToolTip(dir);
}

void LandscapeView::setMarkedStep(qint64 step) {
    m_markedStep = step;
    if (!m_contours.isEmpty())
        m_contours[0]->setMarkedStep(step); // the live run's path is the first surface's
}

ContourMap* LandscapeView::contour(int k) const {
    return k < m_contours.size() ? m_contours[k] : nullptr;
}

Surface3D* LandscapeView::surface3d(int k) const {
    return k < m_surfaces.size() ? m_surfaces[k] : nullptr;
}

bool LandscapeView::showing3d() const {
    return !m_surfaces.isEmpty() && m_surfaces[0] && m_surfaces[0]->isVisible();
}

void LandscapeView::ensurePanels(int count) {
    while (m_stacks.size() < count) {
        // One panel a surface: the 3-D view (made on demand) and the contour map.
        auto* panel = new QSplitter;
        auto* map = new ContourMap;
        map->setObjectName(QString("contour %1").arg(m_stacks.size()));
        panel->addWidget(map);
        m_stacks.push_back(panel);
        if (m_contours.isEmpty())
            map->setMarkedStep(m_markedStep);
        m_contours.push_back(map);
        m_surfaces.push_back(nullptr);
        m_panels->addWidget(panel);
    }
    // One surface: 3-D beside the contour map; twins: each 3-D view above its contour map.
    for (int k = 0; k < m_stacks.size(); ++k) {
        m_stacks[k]->setVisible(k < count);
        m_stacks[k]->setOrientation(count > 1 ? Qt::Vertical : Qt::Horizontal);
    }
    show3d(m_want3d);
}

void LandscapeView::show3d(bool on) {
    m_want3d = on;
    // The 3-D views are made only now, on a platform with OpenGL (design.md).
    const bool can = Surface3D::available();
    m_view3d->setEnabled(can);
    if (!can)
        m_view3d->setToolTip(tr("No OpenGL here: the contour map stands in for the 3-D view"));
    for (int k = 0; k < m_stacks.size(); ++k) {
        if (on && can && !m_surfaces[k]) {
            m_surfaces[k] = new Surface3D;
            m_surfaces[k]->setLogScale(m_log->isChecked());
            m_stacks[k]->insertWidget(0, m_surfaces[k]);
            m_stacks[k]->setStretchFactor(0, 3);
            m_stacks[k]->setStretchFactor(1, 2);
            if (k > 0 && m_surfaces[0])
                m_surfaces[0]->linkCamera(m_surfaces[k]);
            if (k < m_result.surfaces.size())
                m_surfaces[k]->setSurface(m_result.surfaces[k]);
        }
        if (m_surfaces[k])
            m_surfaces[k]->setVisible(on && can);
    }
}

void LandscapeView::compute() {
    LandscapeRequest r;
    const QStringList dir = m_directions->currentData().toString().split(':');
    r.directions = dir.value(0);
    r.norm = dir.value(1).isEmpty() ? QStringLiteral("filter") : dir.value(1);
    r.points = m_points->value();
    r.range = r.directions == "pca" ? 0 : 1.0;
    r.images = m_images->value();
    r.hessian = m_hessian->isChecked();
    r.twinRun = m_twinRun;
    startRequest(r);
}

void LandscapeView::requestSurface(int points, int images, bool pcaIfPossible) {
    LandscapeRequest r;
    // "auto": the trajectory's PCA plane once the run has snapshots, random directions before.
    r.directions = pcaIfPossible ? "auto" : "random";
    r.range = 1.0;
    r.points = points;
    r.images = images;
    startRequest(r);
}

void LandscapeView::startRequest(const LandscapeRequest& r) {
    m_result = LandscapeResult{};
    m_compute->setEnabled(false);
    m_cancel->setEnabled(true);
    m_summary->setText(tr("Computing the landscape: %1 × %1 points on %2 training images…")
                           .arg(r.points)
                           .arg(r.images));
    m_session.requestLandscape(r);
}

void LandscapeView::onUpdate(const LandscapeResult& r) {
    m_result = r;
    if (!r.error.isEmpty()) {
        m_summary->setText(tr("Landscape: %1").arg(r.error));
        m_compute->setEnabled(true);
        m_cancel->setEnabled(false);
        return;
    }
    const int n = int(r.surfaces.size());
    ensurePanels(std::max(1, n));
    // Twins share one colour scale and one z-range: the union of their finite losses.
    double lo = INFINITY, hi = -INFINITY;
    for (const LandscapeSurface& s : r.surfaces) {
        auto [a, b] = ContourMap::lossRange(s);
        lo = std::min(lo, a);
        hi = std::max(hi, b);
    }
    for (int k = 0; k < n; ++k) {
        m_contours[k]->setSurface(r.surfaces[k]);
        m_contours[k]->setRange(n > 1 ? lo : 1, n > 1 ? hi : 0);
        if (m_surfaces[k]) {
            m_surfaces[k]->setSurface(r.surfaces[k]);
            m_surfaces[k]->setRange(n > 1 ? lo : 1, n > 1 ? hi : 0);
        }
    }
    // The 1-D lines.
    m_lineChart->removeAllSeries();
    for (QAbstractAxis* a : m_lineChart->axes())
        m_lineChart->removeAxis(a);
    auto* x = new QValueAxis;
    x->setTitleText(tr("α"));
    auto* y = new QLogValueAxis;
    y->setTitleText(tr("loss"));
    y->setLabelFormat("%.2g");
    m_lineChart->addAxis(x, Qt::AlignBottom);
    m_lineChart->addAxis(y, Qt::AlignLeft);
    const QColor colours[] = {QColor(0x00, 0x72, 0xb2), QColor(0xd5, 0x5e, 0x00)};
    double ylo = INFINITY, yhi = -INFINITY, xlo = 0, xhi = 0;
    for (int k = 0; k < n; ++k) {
        const LandscapeSurface& s = r.surfaces[k];
        auto* series = new QLineSeries;
        series->setName(s.title);
        QPen pen(colours[k % 2]);
        pen.setWidth(m_presenter ? 4 : 2);
        series->setPen(pen);
        for (int i = 0; i < s.lineAlpha.size(); ++i) {
            const double v = s.lineLoss[i];
            if (!(v > 0))
                continue;
            series->append(s.lineAlpha[i], v);
            ylo = std::min(ylo, v);
            yhi = std::max(yhi, v);
            xlo = std::min(xlo, s.lineAlpha[i]);
            xhi = std::max(xhi, s.lineAlpha[i]);
        }
        m_lineChart->addSeries(series);
        series->attachAxis(x);
        series->attachAxis(y);
    }
    m_lineChart->legend()->setVisible(n > 1);
    x->setTickCount(5);
    x->setLabelFormat("%.2g");
    if (std::isfinite(ylo) && yhi > 0) {
        x->setRange(xlo, xhi);
        y->setRange(ylo * 0.9, yhi * 1.1);
    }
    if (m_presenter)
        setChartFont(m_lineChart, font());
    // The numbers.
    if (r.finished) {
        QStringList lines;
        for (const LandscapeSurface& s : r.surfaces) {
            QString line = tr("<b>%1</b>: min loss %2; within |α|, |β| ≤ 0.5: %3 local minima, "
                              "mean |∇²L| %4")
                               .arg(s.title.toHtmlEscaped())
                               .arg(s.minLoss, 0, 'g', 4)
                               .arg(s.localMinima)
                               .arg(s.meanAbsLaplacian, 0, 'g', 4);
            if (s.hasHessian)
                line +=
                    tr("; λ_max %1, λ_min %2, |λ_min/λ_max| %3")
                        .arg(s.lambdaMax, 0, 'g', 4)
                        .arg(s.lambdaMin, 0, 'g', 4)
                        .arg(s.lambdaMax != 0 ? std::abs(s.lambdaMin / s.lambdaMax) : 0, 0, 'g', 3);
            if (!s.path.isEmpty())
                line += tr("; PCA explains %1 % + %2 %")
                            .arg(100 * s.explained1, 0, 'f', 1)
                            .arg(100 * s.explained2, 0, 'f', 1);
            lines << line;
        }
        lines << tr("%1 × %1 points, %2 training images, %3 s")
                     .arg(r.request.points)
                     .arg(r.request.images)
                     .arg(r.seconds, 0, 'f', 1);
        m_summary->setText(lines.join("<br>"));
        m_compute->setEnabled(true);
        m_cancel->setEnabled(false);
    } else if (n > 0) {
        const LandscapeSurface& s = r.surfaces.back();
        m_summary->setText(tr("%1: %2 of %3 rows (%4 s)")
                               .arg(s.title)
                               .arg(s.rowsDone)
                               .arg(s.rows)
                               .arg(r.seconds, 0, 'f', 1));
    }
}

void LandscapeView::paint3dInto(QPixmap& shot, QWidget* grabbed) {
    if (!showing3d())
        return;
    QPainter p(&shot);
    const double dpr = shot.devicePixelRatio();
    for (Surface3D* s : m_surfaces)
        if (s && s->isVisible()) {
            const QPoint at = s->mapTo(grabbed, QPoint(0, 0));
            const QImage img = s->renderImage(s->size() * dpr);
            p.drawImage(QRectF(at, QSizeF(s->size())), img);
        }
}

bool LandscapeView::exportPicture(const QString& path, double scale) {
    if (path.endsWith(".svg", Qt::CaseInsensitive) && showing3d()) {
        show3d(false); // the vector picture is the contour map
        const bool ok = View::exportPicture(path, scale);
        show3d(true);
        return ok;
    }
    if (!showing3d())
        return View::exportPicture(path, scale);
    QPixmap shot(size() * scale);
    shot.setDevicePixelRatio(scale);
    shot.fill(Qt::white);
    render(&shot);
    paint3dInto(shot, this);
    return shot.save(path);
}

LandscapeView::TwinSpecs LandscapeView::twinsOf(const QByteArray& spec) {
    TwinSpecs t;
    const QJsonObject root = QJsonDocument::fromJson(spec).object();
    const QString name = root.value("name").toString();
    static const QRegularExpression depth("^(resnet|plain)(\\d+)$");
    if (const auto m = depth.match(name); m.hasMatch()) { // a preset pair
        t.residualName = "resnet" + m.captured(2);
        t.plainName = "plain" + m.captured(2);
        t.residual = m.captured(1) == "resnet" ? spec : TrainingSession::presetJson(t.residualName);
        t.plain = m.captured(1) == "plain" ? spec : TrainingSession::presetJson(t.plainName);
        if (!t.residual.isEmpty() && !t.plain.isEmpty())
            return t;
    }
    // Any network with skip connections: its copy with every shortcut set to none.
    bool shortcuts = false;
    std::function<QJsonValue(const QJsonValue&)> strip = [&](const QJsonValue& v) -> QJsonValue {
        if (v.isArray()) {
            QJsonArray a;
            for (const QJsonValue& e : v.toArray())
                a.append(strip(e));
            return a;
        }
        if (!v.isObject())
            return v;
        QJsonObject o = v.toObject();
        for (auto it = o.begin(); it != o.end(); ++it) {
            if (it.key() == "shortcut" && it.value().toString() != "none") {
                shortcuts = true;
                it.value() = QStringLiteral("none");
            } else {
                it.value() = strip(it.value());
            }
        }
        return o;
    };
    QJsonObject plain = strip(root).toObject();
    if (!shortcuts) {
        t.error = tr("%1 has no skip connections, so it has no plain twin: pick resnet20 or "
                     "resnet56 (or a network with residual blocks)")
                      .arg(name.isEmpty() ? tr("This network") : name);
        return t;
    }
    t.residual = spec;
    t.residualName = name;
    t.plainName = name + "-plain";
    plain["name"] = t.plainName;
    plain["description"] = tr("%1 without its skip connections").arg(name);
    t.plain = QJsonDocument(plain).toJson(QJsonDocument::Compact);
    return t;
}

bool LandscapeView::trainTwins() {
    if (!m_source)
        return false;
    TrainRequest base = m_source();
    if (base.spec.isEmpty())
        base.spec = TrainingSession::presetJson(base.preset);
    TwinSpecs specs = twinsOf(base.spec);
    if (!specs.error.isEmpty()) {
        m_summary->setText(specs.error);
        return false;
    }
    if (m_session.busy())
        m_session.stop();
    m_twins = TwinsRun{specs, base, 1, {}};
    TrainRequest r = base;
    r.spec = specs.residual;
    r.resumeDir.clear();
    m_summary->setText(tr("Twins: training %1 (1 of 2), then %2 the same way (seed %3, %4 "
                          "epochs); then both surfaces")
                           .arg(specs.residualName, specs.plainName)
                           .arg(base.seed)
                           .arg(base.epochs));
    m_trainTwins->setEnabled(false);
    m_session.start(r);
    return true;
}

void LandscapeView::onRunFinished(bool complete, const QString& dir) {
    if (!m_twins)
        return;
    TwinsRun& t = *m_twins;
    if (!complete) {
        m_summary->setText(tr("Twins stopped while training %1: nothing compared")
                               .arg(t.stage == 1 ? t.specs.residualName : t.specs.plainName));
        m_twins.reset();
        m_trainTwins->setEnabled(true);
        return;
    }
    t.dirs[t.stage - 1] = dir;
    if (t.stage == 1) {
        t.stage = 2;
        TrainRequest r = t.base;
        r.spec = t.specs.plain;
        r.resumeDir.clear();
        m_summary->setText(tr("Twins: training %1 (2 of 2)").arg(t.specs.plainName));
        m_session.start(r);
        return;
    }
    LandscapeRequest req;
    req.points = m_points->value();
    req.images = m_images->value();
    req.hessian = true;
    req.runs = {t.dirs[0], t.dirs[1]};
    m_twins.reset();
    m_trainTwins->setEnabled(true);
    startRequest(req);
}

bool LandscapeView::exportCsv(const QString& path) {
    return writeText(path, [this](QTextStream& out) {
        out << "surface,alpha,beta,loss,accuracy\n";
        for (const LandscapeSurface& s : m_result.surfaces)
            for (int r = 0; r < s.rows; ++r)
                for (int c = 0; c < s.cols; ++c) {
                    const double loss = s.loss.value(r * s.cols + c, NAN);
                    if (!std::isfinite(loss))
                        continue;
                    out << quoted(s.title) << ','
                        << QString::number(s.alphaLo + (s.alphaHi - s.alphaLo) * c / (s.cols - 1),
                                           'g', 10)
                        << ','
                        << QString::number(s.betaLo + (s.betaHi - s.betaLo) * r / (s.rows - 1), 'g',
                                           10)
                        << ',' << QString::number(loss, 'g', 9) << ','
                        << QString::number(s.accuracy.value(r * s.cols + c), 'g', 9) << '\n';
                }
    });
}

void LandscapeView::setPresenterMode(bool on) {
    View::setPresenterMode(on);
    if (m_lineChart)
        setChartFont(m_lineChart, font());
}

} // namespace convscope::ui
