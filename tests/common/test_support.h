// Shared test support: the backends under test, error measures and finite differences.
#pragma once

#include "backend/backend.h"
#include "backend/cpu_backend.h"
#include "backend/vulkan_backend.h"
#include <QString>
#include <QTest>
#include <functional>
#include <memory>
#include <vector>

namespace convscope::testing {

// The Vulkan backend with validation on, shared by a test executable. Returns nullptr (and the
// caller skips) when there is no Vulkan device; with CI=true that is a failure instead.
VulkanBackend* vulkan();
// The same device with the GPU tile sizes (vk::Tuning "gpu"), so the tiles a GPU would use are
// tested on lavapipe too; nullptr like vulkan().
VulkanBackend* vulkanWithGpuTuning();
// Fails the current test if the Vulkan backend has seen any validation message.
bool noValidationMessages();
bool onCi();

// The backends a test runs on, by name: "cpu-double" (one thread), "cpu" (float) and "vulkan"
// (nullptr when there is no device: the caller skips, or fails on CI).
class NamedBackends {
public:
    Backend* operator()(const QString& name) {
        if (name == "cpu-double")
            return &m_double;
        if (name == "cpu")
            return &m_float;
        return vulkan();
    }
    CpuBackend<double>& cpuDouble() { return m_double; }
    CpuBackend<float>& cpuFloat() { return m_float; }

private:
    CpuBackend<double> m_double{1};
    CpuBackend<float> m_float;
};

// max|a − b| / max|ref| (normwise, so near-zero entries do not blow it up).
double relError(const std::vector<double>& a, const std::vector<double>& ref);
std::vector<double> uniform(std::int64_t n, std::uint64_t seed, double lo = -1.0, double hi = 1.0);
// Values rounded to float, so every backend starts from exactly the same numbers.
std::vector<double> asFloat(std::vector<double> v);

// Central differences of a scalar function f at x, one coordinate at a time.
std::vector<double> numericGradient(std::vector<double> x,
                                    const std::function<double(const std::vector<double>&)>& f,
                                    double h = 1e-5);

// Central differences of L = Σ weights ⊙ output(inputs) along one vector field of `inputs`:
// the gradient a backward pass given dy = weights must produce for that field.
template <class Inputs, class Output>
std::vector<double> numericGradientOf(const Inputs& base, std::vector<double> Inputs::*field,
                                      const std::vector<double>& weights, Output output) {
    return numericGradient(base.*field, [&](const std::vector<double>& v) {
        Inputs in = base;
        in.*field = v;
        const std::vector<double> y = output(in);
        double l = 0;
        for (std::size_t i = 0; i < y.size(); ++i)
            l += weights[i] * y[i];
        return l;
    });
}

// One output of a backend comparison: its name, the values under test and the reference.
struct Compared {
    const char* name;
    const std::vector<double>& got;
    const std::vector<double>& ref;
};
// Logs each output's max relative error; false (with `failure` naming the first output over
// the tolerance) when any is above it.
bool allClose(std::initializer_list<Compared> outputs, double tolerance, QString* failure);

// Records `record` as a program, runs it once and waits.
Status runOnce(Backend& be, const std::function<Status()>& record);

// QCOMPARE-style helper for Status: fails with the message.
#define CS_VERIFY_OK(expr)                                                                         \
    do {                                                                                           \
        ::convscope::Status cs_s_ = (expr);                                                        \
        QVERIFY2(cs_s_.ok(), cs_s_.message().c_str());                                             \
    } while (0)

// Skips (or fails on CI) when no Vulkan device exists; binds `name` to the backend.
#define CS_REQUIRE_VULKAN(name)                                                                    \
    VulkanBackend* name = ::convscope::testing::vulkan();                                          \
    if (!name) {                                                                                   \
        if (::convscope::testing::onCi())                                                          \
            QFAIL(                                                                                 \
                "no Vulkan device, and CI=true: lavapipe (mesa-vulkan-drivers) must be present");  \
        QSKIP("no Vulkan device");                                                                 \
    }

} // namespace convscope::testing
