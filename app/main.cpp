// convscope: the desktop window (LeNet-5 on Fashion-MNIST by default). Options set up a lecture
// from the command line: convscope --preset resnet20 --dataset cifar10 --data DIR --presenter
// --train, or open a network (NetSpec JSON) or a run folder.
#include "build_view.h"
#include "compare_view.h"
#include "lesson.h"
#include "lesson_player.h"
#include "main_window.h"
#include "saliency_view.h"

#include <QAction>
#include <QApplication>
#include <QComboBox>
#include <QCommandLineParser>
#include <QCoreApplication>
#include <QFileInfo>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QSpinBox>
#include <QTabWidget>
#include <QTimer>
#include <cstdio>
#include <string>

namespace {

// No exception may end the program from an event handler or a slot (Qt would abort, and what
// the user had not saved would be lost): one that gets here is shown, and the window goes on.
class Application : public QApplication {
public:
    using QApplication::QApplication;
    bool notify(QObject* receiver, QEvent* event) override {
        try {
            return QApplication::notify(receiver, event);
        } catch (const std::exception& e) {
            report(QString::fromUtf8(e.what()));
        } catch (...) {
            report(QStringLiteral("an unknown exception"));
        }
        return false;
    }

private:
    static void report(const QString& what) {
        std::fprintf(stderr, "convscope: internal error: %s\n", qPrintable(what));
        QTimer::singleShot(0, [what] {
            if (!qEnvironmentVariableIsSet("CONVSCOPE_NO_DIALOGS"))
                QMessageBox::critical(nullptr, QStringLiteral("convscope"),
                                      QStringLiteral("Something went wrong inside convscope: %1"
                                                     "\n\nThe window goes on. Save your network "
                                                     "(Ctrl+S) to be safe, and please report "
                                                     "this.")
                                          .arg(what));
        });
    }
};

} // namespace

int main(int argc, char** argv) {
    QCommandLineParser cli;
    cli.setApplicationDescription(
        "convscope: build convolutional networks, train them live, watch what they learn.");
    cli.addHelpOption();
    cli.addPositionalArgument("file", "A network (NetSpec .json) or a run folder to open.",
                              "[file]");
    const QCommandLineOption preset("preset", "The network preset (default lenet5).", "name");
    const QCommandLineOption dataset(
        "dataset", "fashion-mnist (default), cifar10, folder, gratings, blobs, spirals.", "name");
    const QCommandLineOption data("data", "The dataset's folder (cifar10, folder).", "dir");
    const QCommandLineOption backend("backend", "auto (default), vulkan or cpu.", "name");
    const QCommandLineOption epochs("epochs", "Epochs to train.", "n");
    const QCommandLineOption presenter("presenter", "Start in presenter mode (F11).");
    const QCommandLineOption train("train", "Start training at once.");
    const QCommandLineOption view(
        "view",
        "The tab to show: build, train (default), filters, gradients, saliency, landscape, "
        "receptive-field, compare.",
        "tab");
    const QCommandLineOption compare(
        "compare", "Show this run folder in the Compare tab (repeat it for up to four runs).",
        "run");
    const QCommandLineOption lesson("lesson", "Open a lesson (JSON) and show its player.", "file");
    const QCommandLineOption lessonSteps(
        "lesson-steps", "With --lesson: play its first n steps at once (each after the last).",
        "n");
    const QCommandLineOption image("image",
                                   "Saliency: the test image to explain and attack at once.", "n");
    const QCommandLineOption screenshot(
        "screenshot", "Save a picture of the window after --after seconds, then quit.", "png");
    const QCommandLineOption after("after", "Seconds before --screenshot (default 5).", "s", "5");
    const QCommandLineOption autosave(
        "autosave",
        "Save the run being trained every s seconds mid-epoch too (default 60; 0: at epoch "
        "ends only). After a crash or kill the next start offers to recover it.",
        "s", "60");
    cli.addOptions({preset, dataset, data, backend, epochs, presenter, train, view, image,
                    screenshot, after, autosave, lesson, lessonSteps, compare});
    cli.addVersionOption();
    // --help and --version print and exit without a display (a QApplication without one aborts).
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--help" || a == "-h" || a == "--help-all" || a == "-?" || a == "--version" ||
            a == "-v") {
            QCoreApplication text(argc, argv);
            QCoreApplication::setApplicationName("convscope");
            QCoreApplication::setApplicationVersion("0.1.0");
            cli.process(text); // prints and exits
            return 0;
        }
    }
    // No display: say what to do instead of Qt's abort.
    if (qEnvironmentVariableIsEmpty("DISPLAY") && qEnvironmentVariableIsEmpty("WAYLAND_DISPLAY") &&
        qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) {
        std::fprintf(
            stderr, "convscope: there is no display (DISPLAY and WAYLAND_DISPLAY are not set).\n"
                    "Train without a window with convscope-cli train (scripts/run does that "
                    "here), or run the window under xvfb-run or with QT_QPA_PLATFORM=offscreen.\n");
        return 2;
    }
    Application app(argc, argv);
    QApplication::setApplicationName("convscope");
    QApplication::setOrganizationName("convscope");
    QApplication::setApplicationVersion("0.1.0");
    cli.process(app);

    convscope::ui::MainWindow window;
    auto pick = [](QComboBox* box, const QString& value, const char* what) {
        if (box->findText(value) < 0) {
            std::fprintf(stderr, "convscope: unknown %s \"%s\"\n", what, qPrintable(value));
            return false;
        }
        box->setCurrentText(value);
        return true;
    };
    // A network or run to open comes first: options then override what it set (a run restores
    // its dataset, epochs and optimizer; --epochs 10 asks for more).
    const QStringList files = cli.positionalArguments();
    if (!files.isEmpty()) {
        QString error;
        if (QFileInfo(files.first()).isDir()
                ? !window.openRun(files.first())
                : !window.buildView()->openFile(files.first(), &error)) {
            std::fprintf(stderr, "convscope: %s\n",
                         qPrintable(error.isEmpty() ? files.first() : error));
            return 2;
        }
        if (cli.isSet(preset))
            std::fprintf(stderr, "convscope: --preset ignored: %s has the network\n",
                         qPrintable(files.first()));
    } else if (cli.isSet(preset) && !pick(window.presetBox(), cli.value(preset), "preset")) {
        return 2;
    }
    if (cli.isSet(dataset) && !pick(window.datasetBox(), cli.value(dataset), "dataset"))
        return 2;
    if (cli.isSet(data))
        window.findChild<QLineEdit*>("data folder")->setText(cli.value(data));
    if (cli.isSet(backend) &&
        !pick(window.findChild<QComboBox*>("backend"), cli.value(backend), "backend"))
        return 2;
    if (cli.isSet(epochs))
        window.findChild<QSpinBox*>("epochs")->setValue(cli.value(epochs).toInt());
    if (cli.isSet(view)) {
        const QStringList tabs = convscope::ui::Lesson::tabNames();
        if (!tabs.contains(cli.value(view))) {
            std::fprintf(stderr, "convscope: unknown view \"%s\"; use %s\n",
                         qPrintable(cli.value(view)), qPrintable(tabs.join(", ")));
            return 2;
        }
        window.tabs()->setCurrentIndex(int(tabs.indexOf(cli.value(view))));
    }
    {
        bool ok = false;
        const double every = cli.value(autosave).toDouble(&ok);
        if (!ok || !(every >= 0) || every > 86400) {
            std::fprintf(stderr,
                         "convscope: --autosave needs seconds from 0 to 86400, not \"%s\"\n",
                         qPrintable(cli.value(autosave)));
            return 2;
        }
        window.setAutosaveSeconds(every);
    }
    window.show();
    // A run whose training was killed: offer it back (not when told what to do at once).
    if (!cli.isSet(train) && !cli.isSet(screenshot))
        QTimer::singleShot(0, &window, &convscope::ui::MainWindow::offerRecovery);
    if (cli.isSet(presenter))
        window.setPresenterMode(true);
    if (cli.isSet(image)) {
        bool ok = false;
        const int index = cli.value(image).toInt(&ok);
        if (!ok || index < 0) {
            std::fprintf(stderr, "convscope: --image needs a test image index (0, 1, ...)\n");
            return 2;
        }
        window.saliencyView()->selectImage(index);
    }
    for (const QString& run : cli.values(compare)) {
        QString error;
        if (!window.compareView()->addRun(run, &error)) {
            std::fprintf(stderr, "convscope: --compare %s: %s\n", qPrintable(run),
                         qPrintable(error));
            return 2;
        }
        window.tabs()->setCurrentWidget(window.compareView());
    }
    if (cli.isSet(lesson) && !window.openLesson(cli.value(lesson), true)) {
        std::fprintf(stderr, "convscope: %s\n", qPrintable(window.statusLine()->text()));
        return 2;
    }
    if (cli.isSet(lessonSteps)) {
        bool ok = false;
        const int n = cli.value(lessonSteps).toInt(&ok);
        if (!cli.isSet(lesson) || !ok || n < 0) {
            std::fprintf(stderr, "convscope: --lesson-steps needs --lesson and a count\n");
            return 2;
        }
        // Next, each time the step before has finished (training takes a while).
        auto* timer = new QTimer(&window);
        QObject::connect(timer, &QTimer::timeout, &window, [&window, timer, n] {
            auto* player = window.lessonPlayer();
            if (player->current() + 1 >= n ||
                player->current() + 1 >= player->lesson().steps.size())
                return timer->stop();
            if (!player->working())
                player->next();
        });
        timer->start(200);
    }
    if (cli.isSet(train))
        QTimer::singleShot(0, &window, [&window] { window.trainAction()->trigger(); });
    if (cli.isSet(screenshot))
        QTimer::singleShot(int(cli.value(after).toDouble() * 1000), &window, [&] {
            const bool saved = window.grab().save(cli.value(screenshot), "PNG");
            std::fprintf(stderr, "convscope: %s %s\n", saved ? "saved" : "could not save",
                         qPrintable(cli.value(screenshot)));
            QApplication::exit(saved ? 0 : 1);
        });
    return QApplication::exec();
}
