// conv2d: forward (plain and fused ReLU) and both backward passes, Vulkan and CPU float against
// the CPU double reference on shapes that stress the tiling, CPU float once per vector ISA this
// CPU runs (the AVX-512, AVX2, SSE and scalar kernels of engine/cpu), and the reference against
// central finite differences; shape errors name the problem.
#include "cpu/gemm.h"
#include "op_test.h"
#include "ops/conv2d.h"

using namespace convscope;
using namespace convscope::testing;

Q_DECLARE_METATYPE(convscope::ops::Conv2dShape)

namespace {

struct Inputs {
    std::vector<double> x, w, b, dy;
};
struct Outputs {
    std::vector<double> y, yRelu, dx, dw, db;
};

Inputs makeInputs(const ops::Conv2dShape& s, std::uint64_t seed) {
    return {
        asFloat(uniform(s.inputElements(), seed)), asFloat(uniform(s.weightElements(), seed + 1)),
        asFloat(uniform(s.outChannels, seed + 2)), asFloat(uniform(s.outputElements(), seed + 3))};
}

Result<Outputs> run(Backend& be, const ops::Conv2dShape& s, const Inputs& in) {
    CS_TRY(be.reset());
    Tensor x = be.tensor({s.inputElements()}), w = be.tensor({s.weightElements()});
    Tensor b = be.tensor({s.outChannels}), y = be.tensor({s.outputElements()});
    Tensor yr = be.tensor({s.outputElements()}), dy = be.tensor({s.outputElements()});
    Tensor dx = be.tensor({s.inputElements()}), dw = be.tensor({s.weightElements()});
    Tensor db = be.tensor({s.outChannels});
    CS_TRY(be.allocate());
    CS_TRY(be.writeReal(x, in.x));
    CS_TRY(be.writeReal(w, in.w));
    CS_TRY(be.writeReal(b, in.b));
    CS_TRY(be.writeReal(dy, in.dy));
    CS_TRY(runOnce(be, [&]() -> Status {
        CS_TRY(ops::conv2dForward(be, s, x, w, b, y));
        CS_TRY(ops::conv2dForward(be, s, x, w, b, yr, true));
        CS_TRY(ops::conv2dBackwardData(be, s, dy, w, dx));
        return ops::conv2dBackwardWeight(be, s, dy, x, dw, db);
    }));
    Outputs o;
    CS_TRY_ASSIGN(o.y, be.readReal(y));
    CS_TRY_ASSIGN(o.yRelu, be.readReal(yr));
    CS_TRY_ASSIGN(o.dx, be.readReal(dx));
    CS_TRY_ASSIGN(o.dw, be.readReal(dw));
    CS_TRY_ASSIGN(o.db, be.readReal(db));
    return o;
}

// batch, C, H, W, K, R, S, stride (h, w), pad (top, bottom, left, right), dilation, groups
ops::Conv2dShape shape(std::int64_t n, std::int64_t c, std::int64_t h, std::int64_t w,
                       std::int64_t k, std::int64_t r, std::int64_t s, std::int64_t sh = 1,
                       std::int64_t sw = 1, std::array<std::int64_t, 4> pad = {0, 0, 0, 0},
                       std::int64_t dil = 1, std::int64_t groups = 1) {
    ops::Conv2dShape x;
    x.batch = n, x.inChannels = c, x.height = h, x.width = w, x.outChannels = k;
    x.kernelH = r, x.kernelW = s, x.strideH = sh, x.strideW = sw;
    x.padTop = pad[0], x.padBottom = pad[1], x.padLeft = pad[2], x.padRight = pad[3];
    x.dilationH = x.dilationW = dil, x.groups = groups;
    return x;
}

std::vector<std::pair<QString, ops::Conv2dShape>> shapeRows() {
    return {
        {"1x1, 3->5, 7x7", shape(2, 3, 7, 7, 5, 1, 1)},
        {"3x3 same, batch 1, 3->8, 13x13", shape(1, 3, 13, 13, 8, 3, 3).samePadding()},
        {"lenet conv1 5x5 pad 2, 1->6, 28x28", shape(4, 1, 28, 28, 6, 5, 5, 1, 1, {2, 2, 2, 2})},
        {"lenet conv2 5x5, 6->16, 14x14", shape(3, 6, 14, 14, 16, 5, 5)},
        {"7x7 stride 2 pad 3, 3->16, 32x32", shape(2, 3, 32, 32, 16, 7, 7, 2, 2, {3, 3, 3, 3})},
        {"3x3 stride 2 pad 1, 16->32, 15x15", shape(2, 16, 15, 15, 32, 3, 3, 2, 2, {1, 1, 1, 1})},
        {"dilation 2, 4->6, 11x11", shape(2, 4, 11, 11, 6, 3, 3, 1, 1, {2, 2, 2, 2}, 2)},
        {"groups 2, 4->6", shape(2, 4, 9, 9, 6, 3, 3, 1, 1, {1, 1, 1, 1}, 1, 2)},
        {"depthwise 8 groups, stride 2", shape(2, 8, 10, 10, 8, 3, 3, 2, 2, {1, 1, 1, 1}, 1, 8)},
        {"2x3 kernel, stride (1,2), pad (0,1,1,0)", shape(3, 2, 9, 8, 5, 2, 3, 1, 2, {0, 1, 1, 0})},
        {"512 channels 1x1 -> 10", shape(2, 512, 4, 4, 10, 1, 1)},
        {"3x3 stride 1, 64->64, 8x8", shape(2, 64, 8, 8, 64, 3, 3, 1, 1, {1, 1, 1, 1})},
        {"batch 128, 3->4, 8x8", shape(128, 3, 8, 8, 4, 3, 3, 1, 1, {1, 1, 1, 1})},
        {"alexnet 11x11 stride 4, 3->8, 35x35", shape(1, 3, 35, 35, 8, 11, 11, 4, 4)},
        {"7x7 maps, batch 7, 17->17", shape(7, 17, 7, 7, 17, 3, 3, 1, 1, {1, 1, 1, 1})},
        {"stride 2 dilation 2, 5->8, 13x12", shape(3, 5, 13, 12, 8, 3, 3, 2, 2, {2, 1, 0, 2}, 2)},
        {"1x1 stride 1, 24->40, 6x5", shape(3, 24, 6, 5, 40, 1, 1)},
        {"5x5 asymmetric pad (3, 1, 4, 0), 4->9, 9x9",
         shape(2, 4, 9, 9, 9, 5, 5, 1, 1, {3, 1, 4, 0})},
        {"pad larger than the kernel's reach, 3->5, 6x6",
         shape(2, 3, 6, 6, 5, 2, 2, 1, 1, {2, 2, 2, 2})},
    };
}

} // namespace

class TestConv2d : public TunedOpTest {
    Q_OBJECT

    void cases(BackendKind) override {
        QTest::addColumn<ops::Conv2dShape>("s");
        for (const auto& [name, s] : shapeRows())
            QTest::newRow(qPrintable(name)) << s;
    }

    void compare(Backend& be) override {
        QFETCH(ops::Conv2dShape, s);
        const QString why = differences(be, s);
        QVERIFY2(why.isEmpty(), qPrintable(why));
    }

    // Empty when every output on `be` is within 1e-4 of the double reference, else what differs.
    QString differences(Backend& be, const ops::Conv2dShape& s) {
        Inputs inputs = makeInputs(s, std::uint64_t(s.weightElements() + s.inputElements()));
        auto ref = run(m_ref, s, inputs);
        if (!ref.ok())
            return QString::fromStdString(ref.status().message());
        auto got = run(be, s, inputs);
        if (!got.ok())
            return QString::fromStdString(got.status().message());
        QString why;
        if (allClose({{"y", got->y, ref->y},
                      {"relu(y)", got->yRelu, ref->yRelu},
                      {"dx", got->dx, ref->dx},
                      {"dw", got->dw, ref->dw},
                      {"db", got->db, ref->db}},
                     1e-4, &why))
            return {};
        return why.isEmpty() ? QStringLiteral("outputs differ") : why;
    }

private slots:
    // engine/cpu's kernels for every ISA this CPU runs (CI's lavapipe machine included): CPU
    // float within 1e-4 of CPU double on every row.
    void cpuFloatOnEveryIsaMatchesReference_data() {
        QTest::addColumn<int>("isa");
        for (cpu::Isa isa : {cpu::Isa::Scalar, cpu::Isa::Sse, cpu::Isa::Avx2, cpu::Isa::Avx512})
            if (cpu::isaSupported(isa))
                QTest::newRow(cpu::isaName(isa)) << int(isa);
    }
    void cpuFloatOnEveryIsaMatchesReference() {
        QFETCH(int, isa);
        const cpu::Isa before = cpu::activeIsa();
        QVERIFY(cpu::setActiveIsa(cpu::Isa(isa)));
        struct Restore {
            cpu::Isa isa;
            ~Restore() { cpu::setActiveIsa(isa); }
        } restore{before};
        int rows = 0;
        for (const auto& [name, s] : shapeRows()) {
            const QString why = differences(m_cpu, s);
            QVERIFY2(why.isEmpty(),
                     qPrintable(name + " on " + cpu::isaName(cpu::Isa(isa)) + ": " + why));
            ++rows;
        }
        QVERIFY(rows >= 15);
    }

    void referenceMatchesFiniteDifferences_data() {
        QTest::addColumn<ops::Conv2dShape>("s");
        QTest::newRow("stride 2, asymmetric padding")
            << shape(2, 2, 5, 4, 3, 3, 3, 2, 2, {1, 0, 1, 1});
        QTest::newRow("dilation 2, groups 2")
            << shape(1, 4, 7, 6, 2, 3, 3, 1, 1, {0, 0, 0, 0}, 2, 2);
    }
    void referenceMatchesFiniteDifferences() {
        QFETCH(ops::Conv2dShape, s);
        Inputs base = makeInputs(s, 3);
        auto an = run(m_ref, s, base);
        QVERIFY2(an.ok(), an.status().message().c_str());
        auto along = [&](std::vector<double> Inputs::*field) {
            return numericGradientOf(base, field, base.dy,
                                     [&](const Inputs& in) { return run(m_ref, s, in)->y; });
        };
        QVERIFY2(relError(an->dx, along(&Inputs::x)) < 1e-7, "dx differs from finite differences");
        QVERIFY2(relError(an->dw, along(&Inputs::w)) < 1e-7, "dw differs from finite differences");
        QVERIFY2(relError(an->db, along(&Inputs::b)) < 1e-7, "db differs from finite differences");
    }

    void shapeErrorsNameTheProblem_data() {
        QTest::addColumn<ops::Conv2dShape>("s");
        QTest::addColumn<QString>("message");
        QTest::newRow("kernel too large")
            << shape(1, 1, 3, 3, 1, 5, 5) << "kernel 5x5 larger than its 3x3 input";
        QTest::newRow("dilated kernel too large")
            << shape(1, 1, 6, 6, 1, 3, 3, 1, 1, {0, 0, 0, 0}, 3)
            << "kernel 3x3 (dilated 7x7) larger than its 6x6 input";
        QTest::newRow("groups") << shape(1, 6, 8, 8, 4, 3, 3, 1, 1, {0, 0, 0, 0}, 1, 4)
                                << "must both be divisible by 4 groups";
        QTest::newRow("stride 0") << shape(1, 1, 8, 8, 1, 3, 3, 0, 1)
                                  << "stride and dilation must be at least 1";
    }
    void shapeErrorsNameTheProblem() {
        QFETCH(ops::Conv2dShape, s);
        QFETCH(QString, message);
        Status st = ops::checkConv2d(s);
        QVERIFY(!st.ok());
        QVERIFY2(st.message().find(message.toStdString()) != std::string::npos,
                 st.message().c_str());
    }

    void samePaddingKeepsTheSize() {
        for (std::int64_t k : {1, 2, 3, 4, 5, 7})
            for (std::int64_t d : {1, 2}) {
                auto s = shape(1, 1, 12, 9, 1, k, k, 1, 1, {0, 0, 0, 0}, d).samePadding();
                QCOMPARE(s.outH(), qint64(12));
                QCOMPARE(s.outW(), qint64(9));
            }
    }
};

QTEST_GUILESS_MAIN(TestConv2d)
#include "tst_conv2d.moc"
