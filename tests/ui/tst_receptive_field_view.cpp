// The Receptive field tab as a person clicks it: train LeNet-5 on gratings for one epoch, open
// the tab, pick a layer and click a unit in its feature maps; the field drawn and the numbers
// are the engine's own (analysis::effectiveField on the run's checkpoint and the same images);
// the table and the depth chart hold the theoretical and effective sizes, trained and at
// initialisation; a Build-view edit moves the theoretical column at once and the effective one
// follows on initial weights; the event loop stays responsive; the table exports as CSV.
#include "analysis/receptive_field.h"
#include "backend/cpu_backend.h"
#include "build_view.h"
#include "data/datasets.h"
#include "field_map.h"
#include "main_window.h"
#include "model/weights.h"
#include "receptive_field_view.h"
#include "test_support.h"
#include "trained_window.h"
#include "unit_picker.h"

#include <QCheckBox>
#include <QComboBox>
#include <QElapsedTimer>
#include <QLabel>
#include <QSpinBox>
#include <QStandardPaths>
#include <QTabWidget>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTimer>
#include <QTreeWidget>
#include <QUndoStack>
#include <QtTest>

using namespace convscope;

class TestReceptiveFieldView : public QObject {
    Q_OBJECT
    ui::MainWindow* m_w = nullptr;
    ui::ReceptiveFieldView* view() const { return m_w->fieldView(); }

    // The next result after `ask` (the view's own request), or false after the timeout.
    bool waitForResult(const std::function<void()>& ask, int timeoutMs = 60000) {
        bool got = false;
        auto c = connect(&m_w->session(), &ui::TrainingSession::fieldsReady, this,
                         [&](const ui::FieldResult&) { got = true; });
        ask();
        QElapsedTimer t;
        t.start();
        while (!got && t.elapsed() < timeoutMs)
            QTest::qWait(20);
        disconnect(c);
        QTest::qWait(50); // the view's own slot ran too (connected first)
        return got;
    }

private slots:
    void initTestCase() {
        m_w = testing::trainedWindow(1, {1280, 800});
        QVERIFY2(m_w, "training did not finish");
    }
    void cleanupTestCase() { testing::closeTrainedWindow(m_w); }
    void init() { QTest::failOnWarning(QRegularExpression("QObject::|QPainter::|QWidget::")); }
    void cleanup() { QVERIFY2(testing::noValidationMessages(), "Vulkan validation messages"); }

    // Opening the tab computes the last spatial layer's centre; clicking a unit of relu2 shows
    // exactly the engine's field of that unit on the run's checkpoint.
    void clickingAUnitShowsItsField() {
        QVERIFY(waitForResult([&] { m_w->tabs()->setCurrentIndex(ui::MainWindow::FieldTab); }));
        const ui::FieldResult& first = view()->result();
        QVERIFY2(first.error.isEmpty(), qPrintable(view()->numbers()->text()));
        QVERIFY(first.trained);
        QCOMPARE(first.layers, (QStringList{"relu1", "pool1", "relu2", "pool2"}));
        QCOMPARE(first.layer, QString("pool2"));
        QCOMPARE(first.rfH, 16);
        QVERIFY(view()->fieldMap()->hasField());

        view()->layerBox()->setCurrentText("relu2");
        view()->allChannelsBox()->setChecked(false);
        // relu2's maps first (its centre), then a click on one of its units.
        QVERIFY(waitForResult([&] { view()->pickUnit(-1, -1, -1); }));
        const ui::MapImage& maps = view()->picker()->maps();
        QCOMPARE(maps.channels, 16);
        // A live unit: the channel most active at (3, 7) for the shown image (a ReLU unit that
        // is 0 on every image has no gradient).
        int live = 0;
        for (int c = 1; c < 16; ++c)
            if (maps.values[c * 100 + 37] > maps.values[live * 100 + 37])
                live = c;
        QVERIFY(maps.values[live * 100 + 37] > 0);
        QVERIFY(waitForResult([&] {
            ui::UnitPicker* p = view()->picker();
            QTest::mouseClick(p, Qt::LeftButton, {}, p->positionOf(live, 3, 7));
        }));
        const ui::FieldResult& r = view()->result();
        QVERIFY2(r.error.isEmpty(), qPrintable(r.error));
        QCOMPARE(r.layer, QString("relu2"));
        QCOMPARE(r.channel, live);
        QCOMPARE(r.y, 3);
        QCOMPARE(r.x, 7);
        QCOMPARE(r.centreY, 4.5 + 2 * 3);
        QCOMPARE(r.centreX, 4.5 + 2 * 7);
        QCOMPARE(r.rfH, 14);
        QVERIFY(view()->numbers()->text().contains(QString("relu2 (%1, 3, 7)").arg(live)));
        // The engine on its own: the run's last checkpoint, the same 64 test images.
        auto ckpt = model::loadCheckpoint(m_w->runDir().toStdString());
        QVERIFY2(ckpt.ok(), ckpt.status().message().c_str());
        data::DatasetRequest dr;
        dr.name = "gratings";
        auto d = data::loadDataset(dr);
        QVERIFY(d.ok());
        CpuBackend<float> be;
        auto in = analysis::Inspector::open(be, *ckpt, 64);
        QVERIFY(in.ok());
        const auto images = analysis::Inspector::images(d->test, 0, 64);
        auto e = analysis::effectiveField(**in, {(*in)->layerIndex("relu2"), live, 3, 7},
                                          images.pixels, images.count());
        QVERIFY2(e.ok(), e.status().message().c_str());
        QCOMPARE(r.erf.size(), qsizetype(e->map.size()));
        double worst = 0, peak = 0;
        for (std::size_t i = 0; i < e->map.size(); ++i) {
            worst = std::max(worst, std::abs(double(r.erf[qsizetype(i)]) - e->map[i]));
            peak = std::max(peak, e->map[i]);
        }
        QVERIFY(peak > 0);
        QVERIFY2(worst <= 1e-5 * peak, qPrintable(QString("differs by %1").arg(worst)));
        QCOMPARE(r.side90, int(e->side90));
    }

    // The table lists every top-level layer with its theoretical field; the spatial ones have
    // effective sizes, trained and at initialisation; the chart plots them against depth.
    void theTableAndTheDepthChart() {
        QTableWidget* t = view()->table();
        QCOMPARE(t->rowCount(), 12); // lenet5's top-level layers
        QCOMPARE(t->item(5, 0)->text(), QString("pool2"));
        QCOMPARE(t->item(5, 2)->text(), QString("16"));
        QCOMPARE(t->item(5, 3)->text(), QString("4"));
        QVERIFY(t->item(5, 5)->text().toInt() > 0);       // ERF-90
        QVERIFY(t->item(5, 6)->text().toInt() > 0);       // ERF-90 at initialisation
        QVERIFY(t->item(5, 5)->text().toInt() <= 16);     // inside the theoretical square
        QCOMPARE(t->item(11, 2)->text(), QString("all")); // fc3
        QCOMPARE(view()->depthPoints(0), 7);              // conv1 … flatten (not global)
        QCOMPARE(view()->depthPoints(1), 4);              // the four spatial layers
        QCOMPARE(view()->depthPoints(2), 4);
        QTemporaryDir dir;
        const QString csv = dir.filePath("rf.csv");
        QVERIFY(view()->exportCsv(csv));
        QFile f(csv);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QStringList lines = QString::fromUtf8(f.readAll()).trimmed().split('\n');
        QCOMPARE(lines.size(), 13);
        QVERIFY2(lines[6].startsWith("\"pool2\",\"16x5x5\",\"16\",\"4\""), qPrintable(lines[6]));
    }

    // A Build-view edit: the theoretical column moves at once; the effective one follows for the
    // edited network at its initial weights; the event loop stays responsive meanwhile.
    void buildEditsMoveTheFields() {
        ui::BuildView* b = m_w->buildView();
        QTreeWidgetItem* conv2 = b->itemOfRow(3);
        testing::EventLoopProbe loop;
        QVERIFY(waitForResult(
            [&] { conv2->setText(ui::BuildView::Settings, "out=16 kernel=5 dilation=2"); }));
        loop.stop();
        QCOMPARE(view()->table()->item(3, 2)->text(), QString("22"));
        QCOMPARE(view()->table()->item(5, 2)->text(), QString("24"));
        const ui::FieldResult& r = view()->result();
        QVERIFY2(r.error.isEmpty(), qPrintable(r.error));
        QVERIFY(!r.trained);
        QVERIFY(r.network.contains("initial weights"));
        QVERIFY(view()->table()->item(5, 5)->text().toInt() > 0);
        const qint64 p99 = loop.p99();
        qInfo("event loop while computing fields: p99 %lld ms over %lld ticks", (long long)p99,
              (long long)loop.ticks());
        QVERIFY2(p99 < testing::latencyBudget(50), qPrintable(QString("p99 %1 ms").arg(p99)));
        b->undoStack()->undo();
        QCOMPARE(view()->table()->item(3, 2)->text(), QString("14"));
    }
};

QTEST_MAIN(TestReceptiveFieldView)
#include "tst_receptive_field_view.moc"
