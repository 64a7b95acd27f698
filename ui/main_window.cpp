// MainWindow: layout, actions with shortcuts, and the live chart.
#include "main_window.h"
#include "filter_view.h"

#include <QAction>
#include <QChart>
#include <QChartView>
#include <QComboBox>
#include <QDockWidget>
#include <QDoubleSpinBox>
#include <QFile>
#include <QFileDialog>
#include <QFontDatabase>
#include <QFormLayout>
#include <QLabel>
#include <QLineSeries>
#include <QLogValueAxis>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QPainter>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QSaveFile>
#include <QSpinBox>
#include <QStatusBar>
#include <QSvgGenerator>
#include <QTabWidget>
#include <QTextStream>
#include <QToolBar>
#include <QVBoxLayout>
#include <QValueAxis>
#include <cmath>

namespace convscope::ui {

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent) {
    setWindowTitle(tr("convscope — LeNet-5 on Fashion-MNIST"));
    resize(1200, 760);

    QMenu* file = menuBar()->addMenu(tr("&File"));
    QAction* exportView =
        file->addAction(tr("Export view as PNG or SVG…"), this, &MainWindow::onExportView);
    exportView->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_E));
    file->addAction(tr("Export curves as CSV…"), this, &MainWindow::onExportCsv);
    file->addSeparator();
    QAction* quit = file->addAction(tr("Quit"), this, &QWidget::close);
    quit->setShortcut(QKeySequence::Quit);

    QMenu* viewMenu = menuBar()->addMenu(tr("&View"));
    m_presenterAction = viewMenu->addAction(tr("Presenter mode"));
    m_presenterAction->setCheckable(true);
    m_presenterAction->setShortcut(QKeySequence(Qt::Key_F11));
    m_presenterAction->setToolTip(tr("Large fonts and thick lines for a projector; the controls "
                                     "are hidden (F11)"));
    connect(m_presenterAction, &QAction::toggled, this, &MainWindow::setPresenterMode);

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
    m_stop = bar->addAction(tr("Stop"), &m_session, &TrainingSession::stop);
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
    m_tabs->addTab(buildChart(), tr("Train"));
    m_filters = new FilterView;
    m_tabs->addTab(m_filters, tr("Filters"));
    m_tabs->addTab(buildGradientChart(), tr("Gradients"));
    setCentralWidget(m_tabs);

    m_progress = new QProgressBar;
    m_progress->setMaximumWidth(320);
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
    onState(false, false);
    showPreset();
}

QWidget* MainWindow::buildControls() {
    auto* w = new QWidget;
    auto* form = new QFormLayout;
    m_preset = new QComboBox;
    m_preset->addItems(TrainingSession::presets());
    m_preset->setCurrentText("lenet5");
    m_preset->setToolTip(tr("The network: every preset is one the lectures use"));
    connect(m_preset, &QComboBox::currentTextChanged, this, &MainWindow::showPreset);
    m_dataset = new QComboBox;
    m_dataset->addItems(TrainingSession::datasets());
    m_dataset->setCurrentText("fashion-mnist");
    m_dataset->setToolTip(tr("fashion-mnist comes from Debian's dataset-fashion-mnist; gratings, "
                             "blobs and spirals are generated, no download needed"));
    m_backend = new QComboBox;
    m_backend->setObjectName("backend");
    m_backend->addItems({"auto", "vulkan", "cpu"});
    m_backend->setToolTip(tr("auto: Vulkan on a real GPU, the CPU backend where the only Vulkan "
                             "device is lavapipe (a CPU pretending to be a GPU)"));
    m_optimizer = new QComboBox;
    m_optimizer->addItems({"momentum", "sgd", "nesterov", "rmsprop", "adam", "adamw"});
    m_optimizer->setToolTip(tr("momentum: v ← μv + ∇L, w ← w − ηv (μ = 0.9)"));
    m_lr = new QDoubleSpinBox;
    m_lr->setDecimals(4);
    m_lr->setRange(0.0001, 1.0);
    m_lr->setSingleStep(0.005);
    m_lr->setValue(0.02);
    m_lr->setToolTip(tr("η, the learning rate at the start; it follows a cosine to 0"));
    m_batch = new QSpinBox;
    m_batch->setRange(1, 4096);
    m_batch->setValue(64);
    m_epochs = new QSpinBox;
    m_epochs->setObjectName("epochs");
    m_epochs->setRange(1, 100);
    m_epochs->setValue(1);
    m_seed = new QSpinBox;
    m_seed->setRange(0, 1 << 30);
    m_seed->setValue(1);
    m_seed->setToolTip(tr("Seeds the initial weights and the order of the batches"));
    form->addRow(tr("Network"), m_preset);
    form->addRow(tr("Dataset"), m_dataset);
    form->addRow(tr("Backend"), m_backend);
    form->addRow(tr("Optimizer"), m_optimizer);
    form->addRow(tr("Learning rate"), m_lr);
    form->addRow(tr("Batch size"), m_batch);
    form->addRow(tr("Epochs"), m_epochs);
    form->addRow(tr("Seed"), m_seed);
    m_summary = new QPlainTextEdit;
    m_summary->setReadOnly(true);
    m_summary->setLineWrapMode(QPlainTextEdit::NoWrap);
    m_summary->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_summary->setToolTip(tr("Each layer's output shape, parameters and FLOPs per image"));
    auto* box = new QVBoxLayout(w);
    box->addLayout(form);
    box->addWidget(new QLabel(tr("Layers")));
    box->addWidget(m_summary, 1);
    w->setMinimumWidth(560);
    return w;
}

QWidget* MainWindow::buildChart() {
    m_chart = new QChart;
    m_chart->setTitle(tr("Training loss and test accuracy"));
    m_loss = new QLineSeries;
    m_loss->setName(tr("loss per step"));
    m_loss->setColor(QColor(0x9e, 0xc5, 0xe8));
    m_smoothed = new QLineSeries;
    m_smoothed->setName(tr("loss, smoothed"));
    QPen pen(QColor(0x00, 0x5a, 0xb5));
    pen.setWidth(2);
    m_smoothed->setPen(pen);
    m_accuracy = new QLineSeries;
    m_accuracy->setName(tr("test accuracy (per epoch)"));
    QPen accPen(QColor(0xdc, 0x32, 0x20));
    accPen.setWidth(2);
    m_accuracy->setPen(accPen);
    m_accuracy->setPointsVisible(true);
    for (auto* s : {m_loss, m_smoothed, m_accuracy})
        m_chart->addSeries(s);
    m_x = new QValueAxis;
    m_x->setTitleText(tr("step"));
    m_x->setLabelFormat("%d");
    m_yLoss = new QValueAxis;
    m_yLoss->setTitleText(tr("cross-entropy loss"));
    m_yAcc = new QValueAxis;
    m_yAcc->setTitleText(tr("test accuracy"));
    m_yAcc->setRange(0, 1);
    m_chart->addAxis(m_x, Qt::AlignBottom);
    m_chart->addAxis(m_yLoss, Qt::AlignLeft);
    m_chart->addAxis(m_yAcc, Qt::AlignRight);
    for (auto* s : {m_loss, m_smoothed}) {
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
    m_gradients = new QLineSeries;
    QPen pen(QColor(0x00, 0x5a, 0xb5));
    pen.setWidth(2);
    m_gradients->setPen(pen);
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
    out << "step,loss,smoothed_loss,test_accuracy\n";
    const auto raw = m_loss->points(), smooth = m_smoothed->points(), acc = m_accuracy->points();
    for (qsizetype i = 0; i < raw.size(); ++i)
        out << qint64(raw[i].x()) << ',' << raw[i].y() << ','
            << (i < smooth.size() ? smooth[i].y() : 0.0) << ",\n";
    for (const QPointF& a : acc)
        out << qint64(a.x()) << ",,," << a.y() << '\n';
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
    const QString path = QFileDialog::getSaveFileName(this, tr("Export the curves"), "curves.csv",
                                                      tr("CSV (*.csv)"));
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
    for (QLineSeries* series : {m_smoothed, m_accuracy, m_gradients}) {
        QPen pen = series->pen();
        pen.setWidth(on ? 5 : 2);
        series->setPen(pen);
    }
    m_dock->setVisible(!on);
    statusBar()->setVisible(true);
}

int MainWindow::gradientPoints() const {
    return m_gradients->count();
}

TrainRequest MainWindow::request() const {
    TrainRequest r;
    r.preset = m_preset->currentText();
    r.dataset = m_dataset->currentText();
    r.backend = m_backend->currentText();
    r.optimizer = m_optimizer->currentText();
    r.lr = m_lr->value();
    r.batch = m_batch->value();
    r.epochs = m_epochs->value();
    r.seed = quint64(m_seed->value());
    return r;
}

void MainWindow::showPreset() {
    bool ok = false;
    m_summary->setPlainText(TrainingSession::describePreset(m_preset->currentText(), &ok));
    setWindowTitle(tr("convscope — %1").arg(m_preset->currentText()));
}

int MainWindow::lossPoints() const {
    return m_loss->count();
}

void MainWindow::onTrain() {
    if (m_session.started() && !m_session.busy()) {
        m_session.resume();
        return;
    }
    m_loss->clear();
    m_smoothed->clear();
    m_accuracy->clear();
    m_smooth = 0;
    m_smoothCount = 0;
    m_maxLoss = 1;
    m_lastStep = 0;
    m_session.start(request());
}

void MainWindow::onSnapshot(const TrainSnapshot& s) {
    // Thin the raw curve for long runs: the chart keeps at most ~4,000 points per series.
    for (const QPointF& p : s.loss) {
        // Exponential moving average with Adam's bias correction, so it does not lag at the start.
        m_smooth = 0.95 * m_smooth + 0.05 * p.y();
        ++m_smoothCount;
        const double smoothed = m_smooth / (1.0 - std::pow(0.95, double(m_smoothCount)));
        if (std::isfinite(p.y()))
            m_maxLoss = std::max(m_maxLoss, std::min(p.y(), 10.0));
        if (s.totalSteps <= 4000 || qint64(p.x()) % (s.totalSteps / 4000 + 1) == 0) {
            m_loss->append(p);
            m_smoothed->append(p.x(), smoothed);
        }
    }
    for (const QPointF& p : s.testAccuracy)
        m_accuracy->append(p);
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
    m_x->setRange(0, std::max(10.0, std::min(double(s.totalSteps), 1.25 * double(s.step) + 10)));
    m_x->applyNiceNumbers();
    m_yLoss->setRange(0, m_maxLoss * 1.05);
    m_yLoss->applyNiceNumbers();
    if (s.totalSteps > 0)
        m_progress->setValue(int(100 * s.step / s.totalSteps));
    const double eta = s.imagesPerSecond > 0 ? double(s.totalSteps - s.step) *
                                                   double(m_batch->value()) / s.imagesPerSecond
                                             : 0;
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
    m_train->setText(started && !busy ? tr("Resume") : tr("Train"));
    m_train->setEnabled(!busy);
    m_pause->setEnabled(busy);
    m_step->setEnabled(!busy && started);
    m_stop->setEnabled(started);
    for (QWidget* w : std::initializer_list<QWidget*>{m_preset, m_dataset, m_backend, m_optimizer,
                                                      m_lr, m_batch, m_epochs, m_seed})
        w->setEnabled(!busy && !started);
}

} // namespace convscope::ui
