// Progress: how a long engine job (an analysis sweep, a landscape grid) reports how far it is and
// learns that the user cancelled it. No Qt: the UI polls `fraction()` or passes a callback, and
// sets `cancel()` from any thread. A job checks `cancelled()` between batches and returns
// Progress::cancelledStatus() without leaving partial results behind.
#pragma once

#include "core/status.h"
#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

namespace convscope {

class Progress {
public:
    Progress() = default;
    // Called from the job's thread on every report(); keep it short (queue a signal).
    explicit Progress(std::function<void(double fraction, const std::string& stage)> onReport)
        : m_onReport(std::move(onReport)) {}

    void cancel() { m_cancel.store(true, std::memory_order_relaxed); }
    // For the next job (the owner calls it before handing the token on).
    void reset() {
        m_cancel.store(false, std::memory_order_relaxed);
        m_fraction.store(0.0, std::memory_order_relaxed);
    }
    bool cancelled() const { return m_cancel.load(std::memory_order_relaxed); }
    // `done` of `total` units of the current stage.
    void report(std::int64_t done, std::int64_t total, const std::string& stage = {}) {
        const double f = total > 0 ? double(done) / double(total) : 1.0;
        m_fraction.store(f, std::memory_order_relaxed);
        if (m_onReport)
            m_onReport(f, stage);
    }
    double fraction() const { return m_fraction.load(std::memory_order_relaxed); }

    static Status cancelledStatus(const std::string& job) {
        return Status::error("cancelled", job);
    }
    static bool isCancellation(const Status& s) { return !s.ok() && s.what() == "cancelled"; }

private:
    std::atomic<bool> m_cancel{false};
    std::atomic<double> m_fraction{0.0};
    std::function<void(double, const std::string&)> m_onReport;
};

// A job's check between batches: `if (cancelled(p)) return ...`. A null token never cancels.
inline bool cancelled(const Progress* p) {
    return p && p->cancelled();
}

} // namespace convscope
