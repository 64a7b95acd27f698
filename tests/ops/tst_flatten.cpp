// flatten: (N, C, H, W) → (N, C·H·W) is a view: same memory, same bytes, new shape.
#include "ops/flatten.h"
#include "test_support.h"

using namespace convscope;

class TestFlatten : public QObject {
    Q_OBJECT

private slots:
    void keepsMemoryAndChangesShape() {
        CpuBackend<float> be;
        Tensor x = be.tensor({2, 3, 4, 5});
        CS_VERIFY_OK(be.allocate());
        auto values = testing::uniform(120, 1);
        CS_VERIFY_OK(be.writeReal(x, values));
        Tensor f = ops::flatten(x);
        QCOMPARE(f.shape, (Shape{2, 60}));
        QCOMPARE(f.offset, x.offset);
        QCOMPARE(f.bytes, x.bytes);
        auto back = be.readReal(f);
        QVERIFY(back.ok());
        QVERIFY(testing::relError(*back, testing::asFloat(values)) == 0);
        QCOMPARE(ops::flatten(f).shape, (Shape{2, 60})); // already flat
    }
};

QTEST_GUILESS_MAIN(TestFlatten)
#include "tst_flatten.moc"
