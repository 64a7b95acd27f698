// LessonPlayer: labels and two buttons; the steps' meaning lives in the window.
#include "lesson_player.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QVBoxLayout>

namespace convscope::ui {

LessonPlayer::LessonPlayer(QWidget* parent) : QWidget(parent) {
    setObjectName("lesson player");
    m_title = new QLabel;
    m_title->setObjectName("lesson title");
    m_counter = new QLabel;
    m_counter->setObjectName("lesson step");
    m_text = new QLabel;
    m_text->setObjectName("lesson text");
    m_text->setWordWrap(true);
    m_text->setTextFormat(Qt::PlainText);
    m_text->setMinimumHeight(48);
    m_status = new QLabel;
    m_status->setObjectName("lesson status");
    m_back = new QPushButton(tr("◀ Back"));
    m_back->setObjectName("lesson back");
    m_back->setToolTip(tr("The step before, shown again (Page Up); what was trained stays"));
    m_next = new QPushButton(tr("Next ▶"));
    m_next->setObjectName("lesson next");
    m_next->setToolTip(tr("Do the next step (Page Down: a presenter's remote sends it)"));
    m_close = new QPushButton(tr("Close lesson"));
    m_close->setToolTip(tr("Hide the lesson; the network and runs stay as they are"));
    connect(m_back, &QPushButton::clicked, this, &LessonPlayer::back);
    connect(m_next, &QPushButton::clicked, this, &LessonPlayer::next);
    connect(m_close, &QPushButton::clicked, this, [this] {
        hide();
        emit closed();
    });
    auto* head = new QHBoxLayout;
    head->addWidget(m_title, 1);
    head->addSpacing(16);
    head->addWidget(m_counter);
    head->addWidget(m_status);
    head->addWidget(m_back);
    head->addWidget(m_next);
    head->addWidget(m_close);
    auto* box = new QVBoxLayout(this);
    box->setContentsMargins(8, 4, 8, 4);
    box->addLayout(head);
    box->addWidget(m_text);
    setPresenterMode(false);
    hide();
}

void LessonPlayer::setLesson(const Lesson& lesson) {
    m_lesson = lesson;
    m_working = false;
    m_title->setText(tr("<b>%1</b>").arg(lesson.title.toHtmlEscaped()));
    m_title->setToolTip(lesson.lecture.isEmpty() ? lesson.file
                                                 : lesson.lecture + "\n" + lesson.file);
    show(-1);
    QWidget::show();
}

void LessonPlayer::show(int index) {
    m_current = index;
    const int n = int(m_lesson.steps.size());
    if (index < 0) {
        m_counter->setText(tr("%1 steps").arg(n));
        m_text->setText(tr("Press Next (Page Down) to start: %1").arg(m_lesson.title));
    } else {
        const LessonStep& s = m_lesson.steps[index];
        m_counter->setText(tr("step %1 of %2: %3").arg(index + 1).arg(n).arg(s.describe()));
        QString text = s.text;
        if (s.action == LessonStep::Action::Pause)
            text = tr("Ask the class: %1").arg(s.text);
        else if (s.action == LessonStep::Action::Reveal)
            text = tr("Answer: %1").arg(s.text);
        else if (text.isEmpty())
            text = s.describe();
        m_text->setText(text);
    }
    m_back->setEnabled(index >= 0);
    m_next->setEnabled(!m_working && index + 1 < n);
}

void LessonPlayer::next() {
    if (m_working || m_current + 1 >= m_lesson.steps.size())
        return;
    show(m_current + 1);
    emit stepEntered(m_current, false);
}

void LessonPlayer::back() {
    if (m_current < 0)
        return;
    show(m_current - 1);
    if (m_current >= 0)
        emit stepEntered(m_current, true);
}

void LessonPlayer::setWorking(bool on, const QString& what) {
    m_working = on;
    m_status->setText(on ? what : QString());
    m_next->setEnabled(!on && m_current + 1 < m_lesson.steps.size());
}

QString LessonPlayer::shownText() const {
    return m_text->text();
}

void LessonPlayer::setPresenterMode(bool on) {
    m_presenter = on;
    QFont f = font();
    f.setPointSizeF(f.pointSizeF() * (on ? 2.2 : 1.4));
    m_text->setFont(f);
    m_text->setStyleSheet(on ? "QLabel { padding: 8px; background: #fffbe6; }"
                             : "QLabel { padding: 4px; background: #fffbe6; }");
}

} // namespace convscope::ui
