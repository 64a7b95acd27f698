// ProbabilityBars: painted rows, one per class.
#include "probability_bars.h"

#include <QPainter>
#include <algorithm>

namespace convscope::ui {

ProbabilityBars::ProbabilityBars(QWidget* parent) : QWidget(parent) {
    setToolTip(tr("Class probabilities (softmax) of the clean image (blue) and of the adversarial "
                  "one (vermillion); the true class is in bold"));
}

void ProbabilityBars::setProbabilities(const QVector<double>& before, const QVector<double>& after,
                                       const QStringList& names, int trueClass) {
    m_before = before;
    m_after = after;
    m_names = names;
    m_true = trueClass;
    updateGeometry(); // the class names set the minimum width
    update();
}

QSize ProbabilityBars::minimumSizeHint() const {
    const QFontMetrics fm(font());
    int label = 0;
    for (const QString& n : m_names)
        label = std::max(label, fm.horizontalAdvance(n));
    return {label + 12 + 40 + fm.horizontalAdvance("100%"), 6 * fm.height()};
}

void ProbabilityBars::paintEvent(QPaintEvent*) {
    QPainter p(this);
    p.fillRect(rect(), palette().base());
    const int K = int(std::max(m_before.size(), m_after.size()));
    if (K == 0)
        return;
    const QFontMetrics fm(font());
    int label = 0;
    for (int k = 0; k < K; ++k)
        label = std::max(label, fm.horizontalAdvance(m_names.value(k, QString::number(k))));
    // Names before bars: a class name is what the room reads, the bars can be short.
    label = std::min(label + 8, width() / 2);
    const int row = std::max(6, (height() - fm.height()) / K);
    const int barW = width() - label - fm.horizontalAdvance("100%") - 8;
    const QColor before(0x00, 0x72, 0xb2), after(0xd5, 0x5e, 0x00);
    for (int k = 0; k < K; ++k) {
        const int y = k * row;
        QFont f = font();
        f.setBold(k == m_true);
        p.setFont(f);
        p.setPen(palette().color(QPalette::Text));
        p.drawText(QRect(0, y, label - 4, row), Qt::AlignRight | Qt::AlignVCenter,
                   QFontMetrics(f).elidedText(m_names.value(k, QString::number(k)), Qt::ElideRight,
                                              label - 4));
        const double b = m_before.value(k), a = m_after.value(k);
        p.fillRect(QRect(label, y + 2, int(b * barW), row / 2 - 2), before);
        p.fillRect(QRect(label, y + row / 2, int(a * barW), row / 2 - 2), after);
        p.setFont(font());
        p.drawText(QRect(label + barW + 4, y, width() - label - barW - 4, row),
                   Qt::AlignLeft | Qt::AlignVCenter,
                   QString("%1%").arg(qRound(100 * std::max(a, b))));
    }
    // The key under the bars, from the left edge so that both words fit a narrow panel.
    const QString clean = tr("■ clean"), adversarial = tr("■ adversarial");
    const int first = std::max(0, width() - fm.horizontalAdvance(clean + "  " + adversarial));
    const int second = std::min(label, first) + fm.horizontalAdvance(clean + "  ");
    p.setPen(before);
    p.drawText(QRect(std::min(label, first), K * row, width(), fm.height()), Qt::AlignLeft, clean);
    p.setPen(after);
    p.drawText(QRect(second, K * row, width() - second, fm.height()), Qt::AlignLeft,
               fm.elidedText(adversarial, Qt::ElideRight, width() - second));
}

} // namespace convscope::ui
