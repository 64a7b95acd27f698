// batch_norm_fold: the folded weights and biases on both backends against the CPU double
// reference and the formula, and the point of folding, checked in double: a convolution with the
// folded weights (ReLU fused or not) gives what the convolution followed by batch norm in
// evaluation gives. It has no backward pass: a backward pass runs on the unfolded layers, so
// there is no finite-difference check to make.
#include "op_test.h"
#include "ops/batch_norm_fold.h"
#include "ops/conv2d.h"

#include <cmath>

using namespace convscope;
using namespace convscope::testing;

namespace {

struct Inputs {
    std::vector<double> w, b, gamma, beta, mean, var;
};

Inputs makeInputs(std::int64_t C, std::int64_t K, std::uint64_t seed) {
    return {asFloat(uniform(C * K, seed)),           asFloat(uniform(C, seed + 1)),
            asFloat(uniform(C, seed + 2, 0.2, 2.0)), asFloat(uniform(C, seed + 3)),
            asFloat(uniform(C, seed + 4, -2, 2)),    asFloat(uniform(C, seed + 5, 0.0, 3.0))};
}

struct Folded {
    std::vector<double> w, b;
};

Result<Folded> fold(Backend& be, const ops::BatchNormFoldShape& s, const Inputs& in) {
    CS_TRY(be.reset());
    const std::int64_t C = s.channels, CK = s.channels * s.perChannel;
    Tensor w = be.tensor({CK}), b = be.tensor({C}), wo = be.tensor({CK}), bo = be.tensor({C});
    ops::BatchNormParams p{be.tensor({C}), be.tensor({C}), be.tensor({C}), be.tensor({C})};
    CS_TRY(be.allocate());
    CS_TRY(be.writeReal(w, in.w));
    CS_TRY(be.writeReal(b, in.b));
    CS_TRY(be.writeReal(p.gamma, in.gamma));
    CS_TRY(be.writeReal(p.beta, in.beta));
    CS_TRY(be.writeReal(p.runningMean, in.mean));
    CS_TRY(be.writeReal(p.runningVar, in.var));
    CS_TRY(runOnce(be, [&] { return ops::batchNormFold(be, s, w, b, p, wo, bo); }));
    Folded f;
    CS_TRY_ASSIGN(f.w, be.readReal(wo));
    CS_TRY_ASSIGN(f.b, be.readReal(bo));
    return f;
}

} // namespace

class TestBatchNormFold : public OpTest {
    Q_OBJECT

    void cases(BackendKind) override {
        QTest::addColumn<qint64>("channels");
        QTest::addColumn<qint64>("perChannel");
        QTest::addColumn<double>("eps");
        QTest::newRow("1 x 1") << qint64(1) << qint64(1) << 1e-5;
        QTest::newRow("resnet20 conv 16->16 3x3") << qint64(16) << qint64(144) << 1e-5;
        QTest::newRow("64 x 576, eps 1e-3") << qint64(64) << qint64(576) << 1e-3;
        QTest::newRow("linear 300 x 1031") << qint64(300) << qint64(1031) << 1e-5;
    }
    void compare(Backend& be) override {
        QFETCH(qint64, channels);
        QFETCH(qint64, perChannel);
        QFETCH(double, eps);
        const ops::BatchNormFoldShape s{channels, perChannel, eps};
        const Inputs in = makeInputs(channels, perChannel, std::uint64_t(channels + perChannel));
        auto ref = fold(m_ref, s, in);
        auto got = fold(be, s, in);
        QVERIFY2(ref.ok() && got.ok(), (ref.ok() ? got : ref).status().message().c_str());
        std::vector<double> w(in.w.size()), b(in.b.size());
        for (std::int64_t c = 0; c < channels; ++c) {
            const double k = in.gamma[c] / std::sqrt(in.var[c] + eps);
            for (std::int64_t i = 0; i < perChannel; ++i)
                w[c * perChannel + i] = in.w[c * perChannel + i] * k;
            b[c] = (in.b[c] - in.mean[c]) * k + in.beta[c];
        }
        QVERIFY(relError(ref->w, w) <= 1e-14 && relError(ref->b, b) <= 1e-14);
        QVERIFY2(relError(got->w, ref->w) <= 1e-6,
                 qPrintable(QString::number(relError(got->w, ref->w))));
        QVERIFY2(relError(got->b, ref->b) <= 1e-6,
                 qPrintable(QString::number(relError(got->b, ref->b))));
    }

private slots:
    // conv(x; w', b') = BN_eval(conv(x; w, b)), and with the ReLU fused, relu of it: in double.
    void foldedConvolutionIsConvolutionThenBatchNorm() {
        for (bool relu : {false, true}) {
            ops::Conv2dShape cs;
            cs.batch = 3, cs.inChannels = 5, cs.height = 9, cs.width = 7, cs.outChannels = 6;
            cs.kernelH = cs.kernelW = 3;
            cs.samePadding();
            const std::int64_t C = cs.outChannels, K = cs.weightElements() / C;
            const std::int64_t HW = cs.outH() * cs.outW();
            const Inputs in = makeInputs(C, K, 7);
            const auto xv = uniform(cs.inputElements(), 8);
            CpuBackend<double>& be = m_ref;
            QVERIFY(be.reset().ok());
            Tensor x = be.tensor({cs.inputElements()}), w = be.tensor({C * K}), b = be.tensor({C}),
                   wf = be.tensor({C * K}), bf = be.tensor({C});
            Tensor y = be.tensor({cs.outputElements()}), ybn = be.tensor({cs.outputElements()}),
                   yf = be.tensor({cs.outputElements()});
            ops::BatchNormParams p{be.tensor({C}), be.tensor({C}), be.tensor({C}),
                                   be.tensor({C}), be.tensor({C}), be.tensor({C})};
            QVERIFY(be.allocate().ok());
            QVERIFY(be.writeReal(x, xv).ok() && be.writeReal(w, in.w).ok() &&
                    be.writeReal(b, in.b).ok() && be.writeReal(p.gamma, in.gamma).ok() &&
                    be.writeReal(p.beta, in.beta).ok() &&
                    be.writeReal(p.runningMean, in.mean).ok() &&
                    be.writeReal(p.runningVar, in.var).ok());
            const ops::BatchNormShape bs{cs.batch, C, HW};
            Status s = runOnce(be, [&]() -> Status {
                CS_TRY(ops::conv2dForward(be, cs, x, w, b, y));
                CS_TRY(ops::batchNormForward(be, bs, false, y, p, ybn));
                CS_TRY(ops::batchNormFold(be, {C, K, bs.eps}, w, b, p, wf, bf));
                return ops::conv2dForward(be, cs, x, wf, bf, yf, relu);
            });
            QVERIFY2(s.ok(), s.message().c_str());
            auto expected = be.readReal(ybn), folded = be.readReal(yf);
            QVERIFY(expected.ok() && folded.ok());
            if (relu)
                for (double& v : *expected)
                    v = std::max(v, 0.0);
            QVERIFY2(relError(*folded, *expected) <= 1e-13,
                     qPrintable(QString::number(relError(*folded, *expected))));
        }
    }
    void rejectsMismatchedTensors() {
        CpuBackend<double> be;
        Tensor w = be.tensor({12}), c3 = be.tensor({3}), c4 = be.tensor({4});
        QVERIFY(be.allocate().ok());
        Status s = ops::batchNormFold(be, {3, 4}, w, c3, {c3, c3, c3, c4}, w, c3);
        QVERIFY(!s.ok());
        QVERIFY2(s.message().find("running var has 4 elements") != std::string::npos,
                 s.message().c_str());
        s = ops::batchNormFold(be, {3, 4, 0.0}, w, c3, {c3, c3, c3, c3}, w, c3);
        QVERIFY(!s.ok());
        QVERIFY(s.message().find("ε") != std::string::npos);
    }
};

QTEST_GUILESS_MAIN(TestBatchNormFold)
#include "tst_batch_norm_fold.moc"
