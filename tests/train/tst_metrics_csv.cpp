// metrics.csv reading (train::parseMetricsCsv): what RunFolder writes reads back field for field,
// and every kind of damage (short rows, unknown kinds, text for numbers, CRLF, no header, no
// newline at the end, binary junk) is skipped or read without throwing.
#include "model/netspec.h"
#include "train/metrics_csv.h"
#include "train/run_folder.h"

#include <QTemporaryDir>
#include <QTest>
#include <cmath>
#include <fstream>
#include <sstream>

using namespace convscope;
using namespace convscope::train;

namespace {
// A run folder of lenet5 in `dir`, as the trainer's RunFolder makes it.
Result<RunFolder> lenet5Folder(const QTemporaryDir& dir) {
    data::TrainTestSplit data;
    auto spec = model::preset("lenet5");
    if (!spec.ok())
        return spec.status();
    return RunFolder::create(dir.path().toStdString(), *spec, "Fashion-MNIST", data);
}
} // namespace

class TestMetricsCsv : public QObject {
    Q_OBJECT

private slots:
    void readsWhatRunFolderWrites() {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        auto folder = lenet5Folder(dir);
        QVERIFY2(folder.ok(), folder.status().message().c_str());
        StepReport s;
        s.epoch = 1;
        s.step = 100;
        s.loss = 0.5123456;
        s.accuracy = 0.8125;
        s.lr = 0.0199;
        s.imagesPerSecond = 5321.44;
        QVERIFY(folder->logStep(s).ok());
        s.step = 101;
        s.loss = std::nan("");
        QVERIFY(folder->logStep(s).ok());
        EpochReport e;
        e.epoch = 1;
        e.trainLoss = 0.498765;
        e.trainAccuracy = 0.8234;
        e.test.loss = 0.455678;
        e.test.accuracy = 0.8381;
        e.imagesPerSecond = 5210.7;
        e.seconds = 11.52;
        QVERIFY(folder->logEpoch(e, 469).ok());

        std::ifstream in(dir.filePath("metrics.csv").toStdString(), std::ios::binary);
        std::stringstream text;
        text << in.rdbuf();
        const MetricsCsv csv = parseMetricsCsv(text.str());
        QVERIFY(csv.header);
        QCOMPARE(csv.skipped, std::int64_t(0));
        QCOMPARE(csv.rows.size(), std::size_t(3));
        const MetricsRow& a = csv.rows[0];
        QVERIFY(a.kind == MetricsRow::Kind::Step);
        QCOMPARE(a.epoch, 1);
        QCOMPARE(a.step, std::int64_t(100));
        QCOMPARE(a.lr, 0.0199);
        QCOMPARE(a.loss, 0.512346);
        QCOMPARE(a.accuracy, 0.8125);
        QVERIFY(std::isnan(a.testLoss) && std::isnan(a.testAccuracy) && std::isnan(a.seconds));
        QCOMPARE(a.imagesPerSecond, 5321.4);
        QVERIFY(std::isnan(csv.rows[1].loss)); // a diverged step's "nan" is a value, not damage
        const MetricsRow& b = csv.rows[2];
        QVERIFY(b.kind == MetricsRow::Kind::Epoch);
        QCOMPARE(b.step, std::int64_t(469));
        QVERIFY(std::isnan(b.lr));
        QCOMPARE(b.loss, 0.498765);
        QCOMPARE(b.accuracy, 0.8234);
        QCOMPARE(b.testLoss, 0.455678);
        QCOMPARE(b.testAccuracy, 0.8381);
        QCOMPARE(b.imagesPerSecond, 5210.7);
        QCOMPARE(b.seconds, 11.52);
    }

    // layers.csv reads back as RunFolder writes it; lastEpoch() is the last epoch's layers in
    // order; damaged lines are counted, not read.
    void readsLayersCsv() {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        auto folder = lenet5Folder(dir);
        QVERIFY2(folder.ok(), folder.status().message().c_str());
        EpochReport e;
        for (int epoch = 1; epoch <= 2; ++epoch) {
            e.epoch = epoch;
            e.layers = {{"conv1", 1.5 * epoch, 0.25 / epoch, 1e-3},
                        {"fc3", 2.0, 0.5 / epoch, 2e-3}};
            QVERIFY(folder->logEpoch(e, 100 * epoch).ok());
        }
        std::ifstream in(dir.filePath("layers.csv").toStdString(), std::ios::binary);
        std::stringstream text;
        text << in.rdbuf();
        LayersCsv csv = parseLayersCsv(text.str() + "3,300,conv1,x,1,1\n\n2,200,,1,1,1\n");
        QCOMPARE(csv.rows.size(), std::size_t(4));
        QCOMPARE(csv.skipped, std::int64_t(2));
        const auto last = csv.lastEpoch();
        QCOMPARE(last.size(), std::size_t(2));
        QCOMPARE(last[0].layer, std::string("conv1"));
        QCOMPARE(last[0].epoch, 2);
        QCOMPARE(last[0].step, std::int64_t(200));
        QCOMPARE(last[0].weightNorm, 3.0);
        QCOMPARE(last[1].gradNorm, 0.25);
        QCOMPARE(last[1].updateRatio, 2e-3);
        QVERIFY(parseLayersCsv("").lastEpoch().empty());
    }

    void skipsDamagedLines() {
        const std::string text = std::string(kMetricsCsvHeader) +
                                 "\r\n"
                                 "step,1,1,0.1,2.3,0.1,,,100,\r\n"         // CRLF: read
                                 "step,1,2,0.1,2.2\n"                      // short: skipped
                                 "\n"                                      // blank: ignored
                                 "batch,1,3,0.1,2.2,0.1,,,100,\n"          // unknown kind
                                 "step,1,x,0.1,2.2,0.1,,,100,\n"           // step not a number
                                 "step,-1,4,0.1,2.2,0.1,,,100,\n"          // negative epoch
                                 "step,1,5,0.1,2.2abc,0.1,,,100,\n"        // junk after a number
                                 "step,1,6,0.1,1e999,0.1,,,100,\n"         // out of range
                                 "epoch, 1 ,7,,2.0,0.5,2.1,0.4\n"          // 8 fields, spaces: read
                                 "step,1,8,0.1,2.0,0.5,,,1,2,extra,more\n" // extra columns: read
                                 "step,1,9,0.1,2.0,0.5,,,1,2";             // no final newline
        const MetricsCsv csv = parseMetricsCsv(text);
        QVERIFY(csv.header);
        QCOMPARE(csv.skipped, std::int64_t(6));
        QCOMPARE(csv.rows.size(), std::size_t(4));
        QCOMPARE(csv.rows[0].step, std::int64_t(1));
        QCOMPARE(csv.rows[1].step, std::int64_t(7));
        QCOMPARE(csv.rows[1].epoch, 1);
        QCOMPARE(csv.rows[1].testAccuracy, 0.4);
        QVERIFY(std::isnan(csv.rows[1].imagesPerSecond) && std::isnan(csv.rows[1].seconds));
        QCOMPARE(csv.rows[2].seconds, 2.0);
        QCOMPARE(csv.rows[3].step, std::int64_t(9));
    }

    void readsWithoutHeaderAndJunk() {
        QVERIFY(parseMetricsCsv("").rows.empty());
        QVERIFY(!parseMetricsCsv("").header);
        const MetricsCsv noHeader = parseMetricsCsv("step,2,3,0.1,1,1,,,1,\n");
        QVERIFY(!noHeader.header);
        QCOMPARE(noHeader.rows.size(), std::size_t(1));
        // A header with other columns is a skipped line, not a header.
        const MetricsCsv other = parseMetricsCsv("kind,epoch,step\nstep,2,3,0.1,1,1,,,1,\n");
        QVERIFY(!other.header);
        QCOMPARE(other.skipped, std::int64_t(1));
        QCOMPARE(other.rows.size(), std::size_t(1));
        std::string junk;
        for (int i = 0; i < 4096; ++i)
            junk += char((i * 131 + 7) % 256);
        const MetricsCsv j = parseMetricsCsv(junk);
        QVERIFY(j.rows.empty());
        QVERIFY(j.skipped > 0);
    }
};

QTEST_GUILESS_MAIN(TestMetricsCsv)
#include "tst_metrics_csv.moc"
