// MainWindow: layout, actions with shortcuts, the status bar, runs and presenter mode.
#include "main_window.h"
#include "build_view.h"
#include "compare_view.h"
#include "dataset_fetcher.h"
#include "feature_map_view.h"
#include "filter_view.h"
#include "filters_view.h"
#include "gradients_view.h"
#include "landscape_view.h"
#include "lesson.h"
#include "lesson_player.h"
#include "receptive_field_view.h"
#include "saliency_view.h"
#include "train/run_folder.h"
#include "train_view.h"
#include "twin_session.h"

#include <QAction>
#include <QApplication>
#include <QComboBox>
#include <QDateTime>
#include <QDir>
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
#include <QKeyEvent>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QPainter>
#include <QProgressBar>
#include <QProgressDialog>
#include <QPushButton>
#include <QRegularExpression>
#include <QSlider>
#include <QSpinBox>
#include <QSplitter>
#include <QStandardPaths>
#include <QStatusBar>
#include <QTabWidget>
#include <QTimer>
#include <QToolBar>
#include <QToolButton>
#include <QUndoStack>
#include <QVBoxLayout>
#include <cmath>
#include <utility>

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

} // namespace

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent) {
    setWindowTitle(tr("convscope — LeNet-5 on Fashion-MNIST"));
    resize(1200, 760);

    m_build = new BuildView;
    m_fetcher = new DatasetFetcher(this);
    QMenu* file = menuBar()->addMenu(tr("&File"));
    file->addAction(tr("New network"), QKeySequence::New, this, [this] {
        m_build->newNetwork();
        m_tabs->setCurrentWidget(m_build);
    });
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
        const QString dir =
            QFileDialog::getExistingDirectory(this, tr("Open a run folder"), runsDir());
        if (!dir.isEmpty())
            openRun(dir);
    });
    file->addAction(tr("Open lesson…"), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_L), this,
                    [this] {
                        const QString path =
                            QFileDialog::getOpenFileName(this, tr("Open a lesson"), QString(),
                                                         tr("Lessons (*.json);;All files (*)"));
                        if (!path.isEmpty())
                            openLesson(path);
                    })
        ->setToolTip(tr("A demonstration to play step by step: network, settings and steps from a "
                        "JSON file (examples in resources/lessons)"));
    // The lessons shipped with convscope (resources/lessons, compiled in), by lecture.
    QMenu* lessons = file->addMenu(tr("Lessons"));
    lessons->setObjectName("lessons");
    for (const QString& name : QDir(":/lessons").entryList({"*.json"}, QDir::Files, QDir::Name)) {
        const QString path = ":/lessons/" + name;
        QString error;
        const Lesson l = Lesson::load(path, &error);
        lessons
            ->addAction(error.isEmpty() ? l.title : name, this, [this, path] { openLesson(path); })
            ->setToolTip(l.lecture);
    }
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
    file->addAction(
            tr("Export network as ONNX…"), this,
            [this] {
                if (m_runDir.isEmpty())
                    return m_statusLine->setText(tr(
                        "Nothing to export yet: train a network or open a run (File → Open run)"));
                const QString path = QFileDialog::getSaveFileName(
                    this, tr("Export the network as ONNX"),
                    QDir::home().filePath(QFileInfo(m_runDir).fileName() + ".onnx"),
                    tr("ONNX models (*.onnx)"));
                if (path.isEmpty())
                    return;
                QString summary, error;
                if (TrainingSession::exportOnnx(m_runDir, path, &summary, &error))
                    m_statusLine->setText(tr("Exported %1").arg(summary));
                else
                    QMessageBox::warning(this, tr("Export network as ONNX"), error);
            })
        ->setToolTip(tr("The trained network with its weights (the run's last checkpoint), ONNX "
                        "opset 13: opens in Netron and other tools. Inputs are normalised images "
                        "(x − mean)/std, as the network trained on them"));
    file->addAction(tr("Get CIFAR-10…"), this, [this] { getCifar10(); })
        ->setToolTip(tr("Downloads the CIFAR-10 binary archive (170 MB, checked against its "
                        "published MD5) into %1, unpacks it and selects it. Cancel keeps the "
                        "partial download; asking again resumes it")
                         .arg(DatasetFetcher::defaultDataDir()));
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
        ->setToolTip(tr("Build: the layer table; Train: the curves and the confusion matrix; "
                        "Filters: the first layer's weights; Gradients: the norm per layer; "
                        "Saliency: the maps, the attack and accuracy vs ε"));
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
    m_presenterAction->setToolTip(tr("Full screen, large fonts and thick lines for a projector; "
                                     "the settings hide (Ctrl+D shows them), F11 or Esc returns"));
    connect(m_presenterAction, &QAction::toggled, this, &MainWindow::setPresenterMode);
    viewMenu->addSeparator();
    const QStringList tabNames = {tr("Build"),           tr("Train"),    tr("Filters"),
                                  tr("Gradients"),       tr("Saliency"), tr("Landscape"),
                                  tr("Receptive field"), tr("Compare")};
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
               "<tr><td><b>F11</b></td><td>presenter mode (full screen); F11 or Esc "
               "leaves it</td></tr>"
               "<tr><td><b>Ctrl+D</b></td><td>show or hide the settings (in presenter mode "
               "too)</td></tr>"
               "<tr><td><b>Ctrl+1 … 8</b></td><td>Build, Train, Filters, Gradients, "
               "Saliency, Landscape, Receptive field, Compare</td></tr>"
               "<tr><td><b>[</b>, <b>]</b></td><td>Saliency: ε down, up</td></tr>"
               "<tr><td><b>Ctrl+Shift+K</b></td><td>Saliency: sanity check</td></tr>"
               "<tr><td><b>Ctrl+L</b></td><td>Landscape: compute the surface</td></tr>"
               "<tr><td><b>Ctrl+Backspace</b></td><td>cancel the running analysis</td></tr>"
               "<tr><td><b>Ctrl+Shift+T</b></td><td>Compare: train a twin beside this "
               "network</td></tr>"
               "<tr><td><b>Ctrl+Shift+L</b></td><td>open a lesson</td></tr>"
               "<tr><td><b>Page Down</b>, <b>Page Up</b></td><td>lesson: next step, the "
               "step before</td></tr>"
               "<tr><td><b>End</b></td><td>time scrubber: back to live</td></tr>"
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
        const bool wasRunning = m_session.started();
        m_session.stop();
        if (wasRunning && !m_runDir.isEmpty()) { // honest status: no ETA of a stopped run
            m_speed->setText(tr("Stopped at step %1 · kept in %2").arg(m_lastStep).arg(m_runDir));
            m_statusLine->setText(
                tr("Stopped. The run is kept in %1 (File → Open run shows it again)")
                    .arg(m_runDir));
        }
    });
    m_stop->setShortcut(QKeySequence(Qt::Key_Escape));
    m_stop->setToolTip(tr("Stop and forget this run (Esc)"));

    bar->addSeparator();
    bar->addAction(m_presenterAction);
    m_leavePresenter = new QAction(tr("Leave presenter mode"), this);
    m_leavePresenter->setShortcut(QKeySequence(Qt::Key_Escape));
    m_leavePresenter->setEnabled(false);
    connect(m_leavePresenter, &QAction::triggered, this, [this] { setPresenterMode(false); });
    addAction(m_leavePresenter);
    // The settings stay one key away in presenter mode (the dock floats over the views).
    m_showControls = viewMenu->addAction(tr("Show the network and training settings"));
    m_showControls->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_D));
    connect(m_showControls, &QAction::triggered, this,
            [this] { m_dock->setVisible(!m_dock->isVisible()); });
    auto* dock = m_dock = new QDockWidget(tr("Network and training"), this);
    dock->setObjectName("controls dock");
    dock->setWidget(buildControls());
    dock->setFeatures(QDockWidget::DockWidgetMovable | QDockWidget::DockWidgetFloatable);
    addDockWidget(Qt::LeftDockWidgetArea, dock);
    m_tabs = new QTabWidget;
    m_tabs->addTab(m_build, tr("Build"));
    m_tabs->setTabToolTip(BuildTab, tr("Edit the network: layers, settings, residual blocks"));
    m_trainView = new TrainView(m_session);
    m_tabs->addTab(m_trainView, tr("Train"));
    m_tabs->setTabToolTip(TrainTab, tr("The loss, test accuracy and confusion matrix, live"));
    m_filtersView = new FiltersView;
    m_tabs->addTab(m_filtersView, tr("Filters"));
    m_tabs->setTabToolTip(FiltersTab, tr("The first layer's filters and every layer's feature "
                                         "maps of one test image"));
    m_gradientsView = new GradientsView;
    m_tabs->addTab(m_gradientsView, tr("Gradients"));
    m_tabs->setTabToolTip(GradientsTab, tr("Gradient norm per layer: vanishing gradients"));
    m_saliency = new SaliencyView(m_session);
    m_tabs->addTab(m_saliency, tr("Saliency"));
    m_landscape = new LandscapeView(m_session);
    m_landscape->setRequestSource([this] { return request(); });
    m_tabs->addTab(m_landscape, tr("Landscape"));
    m_tabs->setTabToolTip(LandscapeTab, tr("Li et al.'s loss landscapes: the surface around the "
                                           "trained weights, with and without skip connections"));
    m_tabs->setTabToolTip(SaliencyTab, tr("From ∇θL to ∇xL: saliency maps, Grad-CAM, the sanity "
                                          "check and adversarial examples"));
    m_fieldView = new ReceptiveFieldView(m_session);
    m_fieldView->setRequestSource([this] { return request(); });
    m_tabs->addTab(m_fieldView, tr("Receptive field"));
    m_tabs->setTabToolTip(FieldTab, tr("What one unit sees: its theoretical receptive field and "
                                       "its effective one (Luo et al.), layer by layer"));
    m_compare = new CompareView;
    m_compare->setRecentRunsProvider([] { return recentRuns(8); });
    m_tabs->addTab(m_compare, tr("Compare"));
    m_tabs->setTabToolTip(CompareTab, tr("Two to four runs on one scale: a twin that differs in "
                                         "one thing (batch norm, initialisation, dropout, "
                                         "activation, shortcuts…) trained beside this network"));
    connect(m_compare, &CompareView::message, this,
            [this](const QString& text) { m_statusLine->setText(text); });
    connect(m_compare, &CompareView::twinRequested, this, &MainWindow::trainTwin);
    m_twins = new TwinSession(this);
    connect(m_compare, &CompareView::twinCancelled, m_twins, &TwinSession::cancel);
    connect(m_twins, &TwinSession::started, this, [this](const QString& description) {
        m_statusLine->setText(tr("Training the twins: %1").arg(description));
    });
    connect(m_twins, &TwinSession::snapshot, this, &MainWindow::onTwinSnapshot);
    connect(m_twins, &TwinSession::finished, this, [this](const QString& error, bool cancelled) {
        m_compare->setTwinRunning(false);
        for (int k = 0; k < 2; ++k) // the final rows, norms and filters
            if (const RunRecord read = TrainingSession::openRun(m_twinRuns[k].dir);
                read.error.isEmpty())
                m_twinRuns[k] = read;
        m_compare->setRuns({m_twinRuns[0], m_twinRuns[1]});
        m_progress->reset();
        m_statusLine->setText(!error.isEmpty() ? error
                              : cancelled      ? tr("The twins stopped; both runs are kept")
                                               : m_compare->summary());
        emit twinsFinished(error);
    });
    connect(&m_session, &TrainingSession::landscapeUpdated, m_compare, &CompareView::setSurfaces);
    m_tabs->setCurrentIndex(TrainTab);
    m_player = new LessonPlayer;
    connect(m_player, &LessonPlayer::stepEntered, this, &MainWindow::playLessonStep);
    connect(this, &MainWindow::twinsFinished, this, [this] {
        if (m_player->working() && !m_session.busy())
            m_player->setWorking(false);
    });
    auto* central = new QWidget;
    auto* centralBox = new QVBoxLayout(central);
    centralBox->setContentsMargins(0, 0, 0, 0);
    centralBox->setSpacing(0);
    centralBox->addWidget(m_player);
    centralBox->addWidget(buildScrubber());
    centralBox->addWidget(m_tabs, 1);
    setCentralWidget(central);
    connect(m_tabs, &QTabWidget::currentChanged, this, &MainWindow::updateProbe);
    connect(m_filtersView, &FiltersView::probeChanged, this, &MainWindow::updateProbe);
    connect(m_build, &BuildView::specChanged, this, &MainWindow::onSpecChanged);
    connect(m_trainView, &TrainView::confusionCellClicked, this, [this](int truth, int pred) {
        m_tabs->setCurrentWidget(m_saliency);
        m_saliency->showCell(truth, pred);
    });
    // Saliency shortcuts: ε down and up, the sanity check.
    auto* epsDown = new QAction(tr("ε down"), this);
    epsDown->setShortcut(QKeySequence(Qt::Key_BracketLeft));
    connect(epsDown, &QAction::triggered, this, [this] {
        if (m_tabs->currentWidget() == m_saliency)
            m_saliency->epsSlider()->setValue(m_saliency->epsSlider()->value() - 1);
    });
    auto* epsUp = new QAction(tr("ε up"), this);
    epsUp->setShortcut(QKeySequence(Qt::Key_BracketRight));
    connect(epsUp, &QAction::triggered, this, [this] {
        if (m_tabs->currentWidget() == m_saliency)
            m_saliency->epsSlider()->setValue(m_saliency->epsSlider()->value() + 1);
    });
    auto* sanity = new QAction(tr("Sanity check"), this);
    sanity->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_K));
    connect(sanity, &QAction::triggered, this, [this] {
        m_tabs->setCurrentWidget(m_saliency);
        m_saliency->sanityButton()->click();
    });
    addActions({epsDown, epsUp, sanity});

    m_progress = new QProgressBar;
    m_progress->setMaximumWidth(320);
    m_progress->setMinimumWidth(200);
    m_progress->setFormat(tr("%p% of the run"));
    m_speed = new QLabel;
    m_speed->setMinimumWidth(1);
    m_statusLine = new QLabel(tr("Ready: press Train (Ctrl+Enter)"));
    statusBar()->addWidget(m_statusLine, 1);
    m_accuracy = new QLabel;
    m_accuracy->setObjectName("accuracy");
    m_accuracy->setStyleSheet("margin-right: 12px");
    // Status texts elide rather than widen the window past a 1280-pixel projector.
    for (QLabel* l : {m_accuracy, m_statusLine})
        l->setMinimumWidth(1);
    m_accuracy->setToolTip(tr("The last epoch's test accuracy, and the train accuracy over its "
                              "batches: the gap is what dropout and augmentation shrink"));
    statusBar()->addPermanentWidget(m_accuracy);
    buildJobStatus();
    statusBar()->addPermanentWidget(m_speed);
    statusBar()->addPermanentWidget(m_progress);

    connect(&m_session, &TrainingSession::snapshot, this, &MainWindow::onSnapshot);
    connect(&m_session, &TrainingSession::stateChanged, this, &MainWindow::onState);
    connect(&m_session, &TrainingSession::message, m_statusLine, &QLabel::setText);
    connect(&m_session, &TrainingSession::failed, this, [this](const QString& e) {
        if (qEnvironmentVariableIsSet("CONVSCOPE_NO_DIALOGS"))
            return;
        if (e.contains("VK_ERROR_DEVICE_LOST")) {
            // The GPU is gone: offer the same run on the CPU, from its last checkpoint.
            QMessageBox box(QMessageBox::Warning, tr("The GPU was lost"), e, QMessageBox::NoButton,
                            this);
            QPushButton* cpu = box.addButton(tr("Continue on the CPU"), QMessageBox::AcceptRole);
            box.addButton(QMessageBox::Close);
            box.exec();
            if (box.clickedButton() == cpu)
                continueOnCpu();
            return;
        }
        if (!e.contains("diverged")) {
            QMessageBox::warning(this, tr("Training stopped"), e);
            return;
        }
        // A divergence: offer the way back (a tenth of the rate, from the last good checkpoint).
        QMessageBox box(QMessageBox::Warning, tr("Training diverged"), e, QMessageBox::NoButton,
                        this);
        QPushButton* retry =
            box.addButton(tr("Retry with η = %1").arg(m_lr->value() / 10), QMessageBox::AcceptRole);
        box.addButton(QMessageBox::Close);
        box.exec();
        if (box.clickedButton() == retry)
            retryWithLowerRate();
    });
    onState(false, false);
    onDatasetChanged();
    showPreset();
    qApp->installEventFilter(this);  // Ctrl+E whatever has focus (eventFilter)
    onSpecChanged(m_build->valid()); // the first network's summary, box and chance level
    m_build->undoStack()->clear();   // the first network is where undo stops
    updateEditActions();
}

void MainWindow::retryWithLowerRate() {
    const double lr = std::max(m_lr->minimum(), m_lr->value() / 10);
    continueFromLastCheckpoint([this, lr] { m_lr->setValue(lr); }, tr("with η = %1").arg(lr));
}

void MainWindow::continueOnCpu() {
    continueFromLastCheckpoint([this] { m_backend->setCurrentText("cpu"); },
                               tr("on the CPU backend"));
}

void MainWindow::continueFromLastCheckpoint(const std::function<void()>& change,
                                            const QString& how) {
    if (m_session.busy())
        return;
    const QString dir = m_runDir;
    const bool hasCheckpoint =
        !dir.isEmpty() &&
        !QDir(dir + "/checkpoints").entryList({"step-*.safetensors"}, QDir::Files).isEmpty() &&
        openRun(dir); // its last checkpoint is a good one: nothing diverged is saved
    change();         // after openRun, which sets the run's own settings
    m_statusLine->setText(hasCheckpoint ? tr("Continuing from the last good checkpoint %1").arg(how)
                                        : tr("Training again from the start %1").arg(how));
    onTrain();
}

void MainWindow::getCifar10(const QString& url, qint64 bytes, const QString& md5) {
    if (m_fetcher->busy())
        return;
    auto* dialog = new QProgressDialog(tr("Downloading CIFAR-10…"), tr("Cancel"), 0, 1000, this);
    dialog->setObjectName("fetch progress");
    dialog->setWindowTitle(tr("Get CIFAR-10"));
    dialog->setMinimumDuration(0);
    dialog->setAutoClose(false);
    dialog->setAutoReset(false);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(dialog, &QProgressDialog::canceled, m_fetcher, &DatasetFetcher::cancel);
    connect(m_fetcher, &DatasetFetcher::progress, dialog, [dialog](double f, const QString& stage) {
        const QString what = stage == "downloading" ? tr("Downloading CIFAR-10…")
                             : stage == "verifying" ? tr("Checking its MD5…")
                                                    : tr("Unpacking…");
        dialog->setLabelText(what);
        dialog->setValue(int(f * 1000));
    });
    connect(
        m_fetcher, &DatasetFetcher::finished, this,
        [this, dialog](const QString& folder, const QString& error) {
            disconnect(m_fetcher, nullptr, dialog, nullptr);
            dialog->close();
            if (!error.isEmpty()) {
                m_statusLine->setText(tr("CIFAR-10 not fetched: %1").arg(error));
                if (!qEnvironmentVariableIsSet("CONVSCOPE_NO_DIALOGS"))
                    QMessageBox::warning(this, tr("Get CIFAR-10"), error);
                return;
            }
            m_dataset->setCurrentText("cifar10");
            m_dataDir->setText(folder);
            m_statusLine->setText(
                tr("CIFAR-10 is in %1 and selected: Train uses it (32×32 colour images)")
                    .arg(folder));
        },
        Qt::SingleShotConnection);
    m_fetcher->start({}, url, bytes, md5);
}

MainWindow::~MainWindow() {
    qApp->removeEventFilter(this);
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
    m_weightDecay = new QDoubleSpinBox;
    m_weightDecay->setObjectName("weight decay");
    m_weightDecay->setDecimals(4);
    m_weightDecay->setRange(0, 1);
    m_weightDecay->setSingleStep(0.001);
    m_weightDecay->setToolTip(
        tr("λ, L2 weight decay: every step also pulls each weight toward 0, w ← w − ηλw "
           "(decoupled for adamw). It smooths first-layer filters: the gabor preset uses 0.02"));
    m_batch = new QSpinBox;
    m_batch->setRange(1, 4096);
    m_batch->setValue(64);
    m_batch->setObjectName("batch");
    m_epochs = new QSpinBox;
    m_epochs->setObjectName("epochs");
    m_epochs->setRange(1, 100);
    m_epochs->setValue(5); // LeNet-5 reaches ~89% on Fashion-MNIST in 5 epochs
    connect(m_batch, &QSpinBox::valueChanged, this, &MainWindow::forgetReopenedRun);
    connect(m_batch, &QSpinBox::valueChanged, this, [this] { onSpecChanged(m_build->valid()); });
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
    form->addRow(tr("Weight decay"), m_weightDecay);
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

// The running analysis job in the status bar: its name, progress and a Cancel button.
void MainWindow::buildJobStatus() {
    m_jobLabel = new QLabel;
    m_jobProgress = new QProgressBar;
    m_jobProgress->setObjectName("job progress");
    m_jobProgress->setRange(0, 100);
    m_jobProgress->setMaximumWidth(160);
    m_jobCancel = new QToolButton;
    m_jobCancel->setObjectName("cancel job");
    m_jobCancel->setText(tr("Cancel"));
    m_jobCancel->setToolTip(tr("Stop the running analysis after its current batch "
                               "(Ctrl+Backspace)"));
    auto* cancel = new QAction(tr("Cancel the analysis"), this);
    cancel->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_Backspace));
    connect(cancel, &QAction::triggered, &m_session, &TrainingSession::cancelJob);
    addAction(cancel);
    connect(m_jobCancel, &QToolButton::clicked, &m_session, &TrainingSession::cancelJob);
    for (QWidget* w : std::initializer_list<QWidget*>{m_jobLabel, m_jobProgress, m_jobCancel}) {
        statusBar()->addPermanentWidget(w);
        w->setVisible(false);
    }
    connect(&m_session, &TrainingSession::jobStateChanged, this,
            [this](bool running, const QString& job) {
                for (QWidget* w :
                     std::initializer_list<QWidget*>{m_jobLabel, m_jobProgress, m_jobCancel})
                    w->setVisible(running);
                m_jobLabel->setText(tr("Computing %1…").arg(job));
                m_jobProgress->setValue(0);
            });
    connect(&m_session, &TrainingSession::jobProgress, this,
            [this](double f, const QString&) { m_jobProgress->setValue(qRound(100 * f)); });
}

bool MainWindow::exportView(const QString& path) {
    if (auto* view = qobject_cast<View*>(m_tabs->currentWidget()))
        return view->exportPicture(path);
    return View::exportWidget(m_tabs->currentWidget(), path, windowTitle());
}

bool MainWindow::exportCsv(const QString& path) {
    auto* view = qobject_cast<View*>(m_tabs->currentWidget());
    return view && view->exportCsv(path);
}

// The save dialogs start in the folder of the last export.
bool MainWindow::eventFilter(QObject* watched, QEvent* e) {
    // Ctrl+E and Ctrl+Shift+E export whichever widget has focus: a line edit would otherwise
    // take Ctrl+E as "end of line" (its ShortcutOverride) and the export would not happen.
    if (e->type() == QEvent::ShortcutOverride) {
        const auto* k = static_cast<QKeyEvent*>(e);
        if (k->key() == Qt::Key_E && (k->modifiers() & Qt::ControlModifier) &&
            watched->isWidgetType() && static_cast<QWidget*>(watched)->window() == this)
            return true;
    }
    // A lesson's Next and Back are Page Down and Page Up (what a presenter's remote sends),
    // whichever widget has focus: they win over a spin box or list that pages with them.
    if ((e->type() == QEvent::ShortcutOverride || e->type() == QEvent::KeyPress) && m_player &&
        m_player->isVisible() && watched->isWidgetType() &&
        static_cast<QWidget*>(watched)->window() == this) {
        const auto* k = static_cast<QKeyEvent*>(e);
        if ((k->key() == Qt::Key_PageDown || k->key() == Qt::Key_PageUp) &&
            k->modifiers() == Qt::NoModifier) {
            if (e->type() == QEvent::KeyPress)
                k->key() == Qt::Key_PageDown ? m_player->next() : m_player->back();
            return true;
        }
    }
    return QMainWindow::eventFilter(watched, e);
}

void MainWindow::onExportView() {
    ++m_exportRequests;
    if (qEnvironmentVariableIsSet("CONVSCOPE_NO_DIALOGS"))
        return; // tests and scripts call exportView() with a path
    const QString name = m_tabs->tabText(m_tabs->currentIndex()).toLower();
    const QString path = QFileDialog::getSaveFileName(
        this, tr("Export the %1 view (PNG at twice the screen's resolution, or SVG)").arg(name),
        QDir(m_exportDir).filePath(name + ".png"), tr("PNG image (*.png);;SVG drawing (*.svg)"));
    if (path.isEmpty())
        return;
    m_exportDir = QFileInfo(path).absolutePath();
    if (!exportView(path))
        QMessageBox::warning(this, tr("Export failed"), tr("Could not write %1").arg(path));
}

void MainWindow::onExportCsv() {
    ++m_exportRequests;
    if (qEnvironmentVariableIsSet("CONVSCOPE_NO_DIALOGS"))
        return;
    const QString name = m_tabs->tabText(m_tabs->currentIndex()).toLower();
    const QString path =
        QFileDialog::getSaveFileName(this, tr("Export the numbers of the %1 view").arg(name),
                                     QDir(m_exportDir).filePath(name + ".csv"), tr("CSV (*.csv)"));
    if (path.isEmpty())
        return;
    m_exportDir = QFileInfo(path).absolutePath();
    if (!exportCsv(path))
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
    for (int i = 0; i < m_tabs->count(); ++i)
        if (auto* view = qobject_cast<View*>(m_tabs->widget(i)))
            view->setPresenterMode(on);
    m_player->setPresenterMode(on);
    m_dock->setVisible(!on);
    m_statusLine->setVisible(!on); // the audience needs the speed and progress, not messages
    // Full screen for the projector; Esc leaves presenter mode (Stop keeps its button).
    if (on) {
        m_wasMaximized = isMaximized();
        showFullScreen();
    } else if (isFullScreen()) {
        m_wasMaximized ? showMaximized() : showNormal();
    }
    m_stop->setShortcut(on ? QKeySequence() : QKeySequence(Qt::Key_Escape));
    m_leavePresenter->setEnabled(on);
}

int MainWindow::gradientPoints() const {
    return m_gradientsView->points();
}

FilterView* MainWindow::filterView() const {
    return m_filtersView->filters();
}

FeatureMapView* MainWindow::featureMapView() const {
    return m_filtersView->featureMaps();
}

QSpinBox* MainWindow::probeBox() const {
    return m_filtersView->probeBox();
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
    r.weightDecay = m_weightDecay->value();
    r.batch = m_batch->value();
    r.epochs = m_epochs->value();
    r.seed = quint64(m_seed->value());
    r.autosaveSeconds = m_autosaveSeconds;
    return r;
}

void MainWindow::showPreset() {
    if (m_preset->currentData().toString() == "custom")
        return; // the entry that names the network being edited: nothing to load
    m_build->loadPreset(m_preset->currentText());
    // The preset's training defaults ("training" in its JSON), else the usual ones.
    const QJsonObject t =
        QJsonDocument::fromJson(TrainingSession::presetJson(m_preset->currentText()))
            .object()
            .value("training")
            .toObject();
    const QString optimizer = t.value("optimizer").toString("momentum");
    if (m_optimizer->findText(optimizer) >= 0)
        m_optimizer->setCurrentText(optimizer);
    m_lr->setValue(t.value("lr").toDouble(optimizer.startsWith("adam") ? 0.001 : 0.02));
    m_weightDecay->setValue(t.value("weight_decay").toDouble(0));
    if (t.contains("epochs"))
        m_epochs->setValue(t.value("epochs").toInt());
}

// The Network box names the network that Train trains (the Build view's): a preset by its name,
// "lenet5 (edited)" when it differs from the preset, else "name (custom)". One source: the spec.
void MainWindow::syncPresetBox() {
    const QJsonObject spec = m_build->spec();
    if (!spec.contains("layers"))
        return; // no network yet (the window is being built)
    const QString name = spec.value("name").toString();
    QString label = name;
    if (TrainingSession::presets().contains(name)) {
        QJsonObject preset = QJsonDocument::fromJson(TrainingSession::presetJson(name)).object();
        QJsonObject mine = spec;
        preset.remove("input"); // the dataset decides the input shape
        mine.remove("input");
        if (preset != mine)
            label = tr("%1 (edited)").arg(name);
    } else {
        label = tr("%1 (custom)").arg(name.isEmpty() ? tr("network") : name);
    }
    const QSignalBlocker quiet(m_preset);
    for (int i = m_preset->count() - 1; i >= 0; --i)
        if (m_preset->itemData(i).toString() == "custom")
            m_preset->removeItem(i);
    if (m_preset->findText(label) < 0)
        m_preset->insertItem(0, label, QString("custom"));
    m_preset->setCurrentText(label);
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
    syncPresetBox();
    if (m_fieldView)
        m_fieldView->setSpecCheck(m_build->check());
    // The chance level ln K of the network's K outputs ("10" or "10x1x1").
    m_trainView->setClasses(valid ? m_build->check().output.section('x', 0, 0).toInt() : 0);
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
    m_memory = valid ? TrainingSession::checkMemory(m_build->specJson(), m_dataset->currentText(),
                                                    m_batch->value())
                     : TrainingSession::MemoryCheck{};
    const QLocale locale;
    const QString memory =
        m_memory.need < 0 ? QString()
        : m_memory.fits()
            ? tr(" · training memory at batch %1: %2 of %3 free")
                  .arg(m_batch->value())
                  .arg(locale.formattedDataSize(m_memory.need),
                       locale.formattedDataSize(m_memory.available))
            : tr(" · <span style='color:#b00020'><b>does not fit</b>: training at batch %1 "
                 "needs %2 but %3 is free; lower the batch size or use a smaller "
                 "network</span>")
                  .arg(m_batch->value())
                  .arg(locale.formattedDataSize(m_memory.need),
                       locale.formattedDataSize(m_memory.available));
    m_summary->setText(
        valid ? tr("<b>%1</b>: %2 parameters, %3 MFLOPs per image, input %4")
                        .arg(name.toHtmlEscaped(), QLocale::system().toString(c.params))
                        .arg(double(c.flops) / 1e6, 0, 'f', 2)
                        .arg(c.input) +
                    memory
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
    onSpecChanged(m_build->valid()); // the memory it needs depends on the dataset too
}

// The worker computes feature maps only while someone looks at them.
void MainWindow::updateProbe() {
    m_session.setProbe(m_tabs->currentIndex() == FiltersTab ? probeBox()->value() : -1);
}

int MainWindow::testLossPoints() const {
    return m_trainView->testLossPoints();
}

int MainWindow::accuracyPoints() const {
    return m_trainView->accuracyPoints();
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
    m_weightDecay->setValue(std::max(0.0, r.weightDecay));
    if (r.batch > 0)
        m_batch->setValue(r.batch);
    if (r.epochs > 0)
        m_epochs->setValue(r.epochs);
    if (r.seed >= 0)
        m_seed->setValue(int(r.seed));
    m_build->setSpec(spec.object(), tr("Open run %1").arg(QFileInfo(dir).fileName()));
    m_trainView->setCurves(r.loss, r.testAccuracy, r.testLoss, r.steps);
    m_accuracy->setText(m_trainView->accuracyText());
    m_lastStep = r.steps;
    // The status bar describes this run, not the one before it.
    m_progress->reset();
    m_speed->setText(r.testAccuracy.isEmpty()
                         ? tr("reopened at step %1").arg(r.steps)
                         : tr("reopened at step %1 · test accuracy %2 %")
                               .arg(r.steps)
                               .arg(100 * r.testAccuracy.last().y(), 0, 'f', 1));
    m_filtersView->newRun(); // a reopened run's start is its last checkpoint's
    m_filtersView->setFilters(r.filters, r.filterCount, r.filterChannels, r.filterH, r.filterW);
    m_runDir = dir;
    m_compare->setCurrentRun(dir);
    forgetKeptSteps();   // a reopened run has no snapshots in memory
    if (r.hasCheckpoint) // the analysis views look at this run's last checkpoint
        m_session.analyseRun(dir, m_dataDir->text());
    m_reopened = r.hasCheckpoint ? dir : QString(); // continuing needs a checkpoint
    m_reopenedSpec = m_build->spec();
    m_reopenedEpochs = r.epochs;
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

void MainWindow::trainTwin(const QString& key, const QString& value) {
    if (m_twins->busy())
        return m_statusLine->setText(tr("A twin pair is training: stop it first (Compare tab)"));
    const TrainRequest r = request();
    if (const QString why = TwinSession::check(r, key, value); !why.isEmpty()) {
        m_statusLine->setText(why);
        QMessageBox::warning(this, tr("Compare with a twin"), why);
        return;
    }
    if (m_session.busy()) // one training at a time: the pair takes both cores
        m_session.pause();
    const QString name = QJsonDocument::fromJson(r.spec).object().value("name").toString(
        r.preset.isEmpty() ? QStringLiteral("network") : r.preset);
    const QString stamp = QDateTime::currentDateTime().toString("yyyyMMdd-hhmmss");
    QString change = key + "-" + value;
    change.replace(QRegularExpression("[^A-Za-z0-9.+-]"), "_");
    const std::array<QString, 2> dirs = {runsDir() + "/" + name + "-" + stamp,
                                         runsDir() + "/" + name + "-" + change + "-" + stamp};
    m_compare->clearRuns();
    for (int k = 0; k < 2; ++k) {
        m_twinRuns[k] = RunRecord();
        m_twinRuns[k].dir = dirs[k];
        m_twinRuns[k].spec = r.spec;
        if (k == 1)
            m_twinRuns[k].twinChange = key + "=" + value;
    }
    m_compare->setRuns({m_twinRuns[0], m_twinRuns[1]});
    m_compare->setTwinRunning(true);
    m_tabs->setCurrentWidget(m_compare);
    m_statusLine->setText(tr("Training %1 and its twin (%2=%3)…").arg(name, key, value));
    m_twins->start(r, key, value, dirs);
}

void MainWindow::onTwinSnapshot(const TwinSnapshot& s) {
    for (int k = 0; k < 2; ++k) {
        RunRecord& run = m_twinRuns[k];
        if (s.epochEnded[k]) { // the folder has the epoch's row, layer norms and checkpoint
            const RunRecord read = TrainingSession::openRun(run.dir);
            if (read.error.isEmpty()) {
                const QString change = run.twinChange;
                run = read;
                if (run.twinChange.isEmpty())
                    run.twinChange = change;
            }
        }
        run.loss += s.loss[k];
        run.steps = std::max(run.steps, s.steps[k]);
    }
    // Both at once: one redraw.
    m_compare->setRuns({m_twinRuns[0], m_twinRuns[1]});
    if (s.totalSteps > 0)
        m_progress->setValue(int(50 * (s.steps[0] + s.steps[1]) / s.totalSteps));
}

QWidget* MainWindow::buildScrubber() {
    m_scrubber = new QWidget;
    m_scrubber->setObjectName("scrubber");
    m_scrubSlider = new QSlider(Qt::Horizontal);
    m_scrubSlider->setObjectName("scrubber slider");
    m_scrubSlider->setToolTip(
        tr("Back in time: the filters, feature maps, saliency maps and the landscape's "
           "trajectory marker at any kept step (the weights are kept every few steps, up to 200 "
           "snapshots). Training pauses; End returns to live"));
    m_scrubSlider->setPageStep(10);
    m_scrubLabel = new QLabel;
    m_scrubLabel->setObjectName("scrubber label");
    m_scrubLabel->setMinimumWidth(260);
    m_live = new QPushButton(tr("Live"));
    m_live->setObjectName("scrubber live");
    m_live->setToolTip(tr("Back to the weights trained so far (End)"));
    m_live->setShortcut(QKeySequence(Qt::Key_End));
    auto* row = new QHBoxLayout(m_scrubber);
    row->setContentsMargins(8, 2, 8, 2);
    row->addWidget(new QLabel(tr("Step:")));
    row->addWidget(m_scrubSlider, 1);
    row->addWidget(m_scrubLabel);
    row->addWidget(m_live);
    // Rewinding reads and writes every weight: once the slider rests for a moment.
    m_scrubTimer = new QTimer(this);
    m_scrubTimer->setSingleShot(true);
    m_scrubTimer->setInterval(120);
    connect(m_scrubSlider, &QSlider::valueChanged, this, [this](int i) {
        if (i < 0 || i >= m_keptSteps.size())
            return;
        m_scrubLabel->setText(tr("step %1 …").arg(m_keptSteps[i]));
        m_scrubTimer->start();
    });
    connect(m_scrubTimer, &QTimer::timeout, this, [this] {
        const int i = m_scrubSlider->value();
        if (i >= 0 && i < m_keptSteps.size())
            m_session.rewind(m_keptSteps[i]);
    });
    connect(m_live, &QPushButton::clicked, this, [this] {
        m_scrubTimer->stop();
        m_session.goLive();
    });
    m_scrubber->hide(); // until the run has kept two snapshots
    return m_scrubber;
}

void MainWindow::forgetKeptSteps() {
    m_keptSteps.clear();
    m_rewoundTo = -1;
    m_scrubber->hide();
    m_landscape->setMarkedStep(-1);
}

void MainWindow::setKeptSteps(const QVector<qint64>& steps) {
    const bool live = m_rewoundTo < 0;
    m_keptSteps = steps;
    const QSignalBlocker block(m_scrubSlider);
    m_scrubSlider->setRange(0, int(steps.size()) - 1);
    if (live)
        m_scrubSlider->setValue(int(steps.size()) - 1);
    m_scrubber->setVisible(steps.size() >= 2);
    if (live)
        m_scrubLabel->setText(tr("live · %1 snapshots kept").arg(steps.size()));
}

void MainWindow::showRewound(qint64 step) {
    m_rewoundTo = step;
    m_landscape->setMarkedStep(step);
    if (step < 0) {
        const QSignalBlocker block(m_scrubSlider);
        m_scrubSlider->setValue(m_scrubSlider->maximum());
        m_scrubLabel->setText(tr("live · %1 snapshots kept").arg(m_keptSteps.size()));
        m_live->setEnabled(false);
        return;
    }
    m_scrubLabel->setText(tr("<b>showing step %1</b> of %2 — End: live").arg(step).arg(m_lastStep));
    m_live->setEnabled(true);
}

bool MainWindow::openLesson(const QString& path, bool quiet) {
    QString error;
    const Lesson l = Lesson::load(path, &error);
    auto refuse = [this, quiet](const QString& why) {
        m_statusLine->setText(why);
        if (!quiet && !qEnvironmentVariableIsSet("CONVSCOPE_NO_DIALOGS"))
            QMessageBox::warning(this, tr("Open lesson"), why);
        return false;
    };
    if (!error.isEmpty())
        return refuse(error);
    if (!l.preset.isEmpty() && m_preset->findText(l.preset) < 0)
        return refuse(tr("%1: no preset \"%2\" (presets: %3)")
                          .arg(path, l.preset, TrainingSession::presets().join(", ")));
    if (m_dataset->findText(l.dataset) < 0)
        return refuse(tr("%1: no dataset \"%2\" (datasets: %3)")
                          .arg(path, l.dataset, TrainingSession::datasets().join(", ")));
    if (m_optimizer->findText(l.optimizer) < 0 || m_backend->findText(l.backend) < 0)
        return refuse(tr("%1: optimizer \"%2\" or backend \"%3\" is not one the window offers")
                          .arg(path, l.optimizer, l.backend));
    // A lesson starts from fresh weights: the run before it is kept in its folder.
    if (m_twins->busy())
        m_twins->cancel();
    if (m_session.started() || m_session.busy())
        m_session.stop();
    forgetReopenedRun();
    if (!l.preset.isEmpty()) {
        m_preset->setCurrentText(l.preset);
        showPreset(); // loads it even when it was the current one
    } else {
        const QJsonObject spec = QJsonDocument::fromJson(l.spec).object();
        m_build->setSpec(spec, tr("Lesson %1").arg(l.title));
        if (!m_build->valid())
            return refuse(tr("%1: its network has an error: %2").arg(path, m_build->check().error));
    }
    m_dataset->setCurrentText(l.dataset);
    m_optimizer->setCurrentText(l.optimizer);
    m_backend->setCurrentText(l.backend);
    m_lr->setValue(l.lr);
    m_weightDecay->setValue(l.weightDecay);
    m_batch->setValue(l.batch);
    m_epochs->setValue(l.epochs);
    m_seed->setValue(int(l.seed));
    m_trainView->clear();
    m_compare->clearRuns();
    if (!l.tab.isEmpty())
        m_tabs->setCurrentIndex(int(Lesson::tabNames().indexOf(l.tab)));
    m_player->setLesson(l);
    m_player->setPresenterMode(m_presenter);
    m_statusLine->setText(
        tr("Lesson \"%1\": %2 steps, Next (Page Down) starts it").arg(l.title).arg(l.steps.size()));
    return true;
}

void MainWindow::playLessonStep(int index, bool replay) {
    const LessonStep& s = m_player->lesson().steps[index];
    if (!s.tab.isEmpty())
        m_tabs->setCurrentIndex(int(Lesson::tabNames().indexOf(s.tab)));
    if (replay)
        return;
    switch (s.action) {
    case LessonStep::Action::Train:
        if (m_session.busy())
            m_session.pause();
        m_player->setWorking(true, s.toEpoch > 0 ? tr("training to epoch %1…").arg(s.toEpoch)
                                                 : tr("training to step %1…").arg(s.steps));
        if (m_session.started()) {
            m_session.runTo(s.steps, s.toEpoch);
        } else {
            m_stopAtStep = s.steps;
            m_stopAtEpoch = s.toEpoch;
            onTrain();
            m_stopAtStep = 0;
            m_stopAtEpoch = 0;
        }
        if (!m_session.busy()) // it could not start (the status line says why)
            m_player->setWorking(false);
        if (s.tab.isEmpty())
            m_tabs->setCurrentIndex(TrainTab);
        break;
    case LessonStep::Action::Twin:
        m_player->setWorking(true, tr("training the twins…"));
        trainTwin(s.key, s.value);
        if (!m_twins->busy())
            m_player->setWorking(false);
        break;
    case LessonStep::Action::Show:
    case LessonStep::Action::Say:
    case LessonStep::Action::Pause:
    case LessonStep::Action::Reveal:
        break;
    }
}

QString MainWindow::runsDir() {
    return QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) + "/runs";
}

QStringList MainWindow::interruptedRuns() const {
    QStringList dirs;
    for (const std::string& d : train::RunFolder::interruptedRuns(runsDir().toStdString()))
        dirs << QString::fromStdString(d);
    return dirs;
}

void MainWindow::offerRecovery() {
    const QStringList runs = interruptedRuns();
    if (runs.isEmpty())
        return;
    const QString dir = runs.first();
    const QStringList saved =
        QDir(dir + "/checkpoints").entryList({"step-*.safetensors"}, QDir::Files, QDir::Time);
    const QString when =
        saved.isEmpty()
            ? tr("It stopped before its first checkpoint: only its curves can be recovered.")
            : tr("Its last save is %1, written %2.")
                  .arg(saved.first().section('.', 0, 0))
                  .arg(QLocale().toString(
                      QFileInfo(dir + "/checkpoints/" + saved.first()).lastModified(),
                      QLocale::ShortFormat));
    if (qEnvironmentVariableIsSet("CONVSCOPE_NO_DIALOGS")) {
        m_statusLine->setText(tr("Training of %1 was interrupted: File → Recent runs reopens it")
                                  .arg(QFileInfo(dir).fileName()));
        return;
    }
    QMessageBox box(QMessageBox::Question, tr("Recover the interrupted run?"),
                    tr("convscope stopped while it was training %1 (the process was killed or "
                       "crashed). %2\n\nRecover it? Continue (Ctrl+Enter) then trains on from "
                       "there.")
                        .arg(QFileInfo(dir).fileName(), when),
                    QMessageBox::NoButton, this);
    QPushButton* recover = box.addButton(tr("Recover"), QMessageBox::AcceptRole);
    box.addButton(tr("Later"), QMessageBox::RejectRole);
    QPushButton* forget = box.addButton(tr("Don't ask again"), QMessageBox::DestructiveRole);
    box.setDefaultButton(recover);
    box.exec();
    if (box.clickedButton() == recover)
        recoverRun(dir);
    else if (box.clickedButton() == forget)
        train::RunFolder::forgetInterrupted(dir.toStdString());
}

bool MainWindow::recoverRun(const QString& dir) {
    if (!openRun(dir))
        return false;
    train::RunFolder::forgetInterrupted(dir.toStdString());
    m_statusLine->setText(tr("Recovered %1 at step %2, its last save: Continue (Ctrl+Enter) "
                             "trains on from there")
                              .arg(QFileInfo(dir).fileName())
                              .arg(m_lastStep));
    return true;
}

QStringList MainWindow::recentRuns(int count) {
    QDir runs(runsDir());
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
    return m_trainView->lossPoints();
}

void MainWindow::onTrain() {
    if (m_session.started() && !m_session.busy()) {
        m_session.resume();
        return;
    }
    m_build->commitEdit(); // a half-typed setting is part of the network that trains
    // CIFAR-10 and image folders need their folder: ask for it here, not in an error.
    const QString d = m_dataset->currentText();
    if ((d == "cifar10" || d == "folder") && m_dataDir->text().trimmed().isEmpty()) {
        const QString what = d == "cifar10" ? tr("the cifar-10-batches-bin folder")
                                            : tr("a folder with one subfolder of images per class");
        m_statusLine->setText(tr("Choose %1 first (the folder field under Dataset)").arg(what));
        m_dataDir->setFocus();
        if (qEnvironmentVariableIsSet("CONVSCOPE_NO_DIALOGS"))
            return;
        const QString dir = QFileDialog::getExistingDirectory(this, tr("Choose %1").arg(what));
        if (dir.isEmpty())
            return;
        m_dataDir->setText(dir);
    }
    if (!m_build->valid()) {
        m_tabs->setCurrentIndex(BuildTab);
        m_statusLine->setText(m_build->check().error);
        return;
    }
    TrainRequest r = request();
    r.stopAtStep = std::exchange(m_stopAtStep, 0);
    r.stopAtEpoch = std::exchange(m_stopAtEpoch, 0);
    if (!m_reopened.isEmpty()) {
        r.resumeDir = m_reopened; // the curves so far stay; the run continues after them
        r.resumeEpochs = m_reopenedEpochs;
    } else {
        m_trainView->clear();
    }
    if (r.resumeDir.isEmpty()) { // a new run: nothing of the last one stays on screen
        forgetKeptSteps();
        m_gradientsView->setNorms({}, {});
        m_filtersView->newRun();
        m_accuracy->clear();
    }
    m_reopened.clear();
    if (m_tabs->currentIndex() == BuildTab)
        m_tabs->setCurrentIndex(TrainTab);
    m_session.start(r);
}

void MainWindow::onSnapshot(const TrainSnapshot& s) {
    m_trainView->appendLoss(s.loss, s.totalSteps, s.lrs);
    m_trainView->addEpochPoints(s.testAccuracy, s.testLoss, s.trainAccuracy);
    if (!s.testAccuracy.isEmpty())
        m_accuracy->setText(m_trainView->accuracyText());
    if (s.confusion.classes > 0)
        m_trainView->setConfusion(s.confusion);
    if (s.probe.index >= 0)
        featureMapView()->setProbe(s.probe);
    if (!s.filters.isEmpty())
        m_filtersView->setFilters(s.filters, s.filterCount, s.filterChannels, s.filterH, s.filterW,
                                  s.rewoundTo >= 0 ? s.rewoundTo : s.step);
    if (!s.keptSteps.isEmpty())
        setKeptSteps(s.keptSteps);
    if (s.rewindChanged)
        showRewound(s.rewoundTo);
    if (!s.gradientNorms.isEmpty())
        m_gradientsView->setNorms(s.layerNames, s.gradientNorms, s.layerTypes);
    m_lastStep = s.step;
    if (!s.runDir.isEmpty() && s.runDir != m_runDir) {
        m_runDir = s.runDir;
        m_compare->setCurrentRun(m_runDir);
        m_progress->setToolTip(tr("This run autosaves to %1").arg(m_runDir));
    }
    // The step axis grows with the run (a quarter ahead of the last step), so the curve fills
    // the chart from the first steps on; the progress bar shows how much of the run is left.
    m_trainView->setProgress(s.step, s.totalSteps);
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
    if (!busy && m_player->working() && !m_twins->busy())
        m_player->setWorking(false);
    if (started && !busy) // paused: say so, and drop the ETA
        m_speed->setText(tr("Paused at step %1 · Resume: Ctrl+Enter").arg(m_lastStep));
    m_train->setText(started && !busy                    ? tr("Resume")
                     : !started && !m_reopened.isEmpty() ? tr("Continue")
                                                         : tr("Train"));
    m_train->setEnabled(!busy && m_build->valid() && m_memory.fits());
    m_train->setToolTip(
        !m_build->valid() ? tr("The network has an error (see the Build tab): fix it to train")
        : !m_memory.fits()
            ? tr("Training would need more memory than is free (see the summary): lower the "
                 "batch size or use a smaller network")
            : tr("Build the network with fresh weights and train it (Ctrl+Enter)"));
    m_pause->setEnabled(busy);
    m_step->setEnabled(!busy && started);
    m_stop->setEnabled(started || !m_reopened.isEmpty());
    updateEditActions();
    for (QWidget* w : std::initializer_list<QWidget*>{m_preset, m_dataset, m_backend, m_optimizer,
                                                      m_lr, m_weightDecay, m_batch, m_epochs,
                                                      m_seed, m_init, m_dataDirRow, m_build})
        w->setEnabled(!busy && !started);
    if (!started)
        m_build->setToolTip(QString());
    else
        m_build->setToolTip(tr("The network is fixed while a run is in progress: Stop (Esc) to "
                               "edit it"));
}

} // namespace convscope::ui
