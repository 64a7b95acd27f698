// gather_batch and metrics_ring: the first and last ops of a step. Both backends against the CPU
// double reference and against values computed here; the device step counter walks the epoch,
// pads the last batch with label −1, and the ring tags each slot with its step.
#include "core/random.h"
#include "op_test.h"
#include "ops/gather_batch.h"
#include "ops/metrics_ring.h"

using namespace convscope;
using namespace convscope::testing;

namespace {

struct Outputs {
    std::vector<std::vector<double>> x; // per step
    std::vector<std::vector<std::int32_t>> y;
    std::vector<double> ring;
    std::int32_t finalStep = 0;
};

// count samples of D bytes, batch B, runs `steps` steps of gather + ring.
Result<Outputs> run(Backend& be, std::int64_t count, std::int64_t D, std::int64_t B, int steps,
                    double scale, double shift) {
    CS_TRY(be.reset());
    Tensor images = be.tensor({ops::paddedBytes(count * D)}, DType::U8);
    Tensor labels = be.tensor({ops::paddedBytes(count)}, DType::U8);
    Tensor order = be.tensor({count}, DType::I32, Placement::Host);
    Tensor state = be.tensor({1}, DType::I32);
    Tensor x = be.tensor({B, D}), y = be.tensor({B}, DType::I32), metrics = be.tensor({3});
    Tensor ring = be.tensor({3, 4}, DType::Real, Placement::Host);
    CS_TRY(be.allocate());
    std::vector<std::uint8_t> img(static_cast<std::size_t>(count * D)),
        lab(static_cast<std::size_t>(count));
    for (std::size_t i = 0; i < img.size(); ++i)
        img[i] = std::uint8_t((i * 37 + 11) % 256);
    for (std::size_t i = 0; i < lab.size(); ++i)
        lab[i] = std::uint8_t(i % 10);
    CS_TRY(be.writeBytes(images, img.data(), img.size()));
    CS_TRY(be.writeBytes(labels, lab.data(), lab.size()));
    CS_TRY(be.writeI32(order, Rng(3).permutation(count)));
    CS_TRY(be.zero(state));
    CS_TRY(be.writeReal(metrics, std::vector<double>{0.25, 0.5, 7}));
    CS_TRY(be.beginProgram());
    CS_TRY(ops::gatherBatch(be, {B, D, count, scale, shift}, images, labels, order, state, x, y));
    CS_TRY(ops::metricsRing(be, metrics, state, ring));
    CS_TRY_ASSIGN(ProgramId prog, be.endProgram());
    Outputs o;
    for (int s = 0; s < steps; ++s) {
        CS_TRY_ASSIGN(Ticket t, be.submit(prog, 1));
        CS_TRY(be.wait(t));
        CS_TRY_ASSIGN(auto xs, be.readReal(x));
        std::vector<std::int32_t> ys(static_cast<std::size_t>(B));
        CS_TRY(be.readBytes(y, ys.data(), ys.size() * 4));
        o.x.push_back(xs);
        o.y.push_back(ys);
    }
    CS_TRY_ASSIGN(o.ring, be.readReal(ring));
    CS_TRY(be.readBytes(state, &o.finalStep, 4));
    return o;
}

} // namespace

class TestGatherBatch : public OpTest {
    Q_OBJECT

    void cases(BackendKind) override {
        QTest::addColumn<qint64>("count");
        QTest::addColumn<qint64>("features");
        QTest::addColumn<qint64>("batch");
        QTest::newRow("10 samples of 784, batch 4 (padded last batch)")
            << qint64(10) << qint64(784) << qint64(4);
        QTest::newRow("7 samples of 13 bytes, batch 3") << qint64(7) << qint64(13) << qint64(3);
        QTest::newRow("batch 1") << qint64(5) << qint64(3) << qint64(1);
    }
    void compare(Backend& be) override {
        QFETCH(qint64, count);
        QFETCH(qint64, features);
        QFETCH(qint64, batch);
        const int steps = int((count + batch - 1) / batch) + 1; // wraps into the next epoch
        auto ref = run(m_ref, count, features, batch, steps, 1.0 / 255 / 0.35, -0.28 / 0.35);
        auto got = run(be, count, features, batch, steps, 1.0 / 255 / 0.35, -0.28 / 0.35);
        QVERIFY2(ref.ok() && got.ok(), (ref.ok() ? got : ref).status().message().c_str());
        for (int s = 0; s < steps; ++s) {
            QVERIFY(relError(got->x[std::size_t(s)], ref->x[std::size_t(s)]) <= 1e-6);
            QCOMPARE(got->y[std::size_t(s)], ref->y[std::size_t(s)]);
        }
        QCOMPARE(got->finalStep, steps);
        QVERIFY(relError(got->ring, ref->ring) <= 1e-6);
    }

private slots:

    void referenceGathersTheShuffledSamples() {
        const std::int64_t count = 10, D = 6, B = 4;
        auto o = run(m_ref, count, D, B, 4, 1.0, 0.0);
        QVERIFY(o.ok());
        const auto order = Rng(3).permutation(count);
        for (int s = 0; s < 3; ++s)
            for (std::int64_t b = 0; b < B; ++b) {
                const std::int64_t slot = s * B + b;
                const auto& x = o->x[std::size_t(s)];
                const auto& y = o->y[std::size_t(s)];
                if (slot >= count) { // the padded end of the epoch
                    QCOMPARE(y[std::size_t(b)], -1);
                    QCOMPARE(x[std::size_t(b * D)], 0.0);
                    continue;
                }
                const std::int64_t item = order[std::size_t(slot)];
                QCOMPARE(y[std::size_t(b)], std::int32_t(item % 10));
                for (std::int64_t i = 0; i < D; ++i)
                    QCOMPARE(x[std::size_t(b * D + i)], double(((item * D + i) * 37 + 11) % 256));
            }
        // Step 3 wraps around to the first batch of the order.
        QCOMPARE(o->x[3], o->x[0]);
        // Ring: 4 steps in 3 slots; slot 0 holds step 3, slots 1 and 2 steps 1 and 2.
        QCOMPARE(o->ring[0 * 4 + 3], 3.0);
        QCOMPARE(o->ring[1 * 4 + 3], 1.0);
        QCOMPARE(o->ring[2 * 4 + 3], 2.0);
        QCOMPARE(o->ring[0], 0.25);
        QCOMPARE(o->ring[1], 0.5);
        QCOMPARE(o->ring[2], 7.0);
    }
};

QTEST_GUILESS_MAIN(TestGatherBatch)
#include "tst_gather_batch.moc"
