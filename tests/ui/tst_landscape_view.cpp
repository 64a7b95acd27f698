// The Landscape tab as a person clicks it: train LeNet-5 on gratings for three epochs, compute a
// filter-normalised surface (its centre equals the engine's own evaluation of the run's last
// checkpoint), keep the event loop responsive while it computes, cancel a long one, draw the PCA
// plane with the trajectory of the three checkpoints, put a twin beside it on one colour scale,
// export the numbers. Offscreen there is no OpenGL: the contour map stands in for the 3-D view;
// under xvfb-run (ctest tst_landscape_view_xcb) the 3-D surface is created and drawn too.
#include "analysis/landscape.h"
#include "backend/cpu_backend.h"
#include "build_view.h"
#include "contour_map.h"
#include "data/datasets.h"
#include "landscape_view.h"
#include "main_window.h"
#include "model/weights.h"
#include "surface_3d.h"
#include "test_support.h"
#include "trained_window.h"

#include <QCheckBox>
#include <QComboBox>
#include <QElapsedTimer>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QPushButton>
#include <QSpinBox>
#include <QStandardPaths>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QTimer>
#include <QtTest>
#include <cmath>

using namespace convscope;

namespace {
// A small residual network (a stem, one block with an identity shortcut, a classifier).
const QByteArray kTinyResidual = R"({"name": "tiny-res", "input": [1, 28, 28], "layers": [
    {"type": "conv2d", "name": "conv1", "out": 4, "kernel": 3, "stride": 2, "padding": 1},
    {"type": "relu", "name": "relu1"},
    {"type": "residual", "name": "block1", "body": [
        {"type": "conv2d", "name": "conv_a", "out": 4, "kernel": 3, "padding": 1},
        {"type": "relu", "name": "relu_a"},
        {"type": "conv2d", "name": "conv_b", "out": 4, "kernel": 3, "padding": 1}],
     "shortcut": "identity", "activation": "relu"},
    {"type": "global_avg_pool", "name": "pool"},
    {"type": "linear", "name": "fc", "out": 10}]})";
} // namespace

class TestLandscapeView : public QObject {
    Q_OBJECT
    ui::MainWindow* m_w = nullptr;
    ui::LandscapeView* view() const { return m_w->landscapeView(); }

    bool computeAndWait(int timeoutMs = 120000) {
        view()->compute();
        QElapsedTimer t;
        t.start();
        while (!(view()->result().finished) && t.elapsed() < testing::waitBudget(timeoutMs))
            QTest::qWait(20);
        return view()->result().finished;
    }

private slots:
    void initTestCase() {
        m_w = testing::trainedWindow(3, {1280, 800});
        QVERIFY2(m_w, "training did not finish");
        m_w->tabs()->setCurrentIndex(ui::MainWindow::LandscapeTab);
        view()->pointsBox()->setValue(7);
        view()->imagesBox()->setValue(64);
    }
    void cleanupTestCase() { testing::closeTrainedWindow(m_w); }
    void init() { QTest::failOnWarning(QRegularExpression("QObject::|QPainter::|QWidget::")); }
    void cleanup() { QVERIFY2(testing::noValidationMessages(), "Vulkan validation messages"); }

    // A random filter-normalised surface; the event loop stays responsive (p99 < 50 ms) while it
    // computes, and its centre is the run's checkpoint evaluated by the engine on its own.
    void randomSurfaceOfTheTrainedNetwork() {
        view()->pointsBox()->setValue(15); // long enough (~2 s) to measure the event loop
        view()->imagesBox()->setValue(500);
        testing::EventLoopProbe loop;
        QVERIFY(computeAndWait());
        loop.stop();
        const ui::LandscapeResult& r = view()->result();
        QVERIFY2(r.error.isEmpty(), qPrintable(r.error));
        QCOMPARE(r.surfaces.size(), 1);
        const ui::LandscapeSurface& s = r.surfaces[0];
        QCOMPARE(s.rows, 15);
        QCOMPARE(s.rowsDone, 15);
        for (int i = 0; i < s.loss.size(); ++i)
            QVERIFY2(std::isfinite(s.loss[i]) && s.loss[i] >= 0, // 0: gratings can be that easy
                     qPrintable(QString("point %1: %2").arg(i).arg(s.loss[i])));
        QCOMPARE(s.lineLoss.size(), 15);
        QVERIFY(!s.contours.isEmpty());
        QCOMPARE(view()->contour(0)->surface().rowsDone, 15);
        QVERIFY(view()->summary()->text().contains("local minima"));
        const qint64 p99 = loop.p99();
        qInfo("event loop while computing: p99 %lld ms over %lld ticks", (long long)p99,
              (long long)loop.ticks());
        QVERIFY2(p99 < testing::latencyBudget(50), qPrintable(QString("p99 %1 ms").arg(p99)));
        // The centre (α = β = 0) is θ*: the engine, on the run's last checkpoint and the same
        // images, agrees; the 1-D line meets the plane there.
        QCOMPARE(s.lineAlpha[7], 0.0);
        QCOMPARE(s.loss[7 * 15 + 7], s.lineLoss[7]);
        auto ckpt = model::loadCheckpoint(m_w->runDir().toStdString());
        QVERIFY2(ckpt.ok(), ckpt.status().message().c_str());
        data::DatasetRequest dr;
        dr.name = "gratings";
        auto d = data::loadDataset(dr);
        QVERIFY2(d.ok(), d.status().message().c_str());
        CpuBackend<float> be;
        auto land = analysis::LossLandscape::create(be, *ckpt, d->train, 500);
        QVERIFY2(land.ok(), land.status().message().c_str());
        auto centre = (*land)->evaluate(0, 0);
        QVERIFY(centre.ok());
        qInfo("centre: view %.7g, engine on the checkpoint %.7g", s.loss[7 * 15 + 7], centre->loss);
        QVERIFY(std::abs(centre->loss - s.loss[7 * 15 + 7]) <= 1e-4 * centre->loss + 1e-6);
        // A corner, (α, β) = (−1, −1), along the same seeded directions.
        auto& L = **land;
        using analysis::DirectionNorm;
        CS_VERIFY_OK(L.setDirections(
            analysis::randomDirection(L.layout(), L.theta(), DirectionNorm::Filter, 1, 0),
            analysis::randomDirection(L.layout(), L.theta(), DirectionNorm::Filter, 1, 1)));
        auto corner = L.evaluate(-1, -1);
        QVERIFY(corner.ok());
        qInfo("corner: view %.7g, engine %.7g", s.loss[0], corner->loss);
        QVERIFY(corner->loss > 0.01);
        QVERIFY(std::abs(corner->loss - s.loss[0]) <= 1e-4 * corner->loss);
        view()->pointsBox()->setValue(7);
        view()->imagesBox()->setValue(64);
    }

    void cancelStopsALongSurface() {
        view()->pointsBox()->setValue(61);
        view()->imagesBox()->setValue(2000);
        view()->compute();
        QTRY_VERIFY_WITH_TIMEOUT(view()->cancelButton()->isEnabled(), testing::waitBudget(5000));
        QTest::qWait(300);
        QElapsedTimer t;
        t.start();
        view()->cancelButton()->click();
        QTRY_VERIFY_WITH_TIMEOUT(view()->result().finished, testing::waitBudget(10000));
        qInfo("cancelled after %lld ms", (long long)t.elapsed());
        QVERIFY(view()->summary()->text().contains("Cancelled"));
        QTRY_VERIFY(view()->computeButton()->isEnabled());
        view()->pointsBox()->setValue(7);
        view()->imagesBox()->setValue(64);
    }

    // The PCA plane of the trajectory, the path drawn over the surface.
    void pcaPlaneWithTheTrajectory() {
        view()->directionsBox()->setCurrentIndex(3);
        QVERIFY(computeAndWait());
        const ui::LandscapeResult& r = view()->result();
        QVERIFY2(r.error.isEmpty(), qPrintable(r.error));
        const ui::LandscapeSurface& s = r.surfaces[0];
        // The live run's snapshots (every few steps), the final weights θ* last; its three
        // epochs marked along the path.
        QVERIFY2(s.path.size() > 10, qPrintable(QString::number(s.path.size())));
        QCOMPARE(s.path.back(), QPointF(0, 0));
        QCOMPARE(s.epochEnds.size(), 3);
        QCOMPARE(s.epochEnds.back(), int(s.path.size()) - 1);
        QVERIFY(s.explained1 >= s.explained2 && s.explained1 + s.explained2 <= 1 + 1e-9);
        for (const QPointF& p : s.path) // the grid covers the path
            QVERIFY(std::abs(p.x()) <= s.alphaHi && std::abs(p.y()) <= s.betaHi);
        view()->directionsBox()->setCurrentIndex(0);
    }

    // A twin (here the same run, so the two surfaces must agree) shares the colour scale.
    void twinsSideBySide() {
        view()->setTwinRun(m_w->runDir());
        view()->hessianBox()->setChecked(true);
        QVERIFY(computeAndWait(300000));
        const ui::LandscapeResult& r = view()->result();
        QVERIFY2(r.error.isEmpty(), qPrintable(r.error));
        QCOMPARE(r.surfaces.size(), 2);
        // The same weights; the run's normalisation is stored with 6 digits, so not to the bit.
        for (int i = 0; i < r.surfaces[0].loss.size(); ++i)
            QVERIFY2(
                std::abs(r.surfaces[0].loss[i] - r.surfaces[1].loss[i]) <=
                    1e-4 * r.surfaces[0].loss[i] + 1e-6,
                qPrintable(
                    QString("%1 vs %2").arg(r.surfaces[0].loss[i]).arg(r.surfaces[1].loss[i])));
        QVERIFY(r.surfaces[0].hasHessian && r.surfaces[0].lambdaMax > 0);
        QVERIFY(view()->contour(1)->isVisible());
        QTemporaryDir dir;
        const QString csv = dir.filePath("landscape.csv");
        QVERIFY(view()->exportCsv(csv));
        QFile f(csv);
        QVERIFY(f.open(QIODevice::ReadOnly));
        QCOMPARE(f.readAll().count('\n'), 1 + 2 * 49);
        QVERIFY(view()->exportPicture(dir.filePath("landscape.png")));
        view()->setTwinRun({});
        view()->hessianBox()->setChecked(false);
    }

    // Live: while a new run trains, a coarse surface along the trajectory's PCA plane arrives
    // after its second epoch (training pauses for it and resumes), without anyone pressing
    // Compute.
    void liveSurfaceWhileTraining() {
        view()->liveBox()->setChecked(true);
        m_w->findChild<QSpinBox*>("epochs")->setValue(2);
        m_w->trainAction()->trigger();
        QTRY_VERIFY_WITH_TIMEOUT(view()->result().request.points == 11 && view()->result().finished,
                                 testing::waitBudget(300000));
        QVERIFY2(view()->result().error.isEmpty(), qPrintable(view()->result().error));
        QCOMPARE(view()->result().request.images, 256);
        QCOMPARE(view()->result().surfaces[0].rowsDone, 11);
        // Along the trajectory's plane: the weights kept every few steps in memory, not only
        // the epochs' checkpoints, with the path drawn from the first snapshot to θ*.
        const ui::LandscapeSurface& live = view()->result().surfaces[0];
        QVERIFY2(live.path.size() > 10, qPrintable(QString::number(live.path.size())));
        QCOMPARE(live.path.back(), QPointF(0, 0));
        QCOMPARE(live.epochEnds.size(), 2); // marked where the two epochs ended
        QVERIFY(live.explained1 > 0 && live.explained1 + live.explained2 <= 1 + 1e-9);
        QTRY_VERIFY_WITH_TIMEOUT(m_w->accuracyPoints() == 2 && !m_w->session().busy(),
                                 testing::waitBudget(300000));
        view()->liveBox()->setChecked(false);
    }

    // The twin of a network: presets pair up by depth; any residual network loses its shortcuts;
    // a network without any has none (and says so).
    void twinSpecsArePaired() {
        auto t = ui::LandscapeView::twinsOf(ui::TrainingSession::presetJson("resnet56"));
        QVERIFY(t.error.isEmpty());
        QCOMPARE(t.plainName, QString("plain56"));
        QCOMPARE(t.plain, ui::TrainingSession::presetJson("plain56"));
        t = ui::LandscapeView::twinsOf(ui::TrainingSession::presetJson("plain20"));
        QCOMPARE(t.residualName, QString("resnet20"));
        QCOMPARE(t.residual, ui::TrainingSession::presetJson("resnet20"));
        t = ui::LandscapeView::twinsOf(kTinyResidual);
        QVERIFY(t.error.isEmpty());
        QCOMPARE(t.plainName, QString("tiny-res-plain"));
        QVERIFY(!t.plain.contains("identity") && t.plain.contains("\"shortcut\":\"none\""));
        t = ui::LandscapeView::twinsOf(ui::TrainingSession::presetJson("lenet5"));
        QVERIFY(t.error.contains("no skip connections"));
    }

    // One click: both twins train the same way, then both surfaces appear side by side.
    void trainTwinsOneClick() {
        m_w->findChild<QSpinBox*>("epochs")->setValue(1);
        m_w->buildView()->setSpec(QJsonDocument::fromJson(kTinyResidual).object(), "tiny");
        QVERIFY(view()->trainTwins());
        QTRY_VERIFY_WITH_TIMEOUT(view()->result().finished && view()->result().surfaces.size() == 2,
                                 testing::waitBudget(300000));
        const ui::LandscapeResult& r = view()->result();
        QVERIFY2(r.error.isEmpty(), qPrintable(r.error));
        QVERIFY(r.surfaces[0].title.startsWith("tiny-res step"));
        QVERIFY(r.surfaces[1].title.startsWith("tiny-res-plain step"));
        QVERIFY(r.surfaces[0].hasHessian && r.surfaces[1].hasHessian);
        QCOMPARE(r.request.runs.size(), 2);
        QVERIFY(view()->twinsButton()->isEnabled());
    }

    // On a platform with OpenGL (xvfb-run), the 3-D surface exists, holds the grid and renders.
    void threeDimensionalSurfaceWhereOpenGlIs() {
        if (!ui::Surface3D::available())
            QSKIP("no OpenGL on this platform (offscreen): the contour map stands in");
        QVERIFY(computeAndWait());
        QVERIFY(view()->showing3d());
        ui::Surface3D* s = view()->surface3d(0);
        QVERIFY(s);
        QCOMPARE(s->pointCount(), 49);
        const QImage img = s->renderImage(QSize(320, 240));
        QVERIFY(!img.isNull());
        if (const QString dir = qEnvironmentVariable("CONVSCOPE_SCREENSHOT_DIR"); !dir.isEmpty())
            m_w->grab().save(dir + "/landscape.png");
    }
};

QTEST_MAIN(TestLandscapeView)
#include "tst_landscape_view.moc"
