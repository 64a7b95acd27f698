// GaborFitter: Gabor fits of the first layer's filters on a thread of their own, so that the
// window never waits for them. Newest wins: filters that arrive while a fit runs replace any set
// still waiting, and the result comes back to the GUI thread by a queued call. Qt types only;
// gabor_fitter.cpp is the door to engine/analysis/gabor.
#pragma once

#include <QObject>
#include <QVector>

#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>

namespace convscope::ui {

// One filter's fit (of its channel mean, for RGB filters).
struct GaborFilterFit {
    double r2 = 0, nullR2 = 0; // R², and the mean R² of the same fit on its shuffled pixels
    bool gaborLike = false;    // R² ≥ 0.7 and R² − null ≥ 0.3 (GaborFitter::ruleText())
    // θ: the direction of the wave (perpendicular to the stripes), degrees in [0, 180), growing
    // clockwise on screen (rows go down); λ, σ, x0, y0 in pixels; φ in degrees.
    double thetaDeg = 0, wavelength = 0, sigma = 0, phaseDeg = 0, gamma = 1;
    double amplitude = 0, offset = 0, x0 = 0, y0 = 0;
    double colourContrast = 0; // 0 for a grey filter; how much the channels differ
    QVector<float> map;        // the fitted Gabor, h × w (row-major)
};

// A layer's fits and what they add up to.
struct GaborFits {
    qint64 step = -1; // the training step of the weights (-1: unknown)
    int count = 0, channels = 0, h = 0, w = 0;
    QVector<GaborFilterFit> filters;
    int gaborLikeCount = 0;
    double fraction = 0, medianR2 = 0, medianNullR2 = 0;
    double ms = 0; // how long the fit took on its thread
};

class GaborFitter : public QObject {
    Q_OBJECT
public:
    explicit GaborFitter(QObject* parent = nullptr);
    ~GaborFitter() override; // stops the thread after the filter it is fitting (a few ms)

    // Queues the filters (count, channels, h, w; PyTorch's layout) for a fit; a set still waiting
    // is dropped for them.
    void fit(const QVector<float>& weights, int count, int channels, int h, int w, qint64 step);
    // Forgets the waiting set, and the fit in progress (a new run): it stops after its current
    // filter and its result is never delivered.
    void clear();
    // How many fits have ended (delivered or dropped) since construction; newest wins, so
    // fewer than requests.
    int fitsDone() const;
    // The rule, one sentence: "Gabor-like: R² ≥ 0.7 and at least 0.3 above …".
    static QString ruleText();

signals:
    void fitted(const GaborFits& fits);

private:
    struct Request {
        QVector<float> weights;
        int count = 0, channels = 0, h = 0, w = 0;
        qint64 step = -1;
        quint64 generation = 0;
    };
    void loop();

    mutable std::mutex m_mutex;
    std::condition_variable m_wake;
    std::optional<Request> m_pending;
    quint64 m_generation = 0; // clear() raises it; results of older requests are dropped
    bool m_stop = false;
    int m_done = 0;
    std::thread m_thread; // last: started when the rest is ready
};

} // namespace convscope::ui
