// concat: joining along channels and splitting the gradient back, on both backends against the
// CPU double reference, with every element checked in its place.
#include "op_test.h"
#include "ops/concat.h"

using namespace convscope;
using namespace convscope::testing;

namespace {
struct Outputs {
    std::vector<double> y;
    std::vector<std::vector<double>> dx;
};

Result<Outputs> run(Backend& be, const ops::ConcatShape& s,
                    const std::vector<std::vector<double>>& xs, const std::vector<double>& dy) {
    CS_TRY(be.reset());
    std::vector<Tensor> in, din;
    for (auto c : s.channels) {
        in.push_back(be.tensor({s.batch, c, s.spatial}));
        din.push_back(be.tensor({s.batch, c, s.spatial}));
    }
    Tensor y = be.tensor({s.batch, s.total(), s.spatial}),
           tdy = be.tensor({s.batch, s.total(), s.spatial});
    CS_TRY(be.allocate());
    for (std::size_t i = 0; i < xs.size(); ++i)
        CS_TRY(be.writeReal(in[i], xs[i]));
    CS_TRY(be.writeReal(tdy, dy));
    CS_TRY(runOnce(be, [&]() -> Status {
        CS_TRY(ops::concatForward(be, s, in, y));
        return ops::concatBackward(be, s, tdy, din);
    }));
    Outputs o;
    CS_TRY_ASSIGN(o.y, be.readReal(y));
    for (const Tensor& t : din) {
        CS_TRY_ASSIGN(auto v, be.readReal(t));
        o.dx.push_back(v);
    }
    return o;
}
} // namespace

class TestConcat : public OpTest {
    Q_OBJECT

    void cases(BackendKind) override {
        QTest::addColumn<qint64>("batch");
        QTest::addColumn<qint64>("spatial");
        QTest::addColumn<QList<qint64>>("channels");
        QTest::newRow("batch 1, one input") << qint64(1) << qint64(5) << QList<qint64>{3};
        QTest::newRow("inception 4 branches, 7x7")
            << qint64(3) << qint64(49) << QList<qint64>{8, 12, 4, 4};
        QTest::newRow("odd sizes") << qint64(5) << qint64(13) << QList<qint64>{1, 7};
    }
    void compare(Backend& be) override {
        QFETCH(qint64, batch);
        QFETCH(qint64, spatial);
        QFETCH(QList<qint64>, channels);
        ops::ConcatShape s{batch, spatial, {channels.begin(), channels.end()}};
        std::vector<std::vector<double>> xs;
        for (std::size_t i = 0; i < s.channels.size(); ++i)
            xs.push_back(asFloat(uniform(batch * s.channels[i] * spatial, i + 1)));
        auto dy = asFloat(uniform(batch * s.total() * spatial, 99));
        auto ref = run(m_ref, s, xs, dy);
        auto got = run(be, s, xs, dy);
        QVERIFY2(ref.ok() && got.ok(), (ref.ok() ? got : ref).status().message().c_str());
        QCOMPARE(got->y, ref->y);
        QCOMPARE(got->dx, ref->dx);
        // Every element in its place: y[n, offset_i + c, k] = x_i[n, c, k].
        std::int64_t offset = 0;
        for (std::size_t i = 0; i < xs.size(); ++i) {
            const std::int64_t C = s.channels[i];
            for (std::int64_t n = 0; n < batch; ++n)
                for (std::int64_t c = 0; c < C; ++c)
                    for (std::int64_t k = 0; k < spatial; ++k) {
                        const std::size_t wide =
                            std::size_t((n * s.total() + offset + c) * spatial + k);
                        const std::size_t narrow = std::size_t((n * C + c) * spatial + k);
                        QCOMPARE(ref->y[wide], xs[i][narrow]);
                        QCOMPARE(ref->dx[i][narrow], dy[wide]);
                    }
            offset += C;
        }
    }

private slots:
    void mismatchedInputsAreRejected() {
        CS_VERIFY_OK(m_ref.reset());
        Tensor a = m_ref.tensor({2, 3, 4}), y = m_ref.tensor({2, 5, 4});
        CS_VERIFY_OK(m_ref.allocate());
        auto r = m_ref.record([&] { return ops::concatForward(m_ref, {2, 4, {3, 2}}, {a}, y); });
        QVERIFY(!r.ok());
        QVERIFY(r.status().message().find("one tensor per input") != std::string::npos);
    }
};

QTEST_GUILESS_MAIN(TestConcat)
#include "tst_concat.moc"
