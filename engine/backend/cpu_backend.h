// CpuBackend<T>: the Eigen backend. In double it is the oracle the tests hold against finite
// differences; in float it is the fast path where the only Vulkan device is lavapipe.
#pragma once

#include "backend/backend.h"
#include <cstring>
#include <functional>
#include <optional>
#include <type_traits>

namespace convscope {

template <class T>
class CpuBackend final : public Backend {
    static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>);

public:
    using Scalar = T;
    // threads = 0 uses every core (OpenMP's default).
    // `configureThreads` false: leave OpenMP's and Eigen's thread counts alone (a backend that
    // only plans tensors, e.g. Trainer::bytesNeeded while another backend trains).
    explicit CpuBackend(int threads = 0, bool configureThreads = true);
    ~CpuBackend() override;

    BackendKind kind() const override {
        return std::is_same_v<T, float> ? BackendKind::CpuFloat : BackendKind::CpuDouble;
    }
    std::string description() const override;
    std::uint64_t alignment() const override { return 64; }
    // Host memory the kernel says can be had without swapping (MemAvailable), both placements.
    MemoryBudget memoryBudget() const override;
    int threads() const { return m_threads; }

    Status beginProgram() override;
    Result<ProgramId> endProgram() override;
    void abortProgram() override {
        m_current.clear();
        m_recording = false;
    }
    Result<Ticket> submit(ProgramId program, std::uint32_t repeat) override;
    Status wait(Ticket) override { return {}; }

    // Ops record closures; they run at submit().
    Status enqueue(std::function<void()> work);

    T* real(const Tensor& t) const { return reinterpret_cast<T*>(base(t)); }
    std::int32_t* i32(const Tensor& t) const { return reinterpret_cast<std::int32_t*>(base(t)); }
    std::uint8_t* u8(const Tensor& t) const { return reinterpret_cast<std::uint8_t*>(base(t)); }

protected:
    Status allocateArenas(std::uint64_t deviceBytes, std::uint64_t hostBytes) override;
    std::byte* hostPointer(const Tensor& t) const override { return base(t); }
    Status copyIn(const Tensor& t, const void* src, std::size_t bytes,
                  std::size_t offset) override {
        std::memcpy(base(t) + offset, src, bytes);
        return {};
    }
    Status copyOut(const Tensor& t, void* dst, std::size_t bytes, std::size_t offset) override {
        std::memcpy(dst, base(t) + offset, bytes);
        return {};
    }
    void releaseAll() override;

private:
    std::byte* base(const Tensor& t) const {
        return (t.placement == Placement::Host ? m_host : m_device) + t.offset;
    }
    int m_threads;
    std::byte* m_device = nullptr;
    std::byte* m_host = nullptr;
    std::vector<std::vector<std::function<void()>>> m_programs;
    std::vector<std::function<void()>> m_current;
};

extern template class CpuBackend<float>;
extern template class CpuBackend<double>;

// Runs `f(cpuBackend)` at submit time on whichever CPU backend `be` is; `f` is a generic lambda,
// so one body serves float and double.
template <class F>
Status enqueueCpu(Backend& be, F f) {
    switch (be.kind()) {
    case BackendKind::CpuFloat: {
        auto& c = static_cast<CpuBackend<float>&>(be);
        return c.enqueue([f, &c] { f(c); });
    }
    case BackendKind::CpuDouble: {
        auto& c = static_cast<CpuBackend<double>&>(be);
        return c.enqueue([f, &c] { f(c); });
    }
    default:
        return Status::error("enqueueCpu called on a non-CPU backend");
    }
}

// The scalar type of a CpuBackend reference inside such a lambda.
template <class B>
using ScalarOf = typename std::decay_t<B>::Scalar;

} // namespace convscope
