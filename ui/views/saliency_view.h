// SaliencyView: the Saliency tab, "poking the network with gradients". Left, a browser of the
// test images (all, misclassified, one class, or one cell of the confusion matrix) with the true
// class, the prediction and its probability on each. Right, for the chosen image: the five
// saliency maps side by side with their colour legends, the target class and Grad-CAM layer
// pickers, an overlay-opacity slider and the sanity check (Adebayo et al.'s randomisation
// cascade, as a strip and a correlation curve); below, the adversarial panel: an ε slider that
// attacks live (FGSM, or PGD), the adversarial image and the perturbation amplified, the class
// probabilities before and after, and accuracy vs ε drawn as it is computed.
#pragma once

#include "analysis_types.h"
#include "view.h"

class QCheckBox;
class QChart;
class QComboBox;
class QLabel;
class QLineSeries;
class QListWidget;
class QPushButton;
class QScrollArea;
class QSlider;
class QSpinBox;
class QStackedWidget;
class QValueAxis;

namespace convscope::ui {

class MapStrip;
class ProbabilityBars;
class TrainingSession;

class SaliencyView : public View {
    Q_OBJECT
public:
    explicit SaliencyView(TrainingSession& session, QWidget* parent = nullptr);

    // The browser shows the images of true class `truth` predicted as `predicted` (a confusion
    // matrix cell) and selects the first.
    void showCell(int truth, int predicted);
    // Selects test image `index` (listed or not) and computes its maps and attack.
    void selectImage(int index);
    int currentImage() const { return m_image; }

    // For tests and scripts.
    QListWidget* imageList() const { return m_list; }
    QComboBox* filterBox() const { return m_filter; }
    QComboBox* targetBox() const { return m_target; }
    QComboBox* layerBox() const { return m_layer; }
    QSlider* epsSlider() const { return m_eps; }
    QSlider* opacitySlider() const { return m_opacity; }
    QCheckBox* pgdBox() const { return m_pgd; }
    QPushButton* sanityButton() const { return m_sanityButton; }
    QPushButton* curveButton() const { return m_curveButton; }
    MapStrip* maps() const { return m_maps; }
    MapStrip* sanityStrip() const { return m_sanityStrip; }
    MapStrip* attackStrip() const { return m_attackStrip; }
    const SaliencyResult& saliency() const { return m_saliency; }
    const AttackResult& attack() const { return m_attack; }
    int curvePoints() const; // FGSM and PGD points drawn
    int sanityRows() const;  // steps of the sanity strip
    double eps() const;      // the slider's ε in pixel units

    bool exportCsv(const QString& path) override;
    QString csvDescription() const override {
        return tr("the chosen image's maps (method, channel, y, x, value), the attack's class "
                  "probabilities and the accuracy-vs-ε curve");
    }
    void setPresenterMode(bool on) override;

private:
    QWidget* buildBrowser();
    QWidget* buildMaps();
    QWidget* buildAttack();
    void refresh() override; // ask for the test set and its predictions
    void fillList();         // the browser's list from the filter
    void requestMaps(bool sanity = false);
    void requestAttack();
    void drawMaps(); // from m_saliency and the opacity
    void drawSanity();
    void drawAttack();
    void onSaliency(const SaliencyResult& r);
    void onAttack(const AttackResult& r);
    void onCurvePoint(const CurvePoint& p);
    void onConfusion(const ConfusionResult& r);
    QString className(int k) const;

    TrainingSession& m_session;
    TestSet m_test;
    QVector<int> m_predicted;
    QVector<double> m_confidence;
    int m_image = -1, m_cellTruth = -1, m_cellPredicted = -1;
    SaliencyResult m_saliency;
    AttackResult m_attack;

    QComboBox *m_filter = nullptr, *m_target = nullptr, *m_layer = nullptr;
    QListWidget* m_list = nullptr;
    QLabel *m_listInfo = nullptr, *m_info = nullptr, *m_attackInfo = nullptr, *m_epsLabel = nullptr,
           *m_sanityInfo = nullptr;
    QSlider *m_opacity = nullptr, *m_eps = nullptr;
    QCheckBox* m_pgd = nullptr;
    QSpinBox *m_pgdSteps = nullptr, *m_curveCount = nullptr;
    QPushButton *m_sanityButton = nullptr, *m_curveButton = nullptr;
    MapStrip *m_maps = nullptr, *m_attackStrip = nullptr;
    ProbabilityBars* m_bars = nullptr;
    QStackedWidget* m_stack = nullptr; // the maps, or the sanity check
    MapStrip* m_sanityStrip = nullptr;
    QChart *m_sanityChart = nullptr, *m_curveChart = nullptr;
    QValueAxis *m_sanityX = nullptr, *m_curveX = nullptr;
    QLineSeries *m_fgsmCurve = nullptr, *m_pgdCurve = nullptr;
};

} // namespace convscope::ui
