// The Saliency tab and the confusion matrix as a person clicks them (offscreen): train LeNet-5
// briefly, see the confusion matrix in the Train tab, browse the test images with their
// predictions, compute the five maps, drag the ε slider (FGSM, then PGD), draw accuracy vs ε
// while the event loop stays responsive, run the sanity check, pick a target class, click a
// confusion-matrix cell to see its images, export, cancel a long job, and let a job pause and
// resume a training run.
#include "confusion_matrix.h"
#include "main_window.h"
#include "map_strip.h"
#include "saliency_view.h"
#include "test_support.h"
#include "train_view.h"
#include "trained_window.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QElapsedTimer>
#include <QListWidget>
#include <QPushButton>
#include <QSlider>
#include <QSpinBox>
#include <QStandardPaths>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QTimer>
#include <QToolButton>
#include <QtTest>
#include <algorithm>
#include <cmath>

using namespace convscope;

namespace {
// The event loop's latency while `busy()` holds: gaps between 10 ms timer ticks.
struct Latency {
    QVector<qint64> gaps;
    qint64 p99() const {
        QVector<qint64> g = gaps;
        std::sort(g.begin(), g.end());
        return g.isEmpty() ? 0 : g[std::min<qsizetype>(g.size() - 1, g.size() * 99 / 100)];
    }
};
} // namespace

class TestSaliencyView : public QObject {
    Q_OBJECT
    ui::MainWindow* m_w = nullptr;

    ui::SaliencyView* view() const { return m_w->saliencyView(); }

private slots:
    void initTestCase() {
        m_w = testing::trainedWindow(1, {1400, 900});
        QVERIFY2(m_w, "training did not finish");
    }
    void cleanupTestCase() { testing::closeTrainedWindow(m_w); }
    void init() { QTest::failOnWarning(QRegularExpression("QObject::|QPainter::|QWidget::")); }
    void cleanup() { QVERIFY2(testing::noValidationMessages(), "Vulkan validation messages"); }

    // After the epoch the Train tab holds the test set's confusion matrix.
    // A constant map (Grad-CAM's ReLU can zero it) is drawn at the scale's zero, not as NaN.
    void constantMapsAreDrawnAtZero() {
        double scale = -1;
        const QImage flat = ui::mapImage(QVector<float>(16, 0.0f), 4, 4, false, {}, 1.0, &scale);
        QCOMPARE(scale, 0.0);
        QCOMPARE(flat.pixelColor(0, 0), ui::sequentialColour(0));
        QCOMPARE(flat.pixelColor(3, 3), ui::sequentialColour(0));
        const QImage signedFlat =
            ui::mapImage(QVector<float>(16, 0.0f), 4, 4, true, {}, 1.0, &scale);
        QCOMPARE(signedFlat.pixelColor(1, 2), ui::divergingColour(0)); // white
    }

    void confusionMatrixAfterTheEpoch() {
        const ui::ConfusionResult& c = m_w->trainView()->confusion()->result();
        QCOMPARE(c.classes, 10); // LeNet-5's outputs (gratings use 4 of them)
        QCOMPARE(c.epoch, 1);
        qint64 total = 0, right = 0;
        for (int t = 0; t < 10; ++t)
            for (int p = 0; p < 10; ++p) {
                total += c.counts[t * 10 + p];
                right += t == p ? c.counts[t * 10 + p] : 0;
            }
        QCOMPARE(total, qint64(1000)); // the gratings' test split
        QVERIFY(double(right) / double(total) > 0.5);
    }

    // The Train tab's matrix of adversarial images at a chosen ε, and back to the clean one.
    void adversarialConfusionMatrix() {
        const double clean = m_w->trainView()->confusion()->result().classes > 0
                                 ? [this] {
                                       const auto& c = m_w->trainView()->confusion()->result();
                                       qint64 right = 0;
                                       for (int k = 0; k < c.classes; ++k)
                                           right += c.counts[k * c.classes + k];
                                       return double(right) / 1000.0;
                                   }()
                                 : 0.0;
        m_w->trainView()->confusionSource()->setCurrentIndex(1); // FGSM at ε = 0.1
        QTRY_VERIFY_WITH_TIMEOUT(m_w->trainView()->confusion()->result().eps > 0,
                                 testing::waitBudget(60000));
        const ui::ConfusionResult& adv = m_w->trainView()->confusion()->result();
        QCOMPARE(adv.eps, 0.1);
        qint64 total = 0, right = 0;
        for (int t = 0; t < adv.classes; ++t)
            for (int p = 0; p < adv.classes; ++p) {
                total += adv.counts[t * adv.classes + p];
                right += t == p ? adv.counts[t * adv.classes + p] : 0;
            }
        QCOMPARE(total, qint64(1000));
        qInfo("accuracy: clean %.3f, FGSM at 0.1 %.3f", clean, double(right) / 1000.0);
        QVERIFY(double(right) / 1000.0 < clean);
        m_w->trainView()->confusionSource()->setCurrentIndex(0);
        QCOMPARE(m_w->trainView()->confusion()->result().eps, 0.0);
        QCOMPARE(m_w->trainView()->confusion()->result().epoch, 1);
    }

    void browseComputeAndAttack() {
        m_w->tabs()->setCurrentIndex(ui::MainWindow::SaliencyTab);
        QListWidget* list = view()->imageList();
        // The browser fills with the test images and their predictions.
        QTRY_VERIFY_WITH_TIMEOUT(list->count() > 0 &&
                                     list->item(0)->toolTip().contains("predicted"),
                                 testing::waitBudget(30000));
        list->setCurrentRow(3);
        const int image = list->item(3)->data(Qt::UserRole).toInt();
        QTRY_VERIFY_WITH_TIMEOUT(view()->saliency().image == image, testing::waitBudget(30000));
        const ui::SaliencyResult& r = view()->saliency();
        QCOMPARE(r.maps.size(), qsizetype(5));
        QCOMPARE(view()->maps()->panels().size(), qsizetype(6)); // the input and five maps
        QCOMPARE(r.gradcamLayer, QString("pool2"));
        QCOMPARE(r.target, r.predicted);
        QVERIFY(std::abs(r.igGap) < 0.05 * std::abs(r.igDelta) + 1e-3);
        // The ε slider attacks live.
        QTRY_VERIFY_WITH_TIMEOUT(view()->attack().request.image == image,
                                 testing::waitBudget(30000));
        view()->epsSlider()->setValue(40);
        QTRY_VERIFY_WITH_TIMEOUT(std::abs(view()->attack().request.eps - 0.2) < 1e-9,
                                 testing::waitBudget(30000));
        const ui::AttackResult& a = view()->attack();
        double moved = 0;
        for (int i = 0; i < a.clean.size(); ++i) {
            moved = std::max(moved, double(std::abs(a.adversarial[i] - a.clean[i])));
            QVERIFY(a.adversarial[i] >= 0 && a.adversarial[i] <= 1);
        }
        QVERIFY(moved <= 0.2 + 1e-6 && moved > 0.1);
        QCOMPARE(view()->attackStrip()->panels().size(), qsizetype(3));
        view()->pgdBox()->setChecked(true);
        QTRY_VERIFY_WITH_TIMEOUT(view()->attack().request.pgdSteps == 10,
                                 testing::waitBudget(30000));
        // A slider drag asks many times; the answers end at the last value.
        for (int v = 1; v <= 30; ++v)
            view()->epsSlider()->setValue(v);
        QTRY_VERIFY_WITH_TIMEOUT(std::abs(view()->attack().request.eps - 0.15) < 1e-9,
                                 testing::waitBudget(30000));
        // The target class.
        view()->targetBox()->setCurrentIndex(2 + 3); // "class: …" of class 3
        QTRY_VERIFY_WITH_TIMEOUT(view()->saliency().target == 3, testing::waitBudget(30000));
    }

    // Accuracy vs ε: 13 FGSM and 13 PGD points, drawn as they come, and the window stays
    // responsive meanwhile (event-loop p99 < 50 ms).
    void accuracyCurveKeepsTheWindowResponsive() {
        view()->pgdBox()->setChecked(true);
        Latency lat;
        QElapsedTimer clock;
        clock.start();
        qint64 last = 0;
        QTimer tick;
        QObject::connect(&tick, &QTimer::timeout, [&] {
            const qint64 now = clock.elapsed();
            lat.gaps << now - last;
            last = now;
        });
        tick.start(10);
        view()->curveButton()->click();
        QTRY_VERIFY_WITH_TIMEOUT(view()->curvePoints() == 26, testing::waitBudget(120000));
        tick.stop();
        qInfo("event-loop latency during accuracy vs ε: p99 %lld ms over %lld ticks",
              (long long)lat.p99(), (long long)lat.gaps.size());
        QVERIFY(lat.p99() < testing::latencyBudget(50));
        QTRY_VERIFY(view()->curveButton()->isEnabled());
    }

    void sanityCheckStrip() {
        view()->sanityButton()->click();
        // LeNet-5: the trained network, then fc3, fc2, fc1, conv2, conv1 randomised.
        QTRY_VERIFY_WITH_TIMEOUT(view()->sanityRows() == 6, testing::waitBudget(60000));
        const ui::SaliencyResult& r = view()->saliency();
        QCOMPARE(r.sanityLayers.last(), QString("conv1"));
        QCOMPARE(r.sanityRho.first().first(), 1.0);
        QVERIFY(r.sanityRho.last().first() < 0.9); // the gradient changes
    }

    void confusionCellOpensItsImages() {
        m_w->tabs()->setCurrentIndex(ui::MainWindow::TrainTab);
        ui::ConfusionMatrix* m = m_w->trainView()->confusion();
        const ui::ConfusionResult c = m->result();
        int truth = 0, pred = 0;
        qint64 best = -1;
        for (int t = 0; t < c.classes; ++t) // the largest off-diagonal cell, else the diagonal
            for (int p = 0; p < c.classes; ++p)
                if (c.counts[t * c.classes + p] > best && (t != p || best <= 0)) {
                    best = c.counts[t * c.classes + p];
                    truth = t;
                    pred = p;
                }
        QTest::mouseClick(m, Qt::LeftButton, {}, m->cellRect(truth, pred).center());
        QCOMPARE(m_w->tabs()->currentIndex(), int(ui::MainWindow::SaliencyTab));
        QListWidget* list = view()->imageList();
        QTRY_VERIFY_WITH_TIMEOUT(list->count() > 0, testing::waitBudget(30000));
        QCOMPARE(qint64(list->count()), std::min<qint64>(best, 400));
        QCOMPARE(view()->currentImage(), list->item(0)->data(Qt::UserRole).toInt());
    }

    void exportsPictureAndNumbers() {
        QTemporaryDir dir;
        QVERIFY(m_w->exportCsv(dir.filePath("saliency.csv")));
        QFile f(dir.filePath("saliency.csv"));
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QString csv = QString::fromUtf8(f.readAll());
        QVERIFY(csv.contains("method,channel,y,x,value"));
        QVERIFY(csv.contains("\ngradcam,0,"));
        QVERIFY(csv.contains("\nfgsm,0.3,"));
        QVERIFY(m_w->exportView(dir.filePath("saliency.png")));
        QVERIFY(m_w->exportView(dir.filePath("saliency.svg")));
        QVERIFY(QImage(dir.filePath("saliency.png")).width() > 100);
        // Presenter mode covers the new view.
        m_w->setPresenterMode(true);
        QVERIFY(view()->presenterMode());
        m_w->setPresenterMode(false);
    }

    void aLongJobCancels() {
        m_w->tabs()->setCurrentIndex(ui::MainWindow::SaliencyTab);
        const auto count = view()->findChildren<QSpinBox*>();
        for (QSpinBox* s : count)
            if (s->suffix().contains("images"))
                s->setValue(10000);
        view()->pgdBox()->setChecked(true);
        QElapsedTimer t;
        t.start();
        view()->curveButton()->click();
        auto* cancel = m_w->findChild<QToolButton*>("cancel job");
        QVERIFY(cancel);
        QTRY_VERIFY_WITH_TIMEOUT(cancel->isVisible(), testing::waitBudget(10000));
        QTest::qWait(300);
        cancel->click();
        QTRY_VERIFY_WITH_TIMEOUT(view()->curveButton()->isEnabled(), testing::waitBudget(30000));
        QTRY_VERIFY_WITH_TIMEOUT(!cancel->isVisible(), testing::waitBudget(30000));
        qInfo("cancelled after %lld ms with %d points", (long long)t.elapsed(),
              view()->curvePoints());
        QVERIFY(view()->curvePoints() < 26);
    }

    // A job asked for while training runs pauses it, and the run resumes after.
    void aJobPausesAndResumesTraining() {
        m_w->findChild<QSpinBox*>("epochs")->setValue(2);
        m_w->trainAction()->trigger(); // a new run (the last one is complete)
        QTRY_VERIFY_WITH_TIMEOUT(m_w->session().busy() && m_w->lossPoints() > 5,
                                 testing::waitBudget(60000));
        view()->selectImage(11);
        QTRY_VERIFY_WITH_TIMEOUT(view()->saliency().image == 11, testing::waitBudget(60000));
        QTRY_VERIFY_WITH_TIMEOUT(m_w->accuracyPoints() == 2 && !m_w->session().busy(),
                                 testing::waitBudget(120000));
    }

    // Pause pressed while a job has paused the run: the run stays paused after the job.
    void aPauseDuringAJobHolds() {
        m_w->findChild<QSpinBox*>("epochs")->setValue(50);
        m_w->trainAction()->trigger();
        QTRY_VERIFY_WITH_TIMEOUT(m_w->session().busy() && m_w->lossPoints() > 5,
                                 testing::waitBudget(60000));
        view()->selectImage(12);
        m_w->pauseAction()->trigger();
        QTRY_VERIFY_WITH_TIMEOUT(view()->saliency().image == 12 && !m_w->session().jobRunning(),
                                 testing::waitBudget(60000));
        QTest::qWait(500);
        QVERIFY(!m_w->session().busy());
        QVERIFY(m_w->session().started());
        QCOMPARE(m_w->trainAction()->text(), QString("Resume"));
        m_w->session().stop();
    }
};

QTEST_MAIN(TestSaliencyView)
#include "tst_saliency_view.moc"
