// View: picture export (QSvgGenerator or a grab) and atomic text files.
#include "view.h"

#include <QAbstractAxis>
#include <QChart>
#include <QLegend>
#include <QPainter>
#include <QPixmap>
#include <QSaveFile>
#include <QSvgGenerator>
#include <QTextStream>
#include <QTimer>

namespace convscope::ui {

void View::markStale() {
    m_stale = true;
    if (isVisible())
        QTimer::singleShot(0, this, [this] {
            if (m_stale && isVisible()) {
                m_stale = false;
                refresh();
            }
        });
}

void View::showEvent(QShowEvent* e) {
    QWidget::showEvent(e);
    QTimer::singleShot(0, this, [this] {
        if (m_stale && isVisible()) {
            m_stale = false;
            refresh();
        }
    });
}

bool View::exportWidget(QWidget* widget, const QString& path, const QString& title, double scale) {
    if (path.endsWith(".svg", Qt::CaseInsensitive)) {
        QSvgGenerator svg;
        svg.setFileName(path);
        svg.setSize(widget->size());
        svg.setViewBox(widget->rect());
        svg.setTitle(title);
        QPainter p;
        if (!p.begin(&svg))
            return false;
        p.fillRect(widget->rect(), Qt::white); // a slide's background, not transparency
        widget->render(&p);
        return p.end();
    }
    // Drawn at `scale`: text and lines are rendered at the higher resolution, not enlarged.
    QPixmap picture(widget->size() * scale);
    picture.setDevicePixelRatio(scale);
    picture.fill(Qt::white);
    QPainter p(&picture);
    widget->render(&p);
    p.end();
    return picture.save(path, "PNG");
}

bool View::exportPicture(const QString& path, double scale) {
    return exportWidget(this, path, window()->windowTitle(), scale);
}

bool View::writeText(const QString& path, const std::function<void(QTextStream&)>& fill) {
    QSaveFile f(path); // written to a temporary file, then renamed
    if (!f.open(QIODevice::WriteOnly | QIODevice::Text))
        return false;
    QTextStream out(&f);
    fill(out);
    out.flush();
    return f.commit();
}

void View::setChartFont(QChart* chart, const QFont& f) {
    chart->setTitleFont(f);
    chart->legend()->setFont(f);
    for (QAbstractAxis* axis : chart->axes()) {
        axis->setLabelsFont(f);
        axis->setTitleFont(f);
    }
}

QString View::quoted(QString v) {
    return '"' + v.replace('"', "\"\"") + '"';
}

} // namespace convscope::ui
