// ReceptiveFieldView (the Receptive field tab): what one unit of a layer sees. Pick a test image
// and a layer; click a unit in the layer's feature maps; its theoretical field is drawn as a
// square on the input and its effective field (Luo et al. 2016) as a heat map over it, with the
// numbers. Beside it the per-layer table and the depth chart: the theoretical size grows
// linearly with depth, the effective one more slowly — trained and at initialisation. Build-view
// edits move the theoretical column at once; the effective one follows on the current weights
// (an edited, untrained network: its initial weights).
#pragma once

#include "analysis_types.h"
#include "training_session.h"
#include "view.h"

#include <QTimer>
#include <functional>

class QCheckBox;
class QChart;
class QComboBox;
class QLabel;
class QLineSeries;
class QSpinBox;
class QTableWidget;

namespace convscope::ui {

class FieldMap;
class UnitPicker;

class ReceptiveFieldView : public View {
    Q_OBJECT
public:
    explicit ReceptiveFieldView(TrainingSession& session, QWidget* parent = nullptr);

    bool exportCsv(const QString& path) override; // the per-layer table
    QString csvDescription() const override {
        return tr("per layer: output, theoretical receptive field and jump, and the effective "
                  "field's 50 % and 90 % squares (trained and at initialisation)");
    }
    void setPresenterMode(bool on) override;
    // The dataset and the Build view's network (what Train would train now).
    void setRequestSource(std::function<TrainRequest()> source) { m_source = std::move(source); }
    // The Build view's check of the network: the theoretical column follows it at once.
    void setSpecCheck(const SpecCheck& check);

    // For tests.
    void refresh() override; // asks the engine now
    void pickUnit(int channel, int y, int x);
    const FieldResult& result() const { return m_result; }
    QSpinBox* imageBox() const { return m_image; }
    QComboBox* layerBox() const { return m_layer; }
    QSpinBox* imagesBox() const { return m_images; }
    QCheckBox* allChannelsBox() const { return m_allChannels; }
    QTableWidget* table() const { return m_table; }
    UnitPicker* picker() const { return m_picker; }
    FieldMap* fieldMap() const { return m_map; }
    QLabel* numbers() const { return m_numbers; }
    int depthPoints(int series) const; // 0 theoretical, 1 effective, 2 at initialisation

private:
    void onResult(const FieldResult& r);
    void fillTable(const QVector<FieldRow>& rows);
    void fillChart(const QVector<FieldRow>& rows);
    void requestSoon(); // debounced: edits and spin boxes ask once they settle

    TrainingSession& m_session;
    std::function<TrainRequest()> m_source;
    QSpinBox *m_image = nullptr, *m_images = nullptr;
    QComboBox* m_layer = nullptr;
    QCheckBox *m_allChannels = nullptr, *m_initial = nullptr;
    FieldMap* m_map = nullptr;
    UnitPicker* m_picker = nullptr;
    QLabel *m_numbers = nullptr, *m_title = nullptr;
    QTableWidget* m_table = nullptr;
    QChart* m_chart = nullptr;
    QLineSeries *m_theory = nullptr, *m_effective = nullptr, *m_effectiveInitial = nullptr;
    QTimer m_debounce;
    FieldResult m_result;
    int m_channel = -1, m_y = -1, m_x = -1; // the picked unit (−1: the centre)
};

} // namespace convscope::ui
