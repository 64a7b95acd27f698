// layer_norm: forward and backward, Vulkan and CPU float against the CPU double reference, the
// reference against finite differences, and the output's per-sample statistics.
#include "op_test.h"
#include "ops/layer_norm.h"

#include <cmath>

using namespace convscope;
using namespace convscope::testing;

namespace {
struct Inputs {
    std::vector<double> x, gamma, beta, dy;
};
struct Outputs {
    std::vector<double> y, mean, invstd, dx, dgamma, dbeta;
};

Inputs makeInputs(std::int64_t n, std::int64_t d, std::uint64_t seed) {
    auto x = uniform(n * d, seed, -2, 4); // mean ≈ 1, so centring matters
    return {asFloat(x), asFloat(uniform(d, seed + 1, 0.5, 1.5)), asFloat(uniform(d, seed + 2)),
            asFloat(uniform(n * d, seed + 3))};
}

Result<Outputs> run(Backend& be, const ops::LayerNormShape& s, const Inputs& in) {
    CS_TRY(be.reset());
    const std::int64_t E = s.elements(), D = s.features, N = s.batch;
    Tensor x = be.tensor({E}), y = be.tensor({E}), dy = be.tensor({E}), dx = be.tensor({E});
    Tensor g = be.tensor({D}), b = be.tensor({D}), dg = be.tensor({D}), db = be.tensor({D});
    Tensor mean = be.tensor({N}), inv = be.tensor({N});
    CS_TRY(be.allocate());
    CS_TRY(be.writeReal(x, in.x));
    CS_TRY(be.writeReal(g, in.gamma));
    CS_TRY(be.writeReal(b, in.beta));
    CS_TRY(be.writeReal(dy, in.dy));
    CS_TRY(runOnce(be, [&]() -> Status {
        CS_TRY(ops::layerNormForward(be, s, x, g, b, mean, inv, y));
        return ops::layerNormBackward(be, s, dy, x, g, mean, inv, dx, dg, db);
    }));
    Outputs o;
    CS_TRY_ASSIGN(o.y, be.readReal(y));
    CS_TRY_ASSIGN(o.mean, be.readReal(mean));
    CS_TRY_ASSIGN(o.invstd, be.readReal(inv));
    CS_TRY_ASSIGN(o.dx, be.readReal(dx));
    CS_TRY_ASSIGN(o.dgamma, be.readReal(dg));
    CS_TRY_ASSIGN(o.dbeta, be.readReal(db));
    return o;
}
} // namespace

class TestLayerNorm : public OpTest {
    Q_OBJECT

    void cases(BackendKind) override {
        QTest::addColumn<qint64>("n");
        QTest::addColumn<qint64>("d");
        QTest::newRow("batch 1, 6@5x5") << qint64(1) << qint64(150);
        QTest::newRow("batch 13, 16@7x7") << qint64(13) << qint64(784);
        QTest::newRow("batch 64, 120 features") << qint64(64) << qint64(120);
    }
    void compare(Backend& be) override {
        QFETCH(qint64, n);
        QFETCH(qint64, d);
        ops::LayerNormShape s{n, d};
        Inputs in = makeInputs(n, d, std::uint64_t(n * d));
        auto ref = run(m_ref, s, in);
        auto got = run(be, s, in);
        QVERIFY2(ref.ok() && got.ok(), (ref.ok() ? got : ref).status().message().c_str());
        QString why;
        QVERIFY2(allClose({{"y", got->y, ref->y},
                           {"mean", got->mean, ref->mean},
                           {"invstd", got->invstd, ref->invstd},
                           {"dx", got->dx, ref->dx},
                           {"dgamma", got->dgamma, ref->dgamma},
                           {"dbeta", got->dbeta, ref->dbeta}},
                          1e-4, &why),
                 qPrintable(why));
    }

private slots:
    void referenceMatchesFiniteDifferences() {
        ops::LayerNormShape s{3, 7};
        Inputs base = makeInputs(3, 7, 5);
        auto an = run(m_ref, s, base);
        QVERIFY(an.ok());
        auto along = [&](std::vector<double> Inputs::*field) {
            return numericGradientOf(base, field, base.dy,
                                     [&](const Inputs& in) { return run(m_ref, s, in)->y; });
        };
        QVERIFY2(relError(an->dx, along(&Inputs::x)) < 1e-6, "dx differs from finite differences");
        QVERIFY2(relError(an->dgamma, along(&Inputs::gamma)) < 1e-7, "dgamma differs");
        QVERIFY2(relError(an->dbeta, along(&Inputs::beta)) < 1e-7, "dbeta differs");
    }

    // The backward pass may overwrite dy with dx (in place): dγ, dβ and dx stay the same.
    void backwardInPlace_data() {
        QTest::addColumn<bool>("vulkanBackend");
        QTest::newRow("vulkan") << true;
        QTest::newRow("cpu") << false;
    }
    void backwardInPlace() {
        QFETCH(bool, vulkanBackend);
        Backend* be = &m_ref;
        if (vulkanBackend) {
            CS_REQUIRE_VULKAN(vk);
            be = vk;
        }
        ops::LayerNormShape s{3, 20};
        Inputs in = makeInputs(3, 20, 4);
        auto separate = run(*be, s, in);
        QVERIFY(separate.ok());
        CS_VERIFY_OK(be->reset());
        Tensor x = be->tensor({60}), y = be->tensor({60}), g = be->tensor({20}),
               b = be->tensor({20});
        Tensor dg = be->tensor({20}), db = be->tensor({20}), mean = be->tensor({3}),
               inv = be->tensor({3});
        Tensor grad = be->tensor({60});
        CS_VERIFY_OK(be->allocate());
        CS_VERIFY_OK(be->writeReal(x, in.x));
        CS_VERIFY_OK(be->writeReal(g, in.gamma));
        CS_VERIFY_OK(be->writeReal(b, in.beta));
        CS_VERIFY_OK(be->writeReal(grad, in.dy));
        CS_VERIFY_OK(runOnce(*be, [&]() -> Status {
            CS_TRY(ops::layerNormForward(*be, s, x, g, b, mean, inv, y));
            return ops::layerNormBackward(*be, s, grad, x, g, mean, inv, grad, dg, db);
        }));
        QVERIFY(relError(*be->readReal(grad), separate->dx) <= 1e-6);
        QVERIFY(relError(*be->readReal(dg), separate->dgamma) <= 1e-6);
        QVERIFY(relError(*be->readReal(db), separate->dbeta) <= 1e-6);
    }

    // With γ = 1, β = 0 every sample of the output has mean 0 and variance σ²/(σ² + ε).
    void samplesAreNormalised() {
        ops::LayerNormShape s{4, 50};
        Inputs in = makeInputs(4, 50, 8);
        in.gamma.assign(50, 1.0);
        in.beta.assign(50, 0.0);
        auto o = run(m_ref, s, in);
        QVERIFY(o.ok());
        for (int n = 0; n < 4; ++n) {
            double m = 0, v = 0;
            for (int d = 0; d < 50; ++d)
                m += o->y[std::size_t(n * 50 + d)] / 50;
            for (int d = 0; d < 50; ++d)
                v += std::pow(o->y[std::size_t(n * 50 + d)] - m, 2) / 50;
            const double var = 1.0 / (o->invstd[std::size_t(n)] * o->invstd[std::size_t(n)]) - 1e-5;
            QVERIFY(std::abs(m) < 1e-12);
            QVERIFY(std::abs(v - var / (var + 1e-5)) < 1e-9);
        }
    }
};

QTEST_GUILESS_MAIN(TestLayerNorm)
#include "tst_layer_norm.moc"
