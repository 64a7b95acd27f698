#!/usr/bin/env python3
"""scripts/tsan_reports.py against reports shaped like the ones a TSan run of the UI suites writes:
Qt's queued hand-offs (a signal's argument copied in one thread and read by the slot in another, an
invokeMethod functor freed by the thread that posted it) are not counted; races between convscope's
own threads are, also when one side is a queued slot."""
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts"))
import tsan_reports  # noqa: E402

SRC = tsan_reports.ROOT  # convscope's source tree, as the classifier knows it
QT = "(libQt6Core.so.6+0x16cb35)"


def report(first, second, location=""):
    return ("WARNING: ThreadSanitizer: data race (pid=1)\n" + first + "\n" + second + "\n" +
            location + "\nSUMMARY: ThreadSanitizer: data race\n")


# A queued signal: the worker emits a snapshot, Qt copies it (QMetaType::create/construct) into
# the event, the GUI thread's slot reads the copy (found in tst_main_window: onSnapshot).
QUEUED_ARGUMENT = report(
    "  Read of size 4 at 0x7b54 by main thread:\n"
    f"    #0 convscope::ui::MainWindow::onSnapshot(TrainSnapshot const&) {SRC}ui/main_window.cpp:1035\n"
    f"    #1 QtPrivate::QSlotObject<...>::impl /usr/include/qt6/QtCore/qobjectdefs_impl.h:383\n"
    f"    #2 <null> <null> {QT}\n",
    "  Previous write of size 4 at 0x7b54 by thread T2:\n"
    f"    #0 convscope::ui::ConfusionResult::ConfusionResult(ConfusionResult const&) {SRC}ui/analysis_types.h:84\n"
    f"    #1 convscope::ui::TrainSnapshot::TrainSnapshot(TrainSnapshot const&) {SRC}ui/training_session.h:100\n"
    "    #2 QtPrivate::QMetaTypeForType<TrainSnapshot>::getCopyCtr() /usr/include/qt6/QtCore/qmetatype.h:2309\n"
    f"    #3 QMetaType::construct(void*, void const*) const <null> {QT}\n"
    f"    #4 TrainingWorker::train(long)::{{lambda()#1}}::operator()() const {SRC}ui/training_session.cpp:210\n",
    "  Location is heap block of size 608 at 0x7b54 allocated by thread T2:\n"
    "    #0 operator new(unsigned long) tsan_new_delete.cpp:64 (libtsan.so.2+0x87323)\n"
    f"    #1 QMetaType::create(void const*) const <null> {QT}\n"
    f"    #2 TrainingWorker::train(long)::{{lambda()#1}}::operator()() const {SRC}ui/training_session.cpp:210\n")

# invokeMethod's functor run by the GUI thread, then freed by the thread that posted it (Qt's
# atomic reference count; found in tst_main_window: GaborFitter).
FREED_FUNCTOR = report(
    "  Write of size 8 at 0x7b20 by thread T3:\n"
    "    #0 operator delete(void*, unsigned long) tsan_new_delete.cpp:150 (libtsan.so.2+0x86c3d)\n"
    "    #1 impl /usr/include/qt6/QtCore/qobjectdefs_impl.h:405\n"
    f"    #2 QMetaObject::invokeMethodImpl(QObject*, QSlotObjectBase*, ConnectionType, void*) <null> {QT}\n"
    f"    #3 operator() {SRC}ui/gabor_fitter.cpp:15\n",
    "  Previous read of size 8 at 0x7b20 by main thread:\n"
    f"    #0 convscope::ui::FiltersView::showFits(GaborFits const&) {SRC}ui/views/filters_view.cpp:223\n"
    f"    #1 <null> <null> {QT}\n"
    f"    #2 operator() {SRC}ui/gabor_fitter.cpp:123\n")

# Two of convscope's threads on one member without a lock: the GUI thread's queued slot reads
# it, the worker writes it. Counted.
OWN_RACE = report(
    "  Write of size 4 at 0x7b10 by thread T2:\n"
    f"    #0 convscope::ui::TrainingWorker::train(long) {SRC}ui/training_session.cpp:300\n"
    f"    #1 QObject::event(QEvent*) <null> {QT}\n",
    "  Previous read of size 4 at 0x7b10 by main thread:\n"
    f"    #0 convscope::ui::TrainingSession::progress() {SRC}ui/training_session.cpp:480\n"
    f"    #1 QtPrivate::QSlotObject<...>::impl /usr/include/qt6/QtCore/qobjectdefs_impl.h:383\n"
    f"    #2 <null> <null> {QT}\n",
    "  Location is heap block of size 96 at 0x7b10 allocated by main thread:\n"
    "    #0 operator new(unsigned long) tsan_new_delete.cpp:64 (libtsan.so.2+0x87323)\n"
    f"    #1 convscope::ui::TrainingSession::TrainingSession(QObject*) {SRC}ui/training_session.cpp:420\n")

# Inside Qt on both sides (its event queue): not convscope's.
INSIDE_QT = report(
    "  Write of size 8 at 0x7b30 by thread T2:\n"
    f"    #0 QCoreApplication::postEvent(QObject*, QEvent*, int) <null> {QT}\n",
    "  Previous read of size 8 at 0x7b30 by main thread:\n"
    f"    #0 QCoreApplicationPrivate::sendPostedEvents(QObject*, int, QThreadData*) <null> {QT}\n")


class TsanReports(unittest.TestCase):
    def counted(self, text):
        return len(tsan_reports.classify(text)[0])

    def test_queued_signal_argument_is_qts_handoff(self):
        self.assertEqual(self.counted(QUEUED_ARGUMENT), 0)

    def test_freed_invoke_method_functor_is_qts_handoff(self):
        self.assertEqual(self.counted(FREED_FUNCTOR), 0)

    def test_race_between_convscope_threads_is_counted(self):
        self.assertEqual(self.counted(OWN_RACE), 1)
        # ... also beside hand-offs in the same log, and whichever access comes first.
        swapped = OWN_RACE.replace("Write of size", "Read of size", 1)
        log = QUEUED_ARGUMENT + OWN_RACE + FREED_FUNCTOR + swapped + INSIDE_QT
        self.assertEqual(tsan_reports.classify(log)[1], 5)
        self.assertEqual(self.counted(log), 2)

    def test_race_inside_qt_is_not_counted(self):
        self.assertEqual(self.counted(INSIDE_QT), 0)


if __name__ == "__main__":
    unittest.main()
