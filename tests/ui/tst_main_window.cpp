// The window's main flow, as a person would click it: pick a network and a dataset, Train, see
// the loss chart fill, Pause, Step, Resume, close mid-training without a hang; and the GUI
// thread stays responsive while the engine trains (event-loop latency, 99th percentile).
#include "filter_view.h"
#include "main_window.h"
#include "test_support.h"

#include <QAction>
#include <QComboBox>
#include <QDir>
#include <QElapsedTimer>
#include <QSpinBox>
#include <QStandardPaths>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QTimer>
#include <QtTest>
#include <algorithm>

using namespace convscope;

class TestMainWindow : public QObject {
    Q_OBJECT

private slots:
    void initTestCase() {
        qputenv("CONVSCOPE_NO_DIALOGS", "1");
        QStandardPaths::setTestModeEnabled(true); // autosaved runs go to ~/.qttest, not the user's
    }
    void cleanupTestCase() {
        QDir(QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) + "/runs")
            .removeRecursively();
    }
    void cleanup() {
        QVERIFY2(testing::noValidationMessages(), "Vulkan validation reported messages");
    }

    void trainPauseStepResumeClose_data() {
        QTest::addColumn<QString>("backend");
        QTest::newRow("cpu") << "cpu";
        QTest::newRow("vulkan") << "vulkan";
    }
    void trainPauseStepResumeClose() {
        QFETCH(QString, backend);
        if (backend == "vulkan" && !testing::vulkan()) {
            if (testing::onCi())
                QFAIL("no Vulkan device, and CI=true");
            QSKIP("no Vulkan device");
        }
        auto* w = new ui::MainWindow;
        w->show();
        w->findChild<QComboBox*>("backend")->setCurrentText(backend);
        w->findChild<QSpinBox*>("epochs")->setValue(20); // long enough to pause mid-run
        QVERIFY(w->presetBox()->findText("lenet5") >= 0);
        QVERIFY(w->presetBox()->findText("resnet20") >= 0);
        w->datasetBox()->setCurrentText("gratings");
        w->trainAction()->trigger();
        QVERIFY(w->session().busy());
        // LeNet-5's six 5x5 first-layer filters appear, then change as it learns.
        QTRY_VERIFY_WITH_TIMEOUT(w->filterView()->count() == 6, 60000);
        const QVector<float> initial = w->filterView()->weights();
        QCOMPARE(initial.size(), 6 * 1 * 5 * 5);

        // Event-loop latency while training: a 10 ms timer measures how late it fires.
        std::vector<qint64> late;
        QElapsedTimer clock;
        clock.start();
        qint64 expected = clock.elapsed() + 10;
        QTimer probe;
        probe.setTimerType(Qt::PreciseTimer);
        connect(&probe, &QTimer::timeout, [&] {
            late.push_back(std::max<qint64>(0, clock.elapsed() - expected));
            expected = clock.elapsed() + 10;
        });
        probe.start(10);
        QTRY_VERIFY_WITH_TIMEOUT(w->lossPoints() >= 30, 120000);
        probe.stop();
        QTRY_VERIFY_WITH_TIMEOUT(w->filterView()->weights() != initial, 30000);
        // conv1, conv2, fc1, fc2, fc3: one gradient norm each, about once a second.
        QTRY_COMPARE_WITH_TIMEOUT(w->gradientPoints(), 5, 30000);
        // CONVSCOPE_SCREENSHOT_DIR=<dir> keeps pictures of the window mid-training.
        if (const QString dir = qEnvironmentVariable("CONVSCOPE_SCREENSHOT_DIR"); !dir.isEmpty()) {
            QVERIFY(w->grab().save(dir + "/train-" + backend + ".png"));
            w->tabs()->setCurrentIndex(1);
            QVERIFY(w->grab().save(dir + "/filters-" + backend + ".png"));
            w->tabs()->setCurrentIndex(2);
            QVERIFY(w->grab().save(dir + "/gradients-" + backend + ".png"));
            w->tabs()->setCurrentIndex(0);
        }
        std::sort(late.begin(), late.end());
        const qint64 p99 = late.empty() ? 0 : late[std::size_t(double(late.size() - 1) * 0.99)];
        qInfo("GUI event-loop latency while training: p99 %lld ms over %zu ticks (max %lld ms)",
              static_cast<long long>(p99), late.size(),
              static_cast<long long>(late.empty() ? 0 : late.back()));
        QVERIFY(p99 < 250); // the goal is < 50 ms; this only catches a blocked GUI thread

        // Export every tab (PNG and SVG) and the curves (CSV): valid, non-empty files.
        QTemporaryDir out;
        for (int tab = 0; tab < w->tabs()->count(); ++tab) {
            w->tabs()->setCurrentIndex(tab);
            const QString png = out.filePath(QString("view%1.png").arg(tab));
            const QString svg = out.filePath(QString("view%1.svg").arg(tab));
            QVERIFY(w->exportView(png));
            QVERIFY(w->exportView(svg));
            QImage image(png);
            QVERIFY(!image.isNull() && image.width() > 100);
            QFile f(svg);
            QVERIFY(f.open(QIODevice::ReadOnly));
            const QByteArray text = f.readAll();
            QVERIFY(text.contains("<svg") && text.size() > 1000);
        }
        w->tabs()->setCurrentIndex(0);
        QVERIFY(w->exportCsv(out.filePath("curves.csv")));
        QFile csv(out.filePath("curves.csv"));
        QVERIFY(csv.open(QIODevice::ReadOnly));
        const QList<QByteArray> lines = csv.readAll().split('\n');
        QCOMPARE(lines.first(), QByteArray("step,loss,smoothed_loss,test_accuracy"));
        QVERIFY(lines.size() > 30);

        w->pauseAction()->trigger();
        QTRY_VERIFY_WITH_TIMEOUT(!w->session().busy(), 30000);
        QCOMPARE(w->trainAction()->text(), QString("Resume"));
        // The paused run is on disk: spec, metrics and a checkpoint of the last step.
        QVERIFY(!w->runDir().isEmpty());
        QVERIFY(QFile::exists(w->runDir() + "/spec.json"));
        QVERIFY(QFile::exists(w->runDir() + "/metrics.csv"));
        QVERIFY(QFile::exists(w->runDir() +
                              QString("/checkpoints/step-%1.safetensors").arg(w->lastStep())));
        QVERIFY(w->stepAction()->isEnabled());
        const qint64 before = w->lastStep();
        w->stepAction()->trigger();
        QTRY_VERIFY_WITH_TIMEOUT(!w->session().busy(), 30000);
        QCOMPARE(w->lastStep(), before + 1);

        w->trainAction()->trigger(); // resume
        QTRY_VERIFY_WITH_TIMEOUT(w->lastStep() > before + 3, 60000);
        QElapsedTimer closing;
        closing.start();
        delete w; // mid-training: the worker stops after the steps in flight
        qInfo("closed mid-training in %lld ms", static_cast<long long>(closing.elapsed()));
        QVERIFY(closing.elapsed() < 20000);
    }

    void presenterModeEnlargesAndHides() {
        ui::MainWindow w;
        w.show();
        const qreal normal = w.font().pointSizeF();
        w.presenterAction()->trigger();
        QVERIFY(w.presenterMode());
        QVERIFY(w.font().pointSizeF() > 1.5 * normal);
        QVERIFY(!w.presetBox()->isVisible()); // the controls are hidden
        QTest::qWait(200); // let the layout follow the hidden dock and the larger fonts
        if (const QString dir = qEnvironmentVariable("CONVSCOPE_SCREENSHOT_DIR"); !dir.isEmpty())
            QVERIFY(w.grab().save(dir + "/presenter.png"));
        w.presenterAction()->trigger();
        QVERIFY(!w.presenterMode());
        QCOMPARE(w.font().pointSizeF(), normal);
        QVERIFY(w.presetBox()->isVisible());
    }

    void aBadDatasetShowsTheEnginesMessage() {
        ui::MainWindow w;
        w.datasetBox()->setCurrentText("cifar10"); // no folder given
        QSignalSpy failed(&w.session(), &ui::TrainingSession::failed);
        w.trainAction()->trigger();
        QTRY_VERIFY_WITH_TIMEOUT(failed.count() == 1, 30000);
        QVERIFY(failed.at(0).at(0).toString().contains("cifar-10-binary.tar.gz"));
        QTRY_VERIFY(!w.session().busy());
        QVERIFY(w.trainAction()->isEnabled());
        QCOMPARE(w.trainAction()->text(), QString("Train"));
    }
};

QTEST_MAIN(TestMainWindow)
#include "tst_main_window.moc"
