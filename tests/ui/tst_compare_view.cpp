// The Compare tab on run folders written by the engine's RunFolder: every run's curves on one
// scale, overlaid and side by side, the gradient chart matched by layer, the summary, the CSV,
// and clear refusals (a folder that is not a run, a fifth run).
#include "compare_view.h"
#include "data/idx.h"
#include "filter_view.h"
#include "model/netspec.h"
#include "train/run_folder.h"
#include "train/twin.h"

#include <QAbstractSeries>
#include <QChart>
#include <QFile>
#include <QImage>
#include <QLabel>
#include <QLineSeries>
#include <QPushButton>
#include <QScrollArea>
#include <QTemporaryDir>
#include <QToolButton>
#include <QValueAxis>
#include <QtTest>

using namespace convscope;

namespace {

// A run folder of lenet5 with `epochs` epochs: step losses falling from `start`, test accuracy
// `acc` per epoch plus 0.01 each, and per-layer gradient norms `grad`·k for layer k.
QString writeRun(const QString& dir, double start, double acc, double grad, int epochs = 2) {
    auto spec = model::preset("lenet5");
    data::TrainTestSplit data;
    auto folder = train::RunFolder::create(dir.toStdString(), *spec, "gratings", data);
    if (!folder.ok())
        return QString::fromStdString(folder.status().message());
    for (int e = 1; e <= epochs; ++e) {
        for (int s = 1; s <= 10; ++s) {
            train::StepReport r;
            r.epoch = e;
            r.step = (e - 1) * 10 + s;
            r.loss = start / double(r.step);
            (void)folder->logStep(r);
        }
        train::EpochReport er;
        er.epoch = e;
        er.trainLoss = start / (10.0 * e);
        er.trainAccuracy = acc + 0.05;
        er.test.loss = start / (8.0 * e);
        er.test.accuracy = acc + 0.01 * e;
        er.layers = {
            {"conv1", 1, grad, 1e-3}, {"conv2", 1, 2 * grad, 1e-3}, {"fc1", 1, 3 * grad, 1e-3}};
        if (Status s = folder->logEpoch(er, 10 * e); !s.ok())
            return QString::fromStdString(s.message());
    }
    return {};
}

int seriesCount(QChart* c) {
    return c ? int(c->series().size()) : -1;
}

} // namespace

class TestCompareView : public QObject {
    Q_OBJECT

private slots:
    void runsShareOneScale() {
        QTemporaryDir tmp;
        QVERIFY(tmp.isValid());
        const QString a = tmp.filePath("lenet5"), b = tmp.filePath("lenet5-bn");
        QCOMPARE(writeRun(a, 2.0, 0.80, 0.1), QString());
        QCOMPARE(writeRun(b, 4.0, 0.70, 0.001), QString());
        ui::CompareView view;
        view.resize(1200, 900);
        view.show();
        QString error;
        QVERIFY2(view.addRun(a, &error), qPrintable(error));
        QVERIFY2(view.addRun(b, &error), qPrintable(error));
        QCOMPARE(view.runCount(), 2);
        QVERIFY(view.runColour(0) != view.runColour(1));
        // Overlaid: per run a training and a test series on the loss chart, a test and a train
        // series on the accuracy chart; one gradient series per run.
        QCOMPARE(seriesCount(view.lossChart()), 4);
        QCOMPARE(seriesCount(view.accuracyChart()), 4);
        QCOMPARE(seriesCount(view.gradientChart()), 2);
        // The gradient series: three layers each, conv1 first, the norms as written.
        auto* g0 = qobject_cast<QLineSeries*>(view.gradientChart()->series()[0]);
        auto* g1 = qobject_cast<QLineSeries*>(view.gradientChart()->series()[1]);
        QCOMPARE(g0->count(), 3);
        QCOMPARE(g1->count(), 3);
        QCOMPARE(g0->at(0).y(), 0.1);
        QCOMPARE(g1->at(2).y(), 0.003);
        // One scale: the loss axis spans the larger run's losses (run b starts at 4).
        auto* lossAxis = qobject_cast<QValueAxis*>(view.lossChart()->axes(Qt::Vertical)[0]);
        QVERIFY(lossAxis->max() >= 4.0);
        // The summary: both final test accuracies and the difference to the first.
        const QString s = view.summary();
        QVERIFY2(s.contains("82.0 %") && s.contains("72.0 %") && s.contains("-10.0 points"),
                 qPrintable(s));
        // Side by side: a loss and an accuracy chart per run, on the same axes.
        view.setLayout(ui::CompareView::Layout::SideBySide);
        QCOMPARE(seriesCount(view.lossChart()), 2);
        QCOMPARE(view.filterPanels(), 2);
        auto* first = qobject_cast<QValueAxis*>(view.lossChart()->axes(Qt::Vertical)[0]);
        QVERIFY(first->max() >= 4.0);
        // The numbers: every run's rows.
        const QString csv = tmp.filePath("compare.csv");
        QVERIFY(view.exportCsv(csv));
        QFile f(csv);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QString text = QString::fromUtf8(f.readAll());
        QVERIFY(text.startsWith("run,measure,step,layer,value\n"));
        QCOMPARE(text.count("\"lenet5\",train_loss,"), 20);
        // Two runs of one network are told apart by their folders.
        QCOMPARE(view.runLabel(0), QString("lenet5"));
        QCOMPARE(view.runLabel(1), QString("lenet5 · lenet5-bn"));
        QCOMPARE(text.count("\"lenet5 · lenet5-bn\",test_accuracy,"), 2);
        QVERIFY(text.contains("\"lenet5 · lenet5-bn\",grad_norm,,conv2,0.002"));
        // A picture of it.
        QVERIFY(view.exportPicture(tmp.filePath("compare.png"), 1.0));
        QVERIFY(QFileInfo(tmp.filePath("compare.png")).size() > 1000);
        // The picture holds all of the tab's content, even where a short window scrolls it, and
        // the run list and summary above it.
        view.resize(1200, 400);
        QTest::qWait(50);
        QVERIFY(view.exportPicture(tmp.filePath("short.png"), 1.0));
        const QImage shot(tmp.filePath("short.png"));
        QVERIFY2(shot.height() > 400, qPrintable(QString::number(shot.height())));
        const QLabel* summary = view.findChild<QLabel*>("compare summary");
        const QScrollArea* scroll = view.findChild<QScrollArea*>();
        QVERIFY(summary && !summary->text().isEmpty() && scroll && scroll->widget());
        QVERIFY(scroll->widget()->height() > scroll->viewport()->height()); // it does scroll
        QVERIFY(shot.height() >= scroll->widget()->height() + summary->height());
        view.resize(1200, 900);
        // Remove one: its series go.
        view.setLayout(ui::CompareView::Layout::Overlaid);
        view.removeRun(0);
        QCOMPARE(view.runCount(), 1);
        QCOMPARE(seriesCount(view.lossChart()), 2);
        QCOMPARE(seriesCount(view.gradientChart()), 1);
    }

    // A twin pair growing: each snapshot gives the same runs more points. The charts and filter
    // panels stay (no new widgets to lay out and paint each time), with the new points and axes;
    // a new run, a new label or a new layout makes them again.
    void liveUpdatesKeepTheCharts() {
        QTemporaryDir tmp;
        QVERIFY(tmp.isValid());
        const QString a = tmp.filePath("lenet5"), b = tmp.filePath("lenet5-bn");
        QCOMPARE(writeRun(a, 2.0, 0.80, 0.1, 1), QString());
        QCOMPARE(writeRun(b, 4.0, 0.70, 0.001, 1), QString());
        ui::RunRecord ra = ui::TrainingSession::openRun(a), rb = ui::TrainingSession::openRun(b);
        QVERIFY2(ra.error.isEmpty() && rb.error.isEmpty(), qPrintable(ra.error + rb.error));
        ui::CompareView view;
        view.resize(1200, 900);
        view.show();
        QTest::qWait(50); // the first show's events (View's refresh of a stale view), no runs yet
        view.setRuns({ra, rb});
        QTest::qWait(50);
        QChart* loss = view.lossChart();
        QChart* acc = view.accuracyChart();
        auto* train0 = qobject_cast<QLineSeries*>(loss->series()[0]);
        QCOMPARE(train0->count(), 10);
        auto* x = qobject_cast<QValueAxis*>(loss->axes(Qt::Horizontal)[0]);
        QCOMPARE(x->max(), 10.0);
        const QList<QAbstractSeries*> gradients = view.gradientChart()->series();
        // Ten more steps for each, and a second epoch's accuracy for b.
        for (ui::RunRecord* r : {&ra, &rb}) {
            for (int s = 11; s <= 20; ++s)
                r->loss << QPointF(s, 1.0 / s);
            r->steps = 20;
        }
        rb.testAccuracy << QPointF(20, 0.9);
        view.setRuns({ra, rb});
        QVERIFY(view.lossChart() == loss);
        QVERIFY(view.accuracyChart() == acc);
        QVERIFY(loss->series()[0] == train0);
        QCOMPARE(train0->count(), 20); // smoothed: one point per step below 800
        QCOMPARE(train0->at(19).x(), 20.0);
        QVERIFY(loss->axes(Qt::Horizontal)[0] == x);
        QCOMPARE(x->max(), 20.0);
        auto* bTest = qobject_cast<QLineSeries*>(acc->series()[2]); // a's test, a's train, b's…
        QCOMPARE(bTest->count(), 2);
        QCOMPARE(bTest->at(1).y(), 90.0);
        QVERIFY(view.gradientChart()->series() == gradients); // the norms did not change
        // New norms (an epoch ended): the gradient chart follows.
        rb.gradientNorms[0] = 0.5;
        view.setRuns({ra, rb});
        QVERIFY(view.lossChart() == loss);
        auto* g1 = qobject_cast<QLineSeries*>(view.gradientChart()->series()[1]);
        QCOMPARE(g1->at(0).y(), 0.5);
        // The first checkpoint's filters (these folders have none): the panels are made anew,
        // without their "no checkpoint yet" tip; later filters go to the same panels.
        QCOMPARE(ra.filterCount, 0);
        ra.filterCount = 6;
        ra.filterChannels = 1;
        ra.filterH = ra.filterW = 5;
        for (int i = 0; i < 6 * 25; ++i)
            ra.filters << float(i % 7) - 3.0f;
        view.setRuns({ra, rb});
        QVERIFY(view.lossChart() == loss);
        const QList<ui::FilterView*> panels = view.findChildren<ui::FilterView*>();
        QCOMPARE(panels.size(), 2);
        for (float& w : ra.filters)
            w = -w;
        view.setRuns({ra, rb});
        QVERIFY(view.findChildren<ui::FilterView*>() == panels);
        int shown = 0;
        for (const ui::FilterView* fv : panels)
            shown += fv->weights() == ra.filters && fv->count() == 6;
        QCOMPARE(shown, 1);
        // A new layout makes new charts, with the same numbers.
        view.setLayout(ui::CompareView::Layout::SideBySide);
        QVERIFY(view.lossChart() != loss);
        QCOMPARE(qobject_cast<QLineSeries*>(view.lossChart()->series()[0])->count(), 20);
    }

    void refusesWhatItCannotShow() {
        QTemporaryDir tmp;
        QVERIFY(tmp.isValid());
        ui::CompareView view;
        QString error;
        QVERIFY(!view.addRun(tmp.path(), &error));
        QVERIFY2(error.contains("not a run folder") && error.contains("spec.json"),
                 qPrintable(error));
        for (int k = 0; k < ui::CompareView::kMaxRuns; ++k) {
            const QString dir = tmp.filePath(QString("run%1").arg(k));
            QCOMPARE(writeRun(dir, 2.0 + k, 0.5, 0.01, 1), QString());
            QVERIFY2(view.addRun(dir, &error), qPrintable(error));
        }
        const QString fifth = tmp.filePath("run4");
        QCOMPARE(writeRun(fifth, 2.0, 0.5, 0.01, 1), QString());
        QVERIFY(!view.addRun(fifth, &error));
        QVERIFY2(error.contains("Four runs"), qPrintable(error));
        // Adding a run shown already rereads it instead of adding it twice.
        QVERIFY(view.addRun(tmp.filePath("run1"), &error));
        QCOMPARE(view.runCount(), ui::CompareView::kMaxRuns);
        QVERIFY(!view.findChild<QToolButton*>("add run")->isEnabled());
    }

    // Every key "Compare with…" offers has values, and every value the engine accepts.
    void twinPickerOffersTheKeys() {
        const QStringList keys = ui::CompareView::twinKeys();
        QCOMPARE(keys.size(), 8);
        QCOMPARE(std::size_t(keys.size()), train::twinKeys().size());
        for (const QString& k : keys) {
            QVERIFY(!ui::CompareView::twinValues(k).isEmpty());
            QVERIFY(ui::CompareView::twinKeyLabel(k) != k);
            for (const QString& v : ui::CompareView::twinValues(k)) {
                auto change = train::checkTwin(k.toStdString(), v.toStdString());
                QVERIFY2(change.ok(), change.status().message().c_str());
            }
        }
    }
};

QTEST_MAIN(TestCompareView)
#include "tst_compare_view.moc"
