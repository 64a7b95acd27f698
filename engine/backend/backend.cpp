// Tensor planning and typed transfers shared by both backends, and the backend factory.
#include "backend/backend.h"
#include "backend/cpu_backend.h"
#include "backend/vulkan_backend.h"
#include "core/format.h"

#include <cstring>

namespace convscope {

std::size_t Backend::elementSize(DType t) const {
    switch (t) {
    case DType::Real:
        return kind() == BackendKind::CpuDouble ? sizeof(double) : sizeof(float);
    case DType::U8:
        return 1;
    case DType::I32:
        return 4;
    }
    return 0;
}

Tensor Backend::tensor(Shape shape, DType dtype, Placement placement) {
    if (m_allocated || shape.numel() <= 0) {
        // An invalid tensor: every op rejects it ("... is not allocated"), allocate() explains.
        m_planError = m_allocated ? "a tensor was planned after allocate(); call reset() first"
                                  : "a tensor of shape " + shape.str() + " has no elements";
        return Tensor{};
    }
    Tensor t;
    t.shape = shape;
    t.dtype = dtype;
    t.placement = placement;
    t.bytes = std::uint64_t(shape.numel()) * elementSize(dtype);
    std::uint64_t& cursor = m_planned[int(placement)];
    const std::uint64_t a = alignment();
    t.offset = (cursor + a - 1) / a * a;
    cursor = t.offset + std::max<std::uint64_t>(t.bytes, 1);
    return t;
}

Tensor Backend::view(const Tensor& parent, std::int64_t elementOffset, Shape shape) const {
    Tensor t = parent;
    t.shape = shape;
    t.offset = parent.offset + std::uint64_t(elementOffset) * elementSize(parent.dtype);
    t.bytes = std::uint64_t(shape.numel()) * elementSize(parent.dtype);
    if (!parent.valid() || elementOffset < 0 || shape.numel() <= 0 || t.offset % alignment() != 0 ||
        t.offset + t.bytes > parent.offset + parent.bytes)
        return Tensor{}; // misaligned or outside its parent: rejected by every op
    return t;
}

Status Backend::allocate() {
    if (m_allocated)
        return Status::error("Tensors are already allocated", "Backend::allocate");
    if (!m_planError.empty())
        return Status::error(m_planError, "tensor planning");
    const MemoryBudget budget = memoryBudget();
    auto refuse = [&](std::uint64_t need, std::uint64_t have, const std::string& where) {
        return Status::error("the tensors need " + byteSize(need) + " but " + where + " has " +
                                 byteSize(have) + " available; nothing was allocated",
                             description(),
                             "Lower the batch size, use a smaller network or dataset, or another "
                             "backend (--backend cpu uses host memory)");
    };
    if (budget.shared && budget.device > 0 && m_planned[0] + m_planned[1] > budget.device)
        return refuse(m_planned[0] + m_planned[1], budget.device, budget.where);
    if (!budget.shared && budget.device > 0 && m_planned[0] > budget.device)
        return refuse(m_planned[0], budget.device, budget.where);
    if (!budget.shared && budget.host > 0 && m_planned[1] > budget.host)
        return refuse(m_planned[1], budget.host, "host-visible memory");
    CS_TRY(allocateArenas(std::max<std::uint64_t>(m_planned[0], 16),
                          std::max<std::uint64_t>(m_planned[1], 16)));
    m_allocated = true;
    return {};
}

Result<ProgramId> Backend::record(const std::function<Status()>& body) {
    if (Status s = beginProgram(); !s.ok()) {
        if (m_recording)
            abortProgram();
        return s;
    }
    if (Status s = body(); !s.ok()) {
        abortProgram();
        return s;
    }
    return endProgram();
}

Status Backend::reset() {
    if (m_recording)
        abortProgram();
    CS_TRY(finish());
    releaseAll();
    m_planned[0] = m_planned[1] = 0;
    m_allocated = false;
    m_planError.clear();
    return {};
}

Status Backend::writeBytes(const Tensor& t, const void* src, std::size_t bytes,
                           std::size_t offset) {
    if (!m_allocated || offset + bytes > t.bytes)
        return Status::error("write outside the tensor or before allocate()", description());
    return bytes == 0 ? Status{} : copyIn(t, src, bytes, offset);
}

Status Backend::readBytes(const Tensor& t, void* dst, std::size_t bytes, std::size_t offset) {
    if (!m_allocated || offset + bytes > t.bytes)
        return Status::error("read outside the tensor or before allocate()", description());
    return bytes == 0 ? Status{} : copyOut(t, dst, bytes, offset);
}

Status Backend::writeReal(const Tensor& t, std::span<const double> v) {
    if (std::int64_t(v.size()) != t.numel())
        return Status::error("writeReal: " + std::to_string(v.size()) + " values for a tensor of " +
                             std::to_string(t.numel()));
    if (elementSize(DType::Real) == sizeof(double))
        return writeBytes(t, v.data(), v.size_bytes());
    std::vector<float> f(v.begin(), v.end());
    return writeBytes(t, f.data(), f.size() * sizeof(float));
}

Status Backend::writeReal(const Tensor& t, std::span<const float> v) {
    std::vector<double> d(v.begin(), v.end());
    return writeReal(t, std::span<const double>(d));
}

Status Backend::writeI32(const Tensor& t, std::span<const std::int32_t> v) {
    if (t.dtype != DType::I32 || std::int64_t(v.size()) != t.numel())
        return Status::error("writeI32: tensor is not I32 or sizes differ");
    return writeBytes(t, v.data(), v.size_bytes());
}

Result<std::vector<double>> Backend::readReal(const Tensor& t) {
    std::vector<double> out(std::size_t(t.numel()));
    if (elementSize(DType::Real) == sizeof(double)) {
        CS_TRY(readBytes(t, out.data(), out.size() * sizeof(double)));
    } else {
        std::vector<float> f(out.size());
        CS_TRY(readBytes(t, f.data(), f.size() * sizeof(float)));
        std::copy(f.begin(), f.end(), out.begin());
    }
    return out;
}

Status Backend::zero(const Tensor& t) {
    std::vector<std::byte> z(t.bytes);
    return writeBytes(t, z.data(), z.size());
}

double Backend::hostReal(const Tensor& t, std::int64_t i) const {
    const std::byte* p = hostPointer(t);
    if (elementSize(DType::Real) == sizeof(double))
        return reinterpret_cast<const double*>(p)[i];
    return reinterpret_cast<const float*>(p)[i];
}

void Backend::setHostReal(const Tensor& t, std::int64_t i, double value) {
    std::byte* p = hostPointer(t);
    if (elementSize(DType::Real) == sizeof(double))
        reinterpret_cast<double*>(p)[i] = value;
    else
        reinterpret_cast<float*>(p)[i] = float(value);
}

Result<BackendChoice> createBackend(const BackendOptions& o) {
    BackendChoice c;
    if (o.backend == "cpu") {
        c.backend = std::make_unique<CpuBackend<float>>(o.threads);
        c.reason = "requested with --backend cpu";
        return c;
    }
    if (o.backend == "cpu-double") {
        c.backend = std::make_unique<CpuBackend<double>>(o.threads);
        c.reason = "requested with --backend cpu-double";
        return c;
    }
    if (o.backend != "vulkan" && o.backend != "auto")
        return Status::error("Unknown backend '" + o.backend + "'", "--backend",
                             "Use auto, vulkan, cpu or cpu-double");
    auto vk = VulkanBackend::create(o);
    if (o.backend == "vulkan") {
        if (!vk.ok())
            return vk.status();
        c.backend = std::move(vk.value());
        c.reason = "requested with --backend vulkan";
        return c;
    }
    // auto
    if (vk.ok() && vk.value()->context().info().isGpu()) {
        c.reason = "auto: a real GPU (" + vk.value()->context().info().typeName() + ") was found";
        c.backend = std::move(vk.value());
        return c;
    }
    c.reason =
        vk.ok()
            ? "auto: the only Vulkan device is " + vk.value()->context().info().name +
                  ", a CPU emulating a GPU; the CPU backend (its own vector kernels) is faster here"
            : "auto: no usable Vulkan device (" + vk.status().message() + ")";
    c.backend = std::make_unique<CpuBackend<float>>(o.threads);
    return c;
}

} // namespace convscope
