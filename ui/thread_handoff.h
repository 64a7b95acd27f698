// Makes a hand-off through Qt's event queue visible to ThreadSanitizer. Qt orders what one thread
// posts (a queued signal, invokeMethod) before the receiving thread runs it, but through futexes
// and atomics inside Debian's uninstrumented Qt, which TSan cannot see: the receiver's reads of
// what the sender wrote (a snapshot's curves) then look like races. publish() before the post and
// received() where it arrives draw that edge for TSan. Outside a TSan build both are empty.
#pragma once

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

} // namespace convscope::ui::handoff
