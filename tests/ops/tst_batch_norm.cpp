// batch_norm: training forward (batch statistics, running-statistics update), evaluation forward
// (running statistics) and the backward pass of each mode, Vulkan and CPU float against the CPU
// double reference; the reference against finite differences (through the batch statistics in
// training, with the running statistics held constant in evaluation), and the running
// statistics against their closed form.
#include "op_test.h"
#include "ops/batch_norm.h"

#include <cmath>

using namespace convscope;
using namespace convscope::testing;

Q_DECLARE_METATYPE(convscope::ops::BatchNormShape)

namespace {

struct Inputs {
    std::vector<double> x, gamma, beta, dy;
};
struct Outputs {
    std::vector<double> y, yEval, mean, invstd, runningMean, runningVar, dx, dgamma, dbeta;
    std::vector<double> dxEval, dgammaEval, dbetaEval; // evaluation-mode backward
};

Inputs makeInputs(const ops::BatchNormShape& s, std::uint64_t seed) {
    auto x = uniform(s.elements(), seed, -3, 3);
    for (std::size_t i = 0; i < x.size(); ++i)
        x[i] += double((i / std::size_t(s.spatial)) % std::size_t(s.channels)); // channel offsets
    return {asFloat(x), asFloat(uniform(s.channels, seed + 1, 0.5, 1.5)),
            asFloat(uniform(s.channels, seed + 2)), asFloat(uniform(s.elements(), seed + 3))};
}

Result<Outputs> run(Backend& be, const ops::BatchNormShape& s, const Inputs& in) {
    CS_TRY(be.reset());
    const std::int64_t E = s.elements(), C = s.channels;
    Tensor x = be.tensor({E}), y = be.tensor({E}), ye = be.tensor({E}), dy = be.tensor({E}),
           dx = be.tensor({E}), dxe = be.tensor({E});
    ops::BatchNormParams p{be.tensor({C}), be.tensor({C}), be.tensor({C}),
                           be.tensor({C}), be.tensor({C}), be.tensor({C})};
    Tensor dg = be.tensor({C}), db = be.tensor({C}), dge = be.tensor({C}), dbe = be.tensor({C});
    CS_TRY(be.allocate());
    CS_TRY(be.writeReal(x, in.x));
    CS_TRY(be.writeReal(p.gamma, in.gamma));
    CS_TRY(be.writeReal(p.beta, in.beta));
    CS_TRY(be.writeReal(dy, in.dy));
    CS_TRY(be.zero(p.runningMean));
    CS_TRY(be.writeReal(p.runningVar, std::vector<double>(std::size_t(C), 1.0)));
    CS_TRY(runOnce(be, [&]() -> Status {
        CS_TRY(ops::batchNormForward(be, s, true, x, p, y));
        CS_TRY(ops::batchNormBackward(be, s, true, dy, x, p, dx, dg, db));
        // Evaluation after one training step: running statistics that are not the batch's.
        CS_TRY(ops::batchNormForward(be, s, false, x, p, ye));
        return ops::batchNormBackward(be, s, false, dy, x, p, dxe, dge, dbe);
    }));
    Outputs o;
    CS_TRY_ASSIGN(o.y, be.readReal(y));
    CS_TRY_ASSIGN(o.yEval, be.readReal(ye));
    CS_TRY_ASSIGN(o.mean, be.readReal(p.mean));
    CS_TRY_ASSIGN(o.invstd, be.readReal(p.invstd));
    CS_TRY_ASSIGN(o.runningMean, be.readReal(p.runningMean));
    CS_TRY_ASSIGN(o.runningVar, be.readReal(p.runningVar));
    CS_TRY_ASSIGN(o.dx, be.readReal(dx));
    CS_TRY_ASSIGN(o.dgamma, be.readReal(dg));
    CS_TRY_ASSIGN(o.dbeta, be.readReal(db));
    CS_TRY_ASSIGN(o.dxEval, be.readReal(dxe));
    CS_TRY_ASSIGN(o.dgammaEval, be.readReal(dge));
    CS_TRY_ASSIGN(o.dbetaEval, be.readReal(dbe));
    return o;
}

// Evaluation mode alone, from given running statistics (held constant): y and its gradients.
struct EvalInputs {
    std::vector<double> x, gamma, beta, dy, runningMean, runningVar;
};
Result<Outputs> runEval(Backend& be, const ops::BatchNormShape& s, const EvalInputs& in) {
    CS_TRY(be.reset());
    const std::int64_t E = s.elements(), C = s.channels;
    Tensor x = be.tensor({E}), y = be.tensor({E}), dy = be.tensor({E}), dx = be.tensor({E});
    ops::BatchNormParams p{be.tensor({C}), be.tensor({C}), be.tensor({C}),
                           be.tensor({C}), be.tensor({C}), be.tensor({C})};
    Tensor dg = be.tensor({C}), db = be.tensor({C});
    CS_TRY(be.allocate());
    CS_TRY(be.writeReal(x, in.x));
    CS_TRY(be.writeReal(p.gamma, in.gamma));
    CS_TRY(be.writeReal(p.beta, in.beta));
    CS_TRY(be.writeReal(dy, in.dy));
    CS_TRY(be.writeReal(p.runningMean, in.runningMean));
    CS_TRY(be.writeReal(p.runningVar, in.runningVar));
    CS_TRY(runOnce(be, [&]() -> Status {
        CS_TRY(ops::batchNormForward(be, s, false, x, p, y));
        return ops::batchNormBackward(be, s, false, dy, x, p, dx, dg, db);
    }));
    Outputs o;
    CS_TRY_ASSIGN(o.yEval, be.readReal(y));
    CS_TRY_ASSIGN(o.dxEval, be.readReal(dx));
    CS_TRY_ASSIGN(o.dgammaEval, be.readReal(dg));
    CS_TRY_ASSIGN(o.dbetaEval, be.readReal(db));
    return o;
}

ops::BatchNormShape shape(std::int64_t n, std::int64_t c, std::int64_t hw) {
    ops::BatchNormShape s;
    s.batch = n, s.channels = c, s.spatial = hw;
    return s;
}

} // namespace

class TestBatchNorm : public OpTest {
    Q_OBJECT

    void cases(BackendKind) override {
        QTest::addColumn<ops::BatchNormShape>("s");
        QTest::newRow("lenet-bn 6@28x28, batch 4") << shape(4, 6, 28 * 28);
        QTest::newRow("16@7x7, batch 2") << shape(2, 16, 49);
        QTest::newRow("batch 1, 3@5x5") << shape(1, 3, 25);
        QTest::newRow("1-d, batch 128, 8 features") << shape(128, 8, 1);
        QTest::newRow("512 channels 2x2, batch 3") << shape(3, 512, 4);
    }

    void compare(Backend& be) override {
        QFETCH(ops::BatchNormShape, s);
        Inputs in = makeInputs(s, std::uint64_t(s.elements()));
        auto ref = run(m_ref, s, in);
        auto got = run(be, s, in);
        QVERIFY2(ref.ok() && got.ok(), (ref.ok() ? got : ref).status().message().c_str());
        QString why;
        QVERIFY2(allClose({{"y", got->y, ref->y},
                           {"y (eval)", got->yEval, ref->yEval},
                           {"mean", got->mean, ref->mean},
                           {"invstd", got->invstd, ref->invstd},
                           {"running mean", got->runningMean, ref->runningMean},
                           {"running var", got->runningVar, ref->runningVar},
                           {"dx", got->dx, ref->dx},
                           {"dgamma", got->dgamma, ref->dgamma},
                           {"dbeta", got->dbeta, ref->dbeta},
                           {"dx (eval)", got->dxEval, ref->dxEval},
                           {"dgamma (eval)", got->dgammaEval, ref->dgammaEval},
                           {"dbeta (eval)", got->dbetaEval, ref->dbetaEval}},
                          1e-4, &why),
                 qPrintable(why));
    }

private slots:
    void referenceMatchesFiniteDifferences_data() {
        QTest::addColumn<ops::BatchNormShape>("s");
        QTest::newRow("3 x 2 channels x 5") << shape(3, 2, 5);
        QTest::newRow("1-d, batch 4") << shape(4, 3, 1);
    }
    void referenceMatchesFiniteDifferences() {
        QFETCH(ops::BatchNormShape, s);
        Inputs base = makeInputs(s, 5);
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

    // Evaluation mode: y = γ·(x − running mean)/√(running var + ε) + β with the statistics held
    // constant (PyTorch's model.eval() autograd), so a batch of one is fine.
    void evaluationBackwardMatchesFiniteDifferences_data() {
        QTest::addColumn<ops::BatchNormShape>("s");
        QTest::newRow("3 x 2 channels x 5") << shape(3, 2, 5);
        QTest::newRow("batch 1, 1-d") << shape(1, 4, 1);
    }
    void evaluationBackwardMatchesFiniteDifferences() {
        QFETCH(ops::BatchNormShape, s);
        const Inputs b = makeInputs(s, 7);
        const EvalInputs base{b.x,
                              b.gamma,
                              b.beta,
                              b.dy,
                              uniform(s.channels, 11, -1, 1),
                              uniform(s.channels, 12, 0.2, 3.0)};
        auto an = runEval(m_ref, s, base);
        QVERIFY2(an.ok(), an.status().message().c_str());
        auto along = [&](std::vector<double> EvalInputs::*field) {
            return numericGradientOf(base, field, base.dy, [&](const EvalInputs& in) {
                return runEval(m_ref, s, in)->yEval;
            });
        };
        QVERIFY2(relError(an->dxEval, along(&EvalInputs::x)) < 1e-7, "eval dx differs");
        QVERIFY2(relError(an->dgammaEval, along(&EvalInputs::gamma)) < 1e-7, "eval dgamma differs");
        QVERIFY2(relError(an->dbetaEval, along(&EvalInputs::beta)) < 1e-7, "eval dbeta differs");
        // The eval dx is not the training one: the batch statistics would subtract means.
        auto train = run(m_ref, s.batch * s.spatial > 1 ? s : shape(2, s.channels, 1),
                         makeInputs(s.batch * s.spatial > 1 ? s : shape(2, s.channels, 1), 7));
        QVERIFY(train.ok());
        QVERIFY(relError(train->dx, train->dxEval) > 1e-3);
    }

    void oneValuePerChannelIsRejected() {
        auto o = run(m_ref, shape(1, 3, 1), makeInputs(shape(1, 3, 1), 1));
        QVERIFY(!o.ok());
        QVERIFY2(o.status().message().find("more than one value per channel") != std::string::npos,
                 o.status().message().c_str());
    }

    // From running mean 0 and variance 1, one step with momentum 0.1 gives
    // 0.1·μ and 0.9 + 0.1·σ²·M/(M−1); the normalised output has mean β and variance γ².
    void statisticsMatchTheirDefinitions() {
        auto s = shape(5, 2, 3);
        Inputs in = makeInputs(s, 9);
        auto o = run(m_ref, s, in);
        QVERIFY(o.ok());
        const std::int64_t M = 15;
        for (std::int64_t c = 0; c < 2; ++c) {
            double sum = 0, sq = 0, ysum = 0, ysq = 0;
            for (std::int64_t n = 0; n < 5; ++n)
                for (std::int64_t i = 0; i < 3; ++i) {
                    const std::size_t at = std::size_t((n * 2 + c) * 3 + i);
                    sum += in.x[at];
                    ysum += o->y[at];
                }
            const double mu = sum / M;
            for (std::int64_t n = 0; n < 5; ++n)
                for (std::int64_t i = 0; i < 3; ++i) {
                    const std::size_t at = std::size_t((n * 2 + c) * 3 + i);
                    sq += (in.x[at] - mu) * (in.x[at] - mu);
                    const double d = o->y[at] - ysum / M;
                    ysq += d * d;
                }
            QVERIFY(std::abs(o->runningMean[std::size_t(c)] - 0.1 * mu) < 1e-12);
            QVERIFY(std::abs(o->runningVar[std::size_t(c)] - (0.9 + 0.1 * sq / (M - 1))) < 1e-12);
            QVERIFY(std::abs(ysum / M - in.beta[std::size_t(c)]) < 1e-12);
            const double g = in.gamma[std::size_t(c)];
            QVERIFY(std::abs(ysq / M - g * g * (sq / M) / (sq / M + 1e-5)) < 1e-9);
        }
    }
};

QTEST_GUILESS_MAIN(TestBatchNorm)
#include "tst_batch_norm.moc"
