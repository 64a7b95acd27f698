// Lesson files: strict reading with messages that name the file, the step and the field.
#include "lesson.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QObject>
#include <cmath>

namespace convscope::ui {

namespace {

QString tr(const char* s) {
    return QObject::tr(s);
}

// A whole number in [lo, hi] from a JSON value, else false.
bool wholeNumber(const QJsonValue& v, qint64 lo, qint64 hi, qint64& out) {
    if (!v.isDouble())
        return false;
    const double d = v.toDouble();
    if (!std::isfinite(d) || d != std::floor(d) || d < double(lo) || d > double(hi))
        return false;
    out = qint64(d);
    return true;
}

} // namespace

QStringList Lesson::tabNames() {
    return {"build",    "train",     "filters",         "gradients",
            "saliency", "landscape", "receptive-field", "compare"};
}

QString LessonStep::describe() const {
    switch (action) {
    case Action::Say:
        return QObject::tr("Say");
    case Action::Show:
        return QObject::tr("Show %1").arg(tab);
    case Action::Train:
        return toEpoch > 0 ? QObject::tr("Train to epoch %1").arg(toEpoch)
                           : QObject::tr("Train to step %1").arg(steps);
    case Action::Pause:
        return QObject::tr("Ask the class");
    case Action::Reveal:
        return QObject::tr("Reveal");
    case Action::Twin:
        return QObject::tr("Train beside a twin (%1=%2)").arg(key, value);
    }
    return {};
}

Lesson Lesson::parse(const QByteArray& json, const QString& where, QString* error) {
    auto fail = [&](const QString& what, const QString& hint = {}) {
        if (error)
            *error = where + ": " + what + (hint.isEmpty() ? QString() : ". " + hint);
        return Lesson();
    };
    QJsonParseError pe;
    const QJsonDocument doc = QJsonDocument::fromJson(json, &pe);
    if (pe.error != QJsonParseError::NoError)
        return fail(tr("not JSON at byte %1 (%2)").arg(pe.offset).arg(pe.errorString()),
                    tr("Check the file in a JSON validator"));
    if (!doc.isObject())
        return fail(tr("a lesson is a JSON object"), tr("See the README's \"Lesson files\""));
    const QJsonObject o = doc.object();
    if (o.contains("format") && o.value("format").toString() != "convscope-lesson-1")
        return fail(tr("unknown format \"%1\"").arg(o.value("format").toString()),
                    tr("This convscope reads convscope-lesson-1"));
    static const QStringList known = {"format",   "title", "lecture", "network",    "dataset",
                                      "settings", "tab",   "steps",   "description"};
    for (const QString& k : o.keys())
        if (!known.contains(k))
            return fail(tr("unknown field \"%1\"").arg(k), tr("Fields: %1").arg(known.join(", ")));
    Lesson l;
    l.file = where;
    l.title = o.value("title").toString();
    l.lecture = o.value("lecture").toString();
    if (l.title.isEmpty())
        return fail(tr("\"title\" is missing"), tr("Give the lesson a title: it heads the player"));
    const QJsonValue net = o.value("network");
    if (net.isString())
        l.preset = net.toString();
    else if (net.isObject())
        l.spec = QJsonDocument(net.toObject()).toJson(QJsonDocument::Compact);
    else
        return fail(tr("\"network\" must be a preset name (\"lenet5\") or a NetSpec object"));
    if (o.contains("dataset")) {
        if (!o.value("dataset").isString())
            return fail(tr("\"dataset\" must be a name such as \"fashion-mnist\""));
        l.dataset = o.value("dataset").toString();
    }
    const QJsonObject s = o.value("settings").toObject();
    if (o.contains("settings") && !o.value("settings").isObject())
        return fail(tr("\"settings\" must be an object"));
    static const QStringList settingKeys = {"optimizer", "lr",   "weight_decay", "batch",
                                            "epochs",    "seed", "backend"};
    for (const QString& k : s.keys())
        if (!settingKeys.contains(k))
            return fail(tr("unknown setting \"%1\"").arg(k),
                        tr("Settings: %1").arg(settingKeys.join(", ")));
    l.optimizer = s.value("optimizer").toString(l.optimizer);
    l.backend = s.value("backend").toString(l.backend);
    if (s.contains("lr")) {
        l.lr = s.value("lr").toDouble(-1);
        if (!(l.lr > 0) || l.lr > 10)
            return fail(tr("\"lr\" must be a number in (0, 10]"));
    }
    if (s.contains("weight_decay")) {
        l.weightDecay = s.value("weight_decay").toDouble(-1);
        if (!(l.weightDecay >= 0) || l.weightDecay > 1)
            return fail(tr("\"weight_decay\" must be a number in [0, 1]"));
    }
    qint64 n = 0;
    if (s.contains("batch")) {
        if (!wholeNumber(s.value("batch"), 1, 8192, n))
            return fail(tr("\"batch\" must be a whole number from 1 to 8192"));
        l.batch = int(n);
    }
    if (s.contains("epochs")) {
        if (!wholeNumber(s.value("epochs"), 1, 1000, n))
            return fail(tr("\"epochs\" must be a whole number from 1 to 1000"));
        l.epochs = int(n);
    }
    if (s.contains("seed")) {
        if (!wholeNumber(s.value("seed"), 0, qint64(1) << 31, n))
            return fail(tr("\"seed\" must be a whole number from 0 to 2^31"));
        l.seed = quint64(n);
    }
    const QStringList tabs = tabNames();
    l.tab = o.value("tab").toString();
    if (!l.tab.isEmpty() && !tabs.contains(l.tab))
        return fail(tr("unknown tab \"%1\"").arg(l.tab), tr("Tabs: %1").arg(tabs.join(", ")));
    if (!o.value("steps").isArray() || o.value("steps").toArray().isEmpty())
        return fail(tr("\"steps\" must be a list of at least one step"));
    static const QStringList actions = {"say", "show", "train", "pause", "reveal", "twin"};
    static const QStringList stepKeys = {"do",       "text",  "prompt", "tab",
                                         "to_epoch", "steps", "change"};
    int index = 0;
    for (const QJsonValue& v : o.value("steps").toArray()) {
        ++index;
        auto stepFail = [&](const QString& what, const QString& hint = {}) {
            return fail(tr("step %1: %2").arg(index).arg(what), hint);
        };
        if (!v.isObject())
            return stepFail(tr("a step is an object such as {\"do\": \"say\", \"text\": \"…\"}"));
        const QJsonObject so = v.toObject();
        for (const QString& k : so.keys())
            if (!stepKeys.contains(k))
                return stepFail(tr("unknown field \"%1\"").arg(k),
                                tr("Step fields: %1").arg(stepKeys.join(", ")));
        const QString what = so.value("do").toString();
        const int a = int(actions.indexOf(what));
        if (a < 0)
            return stepFail(tr("\"do\" must be one of %1").arg(actions.join(", ")));
        LessonStep step;
        step.action = LessonStep::Action(a);
        step.text = so.value(so.contains("prompt") ? "prompt" : "text").toString();
        step.tab = so.value("tab").toString();
        if (!step.tab.isEmpty() && !tabs.contains(step.tab))
            return stepFail(tr("unknown tab \"%1\"").arg(step.tab),
                            tr("Tabs: %1").arg(tabs.join(", ")));
        switch (step.action) {
        case LessonStep::Action::Show:
            if (step.tab.isEmpty())
                return stepFail(tr("\"show\" needs a \"tab\""));
            break;
        case LessonStep::Action::Train:
            if (so.contains("to_epoch")) {
                if (!wholeNumber(so.value("to_epoch"), 1, l.epochs, n))
                    return stepFail(tr("\"to_epoch\" must be a whole number from 1 to the "
                                       "lesson's %1 epochs")
                                        .arg(l.epochs),
                                    tr("Raise \"epochs\" in \"settings\" to train longer"));
                step.toEpoch = int(n);
            } else if (so.contains("steps")) {
                if (!wholeNumber(so.value("steps"), 1, qint64(1) << 40, n))
                    return stepFail(tr("\"steps\" must be a whole number of at least 1"));
                step.steps = n;
            } else
                return stepFail(tr("\"train\" needs \"to_epoch\" or \"steps\""));
            break;
        case LessonStep::Action::Pause:
        case LessonStep::Action::Reveal:
            if (step.text.isEmpty())
                return stepFail(
                    tr("\"%1\" needs a \"%2\"").arg(what, what == "pause" ? "prompt" : "text"));
            break;
        case LessonStep::Action::Twin: {
            const QString change = so.value("change").toString();
            const qsizetype eq = change.indexOf('=');
            if (eq <= 0 || eq + 1 >= change.size())
                return stepFail(tr("\"twin\" needs a \"change\" such as \"bn=off\""));
            step.key = change.left(eq).trimmed();
            step.value = change.mid(eq + 1).trimmed();
            break;
        }
        case LessonStep::Action::Say:
            break;
        }
        l.steps.push_back(step);
    }
    if (error)
        error->clear();
    return l;
}

Lesson Lesson::load(const QString& path, QString* error) {
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) {
        if (error)
            *error = QObject::tr("%1: cannot be read (%2)").arg(path, f.errorString());
        return {};
    }
    if (f.size() > 4 * 1024 * 1024) {
        if (error)
            *error = QObject::tr("%1: %2 bytes is too large for a lesson (at most 4 MiB)")
                         .arg(path)
                         .arg(f.size());
        return {};
    }
    return parse(f.readAll(), path, error);
}

} // namespace convscope::ui
