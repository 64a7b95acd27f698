#!/usr/bin/env python3
"""tsan_reports.py LOG...: the ThreadSanitizer reports that are convscope's to fix.

Debian's Qt 6 is not built with ThreadSanitizer and its QMutex waits on futexes, which TSan cannot
see: every queued signal and every implicitly shared container handed across threads through Qt's
event queue shows up as a race inside Qt (its allocator freeing an event another thread made, a
memcpy of a QArrayData, a QWaitCondition's mutex). A report is counted when, in either of its two
access stacks, the first frame outside the sanitizer runtime is convscope's own code (a source file
under the repository) rather than Qt's, GLib's or the standard library's, unless it is Qt handing
a queued call to another thread:
- an access made by Qt building or freeing the call (invokeMethod, postEvent, a QMetaCallEvent,
  the functor's slot object) before any of convscope's frames, e.g. invokeMethod's thread freeing
  the functor after the receiving thread ran it (Qt's atomic reference count, uninstrumented);
- a race on memory Qt allocated for the call (QMetaType::create: a queued signal's argument,
  copied by its copy constructor in the sending thread and read by the slot in the receiving one).
Prints the reports counted; exits 1 if any.
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


# The racing memory was allocated by Qt for a queued call: a signal's arguments copied for the
# receiving thread (QMetaType::create in the sending one, freed with the event after the slot ran).
HANDOFF_ALLOCATION = re.compile(r"QMetaType::create")


def before_own_code(stack):
    """The frames above the first one in convscope's source (sanitizer runtime ones left out)."""
    out = []
    for line in stack:
        if ROOT in line:
            break
        if not any(r in line for r in RUNTIME):
            out.append(line)
    return out


def allocation_stack(report):
    lines, inside = [], False
    for line in report.splitlines():
        if re.match(r"\s+Location is heap block", line):
            inside = True
        elif inside and re.match(r"\s+#\d+ ", line):
            lines.append(line)
        elif inside and lines:
            break
    return lines


def is_handoff(report, access):
    if any(HANDOFF.search(line) for s in access for line in before_own_code(s)):
        return True
    return bool(HANDOFF_ALLOCATION.search(first_non_runtime(allocation_stack(report))))


def classify(text):
    """(the reports in convscope's code, the number of reports) of one log's text."""
    counted, total = [], 0
    for report in text.split("WARNING: ThreadSanitizer")[1:]:
        total += 1
        access = stacks(report)
        tops = [first_non_runtime(s) for s in access]
        handoff = any(HANDOFF.search(t) for t in tops) or is_handoff(report, access)
        if not handoff and any(ROOT in t for t in tops):
            counted.append(report.split("SUMMARY:")[0])
    return counted, total


def main(paths):
    counted, total = [], 0
    for path in paths:
        c, t = classify(open(path, errors="replace").read())
        counted += c
        total += t
    for r in counted:
        print("WARNING: ThreadSanitizer" + r)
    print(f"tsan_reports: {len(counted)} of {total} reports are in convscope's code "
          f"(the rest are inside Qt or GLib, whose synchronisation TSan cannot see)")
    return 1 if counted else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
