// TrainView: the Train tab. The live chart of the loss per step (raw and smoothed), the test loss
// and test accuracy per epoch, and beside it the test set's confusion matrix after each epoch
// (click a cell to see those images in the Saliency tab).
#pragma once

#include "analysis_types.h"
#include "view.h"

#include <QPointF>
#include <QVector>

class QChart;
class QComboBox;
class QDoubleSpinBox;
class QLineSeries;
class QScatterSeries;
class QValueAxis;

namespace convscope::ui {

class ConfusionMatrix;
class TrainingSession;

class TrainView : public View {
    Q_OBJECT
public:
    explicit TrainView(TrainingSession& session, QWidget* parent = nullptr);

    void clear();
    // Loss points (step, loss) of a run of `totalSteps` steps; long runs are thinned.
    // `lrs`: each point's learning rate (for the CSV; may be empty).
    void appendLoss(const QVector<QPointF>& points, qint64 totalSteps,
                    const QVector<double>& lrs = {});
    // Per epoch: test accuracy, test loss and train accuracy (fractions; drawn in %).
    void addEpochPoints(const QVector<QPointF>& accuracy, const QVector<QPointF>& testLoss,
                        const QVector<QPointF>& trainAccuracy = {});
    // The chance level ln K of a K-class network, a dashed line on the loss axis.
    void setClasses(int classes);
    int classes() const { return m_classes; }
    // "test 89.1 % · train 90.2 % after epoch 5", empty before the first epoch.
    QString accuracyText() const;
    // A reopened run's curves.
    void setCurves(const QVector<QPointF>& loss, const QVector<QPointF>& accuracy,
                   const QVector<QPointF>& testLoss, qint64 steps);
    // The step axis grows with the run (a quarter ahead of the last step).
    void setProgress(qint64 step, qint64 totalSteps);
    // The clean test set's matrix after an epoch; shown unless an adversarial one is chosen.
    void setConfusion(const ConfusionResult& r);
    ConfusionMatrix* confusion() const { return m_confusion; }
    // Which matrix: 0 the clean test set, 1 FGSM at ε, 2 PGD-10 at ε (computed on demand).
    QComboBox* confusionSource() const { return m_source; }
    QDoubleSpinBox* confusionEps() const { return m_eps; }

    int lossPoints() const;
    QVector<double> lossValues() const; // the raw loss series' values (tests)
    int accuracyPoints() const;
    int trainAccuracyPoints() const;
    int lrPoints() const;
    double chanceLevel() const; // the dashed line's loss, 0 when not drawn
    int testLossPoints() const;

    bool exportCsv(const QString& path) override;
    QString csvDescription() const override {
        return tr("the curves (loss per step, test loss and accuracy per epoch) and the "
                  "confusion matrix");
    }
    void setPresenterMode(bool on) override;

signals:
    void confusionCellClicked(int truth, int predicted);

private:
    void applyPalette();
    void requestAdversarial();
    void stretchChanceLine(); // the dashed line spans the step axis

    QChart* m_chart = nullptr;
    QLineSeries *m_loss = nullptr, *m_smoothed = nullptr, *m_accuracy = nullptr,
                *m_trainAccuracy = nullptr, *m_chance = nullptr;
    QVector<double> m_lr; // the learning rate of each kept loss point (NaN: unknown)
    int m_classes = 0;
    QScatterSeries* m_testLoss = nullptr;
    QValueAxis *m_x = nullptr, *m_yLoss = nullptr, *m_yAcc = nullptr, *m_yLr = nullptr;
    QLineSeries* m_lrSeries = nullptr; // the learning rate per step (its own axis)
    double m_maxLr = 0;
    TrainingSession& m_session;
    ConfusionMatrix* m_confusion = nullptr;
    ConfusionResult m_clean; // the last epoch's
    QComboBox* m_source = nullptr;
    QDoubleSpinBox* m_eps = nullptr;
    double m_smooth = 0, m_maxLoss = 1; // m_smooth: the moving average before bias correction
    int m_smoothCount = 0;
};

// An axis from 0 to a round number just above `top` (2,814 steps: 0 to 3,000 in steps of 500).
void setNiceRange(QValueAxis* axis, double top);

} // namespace convscope::ui
