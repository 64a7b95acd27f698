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
#include <algorithm>

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
    return exportWidgets({widget}, path, title, scale);
}

bool View::exportWidgets(const QList<QWidget*>& widgets, const QString& path, const QString& title,
                         double scale) {
    QList<QWidget*> shown;
    QSize size(0, 0);
    for (QWidget* w : widgets)
        if (w && (widgets.size() == 1 || !w->isHidden())) { // (not hidden; the tab may be)
            shown << w;
            size = QSize(std::max(size.width(), w->width()), size.height() + w->height());
        }
    if (shown.isEmpty() || size.isEmpty())
        return false;
    // Each below the one before, on a slide's white background (not transparency).
    auto draw = [&](QPainter& p) {
        p.fillRect(QRect(QPoint(0, 0), size), Qt::white);
        int y = 0;
        for (QWidget* w : shown) {
            w->render(&p, QPoint(0, y));
            y += w->height();
        }
    };
    if (path.endsWith(".svg", Qt::CaseInsensitive)) {
        QSvgGenerator svg;
        svg.setFileName(path);
        svg.setSize(size);
        svg.setViewBox(QRect(QPoint(0, 0), size));
        svg.setTitle(title);
        QPainter p;
        if (!p.begin(&svg))
            return false;
        draw(p);
        return p.end();
    }
    // Drawn at `scale`: text and lines are rendered at the higher resolution, not enlarged.
    QPixmap picture(size * scale);
    picture.setDevicePixelRatio(scale);
    QPainter p(&picture);
    draw(p);
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
