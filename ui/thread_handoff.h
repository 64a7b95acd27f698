// Hand-offs between threads that ThreadSanitizer can see. Qt orders what one thread posts (a
// queued signal, invokeMethod) before the receiving thread runs it, but through futexes and
// atomics inside Debian's uninstrumented Qt, which TSan cannot see: the receiver's reads of what
// the sender wrote then look like races.
// - queue(receiver, f) runs f in the receiver's thread. f (its captures: the results it carries)
//   travels through a mutex-guarded mailbox, which TSan sees; the event Qt posts carries nothing.
//   (Publishing before invokeMethod is not enough: Qt's inline templates copy f's captures into
//   its slot object after that, in our instrumented code.)
// - publish() before a queued signal and received() where it arrives draw the same edge for a
//   signal's arguments (the training snapshot). Outside a TSan build both are empty.
#pragma once

#include <QObject>
#include <memory>
#include <type_traits>
#include <utility>

#if defined(__SANITIZE_THREAD__)
#include <sanitizer/tsan_interface.h>
#endif

namespace convscope::ui::handoff {

inline char token; // one channel for every signal hand-off: coarse, never misses an edge

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

namespace detail {
struct Call {
    virtual ~Call() = default;
    virtual void run() = 0;
};
template <class F>
struct CallOf final : Call {
    F f;
    explicit CallOf(F&& fn) : f(std::move(fn)) {}
    void run() override { f(); }
};
// Puts the call in the mailbox and posts the event that runs it in receiver's thread, in the
// order posted; dropped (with a warning) when there is no receiver, dropped quietly when the
// receiver is destroyed before it runs.
void post(QObject* receiver, std::unique_ptr<Call> call);
} // namespace detail

// Runs f in `receiver`'s thread (a queued call), with the hand-off visible to TSan: what this
// thread wrote before (f's captures included) happens before f runs.
template <class F>
void queue(QObject* receiver, F&& f) {
    using Fn = std::decay_t<F>;
    detail::post(receiver, std::make_unique<detail::CallOf<Fn>>(Fn(std::forward<F>(f))));
}

} // namespace convscope::ui::handoff
