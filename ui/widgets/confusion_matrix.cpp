// ConfusionMatrix: a grid painted with QPainter; the colour of a cell is its share of the row on
// a white → blue scale, the text dark or light to stay readable.
#include "confusion_matrix.h"

#include <QHelpEvent>
#include <QMouseEvent>
#include <QPainter>
#include <QToolTip>
#include <algorithm>

namespace convscope::ui {

ConfusionMatrix::ConfusionMatrix(QWidget* parent) : QWidget(parent) {
    setMouseTracking(true);
    setToolTip(tr("Rows: the true class; columns: the network's answer. Click a cell to see "
                  "those images in the Saliency tab"));
}

void ConfusionMatrix::setResult(const ConfusionResult& r) {
    m_r = r;
    update();
}

QRect ConfusionMatrix::grid() const {
    const int K = std::max(1, m_r.classes);
    const QFontMetrics fm(font());
    int label = 0;
    for (const QString& n : m_r.classNames)
        label = std::max(label, fm.horizontalAdvance(n.left(12)));
    label = std::min(label + 8, width() / 3);
    const int top = fm.height() * 3 + 6;
    const int side = std::max(K, std::min(width() - label - 6, height() - top - fm.height() - 6));
    const int cell = side / K;
    return {label, top, cell * K, cell * K};
}

QRect ConfusionMatrix::cellRect(int t, int p) const {
    const QRect g = grid();
    const int cell = g.width() / std::max(1, m_r.classes);
    return {g.left() + p * cell, g.top() + t * cell, cell, cell};
}

QPair<int, int> ConfusionMatrix::cellAt(const QPoint& pos) const {
    const QRect g = grid();
    if (m_r.classes <= 0 || !g.contains(pos))
        return {-1, -1};
    const int cell = g.width() / m_r.classes;
    return {std::min(m_r.classes - 1, (pos.y() - g.top()) / cell),
            std::min(m_r.classes - 1, (pos.x() - g.left()) / cell)};
}

void ConfusionMatrix::paintEvent(QPaintEvent*) {
    QPainter p(this);
    p.fillRect(rect(), palette().base());
    const int K = m_r.classes;
    if (K <= 0) {
        p.drawText(rect(), Qt::AlignCenter | Qt::TextWordWrap,
                   tr("The confusion matrix appears after the first epoch"));
        return;
    }
    const QRect g = grid();
    const QFontMetrics fm(font());
    auto name = [&](int k) {
        return k < m_r.classNames.size() ? m_r.classNames[k] : QString::number(k);
    };
    qint64 total = 0, right = 0;
    for (int t = 0; t < K; ++t)
        for (int q = 0; q < K; ++q) {
            total += m_r.counts.value(t * K + q);
            right += t == q ? m_r.counts.value(t * K + q) : 0;
        }
    const QString attack = m_r.pgdSteps > 0 ? tr("PGD-%1").arg(m_r.pgdSteps) : QString("FGSM");
    p.drawText(QRect(0, 0, width(), fm.height() + 2), Qt::AlignLeft,
               m_r.eps > 0 ? tr("Confusion matrix under %1 at ε = %2").arg(attack).arg(m_r.eps)
                           : tr("Confusion matrix%1")
                                 .arg(m_r.epoch > 0 ? tr(", epoch %1").arg(m_r.epoch) : QString()));
    p.drawText(QRect(0, fm.height() + 2, width(), fm.height() + 2), Qt::AlignLeft,
               tr("%1 test images · accuracy %2 %")
                   .arg(total)
                   .arg(total > 0 ? 100.0 * double(right) / double(total) : 0.0, 0, 'f', 1));
    p.drawText(QRect(g.left(), 2 * (fm.height() + 2), g.width(), fm.height() + 2), Qt::AlignCenter,
               tr("predicted →  (rows: true class)"));
    QFont small = font();
    small.setPointSizeF(std::max(6.0, font().pointSizeF() * std::min(1.0, g.width() / (K * 40.0))));
    for (int t = 0; t < K; ++t) {
        qint64 row = 0;
        for (int q = 0; q < K; ++q)
            row += m_r.counts.value(t * K + q);
        for (int q = 0; q < K; ++q) {
            const QRect c = cellRect(t, q);
            const qint64 n = m_r.counts.value(t * K + q);
            const double share = row > 0 ? double(n) / double(row) : 0.0;
            // white → Okabe–Ito blue; the diagonal is the recall
            const QColor colour =
                QColor::fromRgbF(1.0 - share * (1.0 - 0.0), 1.0 - share * (1.0 - 0.447),
                                 1.0 - share * (1.0 - 0.698));
            p.fillRect(c, colour);
            p.setPen(QColor(200, 200, 200));
            p.drawRect(c.adjusted(0, 0, -1, -1));
            if (c.width() >= 14) {
                p.setFont(small);
                p.setPen(share > 0.5 ? Qt::white : Qt::black);
                p.drawText(c, Qt::AlignCenter, QString::number(n));
            }
        }
        p.setFont(font());
        p.setPen(palette().color(QPalette::Text));
        const QRect c = cellRect(t, 0);
        p.drawText(QRect(0, c.top(), g.left() - 4, c.height()), Qt::AlignRight | Qt::AlignVCenter,
                   fm.elidedText(name(t), Qt::ElideRight, g.left() - 4));
    }
}

void ConfusionMatrix::mousePressEvent(QMouseEvent* e) {
    const auto [t, q] = cellAt(e->pos());
    if (t >= 0)
        emit cellClicked(t, q);
}

bool ConfusionMatrix::event(QEvent* e) {
    if (e->type() == QEvent::ToolTip) {
        auto* h = static_cast<QHelpEvent*>(e);
        const auto [t, q] = cellAt(h->pos());
        if (t >= 0) {
            const int K = m_r.classes;
            qint64 row = 0;
            for (int k = 0; k < K; ++k)
                row += m_r.counts.value(t * K + k);
            const qint64 n = m_r.counts.value(t * K + q);
            QToolTip::showText(
                h->globalPos(),
                tr("true %1, predicted %2: %3 images (%4 % of the %1 images). Click to see them")
                    .arg(m_r.classNames.value(t, QString::number(t)),
                         m_r.classNames.value(q, QString::number(q)))
                    .arg(n)
                    .arg(row > 0 ? 100.0 * double(n) / double(row) : 0.0, 0, 'f', 1),
                this);
            return true;
        }
    }
    return QWidget::event(e);
}

} // namespace convscope::ui
