// handoff::queue (ui/thread_handoff.h), the queued calls that carry every result from the engine
// and fitting threads to the window: each runs in its receiver's thread, in the order posted;
// a destroyed receiver's calls are dropped without taking another's turn; no receiver is a
// warning, not a crash. (Under ThreadSanitizer the mailbox is what makes the captures' hand-off
// visible: this suite is also part of the TSan runs.)
#include "thread_handoff.h"

#include <QThread>
#include <QtTest>
#include <atomic>
#include <memory>
#include <thread>
#include <vector>

using namespace convscope::ui;

class TestThreadHandoff : public QObject {
    Q_OBJECT

private slots:
    // 2,000 calls from another thread, each carrying a vector it filled: all run in the main
    // thread, in order, and see what the poster wrote.
    void callsRunInTheReceiversThreadInOrder() {
        QObject receiver;
        std::vector<int> seen;
        bool allInMain = true;
        std::thread poster([&] {
            for (int i = 0; i < 2000; ++i) {
                std::vector<int> payload(16, i);
                handoff::queue(&receiver, [&, i, payload = std::move(payload)] {
                    allInMain = allInMain && QThread::currentThread() == qApp->thread();
                    seen.push_back(payload[15] == i ? i : -1);
                });
            }
        });
        poster.join();
        QTRY_COMPARE(int(seen.size()), 2000);
        for (int i = 0; i < 2000; ++i)
            QCOMPARE(seen[i], i);
        QVERIFY(allInMain);
    }

    // A receiver destroyed with calls on their way: its calls never run, and every later call
    // to another receiver still runs, once.
    void aDestroyedReceiversCallsAreDropped() {
        auto doomed = std::make_unique<QObject>();
        QObject kept;
        std::atomic<int> doomedRuns{0};
        std::vector<int> keptRuns;
        handoff::queue(doomed.get(), [&] { ++doomedRuns; });
        handoff::queue(&kept, [&] { keptRuns.push_back(1); });
        handoff::queue(doomed.get(), [&] { ++doomedRuns; });
        handoff::queue(&kept, [&] { keptRuns.push_back(2); });
        doomed.reset(); // Qt drops its posted events with it
        handoff::queue(&kept, [&] { keptRuns.push_back(3); });
        QTRY_COMPARE(int(keptRuns.size()), 3);
        QCoreApplication::processEvents();
        QCOMPARE(keptRuns, (std::vector<int>{1, 2, 3}));
        QCOMPARE(doomedRuns.load(), 0);
    }

    // Receivers in two threads, calls to both interleaved: each call runs in its own receiver's
    // thread, in the order posted to that thread.
    void twoThreadsEachGetTheirOwnCalls() {
        QThread worker;
        worker.start();
        auto* remote = new QObject;
        remote->moveToThread(&worker);
        QObject local;
        std::vector<int> remoteSeen, localSeen; // each touched only by its own thread
        std::atomic<bool> wrongThread{false};
        for (int i = 0; i < 200; ++i) {
            handoff::queue(remote, [&, i] {
                wrongThread = wrongThread || QThread::currentThread() != &worker;
                remoteSeen.push_back(i);
            });
            handoff::queue(&local, [&, i] {
                wrongThread = wrongThread || QThread::currentThread() != qApp->thread();
                localSeen.push_back(i);
            });
        }
        std::atomic<bool> done{false};
        handoff::queue(remote, [&] { done = true; });
        QTRY_VERIFY(done.load());
        QTRY_COMPARE(int(localSeen.size()), 200);
        handoff::queue(remote, [remote] { delete remote; });
        worker.quit();
        QVERIFY(worker.wait(10000));
        QVERIFY(!wrongThread.load());
        for (int i = 0; i < 200; ++i) {
            QCOMPARE(remoteSeen[i], i);
            QCOMPARE(localSeen[i], i);
        }
    }

    void noReceiverIsAWarning() {
        QTest::ignoreMessage(QtWarningMsg, "handoff::queue: no receiver; the call is dropped");
        bool ran = false;
        handoff::queue(nullptr, [&] { ran = true; });
        QCoreApplication::processEvents();
        QVERIFY(!ran);
    }
};

QTEST_MAIN(TestThreadHandoff)
#include "tst_thread_handoff.moc"
