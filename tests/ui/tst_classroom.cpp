// The classroom fixes of a lecturer's rehearsal, as a person clicks them (offscreen): reopening
// runs of three presets in a row leaves every control naming the network Train trains; presenter
// mode is full screen, Esc leaves it, Ctrl+D shows the settings, and the layer table's numbers
// fit; the numbers are said (accuracy in the status bar and on the chart, the end message, the
// chance level ln K, a first loss near it); Pause and Stop say what happened; a new run clears
// the last one's gradients.
#include "build_view.h"
#include "data/synthetic.h"
#include "feature_map_view.h"
#include "filter_view.h"
#include "filters_view.h"
#include "gradients_view.h"
#include "main_window.h"
#include "probability_bars.h"
#include "test_support.h"
#include "train/run_folder.h"
#include "train/trainer.h"
#include "train_view.h"
#include "trained_window.h"

#include <QAction>
#include <QCheckBox>
#include <QComboBox>
#include <QDockWidget>
#include <QElapsedTimer>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QProgressBar>
#include <QSignalSpy>
#include <QSpinBox>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTreeWidget>
#include <QUndoStack>
#include <QtTest>
#include <cmath>

using namespace convscope;

namespace {
// A run folder of `preset` trained 3 steps on gratings, as the window or the CLI writes it.
bool makeRun(const QString& dir, const QString& preset) {
    auto spec = model::preset(preset.toStdString());
    if (!spec.ok())
        return false;
    static const data::TrainTestSplit data = data::makeGratingsSplit(640, 100, 28, 4, 5);
    model::fitInput(*spec, 1, 28, 28);
    model::Network net(*spec);
    CpuBackend<float> be;
    train::TrainConfig cfg;
    cfg.maxSteps = 3;
    train::Trainer t(be, net, data, cfg);
    if (!t.setup().ok())
        return false;
    auto run = train::RunFolder::create(dir.toStdString(), *spec, "gratings", data);
    if (!run.ok())
        return false;
    (void)t.run([&](const train::StepReport& r) { (void)run->logStep(r); }, {});
    return run->close(t).ok();
}

QLabel* label(ui::MainWindow& w, const char* name) {
    return w.findChild<QLabel*>(name);
}
} // namespace

class TestClassroom : public QObject {
    Q_OBJECT

private slots:
    void initTestCase() { testing::useTestFolders(); }
    void cleanupTestCase() { testing::removeTestFolders(); }
    void cleanup() { QVERIFY2(testing::noValidationMessages(), "Vulkan validation messages"); }

    // The window's state has one source: after reopening a run, the Network box, the summary,
    // the status bar and what Train trains are all that run's.
    void reopenedRunsShowTheirNetwork() {
        QTemporaryDir dir;
        const QStringList presets = {"mlp", "lenet5-bn", "resnet20"};
        for (const QString& p : presets)
            QVERIFY2(makeRun(dir.filePath(p), p), qPrintable(p));
        ui::MainWindow w;
        w.show();
        w.presetBox()->setCurrentText("vgg-mini"); // something else first
        for (const QString& p : presets) {
            QVERIFY(w.openRun(dir.filePath(p)));
            QCOMPARE(w.presetBox()->currentText(), p);
            QCOMPARE(w.buildView()->spec().value("name").toString(), p); // what Train trains
            QVERIFY2(label(w, "network summary")->text().contains(p),
                     qPrintable(label(w, "network summary")->text()));
            QCOMPARE(w.trainAction()->text(), QString("Continue"));
            QVERIFY(w.findChild<QProgressBar*>()->value() <= 0);
            bool said = false;
            for (QLabel* l : w.findChildren<QLabel*>())
                said |= l->text().contains("reopened at step 3");
            QVERIFY(said);
        }
        // Editing it names it as edited; a preset picked by hand is that preset again.
        w.buildView()->itemOfRow(0)->setText(ui::BuildView::Settings, "out=8 kernel=3 padding=1");
        QCOMPARE(w.presetBox()->currentText(), QString("resnet20 (edited)"));
        w.presetBox()->setCurrentText("lenet5");
        QCOMPARE(w.buildView()->spec().value("name").toString(), QString("lenet5"));
        QCOMPARE(w.presetBox()->currentText(), QString("lenet5"));
        QCOMPARE(w.presetBox()->findText("resnet20 (edited)"), -1);
    }

    // Continue after raising Epochs says the learning-rate rule: the cosine schedule spans the
    // new total from the step reached.
    void continueStatesTheLearningRateRule() {
        QTemporaryDir dir;
        QVERIFY(makeRun(dir.filePath("mlp"), "mlp")); // 3 steps of a 1-epoch run
        ui::MainWindow w;
        w.show();
        QVERIFY(w.openRun(dir.filePath("mlp")));
        w.findChild<QComboBox*>("backend")->setCurrentText("cpu");
        w.findChild<QSpinBox*>("epochs")->setValue(2);
        QSignalSpy said(&w.session(), &ui::TrainingSession::message);
        w.trainAction()->trigger(); // Continue
        QTRY_VERIFY_WITH_TIMEOUT(w.accuracyPoints() >= 2 && !w.session().busy(), 120000);
        bool stated = false;
        for (const auto& m : said)
            stated |= m.at(0).toString().contains("the cosine schedule now spans 2 epochs");
        QVERIFY(stated);
        QVERIFY(w.trainView()->lrPoints() > 0);
    }

    void presenterModeIsFullScreenAndKeepsTheControlsReachable() {
        ui::MainWindow w;
        w.resize(1280, 720);
        w.show();
        w.tabs()->setCurrentIndex(ui::MainWindow::BuildTab);
        w.presenterAction()->trigger();
        QVERIFY(w.presenterMode());
        QVERIFY(w.isFullScreen());
        auto* dock = w.findChild<QDockWidget*>("controls dock");
        QVERIFY(!dock->isVisible());
        w.showControlsAction()->trigger(); // Ctrl+D
        QVERIFY(dock->isVisible());
        QVERIFY(w.presetBox()->isVisible());
        w.showControlsAction()->trigger();
        QVERIFY(!dock->isVisible());
        // The layer table's numbers fit their columns in the large font.
        QTreeWidget* tree = w.buildView()->tree();
        QTest::qWait(50);
        const QFontMetrics fm(tree->font());
        for (int row = 0; row < 12; ++row) {
            QTreeWidgetItem* item = w.buildView()->itemOfRow(row);
            if (!item)
                break;
            for (int c : {ui::BuildView::Output, ui::BuildView::Params, ui::BuildView::Flops})
                QVERIFY2(tree->header()->sectionSize(c) >= fm.horizontalAdvance(item->text(c)),
                         qPrintable(item->text(c)));
        }
        QTest::keyClick(&w, Qt::Key_Escape); // leaves presenter mode, does not stop anything
        QVERIFY(!w.presenterMode());
        QVERIFY(!w.isFullScreen());
        QVERIFY(dock->isVisible());
    }

    // The Saliency tab at 1280×720 with the controls dock open: the class names beside the
    // probability bars and the thumbnails' "✗ 100%" captions are not cut.
    void saliencyTabFitsAProjector() {
        ui::MainWindow w;
        w.resize(1280, 720);
        w.show();
        w.tabs()->setCurrentIndex(ui::MainWindow::SaliencyTab);
        auto* bars = w.findChild<ui::ProbabilityBars*>();
        QVERIFY(bars);
        const QStringList names = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                   "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
        bars->setProbabilities(QVector<double>(10, 0.1), QVector<double>(10, 0.1), names, 4);
        QTest::qWait(50);
        const QFontMetrics fm(bars->font());
        QVERIFY2(bars->width() >= bars->minimumSizeHint().width(),
                 qPrintable(QString("bars %1 px, need %2")
                                .arg(bars->width())
                                .arg(bars->minimumSizeHint().width())));
        QVERIFY(bars->minimumSizeHint().width() > fm.horizontalAdvance("Ankle boot"));
        auto* list = w.findChild<QListWidget*>("test images");
        QVERIFY(list);
        QVERIFY(list->iconSize().width() >= QFontMetrics(list->font()).horizontalAdvance("✗ 100%"));
    }

    // The numbers, said: per-epoch accuracy in the status bar and on the chart, the end
    // message, the chance level ln 10 and a first loss near it; Pause and Stop say so.
    void theNumbersAreSaid() {
        ui::MainWindow w;
        w.show();
        QCOMPARE(w.presetBox()->currentText(), QString("lenet5")); // the first network
        w.findChild<QComboBox*>("backend")->setCurrentText("cpu");
        w.datasetBox()->setCurrentText("gratings");
        w.findChild<QSpinBox*>("epochs")->setValue(2);
        QCOMPARE(w.trainView()->chanceLevel(), std::log(10.0));
        w.trainAction()->trigger();
        QTRY_VERIFY_WITH_TIMEOUT(w.accuracyPoints() == 2 && !w.session().busy(), 120000);
        QCOMPARE(w.trainView()->trainAccuracyPoints(), 2);
        QCOMPARE(w.trainView()->lrPoints(), w.lossPoints()); // the schedule is drawn too
        const QString acc = label(w, "accuracy")->text();
        QVERIFY2(QRegularExpression("^test \\d+\\.\\d % · train \\d+\\.\\d % after epoch 2$")
                     .match(acc)
                     .hasMatch(),
                 qPrintable(acc));
        bool ended = false;
        for (QLabel* l : w.findChildren<QLabel*>())
            ended |= l->text().startsWith("Run complete: test accuracy") &&
                     l->text().contains("after 2 epochs");
        QVERIFY(ended);
        // The CSV carries the learning rate and the train accuracy; the first loss is near ln 10.
        QTemporaryDir dir;
        w.tabs()->setCurrentIndex(ui::MainWindow::TrainTab);
        QVERIFY(w.exportCsv(dir.filePath("train.csv")));
        QFile f(dir.filePath("train.csv"));
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QList<QByteArray> lines = f.readAll().split('\n');
        QCOMPARE(lines[0], QByteArray("step,lr,loss,smoothed_loss,test_loss,test_accuracy,"
                                      "train_accuracy"));
        const QList<QByteArray> first = lines[1].split(',');
        QCOMPARE(first[0], QByteArray("1"));
        QVERIFY(first[1].toDouble() > 0);
        qInfo("first loss %.3f (ln 10 = 2.303)", first[2].toDouble());
        QVERIFY(std::abs(first[2].toDouble() - std::log(10.0)) < 0.3);
        QVERIFY(lines.last().isEmpty() || lines[lines.size() - 2].split(',').size() == 7);
        // A new run: the last one's gradients go at once; Pause says "Paused"; Stop says where.
        QVERIFY(w.gradientPoints() > 0);
        w.findChild<QSpinBox*>("epochs")->setValue(50);
        w.trainAction()->trigger();
        QCOMPARE(w.gradientPoints(), 0);
        QTRY_VERIFY_WITH_TIMEOUT(w.session().busy() && w.lossPoints() > 5, 60000);
        w.pauseAction()->trigger();
        QTRY_VERIFY_WITH_TIMEOUT(!w.session().busy(), 30000);
        bool paused = false;
        for (QLabel* l : w.findChildren<QLabel*>())
            paused |= l->text().startsWith("Paused at step");
        QVERIFY(paused);
        QTest::keyClick(&w, Qt::Key_Escape);
        bool stopped = false;
        for (QLabel* l : w.findChildren<QLabel*>())
            stopped |= l->text().startsWith("Stopped at step") && l->text().contains(w.runDir());
        QVERIFY(stopped);
    }

    // Figures for slides and the Gradients and Filters options: PNG at twice the resolution,
    // SVG on white; the gradient chart names its layers, can hide batch norm and hold its
    // y-range; the filters at the start beside the current ones.
    void slidesGradientsAndFilters() {
        ui::MainWindow w;
        w.resize(1200, 760);
        w.show();
        w.findChild<QComboBox*>("backend")->setCurrentText("cpu");
        w.datasetBox()->setCurrentText("gratings");
        w.presetBox()->setCurrentText("lenet5-bn");
        w.findChild<QSpinBox*>("epochs")->setValue(1);
        w.trainAction()->trigger();
        QTRY_VERIFY_WITH_TIMEOUT(w.accuracyPoints() == 1 && !w.session().busy(), 120000);
        // Gradients: conv1, bn1, conv2, bn2, fc1, bn3?, ... by name; batch norm hidden.
        auto* g = w.findChild<ui::GradientsView*>();
        QVERIFY(g);
        const int all = w.gradientPoints();
        QVERIFY(g->shownLayers().contains("conv1") && g->shownLayers().contains("bn1"));
        g->hideNormsBox()->setChecked(true);
        QVERIFY(w.gradientPoints() < all);
        QVERIFY(!g->shownLayers().contains("bn1"));
        g->holdRangeBox()->setChecked(true);
        const auto held = g->yRange();
        g->setNorms({"a", "b"}, {1e-9, 1e-8}, {"linear", "linear"});
        QCOMPARE(g->yRange().second, held.second); // held: only grows
        QVERIFY(g->yRange().first <= 1e-9);
        // Filters: at start / now.
        auto* f = w.findChild<ui::FiltersView*>();
        f->compareBox()->setChecked(true);
        QVERIFY(f->startFilters()->count() == f->filters()->count());
        QVERIFY(f->startFilters()->weights() != f->filters()->weights()); // training changed them
        // Export for slides.
        QTemporaryDir dir;
        w.tabs()->setCurrentIndex(ui::MainWindow::TrainTab);
        QVERIFY(w.exportView(dir.filePath("train.png")));
        const QImage png(dir.filePath("train.png"));
        QCOMPARE(png.width(), 2 * w.tabs()->currentWidget()->width());
        QVERIFY(w.exportView(dir.filePath("train.svg")));
        QFile svg(dir.filePath("train.svg"));
        QVERIFY(svg.open(QIODevice::ReadOnly));
        QVERIFY(svg.readAll().contains("fill=\"#ffffff\""));
    }

    // New layers are numbered in order of position: a ReLU added after relu1 is relu2, and the
    // ReLUs after it move up one.
    void newLayersAreNumberedByPosition() {
        ui::MainWindow w;
        w.show();
        w.presetBox()->setCurrentText("lenet5");
        ui::BuildView* b = w.buildView();
        b->tree()->setCurrentItem(b->itemOfRow(1)); // relu1
        b->addLayer("relu");
        QStringList relus;
        for (int row = 0; b->itemOfRow(row); ++row)
            if (b->itemOfRow(row)->text(ui::BuildView::Type) == "relu")
                relus << b->itemOfRow(row)->text(ui::BuildView::Name);
        QCOMPARE(relus, (QStringList{"relu1", "relu2", "relu3", "relu4", "relu5"}));
        QCOMPARE(b->itemOfRow(2)->text(ui::BuildView::Name), QString("relu2")); // the new one
        QCOMPARE(b->itemOfRow(5)->text(ui::BuildView::Name), QString("relu3")); // was relu2
        QVERIFY(b->valid());
        b->undoStack()->undo(); // one step: the names come back too
        QCOMPARE(b->itemOfRow(4)->text(ui::BuildView::Name), QString("relu2"));
    }

    // Build: a new network to start from, its name and description edited (Save and the run
    // folder use them); CIFAR-10 without its folder asks for it instead of failing.
    void newNetworkNamesAndFolders() {
        ui::MainWindow w;
        w.show();
        QAction* fresh = nullptr;
        for (QAction* a : w.findChildren<QAction*>())
            if (a->text() == "New network")
                fresh = a;
        QVERIFY(fresh);
        fresh->trigger();
        QCOMPARE(w.buildView()->spec().value("name").toString(), QString("my-network"));
        QTRY_VERIFY(w.buildView()->valid());
        QCOMPARE(w.presetBox()->currentText(), QString("my-network (custom)"));
        auto* name = w.findChild<QLineEdit*>("network name");
        QVERIFY(name);
        name->setText("gabor-demo");
        emit name->editingFinished();
        QCOMPARE(w.buildView()->spec().value("name").toString(), QString("gabor-demo"));
        QCOMPARE(w.presetBox()->currentText(), QString("gabor-demo (custom)"));
        w.buildView()->undoStack()->undo();
        QCOMPARE(w.buildView()->spec().value("name").toString(), QString("my-network"));
        // Ctrl+E exports whatever has focus: here a line edit, which takes Ctrl+E as "end of
        // line" unless the window claims it.
        name->setFocus();
        QApplication::setActiveWindow(&w);
        const int exports = w.exportRequests();
        QTest::keyClick(name, Qt::Key_E, Qt::ControlModifier);
        QCOMPARE(w.exportRequests(), exports + 1);
        QTest::keyClick(name, Qt::Key_E, Qt::ControlModifier | Qt::ShiftModifier);
        QCOMPARE(w.exportRequests(), exports + 2);
        // CIFAR-10 without a folder: Train asks for the folder, nothing fails.
        w.datasetBox()->setCurrentText("cifar10");
        w.trainAction()->trigger();
        QVERIFY(!w.session().busy());
        bool asked = false;
        for (QLabel* l : w.findChildren<QLabel*>())
            asked |= l->text().contains("cifar-10-batches-bin");
        QVERIFY(asked);
    }

    // While resnet20 trains on the CPU: Pause takes effect and "Next image" answers promptly
    // (chunks are sized by time, a newly chosen image is probed at once). Goals 0.2 s and
    // 0.3 s; bounded at 1 s here so a loaded CI machine does not fail it (before: 1.5 s and
    // 0.5–2.9 s).
    void pauseAndNextImageArePrompt() {
        ui::MainWindow w;
        w.show();
        w.findChild<QComboBox*>("backend")->setCurrentText("cpu");
        w.datasetBox()->setCurrentText("gratings");
        w.presetBox()->setCurrentText("resnet20");
        w.findChild<QSpinBox*>("epochs")->setValue(20);
        w.tabs()->setCurrentIndex(ui::MainWindow::FiltersTab);
        w.trainAction()->trigger();
        // Under ASan, 10 steps of resnet20 took 247 s on a loaded machine.
        QTRY_VERIFY_WITH_TIMEOUT(w.session().busy() && w.lossPoints() > 10,
                                 testing::waitBudget(180000));
        QTRY_VERIFY_WITH_TIMEOUT(w.featureMapView()->probe().index == 0,
                                 testing::waitBudget(30000));
        QElapsedTimer t;
        t.start();
        w.probeBox()->setValue(5);
        QTRY_VERIFY_WITH_TIMEOUT(w.featureMapView()->probe().index == 5,
                                 testing::waitBudget(30000));
        const qint64 next = t.elapsed();
        t.restart();
        w.pauseAction()->trigger();
        QTRY_VERIFY_WITH_TIMEOUT(!w.session().busy(), testing::waitBudget(30000));
        const qint64 pause = t.elapsed();
        qInfo("resnet20 on the CPU: Next image answered in %lld ms, Pause in %lld ms",
              (long long)next, (long long)pause);
        QVERIFY(next < testing::latencyBudget(1000));
        QVERIFY(pause < testing::latencyBudget(1000));
        w.session().stop();
    }
};

QTEST_MAIN(TestClassroom)
#include "tst_classroom.moc"
