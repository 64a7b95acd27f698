// convscope-bench-ops: times each op forward and backward on the LeNet-5, VGG-style and
// ResNet-20 shapes (batch 64) on one backend. `--list` prints the cases as JSON for
// bench/ops_torch.py, so both sides time exactly the same shapes; bench/ops.sh joins them.
// `--describe` prints the backend (for Vulkan: its tile profile) and exits.
// Each timing replays one recorded program `repeat` times in one submit (about 0.3 s of work).
#include "backend/backend.h"
#include "ops/activation.h"
#include "ops/batch_norm.h"
#include "ops/conv2d.h"
#include "ops/linear.h"
#include "ops/pool2d.h"

#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

using namespace convscope;

namespace {

struct Case {
    std::string model, name, kind; // kind: conv | linear | maxpool | relu | bn
    std::int64_t n, c, h, w, k = 0, r = 0, stride = 1, pad = 0;
};

std::vector<Case> cases() {
    const std::int64_t B = 64;
    return {
        {"lenet5", "conv1 1->6 5x5 pad2 28x28", "conv", B, 1, 28, 28, 6, 5, 1, 2},
        {"lenet5", "pool1 6@28x28 2x2", "maxpool", B, 6, 28, 28, 0, 2, 2, 0},
        {"lenet5", "conv2 6->16 5x5 14x14", "conv", B, 6, 14, 14, 16, 5, 1, 0},
        {"lenet5", "fc1 400->120", "linear", B, 400, 1, 1, 120},
        {"lenet5", "fc2 120->84", "linear", B, 120, 1, 1, 84},
        {"vgg", "conv 3->32 3x3 32x32", "conv", B, 3, 32, 32, 32, 3, 1, 1},
        {"vgg", "conv 32->32 3x3 32x32", "conv", B, 32, 32, 32, 32, 3, 1, 1},
        {"vgg", "conv 64->64 3x3 16x16", "conv", B, 64, 16, 16, 64, 3, 1, 1},
        {"vgg", "pool 32@32x32 2x2", "maxpool", B, 32, 32, 32, 0, 2, 2, 0},
        {"resnet20", "conv 3->16 3x3 32x32", "conv", B, 3, 32, 32, 16, 3, 1, 1},
        {"resnet20", "conv 16->16 3x3 32x32", "conv", B, 16, 32, 32, 16, 3, 1, 1},
        {"resnet20", "conv 16->32 3x3 s2 32x32", "conv", B, 16, 32, 32, 32, 3, 2, 1},
        {"resnet20", "conv 32->32 3x3 16x16", "conv", B, 32, 16, 16, 32, 3, 1, 1},
        {"resnet20", "conv 64->64 3x3 8x8", "conv", B, 64, 8, 8, 64, 3, 1, 1},
        {"resnet20", "bn 16@32x32", "bn", B, 16, 32, 32},
        {"resnet20", "relu 16@32x32", "relu", B, 16, 32, 32},
        {"resnet20", "fc 64->10", "linear", B, 64, 1, 1, 10},
    };
}

ops::Conv2dShape convShape(const Case& c) {
    ops::Conv2dShape s;
    s.batch = c.n, s.inChannels = c.c, s.height = c.h, s.width = c.w, s.outChannels = c.k;
    s.kernelH = s.kernelW = c.r, s.strideH = s.strideW = c.stride;
    s.padTop = s.padBottom = s.padLeft = s.padRight = c.pad;
    return s;
}

// Floating-point operations of the forward pass (the backward pass does twice as many).
double forwardFlops(const Case& c) {
    if (c.kind == "conv") {
        auto s = convShape(c);
        return 2.0 * double(s.outputElements()) * double(c.c * c.r * c.r);
    }
    if (c.kind == "linear")
        return 2.0 * double(c.n * c.c * c.k);
    return 0;
}

double seconds() {
    using namespace std::chrono;
    return duration<double>(steady_clock::now().time_since_epoch()).count();
}

// Seconds per run of `record`'s program, replayed in one submit.
Result<double> timeProgram(Backend& be, const std::function<Status()>& record) {
    CS_TRY_ASSIGN(ProgramId p, be.record(record));
    CS_TRY_ASSIGN(Ticket warm, be.submit(p, 1));
    CS_TRY(be.wait(warm));
    double t0 = seconds();
    CS_TRY_ASSIGN(Ticket one, be.submit(p, 1));
    CS_TRY(be.wait(one));
    const double single = std::max(seconds() - t0, 1e-6);
    const auto repeat = std::uint32_t(std::clamp(0.3 / single, 1.0, 2000.0));
    t0 = seconds();
    CS_TRY_ASSIGN(Ticket t, be.submit(p, repeat));
    CS_TRY(be.wait(t));
    return (seconds() - t0) / repeat;
}

// Forward and backward seconds of one case.
Result<std::pair<double, double>> run(Backend& be, const Case& c) {
    CS_TRY(be.reset());
    if (c.kind == "conv") {
        auto s = convShape(c);
        Tensor x = be.tensor({s.inputElements()}), w = be.tensor({s.weightElements()});
        Tensor b = be.tensor({c.k}), y = be.tensor({s.outputElements()}),
               dy = be.tensor({s.outputElements()});
        Tensor dx = be.tensor({s.inputElements()}), dw = be.tensor({s.weightElements()}),
               db = be.tensor({c.k});
        CS_TRY(be.allocate());
        CS_TRY_ASSIGN(double f,
                      timeProgram(be, [&] { return ops::conv2dForward(be, s, x, w, b, y); }));
        CS_TRY_ASSIGN(double bw, timeProgram(be, [&]() -> Status {
                          CS_TRY(ops::conv2dBackwardData(be, s, dy, w, dx));
                          return ops::conv2dBackwardWeight(be, s, dy, x, dw, db);
                      }));
        return std::pair{f, bw};
    }
    if (c.kind == "linear") {
        ops::LinearShape s{c.n, c.c, c.k};
        Tensor x = be.tensor({c.n, c.c}), w = be.tensor({c.k, c.c}), b = be.tensor({c.k});
        Tensor y = be.tensor({c.n, c.k}), dy = be.tensor({c.n, c.k}), dx = be.tensor({c.n, c.c});
        Tensor dw = be.tensor({c.k, c.c}), db = be.tensor({c.k});
        CS_TRY(be.allocate());
        CS_TRY_ASSIGN(double f,
                      timeProgram(be, [&] { return ops::linearForward(be, s, x, w, b, y); }));
        CS_TRY_ASSIGN(double bw, timeProgram(be, [&]() -> Status {
                          CS_TRY(ops::linearBackwardData(be, s, dy, w, dx));
                          return ops::linearBackwardWeight(be, s, dy, x, dw, db);
                      }));
        return std::pair{f, bw};
    }
    const std::int64_t E = c.n * c.c * c.h * c.w;
    if (c.kind == "maxpool") {
        ops::Pool2dShape s{c.n, c.c, c.h, c.w, c.r, c.r, c.stride, c.stride, 0, 0};
        Tensor x = be.tensor({E}), dx = be.tensor({E}), y = be.tensor({s.outputElements()});
        Tensor dy = be.tensor({s.outputElements()}),
               arg = be.tensor({s.outputElements()}, DType::I32);
        CS_TRY(be.allocate());
        CS_TRY_ASSIGN(double f,
                      timeProgram(be, [&] { return ops::maxPool2dForward(be, s, x, y, arg); }));
        CS_TRY_ASSIGN(double bw,
                      timeProgram(be, [&] { return ops::maxPool2dBackward(be, s, dy, arg, dx); }));
        return std::pair{f, bw};
    }
    if (c.kind == "relu") {
        Tensor x = be.tensor({E}), y = be.tensor({E}), dy = be.tensor({E}), dx = be.tensor({E});
        CS_TRY(be.allocate());
        CS_TRY_ASSIGN(double f, timeProgram(be, [&] { return ops::reluForward(be, x, y); }));
        CS_TRY_ASSIGN(double bw, timeProgram(be, [&] { return ops::reluBackward(be, y, dy, dx); }));
        return std::pair{f, bw};
    }
    // bn
    ops::BatchNormShape s{c.n, c.c, c.h * c.w};
    Tensor x = be.tensor({E}), y = be.tensor({E}), dy = be.tensor({E}), dx = be.tensor({E});
    ops::BatchNormParams p{be.tensor({c.c}), be.tensor({c.c}), be.tensor({c.c}),
                           be.tensor({c.c}), be.tensor({c.c}), be.tensor({c.c})};
    Tensor dg = be.tensor({c.c}), dbt = be.tensor({c.c});
    CS_TRY(be.allocate());
    CS_TRY(be.writeReal(p.runningVar, std::vector<double>(std::size_t(c.c), 1.0)));
    CS_TRY_ASSIGN(double f,
                  timeProgram(be, [&] { return ops::batchNormForward(be, s, true, x, p, y); }));
    CS_TRY_ASSIGN(double bw, timeProgram(be, [&] {
                      return ops::batchNormBackward(be, s, true, dy, x, p, dx, dg, dbt);
                  }));
    return std::pair{f, bw};
}

} // namespace

int main(int argc, char** argv) {
    std::string backend = "cpu";
    bool list = false, describe = false;
    for (int i = 1; i < argc; ++i) {
        if (!std::strcmp(argv[i], "--list"))
            list = true;
        else if (!std::strcmp(argv[i], "--describe"))
            describe = true;
        else if (!std::strcmp(argv[i], "--backend") && i + 1 < argc)
            backend = argv[++i];
        else {
            std::fprintf(
                stderr,
                "usage: convscope-bench-ops [--list] [--describe] [--backend cpu|vulkan]\n");
            return 2;
        }
    }
    if (list) {
        std::printf("[\n");
        auto all = cases();
        for (std::size_t i = 0; i < all.size(); ++i) {
            const Case& c = all[i];
            std::printf("  {\"model\": \"%s\", \"name\": \"%s\", \"kind\": \"%s\", \"n\": %lld, "
                        "\"c\": %lld, \"h\": %lld, \"w\": %lld, \"k\": %lld, \"r\": %lld, "
                        "\"stride\": %lld, \"pad\": %lld, \"flops\": %.0f}%s\n",
                        c.model.c_str(), c.name.c_str(), c.kind.c_str(), (long long)c.n,
                        (long long)c.c, (long long)c.h, (long long)c.w, (long long)c.k,
                        (long long)c.r, (long long)c.stride, (long long)c.pad, forwardFlops(c),
                        i + 1 < all.size() ? "," : "");
        }
        std::printf("]\n");
        return 0;
    }
    BackendOptions o;
    o.backend = backend;
    o.threads = 2;
    auto choice = createBackend(o);
    if (!choice.ok()) {
        std::fprintf(stderr, "convscope-bench-ops: %s\n", choice.status().message().c_str());
        return 1;
    }
    std::fprintf(stderr, "%s\n", choice->backend->description().c_str());
    if (describe) // the backend (and for Vulkan its tile profile) alone, for bench/gpu.sh
        return 0;
    for (const Case& c : cases()) {
        auto t = run(*choice->backend, c);
        if (!t.ok()) {
            std::fprintf(stderr, "%s: %s\n", c.name.c_str(), t.status().message().c_str());
            return 1;
        }
        // name <tab> forward ms <tab> backward ms
        std::printf("%s\t%.4f\t%.4f\n", c.name.c_str(), t->first * 1e3, t->second * 1e3);
        std::fflush(stdout);
    }
    return 0;
}
