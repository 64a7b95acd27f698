// GaborFitter: the fitting thread (one request slot, newest wins) around analysis::fitGabor, one
// filter at a time so that stop() and clear() take effect between filters, and the queued
// hand-back to the GUI thread.
#include "gabor_fitter.h"

#include "analysis/gabor.h"
#include "thread_handoff.h"

#include <QElapsedTimer>
#include <algorithm>
#include <chrono>
#include <numbers>

namespace convscope::ui {

GaborFitter::GaborFitter(QObject* parent) : QObject(parent), m_thread([this] { loop(); }) {}

GaborFitter::~GaborFitter() {
    {
        std::lock_guard lock(m_mutex);
        m_stop = true;
        m_pending.reset();
    }
    m_wake.notify_all();
    m_thread.join(); // the fit in progress stops after its current filter (a few ms)
}

void GaborFitter::fit(const QVector<float>& weights, int count, int channels, int h, int w,
                      qint64 step) {
    {
        std::lock_guard lock(m_mutex);
        m_pending = Request{weights, count, channels, h, w, step, m_generation};
    }
    m_wake.notify_all();
}

void GaborFitter::clear() {
    std::lock_guard lock(m_mutex);
    m_pending.reset();
    ++m_generation;
}

int GaborFitter::fitsDone() const {
    std::lock_guard lock(m_mutex);
    return m_done;
}

QString GaborFitter::ruleText() {
    return QString::fromUtf8(analysis::gaborRuleText());
}

namespace {
GaborFilterFit filterFit(const analysis::GaborFit& g, int taps) {
    constexpr double kDegrees = 180.0 / std::numbers::pi;
    GaborFilterFit f;
    f.r2 = g.r2;
    f.nullR2 = g.nullR2;
    f.gaborLike = analysis::gaborLike(g);
    f.thetaDeg = g.p.theta * kDegrees;
    f.wavelength = g.p.wavelength();
    f.sigma = g.p.sigma;
    f.phaseDeg = g.p.phase * kDegrees;
    f.gamma = g.p.gamma;
    f.amplitude = g.p.amplitude;
    f.offset = g.p.offset;
    f.x0 = g.p.x0;
    f.y0 = g.p.y0;
    f.colourContrast = g.colourContrast;
    if (int(g.fitted.size()) >= taps) // every channel holds the same map
        f.map = QVector<float>(g.fitted.begin(), g.fitted.begin() + taps);
    return f;
}
} // namespace

void GaborFitter::loop() {
    std::unique_lock lock(m_mutex);
    for (;;) {
        m_wake.wait(lock, [this] { return m_stop || m_pending; });
        if (m_stop)
            return;
        const Request r = std::move(*m_pending);
        m_pending.reset();
        lock.unlock();
        QElapsedTimer took;
        took.start();
        GaborFits out;
        out.step = r.step;
        out.count = r.count;
        out.channels = r.channels;
        out.h = r.h;
        out.w = r.w;
        // Filter by filter, as analysis::fitGaborFilters does (fit i seeded with index i).
        const qsizetype per = qsizetype(r.channels) * r.h * r.w;
        const bool shaped = r.count > 0 && per > 0 && r.weights.size() == r.count * per;
        std::vector<analysis::GaborFit> fits;
        std::vector<double> filter(std::size_t(std::max<qsizetype>(per, 0)));
        bool wanted = shaped;
        for (int o = 0; wanted && o < r.count; ++o) {
            for (qsizetype i = 0; i < per; ++i)
                filter[std::size_t(i)] = r.weights[o * per + i];
            fits.push_back(analysis::fitGabor(filter, r.channels, r.h, r.w, {}, std::uint64_t(o)));
            lock.lock(); // stopped, or a new run: nobody wants the rest
            wanted = !m_stop && r.generation == m_generation;
            lock.unlock();
        }
        if (wanted) {
            const analysis::GaborSummary sum = analysis::summarizeGabor(fits);
            out.gaborLikeCount = sum.gaborLikeCount;
            out.fraction = sum.fractionGaborLike;
            out.medianR2 = sum.medianR2;
            out.medianNullR2 = sum.medianNullR2;
            for (const analysis::GaborFit& g : fits)
                out.filters.push_back(filterFit(g, r.h * r.w));
            out.ms = double(took.nsecsElapsed()) / 1e6;
            handoff::queue(this, [this, out = std::move(out), generation = r.generation] {
                bool current;
                {
                    std::lock_guard guard(m_mutex);
                    current = generation == m_generation;
                }
                if (current) // not cleared while the result was on its way
                    emit fitted(out);
            });
        }
        lock.lock();
        ++m_done;
        // At most half of one core: rest as long as the fit took (up to a second), so a large
        // layer refitted during training leaves the training thread its share of the machine.
        m_wake.wait_for(lock, std::chrono::milliseconds(std::min<qint64>(took.elapsed(), 1000)),
                        [this] { return m_stop; });
    }
}

} // namespace convscope::ui
