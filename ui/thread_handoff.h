// Makes a hand-off through Qt's event queue visible to ThreadSanitizer. Qt orders what one thread
// posts (a queued signal, invokeMethod) before the receiving thread runs it, but through futexes
// and atomics inside Debian's uninstrumented Qt, which TSan cannot see: the receiver's reads of
// what the sender wrote (a snapshot's curves) then look like races. publish() before the post and
// received() where it arrives draw that edge for TSan. Outside a TSan build both are empty.
#pragma once

#include <QMetaObject>
#include <utility>

#if defined(__SANITIZE_THREAD__)
#include <sanitizer/tsan_interface.h>
#endif

namespace convscope::ui::handoff {

inline char token; // one channel for every hand-off: coarse, never misses an edge Qt provides

inline void publish() {
#if defined(__SANITIZE_THREAD__)
    __tsan_release(&token);
#endif
}

inline void received() {
#if defined(__SANITIZE_THREAD__)
    __tsan_acquire(&token);
#endif
}

// Runs f in `receiver`'s thread (a queued call), with the hand-off marked: what this thread
// wrote before (f's captures, the results it carries) happens before f runs.
template <class F>
void queue(QObject* receiver, F&& f) {
    publish();
    QMetaObject::invokeMethod(
        receiver,
        [f = std::forward<F>(f)]() mutable {
            received();
            f();
        },
        Qt::QueuedConnection);
}

} // namespace convscope::ui::handoff
