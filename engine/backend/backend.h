// Backend: the one interface every op is written against. A backend owns the memory arenas and
// records programs (a training step, an evaluation pass) once, to replay them many times.
#pragma once

#include "core/status.h"
#include "core/tensor.h"
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace convscope {

enum class BackendKind { Vulkan, CpuFloat, CpuDouble };

using ProgramId = std::uint32_t;
using Ticket = std::uint64_t; // identifies one submit; wait(ticket) blocks until it is done

class VulkanBackend;

class Backend {
public:
    virtual ~Backend() = default;
    virtual BackendKind kind() const = 0;
    // One line for the user: "Vulkan on llvmpipe (...)" or "CPU (Eigen, float, 2 threads)".
    virtual std::string description() const = 0;
    virtual VulkanBackend* asVulkan() { return nullptr; }

    std::size_t elementSize(DType t) const;

    // --- Memory: plan every tensor first, then allocate() makes one arena per placement.
    // After allocate() (or for an empty shape) this returns an invalid tensor that every op
    // rejects, and allocate() reports the mistake.
    Tensor tensor(Shape shape, DType dtype = DType::Real, Placement placement = Placement::Device);
    // A view of `shape` elements of `parent` from `elementOffset`; invalid (rejected by every op)
    // when misaligned or outside the parent.
    Tensor view(const Tensor& parent, std::int64_t elementOffset, Shape shape) const;
    Status allocate();
    bool allocated() const { return m_allocated; }
    // Drops every tensor and program (after waiting for the device); the device, its pipelines
    // and threads stay, so a new model can be planned on the same backend.
    Status reset();
    // Offsets of tensors (and views) are multiples of this many bytes.
    virtual std::uint64_t alignment() const = 0;
    // What allocate() may use now, in bytes, per placement (0: unknown, not checked); `shared`
    // when both placements draw on one pool (the CPU backend: host memory). allocate() refuses
    // plans that exceed it before allocating anything, naming both numbers.
    struct MemoryBudget {
        std::uint64_t device = 0, host = 0;
        bool shared = false;
        std::string where; // "host memory (MemAvailable)", "device-local heap of <GPU>"
    };
    virtual MemoryBudget memoryBudget() const { return {}; }
    // Bytes planned so far per placement (what allocate() will ask for).
    std::uint64_t plannedBytes(Placement p) const { return m_planned[p == Placement::Host]; }

    // --- Transfers. They wait for submitted work first.
    Status writeBytes(const Tensor& t, const void* src, std::size_t bytes, std::size_t offset = 0);
    Status readBytes(const Tensor& t, void* dst, std::size_t bytes, std::size_t offset = 0);
    Status writeReal(const Tensor& t, std::span<const double> values);
    Status writeReal(const Tensor& t, std::span<const float> values);
    Status writeI32(const Tensor& t, std::span<const std::int32_t> values);
    Result<std::vector<double>> readReal(const Tensor& t);
    Status zero(const Tensor& t);
    // Reads a host-placed Real element without waiting (the caller waited for its ticket).
    double hostReal(const Tensor& t, std::int64_t index) const;
    // Writes host-placed Real elements without waiting (the caller knows nothing reads them now).
    void setHostReal(const Tensor& t, std::int64_t index, double value);

    // --- Programs. Ops called between beginProgram() and endProgram() are recorded, not run.
    virtual Status beginProgram() = 0;
    virtual Result<ProgramId> endProgram() = 0;
    // Discards the program being recorded (after an op failed to record).
    virtual void abortProgram() = 0;
    // beginProgram(), `record`, endProgram(); on failure the partial program is discarded.
    Result<ProgramId> record(const std::function<Status()>& record);
    // Runs a program `repeat` times in a row; may return before the work is done.
    virtual Result<Ticket> submit(ProgramId program, std::uint32_t repeat = 1) = 0;
    virtual Status wait(Ticket ticket) = 0;
    Status finish() { return wait(m_lastTicket); }
    bool recording() const { return m_recording; }

protected:
    virtual Status allocateArenas(std::uint64_t deviceBytes, std::uint64_t hostBytes) = 0;
    // The copies behind writeBytes/readBytes, called with checked, non-empty ranges.
    virtual Status copyIn(const Tensor& t, const void* src, std::size_t bytes,
                          std::size_t offset) = 0;
    virtual Status copyOut(const Tensor& t, void* dst, std::size_t bytes, std::size_t offset) = 0;
    virtual void releaseAll() = 0;                             // arenas and programs
    virtual std::byte* hostPointer(const Tensor& t) const = 0; // host-placed tensors only
    bool m_recording = false;
    Ticket m_lastTicket = 0;

private:
    std::uint64_t m_planned[2] = {0, 0}; // bytes per placement
    std::string m_planError;             // first planning mistake, reported by allocate()
    bool m_allocated = false;
};

struct BackendOptions {
    std::string backend = "auto"; // auto | vulkan | cpu | cpu-double
    std::string device;           // Vulkan device index or name fragment
    bool validation = false;      // VK_LAYER_KHRONOS_validation
    int threads = 0;              // CPU backend threads; 0 = all cores
    bool allowMapping = true;     // false forces staging copies on Vulkan (tests)
    std::string tuning = "auto";  // Vulkan tile sizes: auto (by device type) | cpu | gpu
};

struct BackendChoice {
    std::unique_ptr<Backend> backend;
    std::string reason; // why `auto` chose it, for the user
};

// `auto` picks Vulkan on a real GPU and the CPU backend where the only Vulkan device is a CPU
// (lavapipe) or there is none.
Result<BackendChoice> createBackend(const BackendOptions& options);

} // namespace convscope
