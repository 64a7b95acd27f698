// CIFAR-10 binary batches: small fake batches written here (a few records each) load with the
// right pixels, labels, class names and normalisation; a missing folder or file, a size that is
// not a multiple of 3073 bytes, a label above 9 and a bad batches.meta.txt give one clear message
// that names the file.
#include "data/cifar.h"
#include "test_support.h"

#include <QTemporaryDir>
#include <cmath>
#include <filesystem>
#include <fstream>

using namespace convscope;
using namespace convscope::data;

namespace {

constexpr int kRecord = 3073;

// Record r of batch b: label (b + r) % 10, pixel i = (b·31 + r·7 + i) % 256.
std::vector<std::uint8_t> batchBytes(int b, int records) {
    std::vector<std::uint8_t> bytes;
    for (int r = 0; r < records; ++r) {
        bytes.push_back(std::uint8_t((b + r) % 10));
        for (int i = 0; i < 3072; ++i)
            bytes.push_back(std::uint8_t((b * 31 + r * 7 + i) % 256));
    }
    return bytes;
}

void writeRaw(const std::string& p, const std::vector<std::uint8_t>& bytes) {
    std::ofstream(p, std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
}

} // namespace

class TestCifar : public QObject {
    Q_OBJECT
    QTemporaryDir m_tmp;
    int m_folders = 0;

    // A fresh folder with batches 1..5 of 3, 2, 2, 2, 1 records and a test batch (b = 0) of 4.
    std::string writeFolder() {
        const std::string dir = m_tmp.filePath(QString("set%1").arg(m_folders++)).toStdString();
        std::filesystem::create_directories(dir);
        const int records[] = {4, 3, 2, 2, 2, 1};
        for (int b = 1; b <= 5; ++b)
            writeRaw(dir + "/data_batch_" + std::to_string(b) + ".bin", batchBytes(b, records[b]));
        writeRaw(dir + "/test_batch.bin", batchBytes(0, records[0]));
        return dir;
    }
    static void expectError(const Result<TrainTestSplit>& r, const std::string& where,
                            std::initializer_list<const char*> fragments) {
        QVERIFY2(!r.ok(), "a bad folder was accepted");
        const std::string m = r.status().message();
        QVERIFY2(m.find(where) != std::string::npos,
                 ("message does not name " + where + ": " + m).c_str());
        for (const char* f : fragments)
            QVERIFY2(m.find(f) != std::string::npos, ("unexpected message: " + m).c_str());
    }

private slots:
    void loadsTheBatchesInOrder() {
        const std::string dir = writeFolder();
        auto r = loadCifar10(dir);
        QVERIFY2(r.ok(), r.status().message().c_str());
        const ImageDataset& tr = r->train;
        QCOMPARE(tr.count, qint64(10));
        QCOMPARE(r->test.count, qint64(4));
        QCOMPARE(tr.channels, qint64(3));
        QCOMPARE(tr.height, qint64(32));
        QCOMPARE(tr.width, qint64(32));
        QCOMPARE(tr.features(), qint64(3072));
        QCOMPARE(tr.classes, 10);
        QCOMPARE(tr.images.size(), std::size_t(10 * 3072));
        // Sample n of the training set is record r of batch b, batches in order 1..5.
        int n = 0;
        const int records[] = {4, 3, 2, 2, 2, 1};
        for (int b = 1; b <= 5; ++b)
            for (int rec = 0; rec < records[b]; ++rec, ++n) {
                QCOMPARE(int(tr.labels[std::size_t(n)]), (b + rec) % 10);
                for (int i : {0, 1, 1023, 1024, 2048, 3071}) // first pixel of each channel, edges
                    QCOMPARE(int(tr.images[std::size_t(n * 3072 + i)]),
                             (b * 31 + rec * 7 + i) % 256);
            }
        QCOMPARE(int(r->test.labels[3]), 3);
        QCOMPARE(int(r->test.images[3 * 3072 + 5]), (3 * 7 + 5) % 256);
        QCOMPARE(tr.classNames.size(), std::size_t(10));
        QCOMPARE(tr.classNames[0], std::string("airplane"));
        QCOMPARE(r->test.classNames[9], std::string("truck"));
        // mean/std of the training pixels, in [0, 1].
        double sum = 0, sq = 0;
        for (auto v : tr.images) {
            sum += v / 255.0;
            sq += (v / 255.0) * (v / 255.0);
        }
        const double mean = sum / double(tr.images.size());
        QVERIFY(std::abs(r->mean - mean) < 1e-9);
        QVERIFY(std::abs(r->std - std::sqrt(sq / double(tr.images.size()) - mean * mean)) < 1e-9);
    }

    void classNamesComeFromTheMetaFile() {
        const std::string dir = writeFolder();
        std::ofstream(dir + "/batches.meta.txt")
            << "a0\nb1\r\nc2\nd3\ne4\nf5\ng6\nh7\ni8\nj9\n\n\n"; // the real file ends blank
        auto r = loadCifar10(dir);
        QVERIFY2(r.ok(), r.status().message().c_str());
        QCOMPARE(r->train.classNames[1], std::string("b1"));
        QCOMPARE(r->test.classNames[9], std::string("j9"));
        std::ofstream(dir + "/batches.meta.txt") << "only\nthree\nnames\n";
        expectError(loadCifar10(dir), dir + "/batches.meta.txt", {"3 class names, expected 10"});
    }

    void missingFolderSaysWhereToGetIt() {
        const std::string dir = m_tmp.filePath("nowhere").toStdString();
        expectError(loadCifar10(dir), dir,
                    {"folder not found", "data_batch_1.bin", "test_batch.bin",
                     "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",
                     "cifar-10-batches-bin"});
        expectError(loadCifar10(""), "CIFAR-10", {"cifar-10-binary.tar.gz"});
    }

    void missingFileIsNamed() {
        const std::string dir = writeFolder();
        std::filesystem::remove(dir + "/data_batch_3.bin");
        expectError(loadCifar10(dir), dir + "/data_batch_3.bin",
                    {"file not found", "cifar-10-binary.tar.gz"});
        const std::string dir2 = writeFolder();
        std::filesystem::remove(dir2 + "/test_batch.bin");
        expectError(loadCifar10(dir2), dir2 + "/test_batch.bin", {"file not found"});
    }

    void sizeThatIsNotWholeRecordsIsReported() {
        const std::string dir = writeFolder();
        auto bytes = batchBytes(2, 3);
        bytes.resize(bytes.size() - 100);
        writeRaw(dir + "/data_batch_2.bin", bytes);
        expectError(loadCifar10(dir), dir + "/data_batch_2.bin",
                    {std::to_string(3 * kRecord - 100).c_str(), "3073-byte records"});
        writeRaw(dir + "/data_batch_2.bin", {});
        expectError(loadCifar10(dir), dir + "/data_batch_2.bin", {"0 bytes"});
    }

    void labelAboveNineIsReported() {
        const std::string dir = writeFolder();
        auto bytes = batchBytes(0, 4);
        bytes[2 * kRecord] = 12; // record 2
        writeRaw(dir + "/test_batch.bin", bytes);
        expectError(loadCifar10(dir), dir + "/test_batch.bin", {"label 12 of record 2 is above 9"});
    }
};

QTEST_GUILESS_MAIN(TestCifar)
#include "tst_cifar.moc"
