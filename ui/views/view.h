// View: what every tab of the window is. It owns its widgets, draws itself for a projector in
// presenter mode, and exports its picture (PNG or SVG) and its numbers (CSV). The window only
// places views in tabs and forwards File → Export to the current one.
#pragma once

#include <QWidget>
#include <functional>

class QChart;
class QTextStream;

namespace convscope::ui {

class View : public QWidget {
    Q_OBJECT
public:
    using QWidget::QWidget;

    // The view as a picture: SVG when `path` ends in .svg (on white), else PNG drawn at
    // `scale` times its size on screen (2: text stays sharp on a slide). By default the whole
    // view.
    virtual bool exportPicture(const QString& path, double scale = 2.0);
    // The view's numbers as CSV (written atomically).
    virtual bool exportCsv(const QString& path) = 0;
    // What exportCsv() writes, for the menu's tooltip.
    virtual QString csvDescription() const = 0;
    // Presenter mode: the window has enlarged its font; views scale their own drawing.
    virtual void setPresenterMode(bool on) { m_presenter = on; }
    bool presenterMode() const { return m_presenter; }

    // Writes `fill`'s text to `path` through a QSaveFile: never half a file.
    static bool writeText(const QString& path, const std::function<void(QTextStream&)>& fill);
    // `widget` as PNG (at `scale`) or SVG (by suffix).
    static bool exportWidget(QWidget* widget, const QString& path, const QString& title = {},
                             double scale = 2.0);
    // `widgets` (those not hidden, when there are several), each under the one before, as one
    // picture.
    static bool exportWidgets(const QList<QWidget*>& widgets, const QString& path,
                              const QString& title = {}, double scale = 2.0);
    // A CSV field, quoted.
    static QString quoted(QString v);
    // A chart's title, legend and axes in `font` (presenter mode).
    static void setChartFont(QChart* chart, const QFont& font);

protected:
    // Views that ask the engine for what they show: a stale view calls refresh() once it is
    // shown and the event loop has settled (an export of another tab shows a view for a
    // moment, and that must not start a job), or at once when it is visible already.
    void markStale();
    bool stale() const { return m_stale; }
    virtual void refresh() {}
    void showEvent(QShowEvent* e) override;

    bool m_presenter = false;

private:
    bool m_stale = true;
};

} // namespace convscope::ui
