// ConfusionMatrix: the test set's confusion matrix, rows the true class and columns the
// prediction; each cell coloured by its share of its row (the recall on the diagonal) and
// showing its count. Hover says what a cell means; clicking one asks to see those images.
#pragma once

#include "analysis_types.h"

#include <QWidget>

namespace convscope::ui {

class ConfusionMatrix : public QWidget {
    Q_OBJECT
public:
    explicit ConfusionMatrix(QWidget* parent = nullptr);
    void setResult(const ConfusionResult& r);
    const ConfusionResult& result() const { return m_r; }
    // The cell under `pos`, as (true class, predicted class); (-1, -1) outside.
    QPair<int, int> cellAt(const QPoint& pos) const;
    QRect cellRect(int truth, int predicted) const;
    QSize sizeHint() const override { return {360, 360}; }
    QSize minimumSizeHint() const override { return {220, 220}; }

signals:
    void cellClicked(int truth, int predicted);

protected:
    void paintEvent(QPaintEvent*) override;
    void mousePressEvent(QMouseEvent* e) override;
    bool event(QEvent* e) override; // tooltips

private:
    QRect grid() const;
    ConfusionResult m_r;
};

} // namespace convscope::ui
