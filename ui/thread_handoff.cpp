// The mailbox behind handoff::queue (see thread_handoff.h).
#include "thread_handoff.h"

#include <QMetaObject>
#include <QPointer>
#include <QThread>
#include <deque>
#include <mutex>

namespace convscope::ui::handoff::detail {

namespace {

struct Item {
    QPointer<QObject> receiver;
    QThread* thread;
    std::unique_ptr<Call> call;
};

struct Mailbox {
    std::mutex mutex;
    std::deque<Item> items; // in the order posted
};

Mailbox& mailbox() {
    static auto* box = new Mailbox; // never destroyed: calls may still be queued at exit
    return *box;
}

// Runs in a receiver's thread, once per event posted to it: the oldest call for this thread.
// Qt drops the events of a destroyed receiver, so a call whose receiver is gone has no event of
// its own: it is discarded here and the next one runs.
void runOne() {
    Mailbox& box = mailbox();
    QThread* here = QThread::currentThread();
    for (;;) {
        Item item;
        {
            std::lock_guard lock(box.mutex);
            auto it = box.items.begin();
            while (it != box.items.end() && it->thread != here)
                ++it;
            if (it == box.items.end())
                return;
            item = std::move(*it);
            box.items.erase(it);
        }
        if (item.receiver) {
            item.call->run();
            return;
        }
    }
}

} // namespace

void post(QObject* receiver, std::unique_ptr<Call> call) {
    if (!receiver) {
        qWarning("handoff::queue: no receiver; the call is dropped");
        return;
    }
    Mailbox& box = mailbox();
    // Posted under the lock: the calls of one thread stay in the order of their events.
    std::lock_guard lock(box.mutex);
    box.items.push_back({receiver, receiver->thread(), std::move(call)});
    QMetaObject::invokeMethod(receiver, &runOne, Qt::QueuedConnection);
}

} // namespace convscope::ui::handoff::detail
