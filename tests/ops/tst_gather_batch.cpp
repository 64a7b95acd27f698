// gather_batch and metrics_ring: the first and last ops of a step. Both backends against the CPU
// double reference and against values computed here; the device step counter walks the epoch,
// pads the last batch with label −1, and the ring tags each slot with its step. Augmentation
// (random crop with padding, horizontal flip): Vulkan equals the CPU bit for bit, the pixels match
// a host reference built on ops::augmentationFor and hand-worked pixels for a forced offset, each
// step draws new crops, and with cropPad = 0 and no flip the batch equals the plain gather.
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

// Byte i of the images (sample n, element e: i = n·D + e).
std::uint8_t imageByte(std::int64_t i) {
    return std::uint8_t((i * 37 + 11) % 256);
}

// s.count samples of s.features bytes, batch s.batch, runs `steps` steps of gather + ring.
Result<Outputs> run(Backend& be, const ops::GatherShape& s, int steps) {
    const std::int64_t count = s.count, D = s.features, B = s.batch;
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
        img[i] = imageByte(std::int64_t(i));
    for (std::size_t i = 0; i < lab.size(); ++i)
        lab[i] = std::uint8_t(i % 10);
    CS_TRY(be.writeBytes(images, img.data(), img.size()));
    CS_TRY(be.writeBytes(labels, lab.data(), lab.size()));
    CS_TRY(be.writeI32(order, Rng(3).permutation(count)));
    CS_TRY(be.zero(state));
    CS_TRY(be.writeReal(metrics, std::vector<double>{0.25, 0.5, 7}));
    CS_TRY(be.beginProgram());
    CS_TRY(ops::gatherBatch(be, s, images, labels, order, state, x, y));
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

Result<Outputs> run(Backend& be, std::int64_t count, std::int64_t D, std::int64_t B, int steps,
                    double scale, double shift) {
    return run(be, ops::GatherShape{B, D, count, scale, shift}, steps);
}

// An augmenting shape: count samples of C x H x W, batch B.
ops::GatherShape augmenting(std::int64_t count, std::int64_t C, std::int64_t H, std::int64_t W,
                            std::int64_t B, int cropPad, bool hflip, std::uint32_t seed) {
    ops::GatherShape s{B, C * H * W, count, 1.0 / 255 / 0.35, -0.28 / 0.35};
    s.channels = C;
    s.height = H;
    s.width = W;
    s.cropPad = cropPad;
    s.hflip = hflip;
    s.seed = seed;
    return s;
}

// The expected x of one step, written independently of the op: pad each image with cropPad zero
// bytes per side, cut the H x W window at (cropPad + dy, cropPad + dx), mirror it if flipped,
// then normalise (float arithmetic without a fused multiply-add, as both backends).
std::vector<double> expectedX(const ops::GatherShape& s, std::int32_t step) {
    const auto order = Rng(3).permutation(s.count);
    const std::int64_t C = s.channels, H = s.height, W = s.width, P = s.cropPad;
    const std::int64_t PH = H + 2 * P, PW = W + 2 * P;
    const std::int64_t steps = (s.count + s.batch - 1) / s.batch;
    std::vector<double> x(static_cast<std::size_t>(s.batch * s.features));
    for (std::int64_t b = 0; b < s.batch; ++b) {
        const std::int64_t slot = (step % steps) * s.batch + b;
        if (slot >= s.count)
            continue; // zeros
        const std::int64_t item = order[std::size_t(slot)];
        std::vector<std::uint8_t> padded(static_cast<std::size_t>(C * PH * PW), 0);
        for (std::int64_t c = 0; c < C; ++c)
            for (std::int64_t r = 0; r < H; ++r)
                for (std::int64_t col = 0; col < W; ++col)
                    padded[std::size_t((c * PH + r + P) * PW + col + P)] =
                        imageByte(item * s.features + (c * H + r) * W + col);
        const ops::Augmentation a = ops::augmentationFor(s, std::uint32_t(step), std::uint32_t(b));
        for (std::int64_t c = 0; c < C; ++c)
            for (std::int64_t r = 0; r < H; ++r)
                for (std::int64_t col = 0; col < W; ++col) {
                    const std::int64_t cropCol = a.flip ? W - 1 - col : col;
                    const std::uint8_t v =
                        padded[std::size_t((c * PH + r + P + a.dy) * PW + cropCol + P + a.dx)];
                    x[std::size_t(b * s.features + (c * H + r) * W + col)] =
                        ops::normaliseByte(v, float(s.scale), float(s.shift));
                }
    }
    return x;
}

} // namespace

class TestGatherBatch : public OpTest {
    Q_OBJECT

    void cases(BackendKind) override {
        QTest::addColumn<qint64>("count");
        QTest::addColumn<qint64>("features");
        QTest::addColumn<qint64>("batch");
        QTest::addColumn<int>("cropPad"); // augmentation: samples are 3 x 5 x 6 when on
        QTest::addColumn<bool>("hflip");
        QTest::newRow("10 samples of 784, batch 4 (padded last batch)")
            << qint64(10) << qint64(784) << qint64(4) << 0 << false;
        QTest::newRow("7 samples of 13 bytes, batch 3")
            << qint64(7) << qint64(13) << qint64(3) << 0 << false;
        QTest::newRow("batch 1") << qint64(5) << qint64(3) << qint64(1) << 0 << false;
        QTest::newRow("crop 2 + flip, 9 samples of 3x5x6, batch 4")
            << qint64(9) << qint64(90) << qint64(4) << 2 << true;
        QTest::newRow("flip only") << qint64(6) << qint64(90) << qint64(3) << 0 << true;
        QTest::newRow("crop 1 only") << qint64(6) << qint64(90) << qint64(3) << 1 << false;
    }
    void compare(Backend& be) override {
        QFETCH(qint64, count);
        QFETCH(qint64, features);
        QFETCH(qint64, batch);
        QFETCH(int, cropPad);
        QFETCH(bool, hflip);
        const int steps = int((count + batch - 1) / batch) + 1; // wraps into the next epoch
        ops::GatherShape s{batch, features, count, 1.0 / 255 / 0.35, -0.28 / 0.35};
        if (cropPad > 0 || hflip)
            s = augmenting(count, 3, 5, 6, batch, cropPad, hflip, 1234);
        auto ref = run(m_ref, s, steps);
        auto got = run(be, s, steps);
        QVERIFY2(ref.ok() && got.ok(), (ref.ok() ? got : ref).status().message().c_str());
        for (int s = 0; s < steps; ++s) {
            QCOMPARE(got->x[std::size_t(s)], ref->x[std::size_t(s)]); // bit for bit
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

    void augmentedVulkanEqualsCpuBitForBit() {
        CS_REQUIRE_VULKAN(vk);
        const auto s = augmenting(11, 3, 7, 5, 4, 3, true, 77);
        auto a = run(*vk, s, 7), b = run(m_cpu, s, 7);
        QVERIFY2(a.ok() && b.ok(), (a.ok() ? b : a).status().message().c_str());
        for (std::size_t st = 0; st < 7; ++st) {
            QCOMPARE(a->x[st], b->x[st]); // exact: same bytes, same float arithmetic
            QCOMPARE(a->y[st], b->y[st]);
        }
    }

    void augmentationMatchesTheHostReference() {
        const auto s = augmenting(9, 2, 6, 7, 4, 2, true, 5);
        const int steps = 8;
        std::vector<Backend*> backends = {&m_ref, &m_cpu};
        if (auto* vk = vulkan())
            backends.push_back(vk);
        for (Backend* be : backends) {
            auto o = run(*be, s, steps);
            QVERIFY2(o.ok(), o.status().message().c_str());
            for (int st = 0; st < steps; ++st)
                QCOMPARE(o->x[std::size_t(st)], expectedX(s, st));
        }
    }

    void forcedOffsetGivesTheExpectedPixels() {
        // Find a seed whose first sample at step 0 is shifted down 2, left 1 and flipped.
        auto s = augmenting(4, 2, 5, 5, 2, 2, true, 0);
        s.scale = 1.0;
        s.shift = -1000.0; // padding reads −1000, pixel v reads v − 1000
        while (true) {
            const auto a = ops::augmentationFor(s, 0, 0);
            if (a.dy == 2 && a.dx == -1 && a.flip)
                break;
            ++s.seed;
            QVERIFY(s.seed < 100000);
        }
        const std::int64_t item = Rng(3).permutation(4)[0];
        auto src = [&](int c, int r, int col) {
            return double(imageByte(item * 50 + (c * 5 + r) * 5 + col)) - 1000.0;
        };
        std::vector<Backend*> backends = {&m_ref, &m_cpu};
        if (auto* vk = vulkan())
            backends.push_back(vk);
        for (Backend* be : backends) {
            auto o = run(*be, s, 1);
            QVERIFY2(o.ok(), o.status().message().c_str());
            const auto& x = o->x[0];
            auto at = [&](int c, int r, int col) { return x[std::size_t((c * 5 + r) * 5 + col)]; };
            // Output (r, col) reads source (r + 2, (4 − col) − 1).
            QCOMPARE(at(0, 0, 0), src(0, 2, 3));
            QCOMPARE(at(0, 0, 3), src(0, 2, 0));
            QCOMPARE(at(1, 2, 1), src(1, 4, 2));
            QCOMPARE(at(0, 0, 4), -1000.0); // source column −1: padding
            QCOMPARE(at(1, 3, 0), -1000.0); // source row 5: padding
            QCOMPARE(at(1, 4, 4), -1000.0);
            QCOMPARE(o->y[0][0], std::int32_t(item % 10));
        }
    }

    void everyStepDrawsNewCrops() {
        // Steps 0 and 3 gather the same samples (3 steps per epoch) but crop them differently.
        const auto s = augmenting(6, 1, 8, 8, 2, 3, true, 9);
        auto o = run(m_cpu, s, 4);
        QVERIFY(o.ok());
        QCOMPARE(o->y[3], o->y[0]);
        QVERIFY(o->x[3] != o->x[0]);
        auto plain = run(m_cpu, ops::GatherShape{2, 64, 6, s.scale, s.shift}, 4);
        QVERIFY(plain.ok());
        QCOMPARE(plain->x[3], plain->x[0]);
        // Over many (step, row) draws, every offset in [−3, 3] occurs and about half flip.
        std::vector<int> dy(7), dx(7);
        int flips = 0;
        const int draws = 7000;
        for (int i = 0; i < draws; ++i) {
            const auto a = ops::augmentationFor(s, std::uint32_t(i / 7), std::uint32_t(i % 7));
            QVERIFY(a.dy >= -3 && a.dy <= 3 && a.dx >= -3 && a.dx <= 3);
            ++dy[std::size_t(a.dy + 3)];
            ++dx[std::size_t(a.dx + 3)];
            flips += a.flip;
        }
        for (int k = 0; k < 7; ++k)
            QVERIFY(dy[std::size_t(k)] > 800 && dx[std::size_t(k)] > 800); // 1000 expected
        QVERIFY(std::abs(flips - draws / 2) < 250);
        // A different seed draws different augmentations.
        auto other = s;
        other.seed = 10;
        int same = 0;
        for (std::uint32_t r = 0; r < 100; ++r) {
            const auto a = ops::augmentationFor(s, 0, r), b = ops::augmentationFor(other, 0, r);
            same += a.dy == b.dy && a.dx == b.dx && a.flip == b.flip;
        }
        QVERIFY(same < 10);
    }

    void noAugmentationEqualsThePlainGather() {
        auto s = augmenting(10, 3, 4, 4, 4, 0, false, 31337); // layout and seed set, both off
        const ops::GatherShape plain{4, 48, 10, s.scale, s.shift};
        std::vector<Backend*> backends = {&m_ref, &m_cpu};
        if (auto* vk = vulkan())
            backends.push_back(vk);
        for (Backend* be : backends) {
            auto a = run(*be, s, 4), b = run(*be, plain, 4);
            QVERIFY(a.ok() && b.ok());
            for (std::size_t st = 0; st < 4; ++st)
                QCOMPARE(a->x[st], b->x[st]);
        }
    }

    void badAugmentationSettingsAreRejected() {
        CS_VERIFY_OK(m_cpu.reset());
        Tensor images = m_cpu.tensor({ops::paddedBytes(4 * 48)}, DType::U8);
        Tensor labels = m_cpu.tensor({4}, DType::U8);
        Tensor order = m_cpu.tensor({4}, DType::I32);
        Tensor state = m_cpu.tensor({1}, DType::I32);
        Tensor x = m_cpu.tensor({2, 48}), y = m_cpu.tensor({2}, DType::I32);
        CS_VERIFY_OK(m_cpu.allocate());
        auto check = [&](const ops::GatherShape& s, const char* fragment) {
            Status st = ops::gatherBatch(m_cpu, s, images, labels, order, state, x, y);
            QVERIFY2(!st.ok(), "bad settings were accepted");
            QVERIFY2(st.message().find(fragment) != std::string::npos, st.message().c_str());
        };
        auto mismatch = augmenting(4, 3, 4, 5, 2, 1, false, 0);
        mismatch.features = 48;
        check(mismatch, "must equal the 48 features");
        auto noLayout = augmenting(4, 3, 4, 4, 2, 0, true, 0);
        noLayout.channels = 0;
        check(noLayout, "augmentation needs the image layout");
        check(augmenting(4, 3, 4, 4, 2, -1, false, 0), "must not be negative");
        check(augmenting(4, 3, 4, 4, 2, 5, false, 0), "larger than the image");
    }
};

QTEST_GUILESS_MAIN(TestGatherBatch)
#include "tst_gather_batch.moc"
