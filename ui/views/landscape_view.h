// LandscapeView (the Landscape tab): Li et al.'s loss landscape around the trained weights — a
// 3-D surface the room can turn (when OpenGL is there) or the contour map, the 1-D line along δ,
// the curvature numbers, and twins side by side (this network and another run, e.g. plain20 and
// resnet20) on one colour scale, one z-range and one camera. Computing runs on the engine thread
// with progress and Cancel; rows stream in as they are done.
#pragma once

#include "analysis_types.h"
#include "training_session.h"
#include "view.h"

#include <functional>
#include <optional>

class QCheckBox;
class QComboBox;
class QLabel;
class QLineSeries;
class QChart;
class QPushButton;
class QSpinBox;
class QSplitter;
class QStackedWidget;

namespace convscope::ui {

class ContourMap;
class Surface3D;
class TrainingSession;

class LandscapeView : public View {
    Q_OBJECT
public:
    explicit LandscapeView(TrainingSession& session, QWidget* parent = nullptr);

    bool exportCsv(const QString& path) override;
    // PNG: the tab with the 3-D surfaces drawn in (a window grab leaves OpenGL windows blank);
    // SVG: the contour maps (vector), whichever is on screen.
    bool exportPicture(const QString& path, double scale = 2.0) override;
    // `shot` (a grab of `grabbed`, an ancestor of this view or the view) with the 3-D surfaces
    // painted where they are on screen.
    void paint3dInto(QPixmap& shot, QWidget* grabbed);
    QString csvDescription() const override {
        return tr("alpha, beta, loss and accuracy of every grid point (and the twin's)");
    }
    void setPresenterMode(bool on) override;

    // For tests and the keyboard.
    void compute();
    QPushButton* computeButton() const { return m_compute; }
    QPushButton* cancelButton() const { return m_cancel; }
    QComboBox* directionsBox() const { return m_directions; }
    QSpinBox* pointsBox() const { return m_points; }
    QSpinBox* imagesBox() const { return m_images; }
    QCheckBox* hessianBox() const { return m_hessian; }
    QCheckBox* liveBox() const { return m_live; }
    // Live: every `every` epochs while training, a coarse surface (11 × 11 on 256 images) along
    // the trajectory's PCA plane (random directions until three epochs are saved); when training
    // pauses, a finer one (the chosen grid).
    void setLiveEvery(int every) { m_liveEvery = std::max(1, every); }
    // Twins: what Train would train now (the window's controls), for "Train twins".
    void setRequestSource(std::function<TrainRequest()> source) { m_source = std::move(source); }
    // Trains the network and its twin (with and without skip connections) the same way, one
    // after the other, then computes both surfaces side by side. False (and a message in the
    // summary) when the network has no twin.
    bool trainTwins();
    QPushButton* twinsButton() const { return m_trainTwins; }
    // The residual and plain specs of `spec` (NetSpec JSON), or an error.
    struct TwinSpecs {
        QByteArray residual, plain;
        QString residualName, plainName, error;
    };
    static TwinSpecs twinsOf(const QByteArray& spec);
    void setTwinRun(const QString& dir); // empty: none
    ContourMap* contour(int k) const;
    // The time scrubber's step, ringed on the first surface's trajectory (-1: live, no ring).
    void setMarkedStep(qint64 step);
    Surface3D* surface3d(int k) const; // null without OpenGL
    bool showing3d() const;
    const LandscapeResult& result() const { return m_result; }
    QLabel* summary() const { return m_summary; }

private:
    void onUpdate(const LandscapeResult& r);
    void ensurePanels(int count);
    void show3d(bool on);
    void requestSurface(int points, int images, bool pcaIfPossible);
    void startRequest(const LandscapeRequest& r);

    TrainingSession& m_session;
    QComboBox* m_directions = nullptr;
    QSpinBox *m_points = nullptr, *m_images = nullptr;
    QCheckBox *m_hessian = nullptr, *m_log = nullptr, *m_live = nullptr;
    QPushButton *m_compute = nullptr, *m_cancel = nullptr, *m_twin = nullptr, *m_view3d = nullptr,
                *m_trainTwins = nullptr;
    QSplitter* m_panels = nullptr;
    QVector<QSplitter*> m_stacks; // one panel a surface
    QVector<ContourMap*> m_contours;
    qint64 m_markedStep = -1;
    QVector<Surface3D*> m_surfaces;
    QChart* m_lineChart = nullptr;
    QLabel *m_summary = nullptr, *m_twinLabel = nullptr;
    QString m_twinRun;
    LandscapeResult m_result;
    bool m_want3d = true;
    int m_liveEvery = 2, m_epochsSeen = 0;
    bool m_jobRunning = false;
    std::function<TrainRequest()> m_source;
    struct TwinsRun {
        TwinSpecs specs;
        TrainRequest base;
        int stage = 0; // 1: training the residual twin, 2: the plain one
        QString dirs[2];
    };
    std::optional<TwinsRun> m_twins;
    void onRunFinished(bool complete, const QString& dir);
};

} // namespace convscope::ui
