// Lesson: a demonstration a lecturer replays the same way every year — the network, the
// dataset, the settings, which tab to show, and a list of steps — read from a JSON file
// (documented in the README, examples in resources/lessons/):
//
//   {"format": "convscope-lesson-1",
//    "title": "Batch norm: faster and steadier",
//    "lecture": "004 — batch normalization",
//    "network": "lenet5",                 // a preset name, or a NetSpec object
//    "dataset": "fashion-mnist",
//    "settings": {"optimizer": "momentum", "lr": 0.02, "batch": 64, "epochs": 2, "seed": 1,
//                 "backend": "auto"},
//    "tab": "train",
//    "steps": [
//      {"do": "say", "text": "LeNet-5 on Fashion-MNIST, trained live."},
//      {"do": "train", "to_epoch": 1, "text": "One epoch: watch the loss."},
//      {"do": "show", "tab": "filters"},
//      {"do": "pause", "prompt": "Which filter detects vertical edges?"},
//      {"do": "reveal", "text": "Filter 3: dark left, bright right."},
//      {"do": "twin", "change": "bn=off"}]}
//
// Step actions: say (text only), show (a tab), train (to_epoch N or steps N: the run's step
// count to reach, from the lesson's start), pause (a question in large type, the answer
// hidden), reveal (the answer), twin (train the network beside its twin, "bn=off"; shows the
// Compare tab). Every step may carry "text" (shown under the step) and "tab" (shown first).
#pragma once

#include <QByteArray>
#include <QString>
#include <QStringList>
#include <QVector>

namespace convscope::ui {

struct LessonStep {
    enum class Action { Say, Show, Train, Pause, Reveal, Twin };
    Action action = Action::Say;
    QString text;             // what the step says (the prompt for pause, the answer for reveal)
    QString tab;              // "" or a tab name: build, train, filters, gradients, saliency, ...
    int toEpoch = 0;          // train: the epoch to reach (0: use `steps`)
    qint64 steps = 0;         // train: the run's step to reach
    QString key, value;       // twin: "bn", "off"
    QString describe() const; // "Train to epoch 2", for the step list
};

struct Lesson {
    QString file, title, lecture;
    QString preset;  // the network by name, or
    QByteArray spec; // a NetSpec (JSON) written in the lesson
    QString dataset = "fashion-mnist";
    QString optimizer = "momentum", backend = "auto";
    double lr = 0.02, weightDecay = 0;
    int batch = 64, epochs = 1;
    quint64 seed = 1;
    QString tab; // the tab shown at the start ("" keeps the current one)
    QVector<LessonStep> steps;

    // The tabs a lesson may name, in the window's order.
    static QStringList tabNames();
    // Reads a lesson; on failure an empty lesson and `error` saying which file, which step and
    // what is wrong ("lesson.json, step 3: \"to_epoch\" must be a whole number from 1 to the
    // lesson's 2 epochs").
    static Lesson parse(const QByteArray& json, const QString& where, QString* error);
    static Lesson load(const QString& path, QString* error);
};

} // namespace convscope::ui
