// Shared test support: one validated Vulkan backend per test executable, error measures.
#include "test_support.h"
#include "core/random.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace convscope::testing {

bool onCi() {
    const char* ci = std::getenv("CI");
    return ci && std::strcmp(ci, "true") == 0;
}

namespace {
std::unique_ptr<VulkanBackend> makeVulkan(const std::string& tuning) {
    BackendOptions o;
    o.validation = true; // every test runs with the validation layer
    o.tuning = tuning;
    auto r = VulkanBackend::create(o);
    if (!r.ok()) {
        std::fprintf(stderr, "Vulkan backend unavailable: %s\n", r.status().message().c_str());
        return {};
    }
    return std::move(r.value());
}
// Set by vulkanWithGpuTuning() once made, for noValidationMessages(). The backends themselves
// are function-local statics: made after the Vulkan loader has loaded the validation layer,
// they are destroyed before the layer's own statics at exit (a namespace-scope one was not).
VulkanBackend* g_gpuTuned = nullptr;
} // namespace

VulkanBackend* vulkan() {
    static std::unique_ptr<VulkanBackend> backend = makeVulkan("auto");
    return backend.get();
}

VulkanBackend* vulkanWithGpuTuning() {
    static std::unique_ptr<VulkanBackend> backend = vulkan() ? makeVulkan("gpu") : nullptr;
    g_gpuTuned = backend.get();
    return g_gpuTuned;
}

bool noValidationMessages() {
    for (VulkanBackend* vk : {vulkan(), g_gpuTuned})
        if (vk && vk->context().validationMessages() != 0)
            return false;
    return true;
}

double relError(const std::vector<double>& a, const std::vector<double>& ref) {
    if (a.size() != ref.size())
        return INFINITY;
    double diff = 0, scale = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (std::isnan(a[i]) != std::isnan(ref[i]))
            return INFINITY;
        diff = std::max(diff, std::abs(a[i] - ref[i]));
        scale = std::max(scale, std::abs(ref[i]));
    }
    return diff / std::max(scale, 1e-30);
}

std::vector<double> uniform(std::int64_t n, std::uint64_t seed, double lo, double hi) {
    Rng rng(seed);
    std::vector<double> v(static_cast<std::size_t>(n));
    for (auto& x : v)
        x = lo + (hi - lo) * rng.uniform();
    return v;
}

std::vector<double> asFloat(std::vector<double> v) {
    for (auto& x : v)
        x = double(float(x));
    return v;
}

std::vector<double> numericGradient(std::vector<double> x,
                                    const std::function<double(const std::vector<double>&)>& f,
                                    double h) {
    std::vector<double> g(x.size());
    for (std::size_t i = 0; i < x.size(); ++i) {
        const double keep = x[i];
        x[i] = keep + h;
        const double up = f(x);
        x[i] = keep - h;
        const double down = f(x);
        x[i] = keep;
        g[i] = (up - down) / (2 * h);
    }
    return g;
}

bool allClose(std::initializer_list<Compared> outputs, double tolerance, QString* failure) {
    bool ok = true;
    for (const Compared& c : outputs) {
        const double e = relError(c.got, c.ref);
        qInfo("%s max relative error %.3g", c.name, e);
        if (!(e <= tolerance) && ok) {
            *failure = QString("%1 relative error %2 above %3").arg(c.name).arg(e).arg(tolerance);
            ok = false;
        }
    }
    return ok;
}

Status runOnce(Backend& be, const std::function<Status()>& record) {
    CS_TRY_ASSIGN(ProgramId p, be.record(record));
    CS_TRY_ASSIGN(Ticket t, be.submit(p, 1));
    return be.wait(t);
}

} // namespace convscope::testing
