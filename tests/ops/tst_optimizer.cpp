// optimizer: every update rule on both backends against the CPU double reference, against
// closed forms (constant gradient: all six rules; plain SGD on the quadratic ½·a·p²), global
// norm clipping, and a learning-rate change without re-recording the program.
#include "op_test.h"
#include "ops/optimizer.h"

#include <cmath>

using namespace convscope;
using namespace convscope::testing;
using ops::OptimizerKind;

Q_DECLARE_METATYPE(convscope::ops::OptimizerKind)

namespace {

struct State {
    std::vector<double> p, s1, norm;
};

// `steps` updates; before step k the host writes grads = gradient(p) and the step counter k.
Result<State> run(Backend& be, const ops::OptimizerConfig& cfg, const std::vector<double>& p0,
                  const std::function<std::vector<double>(const std::vector<double>&)>& gradient,
                  int steps) {
    CS_TRY(be.reset());
    const std::int64_t n = std::int64_t(p0.size());
    Tensor p = be.tensor({n}), g = be.tensor({n}), s1 = be.tensor({n}), s2 = be.tensor({n});
    Tensor h = be.tensor({ops::kHyperSize}, DType::Real, Placement::Host);
    Tensor step = be.tensor({1}, DType::I32), norm = be.tensor({2});
    Tensor partials = be.tensor({ops::kNormPartials});
    CS_TRY(be.allocate());
    CS_TRY(be.writeReal(p, p0));
    CS_TRY(be.zero(s1));
    CS_TRY(be.zero(s2));
    CS_TRY(be.zero(norm));
    CS_TRY(be.writeReal(h, ops::hyperValues(cfg)));
    CS_TRY_ASSIGN(ProgramId prog, be.record([&]() -> Status {
        if (cfg.clipNorm > 0)
            CS_TRY(ops::gradNorm(be, g, partials, norm, h));
        return ops::optimizerUpdate(be, cfg.kind, p, g, s1, s2, h, step, norm);
    }));
    State st;
    st.p = p0;
    for (std::int32_t k = 0; k < steps; ++k) {
        CS_TRY(be.writeReal(g, gradient(st.p)));
        CS_TRY(be.writeI32(step, std::vector<std::int32_t>{k}));
        CS_TRY_ASSIGN(Ticket t, be.submit(prog, 1));
        CS_TRY(be.wait(t));
        CS_TRY_ASSIGN(st.p, be.readReal(p));
    }
    CS_TRY_ASSIGN(st.s1, be.readReal(s1));
    CS_TRY_ASSIGN(st.norm, be.readReal(norm));
    return st;
}

ops::OptimizerConfig config(OptimizerKind k, double lr = 0.1, double wd = 0) {
    ops::OptimizerConfig c;
    c.kind = k;
    c.lr = lr;
    c.weightDecay = wd;
    return c;
}

auto constant(std::vector<double> g) {
    return [g](const std::vector<double>&) { return g; };
}

const OptimizerKind kAll[] = {OptimizerKind::Sgd,      OptimizerKind::Momentum,
                              OptimizerKind::Nesterov, OptimizerKind::RmsProp,
                              OptimizerKind::Adam,     OptimizerKind::AdamW};

} // namespace

class TestOptimizer : public OpTest {
    Q_OBJECT

    void cases(BackendKind) override {
        QTest::addColumn<OptimizerKind>("kind");
        QTest::addColumn<qint64>("n");
        QTest::addColumn<double>("decay");
        QTest::addColumn<double>("clip");
        for (auto k : kAll) {
            const std::string name = config(k).name();
            QTest::newRow((name + ", 1").c_str()) << k << qint64(1) << 0.0 << 0.0;
            QTest::newRow((name + ", 1031 + decay + clip").c_str())
                << k << qint64(1031) << 1e-2 << 3.0;
        }
        QTest::newRow("momentum, 203530 (the mlp)")
            << OptimizerKind::Momentum << qint64(203530) << 5e-4 << 0.0;
    }
    void compare(Backend& be) override {
        QFETCH(OptimizerKind, kind);
        QFETCH(qint64, n);
        QFETCH(double, decay);
        QFETCH(double, clip);
        auto cfg = config(kind, 0.01, decay);
        cfg.clipNorm = clip;
        auto p0 = asFloat(uniform(n, 1)), g = asFloat(uniform(n, 2));
        auto ref = run(m_ref, cfg, p0, constant(g), 3);
        auto got = run(be, cfg, p0, constant(g), 3);
        QVERIFY2(ref.ok() && got.ok(), (ref.ok() ? got : ref).status().message().c_str());
        const double ep = relError(got->p, ref->p), es = relError(got->s1, ref->s1);
        qInfo("params max relative error %.3g, state %.3g", ep, es);
        QVERIFY(ep <= 1e-4 && es <= 1e-4);
        if (clip > 0) {
            QVERIFY(relError(got->norm, ref->norm) <= 1e-4);
            QVERIFY(ref->norm[1] < 1.0); // ‖g‖ ≈ 18 > 3: clipping really happened
        }
    }

private slots:
    // With a constant gradient g every rule has a closed form after k steps.
    void constantGradientClosedForms_data() {
        QTest::addColumn<OptimizerKind>("kind");
        for (auto k : kAll)
            QTest::newRow(config(k).name().c_str()) << k;
    }
    void constantGradientClosedForms() {
        QFETCH(OptimizerKind, kind);
        const double lr = 0.1, mu = 0.9, g = 0.5, p0 = 2.0, wd = 0.01, eps = 1e-8;
        const int k = 7;
        auto cfg = config(kind, lr, kind == OptimizerKind::AdamW ? wd : 0.0);
        auto s = run(m_ref, cfg, {p0}, constant({g}), k);
        QVERIFY(s.ok());
        double expected = p0;
        switch (kind) {
        case OptimizerKind::Sgd: // p_k = p0 − k·lr·g
            expected = p0 - k * lr * g;
            break;
        case OptimizerKind::Momentum: // b_j = g(1−μ^j)/(1−μ)
        case OptimizerKind::Nesterov: // update_j = g + μ·b_j
            for (int j = 1; j <= k; ++j) {
                const double b = g * (1 - std::pow(mu, j)) / (1 - mu);
                expected -= lr * (kind == OptimizerKind::Nesterov ? g + mu * b : b);
            }
            break;
        case OptimizerKind::RmsProp: // v_j = g²(1−α^j)
            for (int j = 1; j <= k; ++j)
                expected -= lr * g / (std::sqrt(g * g * (1 - std::pow(0.99, j))) + eps);
            break;
        case OptimizerKind::Adam: // bias-corrected m̂ = g, v̂ = g²: p_k = p0 − k·lr·g/(|g|+ε)
            expected = p0 - k * lr * g / (std::abs(g) + eps);
            break;
        case OptimizerKind::AdamW: // decoupled decay first, then the Adam step
            for (int j = 1; j <= k; ++j)
                expected = expected * (1 - lr * wd) - lr * g / (std::abs(g) + eps);
            break;
        }
        QVERIFY2(std::abs(s->p[0] - expected) < 1e-12, qPrintable(QString("got %1, closed form %2")
                                                                      .arg(s->p[0], 0, 'g', 17)
                                                                      .arg(expected, 0, 'g', 17)));
    }

    // Gradient descent on ½·a·p² (gradient a·p recomputed every step): p_k = p0·(1 − lr·a)^k.
    void quadraticDescentMatchesClosedForm() {
        const double a = 3.0, lr = 0.05, p0 = 1.5;
        auto s = run(
            m_ref, config(OptimizerKind::Sgd, lr), {p0},
            [a](const std::vector<double>& p) { return std::vector<double>{a * p[0]}; }, 10);
        QVERIFY(s.ok());
        QVERIFY(std::abs(s->p[0] - p0 * std::pow(1 - lr * a, 10)) < 1e-12);
    }

    // ‖(3, 4)‖ = 5: clipping to 1 scales the step by 1/5; clipping to 10 leaves it alone.
    void clippingScalesToTheMaximumNorm() {
        for (double maxNorm : {1.0, 10.0}) {
            auto cfg = config(OptimizerKind::Sgd, 1.0);
            cfg.clipNorm = maxNorm;
            auto s = run(m_ref, cfg, {0, 0}, constant({3, 4}), 1);
            QVERIFY(s.ok());
            QVERIFY(std::abs(s->norm[0] - 5.0) < 1e-12);
            const double scale = std::min(1.0, maxNorm / (5.0 + 1e-6));
            QVERIFY(std::abs(s->p[0] + 3 * scale) < 1e-12);
            QVERIFY(std::abs(s->p[1] + 4 * scale) < 1e-12);
        }
    }

    void learningRateChangesWithoutRerecording() {
        CS_REQUIRE_VULKAN(vk);
        CS_VERIFY_OK(vk->reset());
        Tensor p = vk->tensor({4}), g = vk->tensor({4}), s1 = vk->tensor({4}), s2 = vk->tensor({4});
        Tensor h = vk->tensor({ops::kHyperSize}, DType::Real, Placement::Host);
        Tensor step = vk->tensor({1}, DType::I32), norm = vk->tensor({2});
        CS_VERIFY_OK(vk->allocate());
        CS_VERIFY_OK(vk->writeReal(p, std::vector<double>{1, 1, 1, 1}));
        CS_VERIFY_OK(vk->writeReal(g, std::vector<double>{1, 2, 3, 4}));
        for (const Tensor& t : {s1, s2, step, norm})
            CS_VERIFY_OK(vk->zero(t));
        CS_VERIFY_OK(vk->writeReal(h, ops::hyperValues(config(OptimizerKind::Sgd, 0.5))));
        auto prog = vk->record([&] {
            return ops::optimizerUpdate(*vk, OptimizerKind::Sgd, p, g, s1, s2, h, step, norm);
        });
        QVERIFY(prog.ok());
        auto t1 = vk->submit(*prog, 1);
        QVERIFY(t1.ok());
        CS_VERIFY_OK(vk->wait(*t1));
        vk->setHostReal(h, 0, 0.25); // new learning rate, same command buffer
        auto t2 = vk->submit(*prog, 1);
        QVERIFY(t2.ok());
        CS_VERIFY_OK(vk->wait(*t2));
        auto out = vk->readReal(p);
        QVERIFY(out.ok());
        QCOMPARE(out.value(),
                 (std::vector<double>{1 - 0.75 * 1, 1 - 0.75 * 2, 1 - 0.75 * 3, 1 - 0.75 * 4}));
    }

    void badHyperParametersAreRejected() {
        auto c = config(OptimizerKind::Adam);
        c.beta2 = 1.0;
        QVERIFY(!c.check().ok());
        c = config(OptimizerKind::Sgd, -1);
        QVERIFY(c.check().message().find("learning rate") != std::string::npos);
        c = config(OptimizerKind(42));
        QVERIFY(c.check().message().find("unknown optimizer kind") != std::string::npos);
        c = config(OptimizerKind::Momentum);
        c.momentum = 1.0; // never decays: rejected, as the message says [0, 1)
        QVERIFY(!c.check().ok());
        OptimizerKind k;
        QVERIFY(ops::OptimizerConfig::parseKind("adamw", k) && k == OptimizerKind::AdamW);
        QVERIFY(!ops::OptimizerConfig::parseKind("lion", k));
    }
};

QTEST_GUILESS_MAIN(TestOptimizer)
#include "tst_optimizer.moc"
