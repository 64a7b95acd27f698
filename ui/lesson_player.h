// LessonPlayer: the bar under the tabs that plays a lesson (lesson.h) step by step. It shows
// the lesson's title, "step 3 of 7", the step's text or the question to ask the class in large
// type (larger still in presenter mode), and Back / Next (Page Up / Page Down, whichever widget
// has focus — the window's event filter — since a presenter's remote sends those). The window does
// what each step says (train, show a tab, train a twin); while it does, Next waits.
#pragma once

#include "lesson.h"

#include <QWidget>

class QLabel;
class QListWidget;
class QPushButton;

namespace convscope::ui {

class LessonPlayer : public QWidget {
    Q_OBJECT
public:
    explicit LessonPlayer(QWidget* parent = nullptr);
    void setLesson(const Lesson& lesson);
    const Lesson& lesson() const { return m_lesson; }
    // The step shown (-1: the title, before the first step).
    int current() const { return m_current; }
    // While the window carries out a step (training), Next waits.
    void setWorking(bool on, const QString& what = {});
    bool working() const { return m_working; }
    void setPresenterMode(bool on);
    QPushButton* nextButton() const { return m_next; }
    QPushButton* backButton() const { return m_back; }
    QString shownText() const; // what the large text says now (tests)

public slots:
    void next();
    void back();

signals:
    // Carry out step `index` (Next), or show it again without doing it (Back: training done
    // is not undone; replay the lesson from the start for the same numbers).
    void stepEntered(int index, bool replay);
    void closed();

private:
    void show(int index);
    Lesson m_lesson;
    int m_current = -1;
    bool m_working = false, m_presenter = false;
    QLabel *m_title = nullptr, *m_counter = nullptr, *m_text = nullptr, *m_status = nullptr;
    QPushButton *m_back = nullptr, *m_next = nullptr, *m_close = nullptr;
};

} // namespace convscope::ui
