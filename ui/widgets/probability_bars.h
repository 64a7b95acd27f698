// ProbabilityBars: the network's class probabilities before and after an attack, two bars a
// class (before: blue, after: vermillion, the Okabe–Ito pair), the true class marked.
#pragma once

#include <QStringList>
#include <QVector>
#include <QWidget>

namespace convscope::ui {

class ProbabilityBars : public QWidget {
    Q_OBJECT
public:
    explicit ProbabilityBars(QWidget* parent = nullptr);
    void setProbabilities(const QVector<double>& before, const QVector<double>& after,
                          const QStringList& classNames, int trueClass);
    QSize sizeHint() const override { return {320, 220}; }
    QSize minimumSizeHint() const override; // the longest class name, a short bar, "100%"

protected:
    void paintEvent(QPaintEvent*) override;

private:
    QVector<double> m_before, m_after;
    QStringList m_names;
    int m_true = -1;
};

} // namespace convscope::ui
