// MainWindow: layout, actions with shortcuts, and the live chart.
#include "main_window.h"
#include "build_view.h"
#include "feature_map_view.h"
#include "filter_view.h"

#include <QAction>
#include <QChart>
#include <QChartView>
#include <QComboBox>
#include <QDirIterator>
#include <QDockWidget>
#include <QDoubleSpinBox>
#include <QFile>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QLineSeries>
#include <QLogValueAxis>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QPainter>
#include <QProgressBar>
#include <QPushButton>
#include <QSaveFile>
#include <QScatterSeries>
#include <QSpinBox>
#include <QSplitter>
#include <QStandardPaths>
#include <QStatusBar>
#include <QSvgGenerator>
#include <QTabWidget>
#include <QTextStream>
#include <QToolBar>
#include <QUndoStack>
#include <QVBoxLayout>
#include <QValueAxis>
#include <cmath>

namespace convscope::ui {

namespace {
// The combo box's spelling of a spec's "init": "he-normal", "normal(0.01)", "constant(0.5)".
QString initText(const QJsonValue& init) {
    if (init.isUndefined() || init.isNull())
        return "he-normal"; // the engine's default
    if (init.isString())
        return init.toString();
    const QJsonObject o = init.toObject();
    const QString scheme = o.value("scheme").toString();
    if (scheme == "normal")
        return QString("normal(%1)").arg(o.value("sigma").toDouble(0.01));
    if (scheme == "constant")
        return QString("constant(%1)").arg(o.value("value").toDouble());
    return scheme;
}

// An axis from 0 to a round number just above `top` (2,814 steps: 0 to 3,000 in steps of 500),
// not to the next power-of-ten-ish number that applyNiceNumbers() picks (4,000).
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
} // namespace

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent) {
    setWindowTitle(tr("convscope — LeNet-5 on Fashion-MNIST"));
    resize(1200, 760);

    m_build = new BuildView;
    QMenu* file = menuBar()->addMenu(tr("&File"));
    m_openNetwork = file->addAction(tr("Open network…"), QKeySequence::Open, this, [this] {
        const QString path = QFileDialog::getOpenFileName(this, tr("Open a network"), QString(),
                                                          tr("NetSpec JSON (*.json)"));
        QString error;
        if (!path.isEmpty() && !m_build->openFile(path, &error))
            QMessageBox::warning(this, tr("Open network"), error);
    });
    file->addAction(tr("Save network as…"), QKeySequence::Save, this, [this] {
        const QString name = m_build->spec().value("name").toString();
        const QString path = QFileDialog::getSaveFileName(
            this, tr("Save the network"), (name.isEmpty() ? "network" : name) + ".json",
            tr("NetSpec JSON (*.json)"));
        QString error;
        if (!path.isEmpty() && !m_build->saveFile(path, &error))
            QMessageBox::warning(this, tr("Save network"), error);
    });
    file->addSeparator();
    file->addAction(tr("Open run…"), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_O), this, [this] {
        const QString dir = QFileDialog::getExistingDirectory(
            this, tr("Open a run folder"),
            QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) + "/runs");
        if (!dir.isEmpty())
            openRun(dir);
    });
    // The newest autosaved runs, listed each time the menu opens.
    QMenu* recent = file->addMenu(tr("Recent runs"));
    recent->setObjectName("recent runs");
    connect(recent, &QMenu::aboutToShow, this, [this, recent] {
        recent->clear();
        const QStringList runs = recentRuns(8);
        if (runs.isEmpty())
            recent->addAction(tr("No runs yet: every run you train is kept"))->setEnabled(false);
        for (const QString& dir : runs)
            recent->addAction(QFileInfo(dir).fileName(), this, [this, dir] { openRun(dir); });
    });
    file->addAction(tr("Save run as…"), this, [this] {
        const QString parent = QFileDialog::getExistingDirectory(
            this, tr("Copy this run's folder (spec, metrics, checkpoints) into"));
        QString error;
        if (!parent.isEmpty() && !saveRun(parent, &error))
            QMessageBox::warning(this, tr("Save run"), error);
    });
    file->addSeparator();
    QAction* exportView =
        file->addAction(tr("Export view as PNG or SVG…"), this, &MainWindow::onExportView);
    exportView->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_E));
    file->addAction(tr("Export numbers as CSV…"), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_E),
                    this, &MainWindow::onExportCsv)
        ->setToolTip(tr("Build: the layer table; Train: the curves; Filters: the first layer's "
                        "weights; Gradients: the norm per layer"));
    file->addSeparator();
    QAction* quit = file->addAction(tr("Quit"), this, &QWidget::close);
    quit->setShortcut(QKeySequence::Quit);

    QMenu* edit = menuBar()->addMenu(tr("&Edit"));
    // Undo and redo change the network: not while a run of it is in progress.
    QUndoStack* stack = m_build->undoStack();
    m_undo = edit->addAction(tr("Undo"), QKeySequence::Undo, stack, &QUndoStack::undo);
    m_undo->setObjectName("undo");
    m_redo = edit->addAction(tr("Redo"), stack, &QUndoStack::redo);
    m_redo->setShortcuts({QKeySequence::Redo, QKeySequence(Qt::CTRL | Qt::Key_Y)});
    connect(stack, &QUndoStack::indexChanged, this, &MainWindow::updateEditActions);

    QMenu* viewMenu = menuBar()->addMenu(tr("&View"));
    m_presenterAction = viewMenu->addAction(tr("Presenter mode"));
    m_presenterAction->setCheckable(true);
    m_presenterAction->setShortcut(QKeySequence(Qt::Key_F11));
    m_presenterAction->setToolTip(tr("Large fonts and thick lines for a projector; the controls "
                                     "are hidden (F11)"));
    connect(m_presenterAction, &QAction::toggled, this, &MainWindow::setPresenterMode);
    viewMenu->addSeparator();
    const QStringList tabNames = {tr("Build"), tr("Train"), tr("Filters"), tr("Gradients")};
    for (int tab = 0; tab < tabNames.size(); ++tab)
        viewMenu->addAction(tabNames[tab], QKeySequence(Qt::CTRL | Qt::Key(Qt::Key_1 + tab)), this,
                            [this, tab] { m_tabs->setCurrentIndex(tab); });

    QMenu* help = menuBar()->addMenu(tr("&Help"));
    help->addAction(tr("Keyboard shortcuts"), QKeySequence::HelpContents, this, [this] {
        QMessageBox::information(
            this, tr("Keyboard shortcuts"),
            tr("<table>"
               "<tr><td><b>Ctrl+Enter</b></td><td>Train, Resume or Continue</td></tr>"
               "<tr><td><b>Space</b></td><td>Pause</td></tr>"
               "<tr><td><b>Ctrl+.</b></td><td>one training step</td></tr>"
               "<tr><td><b>Esc</b></td><td>Stop</td></tr>"
               "<tr><td><b>F11</b></td><td>presenter mode</td></tr>"
               "<tr><td><b>Ctrl+1 … 4</b></td><td>Build, Train, Filters, Gradients</td></tr>"
               "<tr><td><b>F2</b>, double-click</td><td>edit a layer's name or settings</td></tr>"
               "<tr><td><b>Del</b>, <b>Ctrl+Up/Down</b>, <b>Ctrl+R</b></td>"
               "<td>remove, move, wrap in a residual block</td></tr>"
               "<tr><td><b>Ctrl+Z</b>, <b>Ctrl+Shift+Z</b></td><td>undo, redo</td></tr>"
               "<tr><td><b>Ctrl+O</b>, <b>Ctrl+S</b></td><td>open, save a network</td></tr>"
               "<tr><td><b>Ctrl+Shift+O</b></td><td>open a run</td></tr>"
               "<tr><td><b>Ctrl+E</b>, <b>Ctrl+Shift+E</b></td><td>export the view, its "
               "numbers</td></tr>"
               "</table>"));
    });

    auto* bar = addToolBar(tr("Training"));
    bar->setObjectName("training toolbar");
    bar->setToolButtonStyle(Qt::ToolButtonTextOnly);
    m_train = bar->addAction(tr("Train"), this, &MainWindow::onTrain);
    m_train->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_Return));
    m_train->setToolTip(tr("Build the network with fresh weights and train it (Ctrl+Enter)"));
    m_pause = bar->addAction(tr("Pause"), &m_session, &TrainingSession::pause);
    m_pause->setShortcut(QKeySequence(Qt::Key_Space));
    m_pause->setToolTip(
        tr("Pause after the steps in flight (Space); Resume continues the same run"));
    m_step = bar->addAction(tr("Step"), &m_session, &TrainingSession::step);
    m_step->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_Period));
    m_step->setToolTip(tr("One training step: forward, loss, backward, update (Ctrl+.)"));
    m_stop = bar->addAction(tr("Stop"), this, [this] {
        m_reopened.clear();
        m_session.stop();
    });
    m_stop->setShortcut(QKeySequence(Qt::Key_Escape));
    m_stop->setToolTip(tr("Stop and forget this run (Esc)"));

    bar->addSeparator();
    bar->addAction(m_presenterAction);
    auto* dock = m_dock = new QDockWidget(tr("Network and training"), this);
    dock->setObjectName("controls dock");
    dock->setWidget(buildControls());
    dock->setFeatures(QDockWidget::DockWidgetMovable | QDockWidget::DockWidgetFloatable);
    addDockWidget(Qt::LeftDockWidgetArea, dock);
    m_tabs = new QTabWidget;
    m_tabs->addTab(m_build, tr("Build"));
    m_tabs->setTabToolTip(BuildTab, tr("Edit the network: layers, settings, residual blocks"));
    m_tabs->addTab(buildChart(), tr("Train"));
    m_filters = new FilterView;
    auto* filters = new QSplitter(Qt::Vertical);
    filters->addWidget(m_filters);
    auto* maps = new QWidget;
    auto* mapsBox = new QVBoxLayout(maps);
    auto* mapsBar = new QHBoxLayout;
    m_probeIndex = new QSpinBox;
    m_probeIndex->setObjectName("test image");
    m_probeIndex->setRange(0, 9999);
    m_probeIndex->setToolTip(tr("Which test image to send through the network"));
    auto* next = new QPushButton(tr("Next image"));
    connect(next, &QPushButton::clicked, this,
            [this] { m_probeIndex->setValue(m_probeIndex->value() + 1); });
    mapsBar->addWidget(new QLabel(tr("Feature maps of test image")));
    mapsBar->addWidget(m_probeIndex);
    mapsBar->addWidget(next);
    mapsBar->addStretch(1);
    mapsBox->addLayout(mapsBar);
    m_featureMaps = new FeatureMapView;
    mapsBox->addWidget(m_featureMaps, 1);
    filters->addWidget(maps);
    filters->setStretchFactor(0, 2);
    filters->setStretchFactor(1, 3);
    m_tabs->addTab(filters, tr("Filters"));
    m_tabs->addTab(buildGradientChart(), tr("Gradients"));
    m_tabs->setCurrentIndex(TrainTab);
    setCentralWidget(m_tabs);
    connect(m_tabs, &QTabWidget::currentChanged, this, &MainWindow::updateProbe);
    connect(m_probeIndex, &QSpinBox::valueChanged, this, &MainWindow::updateProbe);
    connect(m_build, &BuildView::specChanged, this, &MainWindow::onSpecChanged);

    m_progress = new QProgressBar;
    m_progress->setMaximumWidth(320);
    m_progress->setMinimumWidth(200);
    m_progress->setFormat(tr("%p% of the run"));
    m_speed = new QLabel;
    m_statusLine = new QLabel(tr("Ready: press Train (Ctrl+Enter)"));
    statusBar()->addWidget(m_statusLine, 1);
    statusBar()->addPermanentWidget(m_speed);
    statusBar()->addPermanentWidget(m_progress);

    connect(&m_session, &TrainingSession::snapshot, this, &MainWindow::onSnapshot);
    connect(&m_session, &TrainingSession::stateChanged, this, &MainWindow::onState);
    connect(&m_session, &TrainingSession::message, m_statusLine, &QLabel::setText);
    connect(&m_session, &TrainingSession::failed, this, [this](const QString& e) {
        if (!qEnvironmentVariableIsSet("CONVSCOPE_NO_DIALOGS"))
            QMessageBox::warning(this, tr("Training stopped"), e);
    });
    applyPalette();
    onState(false, false);
    onDatasetChanged();
    showPreset();
    m_build->undoStack()->clear(); // the first network is where undo stops
    updateEditActions();
}

MainWindow::~MainWindow() {
    disconnect(m_build->undoStack(), nullptr, this, nullptr);
    disconnect(m_build, nullptr, this, nullptr);
}

QWidget* MainWindow::buildControls() {
    auto* w = new QWidget;
    auto* form = new QFormLayout;
    m_preset = new QComboBox;
    m_preset->addItems(TrainingSession::presets());
    m_preset->setCurrentText("lenet5");
    m_preset->setToolTip(tr("The network: every preset is one the lectures use"));
    connect(m_preset, &QComboBox::currentTextChanged, this, &MainWindow::showPreset);
    m_init = new QComboBox;
    m_init->addItems(
        {"he-normal", "he-uniform", "xavier-normal", "xavier-uniform", "zeros", "normal(0.01)"});
    m_init->setToolTip(tr("How conv and linear weights start (biases start at 0). He: σ² = 2/n_in, "
                          "for ReLU; Xavier: σ² = 2/(n_in + n_out); zeros: every unit stays the "
                          "same and the network cannot learn (symmetry)"));
    // The initialisation is part of the network: changing it is an undoable edit of the spec.
    connect(m_init, &QComboBox::currentTextChanged, this, [this](const QString& init) {
        QJsonObject spec = m_build->spec();
        if (initText(spec.value("init")) == init)
            return;
        spec["init"] = init;
        m_build->setSpec(spec, tr("Initialise with %1").arg(init));
    });
    m_dataset = new QComboBox;
    m_dataset->addItems(TrainingSession::datasets());
    m_dataset->setCurrentText("fashion-mnist");
    m_dataset->setToolTip(tr("fashion-mnist comes from Debian's dataset-fashion-mnist; gratings, "
                             "blobs and spirals are generated, no download needed"));
    connect(m_dataset, &QComboBox::currentTextChanged, this, &MainWindow::onDatasetChanged);
    m_dataDir = new QLineEdit;
    m_dataDir->setObjectName("data folder");
    m_dataDir->setPlaceholderText(tr("folder"));
    m_dataDir->setToolTip(tr("cifar10: the cifar-10-batches-bin folder; folder: one subfolder of "
                             "PNG/JPEG images per class"));
    auto* browse = new QPushButton(tr("Choose…"));
    connect(browse, &QPushButton::clicked, this, [this] {
        const QString dir = QFileDialog::getExistingDirectory(this, tr("The dataset's folder"));
        if (!dir.isEmpty())
            m_dataDir->setText(dir);
    });
    m_dataDirRow = new QWidget;
    auto* dirRow = new QHBoxLayout(m_dataDirRow);
    dirRow->setContentsMargins(0, 0, 0, 0);
    dirRow->addWidget(m_dataDir, 1);
    dirRow->addWidget(browse);
    m_backend = new QComboBox;
    m_backend->setObjectName("backend");
    m_backend->addItems({"auto", "vulkan", "cpu"});
    m_backend->setToolTip(tr("auto: Vulkan on a real GPU, the CPU backend where the only Vulkan "
                             "device is lavapipe (a CPU pretending to be a GPU)"));
    m_optimizer = new QComboBox;
    m_optimizer->setObjectName("optimizer");
    m_optimizer->addItems({"momentum", "sgd", "nesterov", "rmsprop", "adam", "adamw"});
    m_optimizer->setToolTip(tr("momentum: v ← μv + ∇L, w ← w − ηv (μ = 0.9)"));
    m_lr = new QDoubleSpinBox;
    m_lr->setObjectName("learning rate");
    m_lr->setDecimals(4);
    m_lr->setRange(0.0001, 10.0); // up to values that diverge, for the lecture on step sizes
    m_lr->setSingleStep(0.005);
    m_lr->setValue(0.02);
    m_lr->setToolTip(tr("η, the learning rate at the start; it follows a cosine to 0"));
    m_batch = new QSpinBox;
    m_batch->setRange(1, 4096);
    m_batch->setValue(64);
    m_epochs = new QSpinBox;
    m_epochs->setObjectName("epochs");
    m_epochs->setRange(1, 100);
    m_epochs->setValue(5); // LeNet-5 reaches ~89% on Fashion-MNIST in 5 epochs
    connect(m_batch, &QSpinBox::valueChanged, this, &MainWindow::forgetReopenedRun);
    connect(m_optimizer, &QComboBox::currentTextChanged, this, &MainWindow::forgetReopenedRun);
    m_seed = new QSpinBox;
    m_seed->setRange(0, 1 << 30);
    m_seed->setValue(1);
    m_seed->setToolTip(tr("Seeds the initial weights and the order of the batches"));
    form->addRow(tr("Network"), m_preset);
    form->addRow(tr("Initialisation"), m_init);
    form->addRow(tr("Dataset"), m_dataset);
    form->addRow(QString(), m_dataDirRow);
    form->addRow(tr("Backend"), m_backend);
    form->addRow(tr("Optimizer"), m_optimizer);
    form->addRow(tr("Learning rate"), m_lr);
    form->addRow(tr("Batch size"), m_batch);
    form->addRow(tr("Epochs"), m_epochs);
    form->addRow(tr("Seed"), m_seed);
    m_summary = new QLabel;
    m_summary->setObjectName("network summary");
    m_summary->setWordWrap(true);
    m_summary->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_summary->setToolTip(tr("The Build tab lists every layer with its output shape, parameters "
                             "and FLOPs, and edits them"));
    auto* box = new QVBoxLayout(w);
    box->addLayout(form);
    box->addWidget(m_summary);
    box->addStretch(1);
    w->setMinimumWidth(300);
    w->setMaximumWidth(380);
    return w;
}

QWidget* MainWindow::buildChart() {
    m_chart = new QChart;
    m_chart->setTitle(tr("Training loss, test loss and test accuracy"));
    m_loss = new QLineSeries;
    m_loss->setName(tr("loss per step"));
    m_smoothed = new QLineSeries;
    m_smoothed->setName(tr("loss, smoothed"));
    m_accuracy = new QLineSeries;
    m_accuracy->setName(tr("test accuracy (per epoch)"));
    m_accuracy->setPointsVisible(true);
    m_testLoss = new QScatterSeries; // colours and widths: applyPalette()
    m_testLoss->setName(tr("test loss (per epoch)"));
    for (QXYSeries* s :
         std::initializer_list<QXYSeries*>{m_loss, m_smoothed, m_testLoss, m_accuracy})
        m_chart->addSeries(s);
    m_x = new QValueAxis;
    m_x->setTitleText(tr("step"));
    m_x->setLabelFormat("%d");
    m_yLoss = new QValueAxis;
    m_yLoss->setTitleText(tr("cross-entropy loss"));
    m_yLoss->setTickCount(6);
    m_yAcc = new QValueAxis;
    m_yAcc->setTitleText(tr("test accuracy"));
    m_yAcc->setRange(0, 1);
    m_yAcc->setGridLineVisible(false); // the loss axis draws the grid: one set of lines
    m_chart->addAxis(m_x, Qt::AlignBottom);
    m_chart->addAxis(m_yLoss, Qt::AlignLeft);
    m_chart->addAxis(m_yAcc, Qt::AlignRight);
    for (QXYSeries* s : std::initializer_list<QXYSeries*>{m_loss, m_smoothed, m_testLoss}) {
        s->attachAxis(m_x);
        s->attachAxis(m_yLoss);
    }
    m_accuracy->attachAxis(m_x);
    m_accuracy->attachAxis(m_yAcc);
    m_x->setRange(0, 100);
    m_yLoss->setRange(0, 2.5);
    auto* view = new QChartView(m_chart);
    view->setRenderHint(QPainter::Antialiasing);
    return view;
}

QWidget* MainWindow::buildGradientChart() {
    auto* chart = new QChart;
    chart->setTitle(tr("Gradient norm per layer, ‖∂L/∂W‖ of the last step (log scale)"));
    chart->legend()->hide();
    m_gradients = new QLineSeries; // its pen: applyPalette()
    m_gradients->setPointsVisible(true);
    chart->addSeries(m_gradients);
    m_gradX = new QValueAxis;
    m_gradX->setTitleText(tr("learnable layer, from the input (1) to the output"));
    m_gradX->setLabelFormat("%d");
    m_gradY = new QLogValueAxis;
    m_gradY->setTitleText(tr("gradient norm"));
    m_gradY->setLabelFormat("%.0e");
    m_gradY->setBase(10);
    m_gradY->setMinorTickCount(8);
    chart->addAxis(m_gradX, Qt::AlignBottom);
    chart->addAxis(m_gradY, Qt::AlignLeft);
    m_gradients->attachAxis(m_gradX);
    m_gradients->attachAxis(m_gradY);
    m_gradX->setRange(1, 2);
    m_gradY->setRange(1e-6, 1);
    auto* view = new QChartView(chart);
    view->setRenderHint(QPainter::Antialiasing);
    view->setToolTip(tr("Vanishing gradients: with sigmoid layers (deep-sigmoid) the norm shrinks "
                        "by up to 4x per layer towards the input; ReLU, batch norm and skip "
                        "connections (resnet20) keep it level"));
    connect(m_gradients, &QLineSeries::hovered, this, [this, view](const QPointF& p, bool on) {
        const int i = qRound(p.x()) - 1;
        if (on && i >= 0 && i < m_layerNames.size())
            view->setToolTip(tr("%1: %2").arg(m_layerNames[i]).arg(p.y(), 0, 'g', 3));
    });
    return view;
}

bool MainWindow::exportView(const QString& path) {
    QWidget* view = m_tabs->currentWidget();
    if (path.endsWith(".svg", Qt::CaseInsensitive)) {
        QSvgGenerator svg;
        svg.setFileName(path);
        svg.setSize(view->size());
        svg.setViewBox(view->rect());
        svg.setTitle(windowTitle());
        QPainter p;
        if (!p.begin(&svg))
            return false;
        view->render(&p);
        return p.end();
    }
    return view->grab().save(path, "PNG");
}

bool MainWindow::exportCsv(const QString& path) {
    QSaveFile f(path); // written to a temporary file, then renamed: never half a file
    if (!f.open(QIODevice::WriteOnly | QIODevice::Text))
        return false;
    QTextStream out(&f);
    auto quoted = [](QString v) { return '"' + v.replace('"', "\"\"") + '"'; };
    switch (m_tabs->currentIndex()) {
    case BuildTab: // the layer table
        out << "row,path,type,output,params,flops,detail\n";
        for (qsizetype i = 0; i < m_build->check().rows.size(); ++i) {
            const SpecRow& r = m_build->check().rows[i];
            out << i + 1 << ',' << r.path << ',' << r.type << ',' << r.output << ',' << r.params
                << ',' << r.flops << ',' << quoted(r.detail) << '\n';
        }
        break;
    case FiltersTab: { // the first layer's weights, PyTorch's (filter, channel, y, x) order
        out << "filter,channel,y,x,weight\n";
        const QVector<float>& w = m_filters->weights();
        const int n = m_filters->count(), per = n > 0 ? int(w.size()) / n : 0;
        const int fh = m_filters->filterH(), fw = m_filters->filterW();
        for (int i = 0; i < int(w.size()); ++i) {
            const int k = i % per;
            out << i / per << ',' << k / (fh * fw) << ',' << (k / fw) % fh << ',' << k % fw << ','
                << w[i] << '\n';
        }
        break;
    }
    case GradientsTab: // the last gradient norm of each learnable layer
        out << "index,layer,grad_norm\n";
        for (int i = 0; i < m_gradients->count(); ++i)
            out << i + 1 << ',' << m_layerNames.value(i) << ',' << m_gradients->at(i).y() << '\n';
        break;
    default: { // the curves
        out << "step,loss,smoothed_loss,test_loss,test_accuracy\n";
        const auto raw = m_loss->points(), smooth = m_smoothed->points(),
                   acc = m_accuracy->points(), testLoss = m_testLoss->points();
        for (qsizetype i = 0; i < raw.size(); ++i)
            out << qint64(raw[i].x()) << ',' << raw[i].y() << ','
                << (i < smooth.size() ? smooth[i].y() : 0.0) << ",,\n";
        for (qsizetype i = 0; i < acc.size(); ++i)
            out << qint64(acc[i].x()) << ",,," << (i < testLoss.size() ? testLoss[i].y() : 0.0)
                << ',' << acc[i].y() << '\n';
    }
    }
    out.flush();
    return f.commit();
}

void MainWindow::onExportView() {
    const QString name = m_tabs->tabText(m_tabs->currentIndex()).toLower();
    const QString path =
        QFileDialog::getSaveFileName(this, tr("Export the %1 view").arg(name), name + ".png",
                                     tr("PNG image (*.png);;SVG drawing (*.svg)"));
    if (!path.isEmpty() && !exportView(path))
        QMessageBox::warning(this, tr("Export failed"), tr("Could not write %1").arg(path));
}

void MainWindow::onExportCsv() {
    const QString name = m_tabs->tabText(m_tabs->currentIndex()).toLower();
    const QString path = QFileDialog::getSaveFileName(
        this, tr("Export the numbers of the %1 view").arg(name), name + ".csv", tr("CSV (*.csv)"));
    if (!path.isEmpty() && !exportCsv(path))
        QMessageBox::warning(this, tr("Export failed"), tr("Could not write %1").arg(path));
}

void MainWindow::setPresenterMode(bool on) {
    if (on == m_presenter)
        return;
    m_presenter = on;
    if (m_presenterAction->isChecked() != on)
        m_presenterAction->setChecked(on);
    if (on)
        m_normalFont = font();
    QFont f = m_normalFont;
    if (on)
        f.setPointSizeF(m_normalFont.pointSizeF() * 1.6);
    setFont(f);
    m_chart->setTitleFont(f);
    for (QAbstractAxis* axis : m_chart->axes()) {
        axis->setLabelsFont(f);
        axis->setTitleFont(f);
    }
    m_chart->legend()->setFont(f);
    applyPalette();
    m_dock->setVisible(!on);
    m_statusLine->setVisible(!on); // the audience needs the speed and progress, not messages
}

// Normal colours, or for a projector the Okabe–Ito palette (safe for colour-blind viewers) with
// thick lines: grey raw loss, black smoothed loss, blue test loss, vermillion accuracy.
void MainWindow::applyPalette() {
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
    pen(m_gradients, hc ? QColor(0x00, 0x72, 0xb2) : QColor(0x00, 0x5a, 0xb5), 2);
    m_testLoss->setColor(hc ? QColor(0x00, 0x72, 0xb2) : QColor(0xe6, 0x9f, 0x00));
    m_testLoss->setMarkerSize(hc ? 16 : 10);
    m_filters->setHighContrast(hc);
}

int MainWindow::gradientPoints() const {
    return m_gradients->count();
}

TrainRequest MainWindow::request() const {
    TrainRequest r;
    r.preset = m_preset->currentText();
    r.spec = m_build->specJson();
    r.dataset = m_dataset->currentText();
    r.dataDir = m_dataDir->text();
    r.backend = m_backend->currentText();
    r.optimizer = m_optimizer->currentText();
    r.lr = m_lr->value();
    r.batch = m_batch->value();
    r.epochs = m_epochs->value();
    r.seed = quint64(m_seed->value());
    return r;
}

void MainWindow::showPreset() {
    m_build->loadPreset(m_preset->currentText());
}

void MainWindow::updateEditActions() {
    const QUndoStack* stack = m_build->undoStack();
    const bool editable = !m_session.started();
    m_undo->setEnabled(editable && stack->canUndo());
    m_redo->setEnabled(editable && stack->canRedo());
    m_undo->setText(stack->canUndo() ? tr("Undo %1").arg(stack->undoText()) : tr("Undo"));
    m_redo->setText(stack->canRedo() ? tr("Redo %1").arg(stack->redoText()) : tr("Redo"));
    m_openNetwork->setEnabled(editable);
}

void MainWindow::onSpecChanged(bool valid) {
    if (const QString init = initText(m_build->spec().value("init")); !init.isEmpty()) {
        const QSignalBlocker quiet(m_init); // following the spec is not an edit of it
        if (m_init->findText(init) < 0)
            m_init->addItem(init);
        m_init->setCurrentText(init);
    }
    if (!m_reopened.isEmpty() && m_build->spec() != m_reopenedSpec)
        m_reopened.clear(); // another network: its weights do not fit, Train starts afresh
    const SpecCheck& c = m_build->check();
    const QString name = m_build->spec().value("name").toString();
    m_summary->setText(
        valid ? tr("<b>%1</b>: %2 parameters, %3 MFLOPs per image, input %4")
                    .arg(name.toHtmlEscaped(), QLocale::system().toString(c.params))
                    .arg(double(c.flops) / 1e6, 0, 'f', 2)
                    .arg(c.input)
              : tr("<span style='color:#b00020'><b>The network has an error</b> (Build tab): "
                   "%1</span>")
                    .arg(c.error.toHtmlEscaped()));
    setWindowTitle(tr("convscope — %1 on %2").arg(name, m_dataset->currentText()));
    onState(m_session.busy(), m_session.started());
}

// A reopened run continues only with its dataset, batch size and optimizer.
void MainWindow::forgetReopenedRun() {
    if (m_reopened.isEmpty())
        return;
    m_reopened.clear();
    m_statusLine->setText(
        tr("Changed the dataset, batch size or optimizer: Train starts a new run"));
    onState(m_session.busy(), m_session.started());
}

void MainWindow::onDatasetChanged() {
    forgetReopenedRun();
    const QString d = m_dataset->currentText();
    m_dataDirRow->setVisible(d == "cifar10" || d == "folder");
    m_build->setInput(TrainingSession::datasetInput(d));
}

// The worker computes feature maps only while someone looks at them.
void MainWindow::updateProbe() {
    m_session.setProbe(m_tabs->currentIndex() == FiltersTab ? m_probeIndex->value() : -1);
}

int MainWindow::testLossPoints() const {
    return m_testLoss->count();
}

int MainWindow::accuracyPoints() const {
    return m_accuracy->count();
}

void MainWindow::clearCurves() {
    for (QXYSeries* s :
         std::initializer_list<QXYSeries*>{m_loss, m_smoothed, m_accuracy, m_testLoss})
        s->clear();
    m_smooth = 0;
    m_smoothCount = 0;
    m_maxLoss = 1;
    m_lastStep = 0;
}

void MainWindow::appendLoss(const QVector<QPointF>& points, qint64 totalSteps) {
    // Thin the raw curve for long runs: the chart keeps at most ~4,000 points per series.
    for (const QPointF& p : points) {
        // Exponential moving average with Adam's bias correction, so it does not lag at the start.
        m_smooth = 0.95 * m_smooth + 0.05 * p.y();
        ++m_smoothCount;
        const double smoothed = m_smooth / (1.0 - std::pow(0.95, double(m_smoothCount)));
        if (std::isfinite(p.y()))
            m_maxLoss = std::max(m_maxLoss, std::min(p.y(), 10.0));
        if (totalSteps <= 4000 || qint64(p.x()) % (totalSteps / 4000 + 1) == 0) {
            m_loss->append(p);
            m_smoothed->append(p.x(), smoothed);
        }
    }
}

bool MainWindow::openRun(const QString& dir) {
    auto fail = [this](const QString& e) {
        m_statusLine->setText(e);
        if (!qEnvironmentVariableIsSet("CONVSCOPE_NO_DIALOGS"))
            QMessageBox::warning(this, tr("Open run"), e);
        return false;
    };
    if (m_session.busy())
        return fail(tr("Pause or stop the training first (Space or Esc), then open the run"));
    const RunRecord r = TrainingSession::openRun(dir);
    if (!r.error.isEmpty())
        return fail(r.error);
    const QJsonDocument spec = QJsonDocument::fromJson(r.spec);
    if (!spec.isObject())
        return fail(tr("%1/spec.json is not a network").arg(dir));
    m_session.stop();
    // The settings it was trained with, before m_reopened is set (changing them forgets it).
    if (!r.dataset.isEmpty() && m_dataset->findText(r.dataset) >= 0)
        m_dataset->setCurrentText(r.dataset);
    if (m_optimizer->findText(r.optimizer) >= 0)
        m_optimizer->setCurrentText(r.optimizer);
    if (r.lr > 0)
        m_lr->setValue(r.lr);
    if (r.batch > 0)
        m_batch->setValue(r.batch);
    if (r.epochs > 0)
        m_epochs->setValue(r.epochs);
    if (r.seed >= 0)
        m_seed->setValue(int(r.seed));
    m_build->setSpec(spec.object(), tr("Open run %1").arg(QFileInfo(dir).fileName()));
    clearCurves();
    appendLoss(r.loss, r.steps);
    m_accuracy->replace(QList<QPointF>(r.testAccuracy.begin(), r.testAccuracy.end()));
    m_testLoss->replace(QList<QPointF>(r.testLoss.begin(), r.testLoss.end()));
    m_lastStep = r.steps;
    setNiceRange(m_x, double(std::max<qint64>(10, r.steps)));
    setNiceRange(m_yLoss, m_maxLoss * 1.05);
    m_filters->setFilters(r.filters, r.filterCount, r.filterChannels, r.filterH, r.filterW);
    m_runDir = dir;
    m_reopened = r.hasCheckpoint ? dir : QString(); // continuing needs a checkpoint
    m_reopenedSpec = m_build->spec();
    m_statusLine->setText(
        m_reopened.isEmpty()
            ? tr("Opened run %1: %2 steps, no checkpoint. Train starts a new run")
                  .arg(dir)
                  .arg(r.steps)
            : tr("Opened run %1 at step %2: Continue (Ctrl+Enter) trains it further, up to the "
                 "epochs set; Stop (Esc) forgets it")
                  .arg(dir)
                  .arg(r.steps));
    onState(false, false);
    return true;
}

QStringList MainWindow::recentRuns(int count) {
    QDir runs(QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) + "/runs");
    QStringList dirs;
    for (const QFileInfo& f : runs.entryInfoList(QDir::Dirs | QDir::NoDotAndDotDot, QDir::Time))
        if (QFileInfo::exists(f.filePath() + "/spec.json") && dirs.size() < count)
            dirs << f.filePath();
    return dirs;
}

bool MainWindow::saveRun(const QString& parent, QString* error) {
    const QString run = QDir::cleanPath(QFileInfo(m_runDir).absoluteFilePath());
    if (m_runDir.isEmpty() || !QFileInfo(run).isDir()) {
        *error = tr("There is no run yet: press Train. Every run autosaves; this copies it");
        return false;
    }
    const QString into = QDir::cleanPath(QFileInfo(parent).absoluteFilePath());
    if (into == run || into.startsWith(run + "/")) {
        *error = tr("%1 is inside the run itself: choose a folder outside it").arg(into);
        return false;
    }
    const QString target = QDir(into).filePath(QFileInfo(run).fileName());
    const QString partial = target + ".partial";
    for (const QString& p : {target, partial})
        if (QFileInfo::exists(p)) {
            *error = tr("%1 exists already: choose another folder").arg(p);
            return false;
        }
    QStringList files; // listed first: the copy does not see itself
    for (QDirIterator it(run, QDir::Files, QDirIterator::Subdirectories); it.hasNext();)
        files << it.next();
    for (const QString& from : files) {
        const QString to = partial + "/" + QDir(run).relativeFilePath(from);
        if (!QDir().mkpath(QFileInfo(to).path()) || !QFile::copy(from, to)) {
            QDir(partial).removeRecursively();
            *error = tr("Could not copy %1 to %2").arg(from, to);
            return false;
        }
    }
    if (!QDir().rename(partial, target)) {
        *error = tr("Could not rename %1 to %2").arg(partial, target);
        return false;
    }
    m_statusLine->setText(tr("Run saved to %1").arg(target));
    return true;
}

int MainWindow::lossPoints() const {
    return m_loss->count();
}

void MainWindow::onTrain() {
    if (m_session.started() && !m_session.busy()) {
        m_session.resume();
        return;
    }
    m_build->commitEdit(); // a half-typed setting is part of the network that trains
    if (!m_build->valid()) {
        m_tabs->setCurrentIndex(BuildTab);
        m_statusLine->setText(m_build->check().error);
        return;
    }
    TrainRequest r = request();
    if (!m_reopened.isEmpty())
        r.resumeDir = m_reopened; // the curves so far stay; the run continues after them
    else
        clearCurves();
    m_reopened.clear();
    if (m_tabs->currentIndex() == BuildTab)
        m_tabs->setCurrentIndex(TrainTab);
    m_session.start(r);
}

void MainWindow::onSnapshot(const TrainSnapshot& s) {
    appendLoss(s.loss, s.totalSteps);
    for (const QPointF& p : s.testAccuracy)
        m_accuracy->append(p);
    for (const QPointF& p : s.testLoss)
        m_testLoss->append(p);
    if (s.probe.index >= 0)
        m_featureMaps->setProbe(s.probe);
    if (!s.filters.isEmpty())
        m_filters->setFilters(s.filters, s.filterCount, s.filterChannels, s.filterH, s.filterW);
    if (!s.gradientNorms.isEmpty()) {
        QList<QPointF> points;
        double lo = 1e30, hi = 0;
        for (int i = 0; i < s.gradientNorms.size(); ++i) {
            const double g = std::max(s.gradientNorms[i], 1e-12); // a log axis needs > 0
            points << QPointF(i + 1, g);
            lo = std::min(lo, g);
            hi = std::max(hi, g);
        }
        m_layerNames = s.layerNames;
        m_gradients->replace(points);
        m_gradX->setRange(1, std::max<qsizetype>(2, points.size()));
        m_gradX->setTickCount(points.size() <= 16 ? std::max<int>(2, int(points.size())) : 6);
        m_gradY->setRange(std::pow(10.0, std::floor(std::log10(lo))),
                          std::pow(10.0, std::ceil(std::log10(hi))));
    }
    m_lastStep = s.step;
    if (!s.runDir.isEmpty() && s.runDir != m_runDir) {
        m_runDir = s.runDir;
        m_progress->setToolTip(tr("This run autosaves to %1").arg(m_runDir));
    }
    // The step axis grows with the run (a quarter ahead of the last step), so the curve fills
    // the chart from the first steps on; the progress bar shows how much of the run is left.
    setNiceRange(m_x, std::max(10.0, std::min(double(s.totalSteps), 1.25 * double(s.step) + 10)));
    setNiceRange(m_yLoss, m_maxLoss * 1.05);
    if (s.totalSteps > 0)
        m_progress->setValue(int(100 * s.step / s.totalSteps));
    const double eta = s.imagesPerSecond > 0 ? double(s.totalSteps - s.step) *
                                                   double(m_batch->value()) / s.imagesPerSecond
                                             : 0;
    if (s.stepsPerEpoch > 0) // an idle probe's snapshot has no step data
        m_speed->setText(tr("epoch %1 · step %2 · %3 img/s · lr %4 · ETA %5 s")
                             .arg(s.epoch)
                             .arg(s.step)
                             .arg(qRound(s.imagesPerSecond))
                             .arg(s.lr, 0, 'g', 3)
                             .arg(qRound(eta)));
    if (!s.status.isEmpty())
        m_statusLine->setText(s.status);
}

void MainWindow::onState(bool busy, bool started) {
    m_train->setText(started && !busy                    ? tr("Resume")
                     : !started && !m_reopened.isEmpty() ? tr("Continue")
                                                         : tr("Train"));
    m_train->setEnabled(!busy && m_build->valid());
    m_train->setToolTip(m_build->valid()
                            ? tr("Build the network with fresh weights and train it (Ctrl+Enter)")
                            : tr("The network has an error (see the Build tab): fix it to train"));
    m_pause->setEnabled(busy);
    m_step->setEnabled(!busy && started);
    m_stop->setEnabled(started || !m_reopened.isEmpty());
    updateEditActions();
    for (QWidget* w :
         std::initializer_list<QWidget*>{m_preset, m_dataset, m_backend, m_optimizer, m_lr, m_batch,
                                         m_epochs, m_seed, m_init, m_dataDirRow, m_build})
        w->setEnabled(!busy && !started);
    if (!started)
        m_build->setToolTip(QString());
    else
        m_build->setToolTip(tr("The network is fixed while a run is in progress: Stop (Esc) to "
                               "edit it"));
}

} // namespace convscope::ui
