// CpuBackend: host arenas, closure programs, Eigen/OpenMP threading.
#include "backend/cpu_backend.h"
#include "cpu/gemm.h"

#include <Eigen/Core>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <omp.h>

namespace convscope {

namespace {
// Threads when none are asked for: $CONVSCOPE_THREADS (e.g. 1 under ThreadSanitizer, which
// cannot see libgomp's synchronisation), else every core.
int defaultThreads() {
    if (const char* env = std::getenv("CONVSCOPE_THREADS"))
        if (const int n = std::atoi(env); n > 0)
            return n;
    return omp_get_num_procs();
}
} // namespace

template <class T>
CpuBackend<T>::CpuBackend(int threads, bool configureThreads)
    : m_threads(threads > 0 ? threads : defaultThreads()) {
    if (!configureThreads)
        return;
    omp_set_num_threads(m_threads);
    Eigen::setNbThreads(m_threads);
}

template <class T>
CpuBackend<T>::~CpuBackend() {
    releaseAll();
}

template <class T>
void CpuBackend<T>::releaseAll() {
    std::free(m_device);
    std::free(m_host);
    m_device = m_host = nullptr;
    m_programs.clear();
}

template <class T>
std::string CpuBackend<T>::description() const {
    // float: convolutions on engine/cpu's kernels (the ISA they run), the rest Eigen; double
    // (the oracle): Eigen throughout.
    const std::string eigen =
        "Eigen " + std::to_string(EIGEN_WORLD_VERSION) + "." + std::to_string(EIGEN_MAJOR_VERSION);
    return std::string("CPU (") +
           (std::is_same_v<T, float>
                ? std::string("float, ") + cpu::isaName(cpu::activeIsa()) + " kernels + " + eigen
                : "double, " + eigen) +
           ", " + std::to_string(m_threads) + " threads)";
}

template <class T>
Backend::MemoryBudget CpuBackend<T>::memoryBudget() const {
    MemoryBudget b;
    b.shared = true;
    b.where = "host memory (MemAvailable in /proc/meminfo)";
    std::ifstream in("/proc/meminfo");
    std::string key;
    unsigned long long kib = 0;
    std::string unit;
    while (in >> key >> kib >> unit)
        if (key == "MemAvailable:") {
            b.device = kib * 1024;
            break;
        }
    return b;
}

template <class T>
Status CpuBackend<T>::allocateArenas(std::uint64_t deviceBytes, std::uint64_t hostBytes) {
    auto alloc = [](std::uint64_t n) {
        std::uint64_t rounded = (n + 63) / 64 * 64;
        auto* p = static_cast<std::byte*>(std::aligned_alloc(64, rounded));
        if (p)
            std::memset(p, 0, rounded);
        return p;
    };
    m_device = alloc(deviceBytes);
    m_host = alloc(hostBytes);
    if (!m_device || !m_host)
        return Status::error("Out of memory allocating " + std::to_string(deviceBytes >> 20) +
                                 " MiB for the tensors",
                             "CPU backend", "Reduce the batch size or the network");
    return {};
}

template <class T>
Status CpuBackend<T>::beginProgram() {
    if (m_recording)
        return Status::error("beginProgram() while already recording", "CpuBackend");
    if (!allocated())
        return Status::error("beginProgram() before allocate()", "CpuBackend");
    m_recording = true;
    m_current.clear();
    return {};
}

template <class T>
Result<ProgramId> CpuBackend<T>::endProgram() {
    if (!m_recording)
        return Status::error("endProgram() without beginProgram()", "CpuBackend");
    m_recording = false;
    m_programs.push_back(std::move(m_current));
    m_current = {};
    return ProgramId(m_programs.size() - 1);
}

template <class T>
Status CpuBackend<T>::enqueue(std::function<void()> work) {
    if (!m_recording)
        return Status::error("an op was called outside beginProgram()/endProgram()", "CpuBackend");
    m_current.push_back(std::move(work));
    return {};
}

template <class T>
Result<Ticket> CpuBackend<T>::submit(ProgramId program, std::uint32_t repeat) {
    if (program >= m_programs.size())
        return Status::error("submit of an unknown program", "CpuBackend");
    for (std::uint32_t r = 0; r < repeat; ++r)
        for (auto& work : m_programs[program])
            work();
    return ++m_lastTicket;
}

template class CpuBackend<float>;
template class CpuBackend<double>;

} // namespace convscope
