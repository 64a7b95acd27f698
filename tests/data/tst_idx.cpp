// IDX reading: gzip and raw round trips, Fashion-MNIST from the Debian package, and every kind of
// bad file (missing, corrupt gzip, truncated, wrong magic, mismatched pair, bad label) giving one
// clear message that names the file.
#include "data/idx.h"
#include "data/synthetic.h"
#include "test_support.h"

#include <QTemporaryDir>
#include <filesystem>
#include <fstream>
#include <zlib.h>

using namespace convscope;
using namespace convscope::data;

class TestIdx : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;

    std::string path(const char* name) { return m_dir.filePath(name).toStdString(); }

    static IdxArray sample() {
        IdxArray a;
        a.dims = {3, 2, 5};
        for (int i = 0; i < 30; ++i)
            a.values.push_back(std::uint8_t(i * 7));
        return a;
    }
    static void writeRaw(const std::string& p, const std::vector<std::uint8_t>& bytes) {
        std::ofstream(p, std::ios::binary)
            .write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
    }
    static std::vector<std::uint8_t> readRaw(const std::string& p) {
        std::ifstream in(p, std::ios::binary);
        return {std::istreambuf_iterator<char>(in), {}};
    }
    void expectError(const std::string& file, const char* fragment) {
        auto r = readIdx(file);
        QVERIFY2(!r.ok(), "a bad file was accepted");
        const std::string m = r.status().message();
        QVERIFY2(m.find(file) != std::string::npos,
                 ("message does not name the file: " + m).c_str());
        QVERIFY2(m.find(fragment) != std::string::npos, ("unexpected message: " + m).c_str());
    }

private slots:
    void roundTripsGzipAndRaw_data() {
        QTest::addColumn<bool>("gzip");
        QTest::newRow("gzip") << true;
        QTest::newRow("raw") << false;
    }
    void roundTripsGzipAndRaw() {
        QFETCH(bool, gzip);
        const std::string p = path(gzip ? "a.idx.gz" : "a.idx");
        CS_VERIFY_OK(writeIdx(p, sample(), gzip));
        auto r = readIdx(p);
        QVERIFY2(r.ok(), r.status().message().c_str());
        QCOMPARE(r->dims, sample().dims);
        QCOMPARE(r->values, sample().values);
        QCOMPARE(readRaw(p)[0] == 0x1f, gzip); // really compressed, or really not
    }

    void missingFileSaysHowToInstall() {
        expectError(path("nope.gz"), "file not found");
        auto r = readIdx(path("nope.gz"));
        QVERIFY(r.status().message().find("dataset-fashion-mnist") != std::string::npos);
    }

    void corruptGzipIsReported() {
        const std::string p = path("corrupt.gz");
        CS_VERIFY_OK(writeIdx(p, sample(), true));
        auto bytes = readRaw(p);
        for (std::size_t i = 12; i < bytes.size() - 8; ++i)
            bytes[i] ^= 0x5a;
        writeRaw(p, bytes);
        expectError(p, "corrupt");
    }

    void truncatedGzipIsReported() {
        const std::string p = path("truncated.gz");
        CS_VERIFY_OK(writeIdx(p, sample(), true));
        auto bytes = readRaw(p);
        bytes.resize(bytes.size() / 2);
        writeRaw(p, bytes);
        expectError(p, "");
    }

    void truncatedDataIsReported() {
        const std::string p = path("short.idx");
        CS_VERIFY_OK(writeIdx(p, sample(), false));
        auto bytes = readRaw(p);
        bytes.resize(bytes.size() - 5);
        writeRaw(p, bytes);
        expectError(p, "header announces 30 bytes of data but 25 follow");
    }

    // Headers that claim more than the file can hold are refused before the data is read:
    // a raw file's size must match; a gzip file cannot inflate to more than 1032 bytes per byte.
    void headersClaimingTooMuchAreRefused() {
        const std::string raw = path("claims.idx");
        writeRaw(raw, {0, 0, 8, 3, 0, 0, 0x03, 0xe8, 0, 0, 0, 28, 0, 0, 0, 28, 1, 2, 3});
        expectError(raw, "IDX header announces 784000 bytes of data but 3 follow");
        // 2^30 one-byte items announced, one given: a gzip file of a few dozen bytes.
        const std::string gz = path("claims.gz");
        const std::vector<std::uint8_t> bytes = {0, 0, 8, 1, 0x40, 0, 0, 0, 7};
        gzFile f = gzopen(gz.c_str(), "wb6");
        QVERIFY(f);
        QCOMPARE(gzwrite(f, bytes.data(), unsigned(bytes.size())), int(bytes.size()));
        QCOMPARE(gzclose(f), Z_OK);
        expectError(gz, "IDX header announces 1073741824 bytes of data, more than a");
        expectError(gz, "-byte gzip file can hold");
    }

    void wrongMagicIsReported() {
        const std::string p = path("text.idx");
        writeRaw(p, {'h', 'e', 'l', 'l', 'o'});
        expectError(p, "not an IDX file");
        writeRaw(p, {0, 0, 0x0d, 1, 0, 0, 0, 1, 0, 0, 0, 0});
        expectError(p, "only unsigned bytes");
    }

    void mismatchedPairIsReported() {
        IdxArray labels;
        labels.dims = {4};
        labels.values = {0, 1, 2, 3};
        CS_VERIFY_OK(writeIdx(path("i.gz"), sample(), true));
        CS_VERIFY_OK(writeIdx(path("l.gz"), labels, true));
        auto r = loadIdxSplit(path("i.gz"), path("l.gz"), 10, "x");
        QVERIFY(!r.ok());
        QVERIFY2(r.status().message().find("3 images but 4 labels") != std::string::npos,
                 r.status().message().c_str());
        labels.dims = {3};
        labels.values = {0, 1, 12};
        CS_VERIFY_OK(writeIdx(path("l.gz"), labels, true));
        r = loadIdxSplit(path("i.gz"), path("l.gz"), 10, "x");
        QVERIFY(!r.ok());
        QVERIFY2(r.status().message().find("label 12 of item 2") != std::string::npos,
                 r.status().message().c_str());
    }

    void loadsFashionMnistFromTheDebianPackage() {
        if (!std::filesystem::exists(defaultFashionMnistDir())) {
            if (testing::onCi())
                QFAIL("dataset-fashion-mnist is not installed; scripts/test installs it");
            QSKIP("dataset-fashion-mnist is not installed");
        }
        auto r = loadFashionMnist();
        QVERIFY2(r.ok(), r.status().message().c_str());
        QCOMPARE(r->train.count, qint64(60000));
        QCOMPARE(r->test.count, qint64(10000));
        QCOMPARE(r->train.features(), qint64(784));
        // The published normalisation of Fashion-MNIST: mean 0.2860, std 0.3530.
        QVERIFY(std::abs(r->mean - 0.2860) < 1e-3);
        QVERIFY(std::abs(r->std - 0.3530) < 1e-3);
    }

    void fashionMnistFromAnEmptyFolderNamesTheFile() {
        auto r = loadFashionMnist(m_dir.path().toStdString() + "/empty");
        QVERIFY(!r.ok());
        QVERIFY2(r.status().message().find("train-images-idx3-ubyte.gz") != std::string::npos,
                 r.status().message().c_str());
    }

    void gratingsAreDeterministicAndBalanced() {
        auto a = makeGratings(400, 12, 4, 5), b = makeGratings(400, 12, 4, 5);
        QCOMPARE(a.images, b.images);
        QCOMPARE(a.labels, b.labels);
        std::vector<int> perClass(4);
        for (auto l : a.labels)
            ++perClass[l];
        for (int c : perClass)
            QVERIFY(c > 60);
        QVERIFY(makeGratings(400, 12, 4, 6).images != a.images);
    }
};

QTEST_GUILESS_MAIN(TestIdx)
#include "tst_idx.moc"
