// The analysis views' tests start alike: a window (offscreen, no dialogs, test-mode folders)
// that has trained LeNet-5 on the gratings set with the CPU backend; and at the end the run
// folders it autosaved are removed. The time budgets of the UI suites, for normal and checking
// builds.
#pragma once

#include "main_window.h"

#include <QComboBox>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QSettings>
#include <QSpinBox>
#include <QStandardPaths>
#include <QTimer>
#include <QtTest>
#include <algorithm>
#include <vector>

namespace convscope::testing {

// The event loop's latency budget in ms; a checking build (ASan, TSan: 5-15x slower, every
// memory access instrumented) checks only that the loop runs, not how fast.
inline qint64 latencyBudget(qint64 ms) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    (void)ms;
    return 60000;
#else
    return ms;
#endif
}

// How long a test waits for work to get done (a QTRY timeout), in ms: six times as long in a
// checking build, the factor ctest's time limits get there (tests/CMakeLists.txt).
inline int waitBudget(int ms) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    return ms * 6;
#else
    return ms;
#endif
}

// Test-mode folders of this process alone: runs and settings go to ~/.qttest/…/<suite>-<pid>, so
// the user's are untouched and two copies of one suite running at once neither share nor delete
// each other's runs. No dialogs (they would wait for a click).
inline void useTestFolders() {
    qputenv("CONVSCOPE_NO_DIALOGS", "1");
    QStandardPaths::setTestModeEnabled(true);
    const QString suffix = "-" + QString::number(QCoreApplication::applicationPid());
    if (!QCoreApplication::applicationName().endsWith(suffix))
        QCoreApplication::setApplicationName(QCoreApplication::applicationName() + suffix);
}

// Removes what useTestFolders' folders hold: the autosaved runs and the settings.
inline void removeTestFolders() {
    QDir(QStandardPaths::writableLocation(QStandardPaths::AppDataLocation)).removeRecursively();
    QFile::remove(QSettings().fileName());
}

// The window after `epochs` epochs, or null when training did not finish in `timeoutMs`
// (waitBudget of it).
inline ui::MainWindow* trainedWindow(int epochs, QSize size = {1280, 800}, int timeoutMs = 300000) {
    useTestFolders();
    auto* w = new ui::MainWindow;
    w->resize(size);
    w->show();
    w->findChild<QComboBox*>("backend")->setCurrentText("cpu");
    w->datasetBox()->setCurrentText("gratings");
    w->findChild<QSpinBox*>("epochs")->setValue(epochs);
    w->trainAction()->trigger();
    QElapsedTimer t;
    t.start();
    while (!(w->accuracyPoints() == epochs && !w->session().busy()) &&
           t.elapsed() < waitBudget(timeoutMs))
        QTest::qWait(20);
    if (w->accuracyPoints() != epochs || w->session().busy()) {
        delete w;
        return nullptr;
    }
    return w;
}

// The event loop's latency while something else works: the gaps between ticks of a 10 ms timer
// from construction to stop(); the project's rule is p99 < 50 ms.
class EventLoopProbe {
public:
    EventLoopProbe() {
        m_tick.start();
        m_timer.callOnTimeout([this] { m_gaps.push_back(m_tick.restart()); });
        m_timer.start(10);
    }
    void stop() { m_timer.stop(); }
    qint64 p99() {
        std::sort(m_gaps.begin(), m_gaps.end());
        return m_gaps.empty() ? 0 : m_gaps[m_gaps.size() * 99 / 100];
    }
    int ticks() const { return int(m_gaps.size()); }

private:
    QTimer m_timer;
    QElapsedTimer m_tick;
    std::vector<qint64> m_gaps;
};

// Deletes the window and the run folders of the test (test-mode AppDataLocation).
inline void closeTrainedWindow(ui::MainWindow* w) {
    delete w;
    removeTestFolders();
}

} // namespace convscope::testing
