#!/usr/bin/env python3
"""tsan_reports.py LOG...: the ThreadSanitizer reports that are convscope's to fix.

Debian's Qt 6 is not built with ThreadSanitizer and its QMutex waits on futexes, which TSan cannot
see: every queued signal and every implicitly shared container handed across threads through Qt's
event queue shows up as a race inside Qt (its allocator freeing an event another thread made, a
memcpy of a QArrayData, a QWaitCondition's mutex). A report is counted when, in either of its two
access stacks, the first frame outside the sanitizer runtime is convscope's own code (a source file
under the repository) rather than Qt's, GLib's or the standard library's, and neither access is Qt
building a queued call (invokeMethod, postEvent) for another thread. Prints those reports; exits 1 if any.
"""
import os
import re
import sys

# convscope's own source files (Qt's inline templates compiled into our binaries are not ours).
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + "/"
RUNTIME = ("libtsan.so", "tsan_")
# An access made while Qt hands a queued call across threads (the functor or event is built by
# invokeMethod/postEvent in one thread and run in another): ordered by Qt's event queue.
HANDOFF = re.compile(r"invokeMethod|QMetaCallEvent|QFunctorSlotObject|postEvent|QQueuedMetaCall")


def first_non_runtime(stack):
    for line in stack:
        if any(r in line for r in RUNTIME):
            continue
        return line
    return ""


def stacks(report):
    out, cur = [], None
    for line in report.splitlines():
        if re.match(r"\s+(Write|Read|Previous|Atomic)", line) or "atomic" in line.split(":")[0]:
            cur = []
            out.append(cur)
        elif re.match(r"\s+(Location|Thread|Mutex)", line):
            cur = None
        elif cur is not None and re.match(r"\s+#\d+ ", line):
            cur.append(line)
    return out


def main(paths):
    counted, total = [], 0
    for path in paths:
        text = open(path, errors="replace").read()
        for report in text.split("WARNING: ThreadSanitizer")[1:]:
            total += 1
            access = stacks(report)
            tops = [first_non_runtime(s) for s in access]
            handoff = any(HANDOFF.search(t) for t in tops)
            if not handoff and any(ROOT in t for t in tops):
                counted.append(report.split("SUMMARY:")[0])
    for r in counted:
        print("WARNING: ThreadSanitizer" + r)
    print(f"tsan_reports: {len(counted)} of {total} reports are in convscope's code "
          f"(the rest are inside Qt or GLib, whose synchronisation TSan cannot see)")
    return 1 if counted else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
