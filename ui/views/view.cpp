// View: picture export (QSvgGenerator or a grab) and atomic text files.
#include "view.h"

#include <QAbstractAxis>
#include <QChart>
#include <QLegend>
#include <QPainter>
#include <QSaveFile>
#include <QSvgGenerator>
#include <QTextStream>

namespace convscope::ui {

bool View::exportWidget(QWidget* widget, const QString& path, const QString& title) {
    if (path.endsWith(".svg", Qt::CaseInsensitive)) {
        QSvgGenerator svg;
        svg.setFileName(path);
        svg.setSize(widget->size());
        svg.setViewBox(widget->rect());
        svg.setTitle(title);
        QPainter p;
        if (!p.begin(&svg))
            return false;
        widget->render(&p);
        return p.end();
    }
    return widget->grab().save(path, "PNG");
}

bool View::exportPicture(const QString& path) {
    return exportWidget(this, path, window()->windowTitle());
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
