// sgd: the update on both backends against the CPU double reference, against the closed form of
// plain SGD and heavy-ball momentum on a quadratic, and a learning-rate change without
// re-recording the program.
#include "op_test.h"
#include "ops/sgd.h"

#include <cmath>

using namespace convscope;
using namespace convscope::testing;

namespace {

struct State {
    std::vector<double> p, v;
};

// Runs `steps` updates with a fixed gradient g.
Result<State> run(Backend& be, const std::vector<double>& p0, const std::vector<double>& g,
                  double lr, double mu, double wd, int steps) {
    CS_TRY(be.reset());
    const std::int64_t n = std::int64_t(p0.size());
    Tensor p = be.tensor({n}), tg = be.tensor({n}), v = be.tensor({n});
    Tensor h = be.tensor({3}, DType::Real, Placement::Host);
    CS_TRY(be.allocate());
    CS_TRY(be.writeReal(p, p0));
    CS_TRY(be.writeReal(tg, g));
    CS_TRY(be.zero(v));
    const double hyper[3] = {lr, mu, wd};
    CS_TRY(be.writeReal(h, hyper));
    CS_TRY(be.beginProgram());
    CS_TRY(ops::sgdUpdate(be, p, tg, v, h));
    CS_TRY_ASSIGN(ProgramId prog, be.endProgram());
    CS_TRY_ASSIGN(Ticket t, be.submit(prog, std::uint32_t(steps)));
    CS_TRY(be.wait(t));
    State s;
    CS_TRY_ASSIGN(s.p, be.readReal(p));
    CS_TRY_ASSIGN(s.v, be.readReal(v));
    return s;
}

} // namespace

class TestSgd : public OpTest {
    Q_OBJECT

    void cases(BackendKind) override {
        QTest::addColumn<qint64>("n");
        QTest::addColumn<double>("momentum");
        QTest::addColumn<double>("decay");
        QTest::newRow("1, plain") << qint64(1) << 0.0 << 0.0;
        QTest::newRow("257, momentum 0.9") << qint64(257) << 0.9 << 0.0;
        QTest::newRow("1031, momentum + weight decay") << qint64(1031) << 0.9 << 1e-2;
        QTest::newRow("203530 (the mlp), momentum") << qint64(203530) << 0.9 << 5e-4;
    }
    void compare(Backend& be) override {
        QFETCH(qint64, n);
        QFETCH(double, momentum);
        QFETCH(double, decay);
        auto p0 = asFloat(uniform(n, 1)), g = asFloat(uniform(n, 2));
        auto ref = run(m_ref, p0, g, 0.1, momentum, decay, 3);
        auto got = run(be, p0, g, 0.1, momentum, decay, 3);
        QVERIFY2(ref.ok() && got.ok(), (ref.ok() ? got : ref).status().message().c_str());
        qInfo("params max relative error %.3g, velocity %.3g", relError(got->p, ref->p),
              relError(got->v, ref->v));
        QVERIFY(relError(got->p, ref->p) <= 1e-4);
        QVERIFY(relError(got->v, ref->v) <= 1e-4);
    }

private slots:

    // On f(p) = ½ a p² the gradient is a·p; with a fixed gradient the closed forms are simple:
    // plain SGD after k steps with constant g: p_k = p_0 − k·lr·g;
    // momentum: v_k = g·(1 − μ^k)/(1 − μ), p_k = p_0 − lr·g·Σ_{j=1..k} (1 − μ^j)/(1 − μ).
    void trajectoriesMatchClosedForm() {
        const double lr = 0.1, mu = 0.9, g = 0.5, p0 = 2.0;
        const int k = 7;
        auto plain = run(m_ref, {p0}, {g}, lr, 0.0, 0.0, k);
        QVERIFY(plain.ok());
        QVERIFY(std::abs(plain->p[0] - (p0 - k * lr * g)) < 1e-12);
        auto heavy = run(m_ref, {p0}, {g}, lr, mu, 0.0, k);
        QVERIFY(heavy.ok());
        double sum = 0;
        for (int j = 1; j <= k; ++j)
            sum += (1 - std::pow(mu, j)) / (1 - mu);
        QVERIFY(std::abs(heavy->p[0] - (p0 - lr * g * sum)) < 1e-12);
        QVERIFY(std::abs(heavy->v[0] - g * (1 - std::pow(mu, k)) / (1 - mu)) < 1e-12);
    }

    // Gradient descent on the quadratic ½ a p² (gradient recomputed each step on the host):
    // p_k = p_0 (1 − lr·a)^k.
    void quadraticDescentMatchesClosedForm() {
        const double a = 3.0, lr = 0.05, p0 = 1.5;
        double p = p0;
        for (int k = 0; k < 10; ++k) {
            auto s = run(m_ref, {p}, {a * p}, lr, 0.0, 0.0, 1);
            QVERIFY(s.ok());
            p = s->p[0];
        }
        QVERIFY(std::abs(p - p0 * std::pow(1 - lr * a, 10)) < 1e-12);
    }

    void learningRateChangesWithoutRerecording() {
        CS_REQUIRE_VULKAN(vk);
        CS_VERIFY_OK(vk->reset());
        Tensor p = vk->tensor({4}), g = vk->tensor({4}), v = vk->tensor({4});
        Tensor h = vk->tensor({3}, DType::Real, Placement::Host);
        CS_VERIFY_OK(vk->allocate());
        CS_VERIFY_OK(vk->writeReal(p, std::vector<double>{1, 1, 1, 1}));
        CS_VERIFY_OK(vk->writeReal(g, std::vector<double>{1, 2, 3, 4}));
        CS_VERIFY_OK(vk->zero(v));
        CS_VERIFY_OK(vk->writeReal(h, std::vector<double>{0.5, 0, 0}));
        CS_VERIFY_OK(vk->beginProgram());
        CS_VERIFY_OK(ops::sgdUpdate(*vk, p, g, v, h));
        auto prog = vk->endProgram();
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
};

QTEST_GUILESS_MAIN(TestSgd)
#include "tst_sgd.moc"
