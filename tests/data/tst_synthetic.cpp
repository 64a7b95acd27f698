// Synthetic sets: blobs and spirals are reproducible per seed, balanced, shaped as documented,
// and their labels carry the classes: a nearest-centroid classifier (blobs) and a 1-nearest-
// neighbour classifier (spirals) fitted on the training split are accurate on the test split,
// and fall to chance when the training labels are shuffled, so a label bug cannot pass.
#include "core/random.h"
#include "data/synthetic.h"
#include "test_support.h"

#include <algorithm>
#include <cmath>

using namespace convscope;
using namespace convscope::data;

namespace {

std::vector<double> pixels(const ImageDataset& d, std::int64_t n) {
    const std::int64_t D = d.features();
    return {d.images.begin() + std::ptrdiff_t(n * D),
            d.images.begin() + std::ptrdiff_t((n + 1) * D)};
}

double dist2(const std::vector<double>& a, const std::vector<double>& b) {
    double s = 0;
    for (std::size_t i = 0; i < a.size(); ++i)
        s += (a[i] - b[i]) * (a[i] - b[i]);
    return s;
}

// Test accuracy of the nearest class mean of the training images.
double nearestCentroidAccuracy(const ImageDataset& train, const std::vector<std::uint8_t>& labels,
                               const ImageDataset& test) {
    const std::int64_t D = train.features();
    std::vector<std::vector<double>> mean(std::size_t(train.classes),
                                          std::vector<double>(static_cast<std::size_t>(D)));
    std::vector<int> count(std::size_t(train.classes));
    for (std::int64_t n = 0; n < train.count; ++n) {
        const auto x = pixels(train, n);
        auto& m = mean[labels[std::size_t(n)]];
        for (std::int64_t i = 0; i < D; ++i)
            m[std::size_t(i)] += x[std::size_t(i)];
        ++count[labels[std::size_t(n)]];
    }
    for (int k = 0; k < train.classes; ++k)
        for (auto& v : mean[std::size_t(k)])
            v /= std::max(1, count[std::size_t(k)]);
    int right = 0;
    for (std::int64_t n = 0; n < test.count; ++n) {
        const auto x = pixels(test, n);
        int best = 0;
        for (int k = 1; k < train.classes; ++k)
            if (dist2(x, mean[std::size_t(k)]) < dist2(x, mean[std::size_t(best)]))
                best = k;
        right += best == test.labels[std::size_t(n)];
    }
    return double(right) / double(test.count);
}

double nearestNeighbourAccuracy(const ImageDataset& train, const std::vector<std::uint8_t>& labels,
                                const ImageDataset& test) {
    int right = 0;
    for (std::int64_t n = 0; n < test.count; ++n) {
        const auto x = pixels(test, n);
        double bestD = 1e300;
        int best = -1;
        for (std::int64_t m = 0; m < train.count; ++m)
            if (double d = dist2(x, pixels(train, m)); d < bestD) {
                bestD = d;
                best = labels[std::size_t(m)];
            }
        right += best == test.labels[std::size_t(n)];
    }
    return double(right) / double(test.count);
}

std::vector<std::uint8_t> shuffled(const std::vector<std::uint8_t>& labels) {
    const auto perm = Rng(99).permutation(std::int64_t(labels.size()));
    std::vector<std::uint8_t> out(labels.size());
    for (std::size_t i = 0; i < labels.size(); ++i)
        out[i] = labels[std::size_t(perm[i])];
    return out;
}

void verifyBalanced(const ImageDataset& d) {
    std::vector<std::int64_t> perClass(std::size_t(d.classes));
    for (auto l : d.labels) {
        QVERIFY(l < d.classes);
        ++perClass[l];
    }
    const auto [lo, hi] = std::minmax_element(perClass.begin(), perClass.end());
    QVERIFY2(*hi - *lo <= 1, "classes are not balanced");
}

} // namespace

class TestSynthetic : public QObject {
    Q_OBJECT

private slots:
    void blobsAreSeededBalancedAndShaped() {
        auto a = makeBlobs(301, 16, 4, 5), b = makeBlobs(301, 16, 4, 5);
        QCOMPARE(a.images, b.images);
        QCOMPARE(a.labels, b.labels);
        QVERIFY(makeBlobs(301, 16, 4, 6).images != a.images);
        QVERIFY(makeBlobs(301, 16, 4, 6).labels != a.labels);
        QCOMPARE(a.channels, qint64(1));
        QCOMPARE(a.features(), qint64(256));
        QCOMPARE(a.images.size(), std::size_t(301 * 256));
        QCOMPARE(a.classNames.size(), std::size_t(4));
        verifyBalanced(a);
        verifyBalanced(makeBlobs(100, 12, 9, 1));
    }

    void blobOfClassKIsInRegionK() {
        // 9 classes on a 3 x 3 grid: the brightest pixel of each class mean is in its cell.
        auto d = makeBlobs(900, 18, 9, 2);
        std::vector<std::vector<double>> mean(9, std::vector<double>(18 * 18));
        for (std::int64_t n = 0; n < d.count; ++n)
            for (int i = 0; i < 18 * 18; ++i)
                mean[d.labels[std::size_t(n)]][std::size_t(i)] +=
                    d.images[std::size_t(n * 18 * 18 + i)];
        for (int k = 0; k < 9; ++k) {
            const auto& m = mean[std::size_t(k)];
            const int peak = int(std::max_element(m.begin(), m.end()) - m.begin());
            QCOMPARE((peak / 18) / 6, k / 3);
            QCOMPARE((peak % 18) / 6, k % 3);
        }
    }

    void blobLabelsAreLearnableByNearestCentroid() {
        auto s = makeBlobsSplit(400, 200, 12, 4, 3);
        QCOMPARE(s.train.count, qint64(400));
        QCOMPARE(s.test.count, qint64(200));
        QVERIFY(s.train.images != s.test.images);
        QVERIFY(s.mean > 0 && s.mean < 0.5 && s.std > 0);
        const double acc = nearestCentroidAccuracy(s.train, s.train.labels, s.test);
        const double chance = nearestCentroidAccuracy(s.train, shuffled(s.train.labels), s.test);
        qInfo("nearest centroid: %.3f, with shuffled labels %.3f", acc, chance);
        QVERIFY(acc > 0.95);
        QVERIFY(chance < 0.6);
    }

    void spiralsAreSeededBalancedAndShaped() {
        auto a = makeSpirals(300, 3, 5), b = makeSpirals(300, 3, 5);
        QCOMPARE(a.images, b.images);
        QCOMPARE(a.labels, b.labels);
        QVERIFY(makeSpirals(300, 3, 6).images != a.images);
        QCOMPARE(a.channels, qint64(2));
        QCOMPARE(a.height, qint64(1));
        QCOMPARE(a.width, qint64(1));
        QCOMPARE(a.images.size(), std::size_t(600));
        verifyBalanced(a);
        verifyBalanced(makeSpirals(101, 5, 1));
        // The points fill the square [−1, 1]² (bytes 0..255) around the centre.
        const auto [lo, hi] = std::minmax_element(a.images.begin(), a.images.end());
        QVERIFY(*lo < 20 && *hi > 235);
    }

    void spiralLabelsAreLearnableByNearestNeighbourButNotLinearly() {
        auto s = makeSpiralsSplit(600, 300, 3, 4);
        const double nn = nearestNeighbourAccuracy(s.train, s.train.labels, s.test);
        const double chance = nearestNeighbourAccuracy(s.train, shuffled(s.train.labels), s.test);
        // Interleaved arms: the class means are all near the centre, so nearest centroid is weak.
        const double centroid = nearestCentroidAccuracy(s.train, s.train.labels, s.test);
        qInfo("1-NN: %.3f, with shuffled labels %.3f, nearest centroid %.3f", nn, chance, centroid);
        QVERIFY(nn > 0.85);
        QVERIFY(chance < 0.5);
        QVERIFY(centroid < nn - 0.2);
    }
};

QTEST_GUILESS_MAIN(TestSynthetic)
#include "tst_synthetic.moc"
