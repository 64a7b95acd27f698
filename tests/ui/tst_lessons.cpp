// Lessons, twins and the time scrubber in the real window (offscreen, CPU backend, the gratings
// set): a lesson played start to end stops exactly where its steps say and plays the same twice;
// "Compare with…" trains a twin pair that grows live in the Compare tab, the same twice; the
// scrubber rewinds the filters to a kept step and End brings the live ones back. Lesson files
// that are not lessons are refused with the file, the step and the field named.
#include "build_view.h"
#include "compare_view.h"
#include "filter_view.h"
#include "lesson.h"
#include "lesson_player.h"
#include "train_view.h"
#include "trained_window.h"
#include "twin_session.h"

#include <QFile>
#include <QLabel>
#include <QPushButton>
#include <QSlider>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QtTest>

using namespace convscope;
using testing::EventLoopProbe;

namespace {

ui::MainWindow* newWindow() {
    testing::useTestFolders();
    auto* w = new ui::MainWindow;
    w->resize(1280, 860);
    w->show();
    w->activateWindow(); // the keys (Page Down, Page Up, End) are window shortcuts
    if (!QTest::qWaitForWindowActive(w))
        qWarning("the window did not become active");
    return w;
}

bool waitFor(const std::function<bool()>& done, int ms) {
    QElapsedTimer t;
    t.start();
    while (!done() && t.elapsed() < ms)
        QTest::qWait(20);
    return done();
}

const char* kLesson = R"({
  "format": "convscope-lesson-1",
  "title": "Test lesson",
  "lecture": "004",
  "network": "lenet5",
  "dataset": "gratings",
  "settings": {"optimizer": "momentum", "lr": 0.02, "batch": 64, "epochs": 2, "seed": 7,
               "backend": "cpu"},
  "tab": "build",
  "steps": [
    {"do": "say", "text": "Hello"},
    {"do": "train", "to_epoch": 1, "text": "One epoch"},
    {"do": "show", "tab": "filters"},
    {"do": "pause", "prompt": "Which filter detects vertical edges?"},
    {"do": "reveal", "text": "The third"},
    {"do": "train", "to_epoch": 2}
  ]
})";

// The test lesson as a file in `dir`; its path (empty when it could not be written).
QString writeLesson(const QTemporaryDir& dir) {
    const QString path = dir.filePath("lesson.json");
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly) || f.write(kLesson) < 0)
        return {};
    return path;
}

struct Played {
    QVector<double> losses;
    qint64 stepAfterFirstTrain = 0, lastStep = 0;
};

// Plays the lesson in `path` to its end in a new window; what the window trained.
Played playLesson(const QString& path) {
    Played out;
    std::unique_ptr<ui::MainWindow> w(newWindow());
    if (!w->openLesson(path)) {
        qWarning() << w->statusLine()->text();
        return out;
    }
    ui::LessonPlayer* p = w->lessonPlayer();
    if (!p->isVisible() || w->tabs()->currentIndex() != ui::MainWindow::BuildTab ||
        p->current() != -1)
        return out;
    for (int i = 0; i < p->lesson().steps.size(); ++i) {
        if (!waitFor([&] { return !p->working() && p->nextButton()->isEnabled(); }, 120000))
            return out;
        QTest::keyClick(QApplication::focusWidget() ? QApplication::focusWidget() : w.get(),
                        Qt::Key_PageDown);
        if (p->current() != i)
            return out;
        if (i == 1) {
            if (!waitFor([&] { return !p->working() && !w->session().busy(); }, 120000))
                return out;
            out.stepAfterFirstTrain = w->lastStep();
        }
        if (i == 2 && w->tabs()->currentIndex() != ui::MainWindow::FiltersTab)
            return out;
        if (i == 3 && !p->shownText().contains("vertical edges"))
            return out;
    }
    waitFor([&] { return !p->working() && !w->session().busy(); }, 120000);
    out.lastStep = w->lastStep();
    out.losses = w->trainView()->lossValues();
    testing::closeTrainedWindow(w.release());
    return out;
}

} // namespace

class TestLessons : public QObject {
    Q_OBJECT

private slots:
    void cleanupTestCase() { testing::removeTestFolders(); }
    void lessonPlaysTheSameTwice() {
        QTemporaryDir tmp;
        QVERIFY(tmp.isValid());
        const QString path = writeLesson(tmp);
        QVERIFY(!path.isEmpty());
        const Played a = playLesson(path);
        // gratings: 6,000 training images, batch 64 → 94 steps an epoch; the first train step
        // stops exactly at the end of epoch 1.
        QCOMPARE(a.stepAfterFirstTrain, qint64(94));
        QCOMPARE(a.lastStep, qint64(188));
        QVERIFY(a.losses.size() >= 94);
        const Played b = playLesson(path);
        QCOMPARE(b.lastStep, a.lastStep);
        QCOMPARE(b.losses, a.losses); // same seed, same backend: the same curve, bit for bit
    }

    void backShowsTheStepAgain() {
        QTemporaryDir tmp;
        QVERIFY(tmp.isValid());
        const QString path = writeLesson(tmp);
        QVERIFY(!path.isEmpty());
        std::unique_ptr<ui::MainWindow> w(newWindow());
        QVERIFY(w->openLesson(path));
        ui::LessonPlayer* p = w->lessonPlayer();
        QVERIFY(!p->backButton()->isEnabled());
        p->next(); // say
        QCOMPARE(p->shownText(), QString("Hello"));
        QVERIFY(p->backButton()->isEnabled());
        QVERIFY(QApplication::focusWidget());
        QTest::keyClick(QApplication::focusWidget(), Qt::Key_PageUp); // a combo box pages too
        QVERIFY(!p->backButton()->isEnabled());
        QCOMPARE(p->current(), -1);
        QVERIFY(!w->session().started()); // Back trains nothing
        // Presenter mode: the step's text in large type.
        const qreal normal = p->findChild<QLabel*>("lesson text")->font().pointSizeF();
        w->setPresenterMode(true);
        QVERIFY(p->findChild<QLabel*>("lesson text")->font().pointSizeF() > 1.4 * normal);
        w->setPresenterMode(false);
        testing::closeTrainedWindow(w.release());
    }

    void badLessonsAreRefused() {
        QString error;
        auto parse = [&](const char* json) { return ui::Lesson::parse(json, "my.json", &error); };
        parse("{");
        QVERIFY2(error.startsWith("my.json: not JSON"), qPrintable(error));
        parse(R"({"title": "t", "network": "lenet5", "steps": [{"do": "dance"}]})");
        QVERIFY2(error.contains("step 1") && error.contains("\"do\" must be one of"),
                 qPrintable(error));
        parse(R"({"title": "t", "network": "lenet5", "settings": {"epochs": 2},
                  "steps": [{"do": "say"}, {"do": "train", "to_epoch": 3}]})");
        QVERIFY2(error.contains("step 2") && error.contains("to_epoch") &&
                     error.contains("Raise \"epochs\""),
                 qPrintable(error));
        parse(R"({"title": "t", "network": "lenet5", "steps": [{"do": "show", "tab": "nope"}]})");
        QVERIFY2(error.contains("unknown tab \"nope\"") && error.contains("receptive-field"),
                 qPrintable(error));
        parse(R"({"title": "t", "network": 5, "steps": [{"do": "say"}]})");
        QVERIFY2(error.contains("\"network\""), qPrintable(error));
        parse(R"({"title": "t", "network": "lenet5", "settings": {"lr": -1},
                  "steps": [{"do": "say"}]})");
        QVERIFY2(error.contains("\"lr\""), qPrintable(error));
        parse(R"({"title": "t", "network": "lenet5", "steps": [{"do": "twin", "change": "bn"}]})");
        QVERIFY2(error.contains("bn=off"), qPrintable(error));
        parse(R"({"title": "t", "network": "lenet5", "steps": [], "colour": 1})");
        QVERIFY2(error.contains("unknown field \"colour\""), qPrintable(error));
        // The window says so too, and keeps what it had.
        std::unique_ptr<ui::MainWindow> w(newWindow());
        QTemporaryDir tmp;
        const QString path = tmp.filePath("bad.json");
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(R"({"title": "t", "network": "no-such-net", "steps": [{"do": "say"}]})");
        f.close();
        const QByteArray before = w->buildView()->specJson();
        QVERIFY(!w->openLesson(path));
        QVERIFY2(w->statusLine()->text().contains("no preset \"no-such-net\""),
                 qPrintable(w->statusLine()->text()));
        QCOMPARE(w->buildView()->specJson(), before);
        QVERIFY(!w->lessonPlayer()->isVisible());
        testing::closeTrainedWindow(w.release());
    }

    // The lessons shipped (compiled in) all read, name presets and datasets the window has,
    // and the window lists them under File → Lessons.
    void shippedLessonsRead() {
        const QStringList files = QDir(":/lessons").entryList({"*.json"});
        QCOMPARE(files.size(), 5);
        std::unique_ptr<ui::MainWindow> w(newWindow());
        for (const QString& name : files) {
            QString error;
            const ui::Lesson l = ui::Lesson::load(":/lessons/" + name, &error);
            QVERIFY2(error.isEmpty(), qPrintable(error));
            QVERIFY(!l.steps.isEmpty());
            QVERIFY2(w->openLesson(":/lessons/" + name), qPrintable(w->statusLine()->text()));
            QCOMPARE(w->lessonPlayer()->lesson().title, l.title);
            // Every twin step's change can be made to the lesson's network.
            ui::TrainRequest r;
            r.preset = l.preset;
            r.spec = l.spec;
            r.optimizer = l.optimizer;
            r.lr = l.lr;
            r.batch = l.batch;
            for (const ui::LessonStep& s : l.steps)
                if (s.action == ui::LessonStep::Action::Twin) {
                    const QString why = ui::TwinSession::check(r, s.key, s.value);
                    QVERIFY2(why.isEmpty(), qPrintable(name + ": " + why));
                }
        }
        testing::closeTrainedWindow(w.release());
    }

    // Compare with…: the network and its twin train together, both curves in the Compare tab
    // while they grow, the window responsive; twice the same.
    void twinPairTrainsTogether() {
        QVector<double> firstA, firstB;
        for (int round = 0; round < 2; ++round) {
            std::unique_ptr<ui::MainWindow> w(newWindow());
            w->findChild<QComboBox*>("backend")->setCurrentText("cpu");
            w->datasetBox()->setCurrentText("gratings");
            w->findChild<QSpinBox*>("epochs")->setValue(1);
            QSignalSpy done(w.get(), &ui::MainWindow::twinsFinished);
            EventLoopProbe probe;
            w->trainTwin("bn", "on");
            QCOMPARE(w->tabs()->currentWidget(), static_cast<QWidget*>(w->compareView()));
            QVERIFY(w->compareView()->twinButton()->text().contains("Stop"));
            QVERIFY(done.wait(180000));
            probe.stop();
            QCOMPARE(done.first().first().toString(), QString());
            ui::CompareView* c = w->compareView();
            QCOMPARE(c->runCount(), 2);
            QCOMPARE(c->run(1).twinChange, QString("bn=on")); // from the folder's twin.json
            QVERIFY2(c->runLabel(1).contains("bn-on"), qPrintable(c->runLabel(1)));
            for (int k = 0; k < 2; ++k) {
                QCOMPARE(c->run(k).testAccuracy.size(), 1);
                QCOMPARE(c->run(k).steps, qint64(94)); // 6,000 images, batch 64
                QVERIFY(c->run(k).filterCount == 6);
                QVERIFY(!c->run(k).gradientNorms.isEmpty());
            }
            // The twin has batch-norm layers the first run lacks.
            QVERIFY(c->run(1).layerTypes.contains("batch_norm"));
            QVERIFY(!c->run(0).layerTypes.contains("batch_norm"));
            QVERIFY2(probe.p99() < testing::latencyBudget(50),
                     qPrintable(QString("p99 %1 ms").arg(probe.p99())));
            QVector<double> a, b;
            for (const QPointF& p : c->run(0).loss)
                a << p.y();
            for (const QPointF& p : c->run(1).loss)
                b << p.y();
            QVERIFY(a != b);
            // File → Export network as ONNX on a run the window trained.
            if (round == 0) {
                QTemporaryDir tmp;
                QString summary, error;
                QVERIFY2(ui::TrainingSession::exportOnnx(c->run(1).dir, tmp.filePath("b.onnx"),
                                                         &summary, &error),
                         qPrintable(error));
                QVERIFY2(summary.contains("opset 13"), qPrintable(summary));
                QVERIFY(QFileInfo(tmp.filePath("b.onnx")).size() > 100000);
                QVERIFY(!ui::TrainingSession::exportOnnx(tmp.path(), tmp.filePath("x.onnx"),
                                                         &summary, &error));
                QVERIFY(!error.isEmpty());
                QVERIFY(!QFile::exists(tmp.filePath("x.onnx")));
            }
            if (round == 0) {
                firstA = a;
                firstB = b;
            } else {
                QCOMPARE(a, firstA);
                QCOMPARE(b, firstB);
            }
            testing::closeTrainedWindow(w.release());
        }
    }

    // The scrubber: drag it back, the filters are the kept step's; End brings the live back.
    void scrubberRewindsAndReturns() {
        ui::MainWindow* w = testing::trainedWindow(2);
        QVERIFY(w);
        w->activateWindow();
        QVERIFY(QTest::qWaitForWindowActive(w));
        QSlider* s = w->scrubber();
        QVERIFY(s->isVisible());
        QVERIFY(s->maximum() >= 2);
        const QVector<float> live = w->filterView()->weights();
        s->setValue(0);
        QVERIFY(waitFor([&] { return w->rewoundTo() >= 0; }, 20000));
        QVERIFY(w->rewoundTo() < w->lastStep());
        QVERIFY(waitFor([&] { return w->filterView()->weights() != live; }, 20000));
        QTest::keyClick(w, Qt::Key_End);
        QVERIFY(waitFor([&] { return w->rewoundTo() < 0; }, 20000));
        QVERIFY(waitFor([&] { return w->filterView()->weights() == live; }, 20000));
        QCOMPARE(s->value(), s->maximum());
        testing::closeTrainedWindow(w);
    }
};

QTEST_MAIN(TestLessons)
#include "tst_lessons.moc"
