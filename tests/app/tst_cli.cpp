// convscope-cli as a user runs it: help, bad options, a missing or corrupt dataset (one clear
// message naming the file, exit code 1), and one epoch of the mlp preset on Fashion-MNIST on
// both backends reaching the accuracy the issue promises (≥ 0.82).
#include "data/idx.h"
#include "io/safetensors.h"
#include "test_support.h"

#include <QDir>
#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <filesystem>
#include <fstream>

using namespace convscope;

namespace {

struct Outcome {
    int exitCode = -1;
    QString out, err;
};

Outcome runCli(const QStringList& args, int timeoutMs = 300000) {
    QProcess p;
    p.start(CONVSCOPE_CLI_PATH, args);
    Outcome o;
    if (!p.waitForFinished(timeoutMs)) {
        p.kill();
        o.err = "timed out";
        return o;
    }
    o.exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    o.out = QString::fromUtf8(p.readAllStandardOutput());
    o.err = QString::fromUtf8(p.readAllStandardError());
    return o;
}

bool haveFashionMnist() {
    return std::filesystem::exists(data::defaultFashionMnistDir());
}

} // namespace

class TestCli : public QObject {
    Q_OBJECT

private slots:
    void helpListsTheCommands() {
        Outcome o = runCli({"--help"});
        QCOMPARE(o.exitCode, 0);
        QVERIFY(o.out.contains("convscope-cli train"));
        QVERIFY(o.out.contains("--backend"));
        // Every command answers --help (and -h) with its options.
        const std::vector<std::pair<QStringList, QString>> helps = {
            {{"train", "--help"}, "--weight-decay"},
            {{"inspect", "-h"}, "--preset"},
            {{"saliency", "--help"}, "--smooth-samples"},
            {{"fgsm", "--help"}, "--eps"},
            {{"landscape", "--help"}, "--replot"},
            {{"rf", "--help"}, "--untrained"},
            {{"gabor", "-h"}, "null R"},
            {{"fetch", "--help"}, "fetch cifar10"},
            {{"train", "--help"}, "--twin KEY=VALUE"},
            {{"compare", "--help"}, "--csv FILE"}};
        for (const auto& [args, expect] : helps) {
            o = runCli(args);
            QVERIFY2(o.exitCode == 0 && o.out.contains(expect),
                     qPrintable(args.join(' ') + ": " + o.err + o.out));
        }
    }

    // Numbers in messages are short: a learning rate of 1e30 is "1e+30", not 31 digits.
    void messagesPrintShortNumbers() {
        Outcome o = runCli({"train", "--lr", "1e30", "--dataset", "gratings", "--backend", "cpu",
                            "--max-steps", "5"});
        QCOMPARE(o.exitCode, 1);
        QVERIFY2(o.err.contains("diverged") && o.err.contains("now 1e+30)"), qPrintable(o.err));
        QVERIFY2(!o.err.contains("000000000000"), qPrintable(o.err));
    }

    void badOptionsAreUsageErrors_data() {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<QString>("message");
        QTest::newRow("unknown option")
            << QStringList{"train", "--bogus", "1"} << "unknown option --bogus";
        QTest::newRow("missing value") << QStringList{"train", "--epochs"} << "needs a value";
        QTest::newRow("not a number") << QStringList{"train", "--lr", "fast"} << "not a number";
        QTest::newRow("negative lr")
            << QStringList{"train", "--lr", "-1"} << "learning rate must be a positive number";
        QTest::newRow("unknown preset")
            << QStringList{"train", "--preset", "gpt5"} << "no preset named \"gpt5\"";
        QTest::newRow("inspect without a spec") << QStringList{"inspect"} << "needs a NetSpec file";
        QTest::newRow("missing spec file")
            << QStringList{"inspect", "/nonexistent/net.json"} << "cannot open the NetSpec file";
        QTest::newRow("unknown dataset")
            << QStringList{"train", "--dataset", "imagenet"} << "unknown dataset \"imagenet\"";
        QTest::newRow("cifar without a folder")
            << QStringList{"train", "--dataset", "cifar10"} << "cifar-10-binary.tar.gz";
        QTest::newRow("unknown backend")
            << QStringList{"train", "--backend", "tpu", "--max-steps", "1"}
            << "Unknown backend 'tpu'";
        QTest::newRow("unknown command") << QStringList{"fly"} << "unknown command 'fly'";
        QTest::newRow("rf without a network") << QStringList{"rf"} << "rf needs one network";
        QTest::newRow("fetch an unknown dataset")
            << QStringList{"fetch", "imagenet"} << "fetch knows one dataset";
        QTest::newRow("fetch with no network")
            << QStringList{"fetch", "cifar10", "--data", "/dev/null/convscope-test"}
            << "cannot create the data folder";
        QTest::newRow("rf with a bad unit")
            << QStringList{"rf", "lenet5", "--layer", "relu1", "--unit", "1,2"} << "C,Y,X";
        QTest::newRow("rf with an unknown layer")
            << QStringList{"rf",      "lenet5", "--untrained", "--dataset", "gratings",
                           "--layer", "conv9",  "--backend",   "cpu"}
            << "Pick one of: relu1, pool1";
        QTest::newRow("rf on a flat layer")
            << QStringList{"rf",      "lenet5", "--untrained", "--dataset", "gratings",
                           "--layer", "fc3",    "--backend",   "cpu"}
            << "every unit sees the whole image";
    }
    void badOptionsAreUsageErrors() {
        QFETCH(QStringList, args);
        QFETCH(QString, message);
        Outcome o = runCli(args);
        QVERIFY2(o.exitCode == 1 || o.exitCode == 2, qPrintable(o.err));
        QVERIFY2(o.err.contains(message), qPrintable(o.err));
    }

    void missingDatasetNamesTheFile() {
        QTemporaryDir dir;
        Outcome o = runCli({"train", "--data", dir.path(), "--backend", "cpu"});
        QCOMPARE(o.exitCode, 1);
        QVERIFY2(o.err.contains("train-images-idx3-ubyte.gz: file not found"), qPrintable(o.err));
        QVERIFY2(o.err.contains("apt-get install dataset-fashion-mnist"), qPrintable(o.err));
        QCOMPARE(o.err.count('\n'), 1); // one clear line, no stack of errors
    }

    void corruptDatasetNamesTheFile() {
        QTemporaryDir dir;
        const std::string d = dir.path().toStdString();
        data::IdxArray images, labels;
        images.dims = {2, 28, 28};
        images.values.assign(2 * 784, 7);
        labels.dims = {2};
        labels.values = {1, 2};
        CS_VERIFY_OK(data::writeIdx(d + "/train-images-idx3-ubyte.gz", images, true));
        CS_VERIFY_OK(data::writeIdx(d + "/t10k-images-idx3-ubyte.gz", images, true));
        CS_VERIFY_OK(data::writeIdx(d + "/t10k-labels-idx1-ubyte.gz", labels, true));
        std::ofstream(d + "/train-labels-idx1-ubyte.gz") << "this is not gzip and not IDX";
        Outcome o = runCli({"train", "--data", dir.path(), "--backend", "cpu"});
        QCOMPARE(o.exitCode, 1);
        QVERIFY2(o.err.contains("train-labels-idx1-ubyte.gz: not an IDX file"), qPrintable(o.err));
    }

    void inspectPrintsTheLayerTable() {
        Outcome o = runCli({"inspect", "--preset", "lenet5"});
        QCOMPARE(o.exitCode, 0);
        QVERIFY2(o.out.contains("16x5x5") && o.out.contains("61,706"), qPrintable(o.out));
        QTemporaryDir dir;
        QFile f(dir.filePath("bad.json"));
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(R"({"name": "bad", "input": [1, 8, 8], "layers": [
            {"type": "conv2d", "name": "conv1", "out": 6, "kernel": 5},
            {"type": "max_pool2d", "name": "pool1"}, {"type": "relu"},
            {"type": "conv2d", "name": "conv2", "out": 16, "kernel": 5}]})");
        f.close();
        o = runCli({"inspect", dir.filePath("bad.json")});
        QCOMPARE(o.exitCode, 1);
        QVERIFY2(o.err.contains("layer 4 conv2: kernel 5x5 larger than its 2x2 input"),
                 qPrintable(o.err));
    }

    // A run folder gets spec.json, metrics.csv and a checkpoint; --resume continues from it.
    void runFolderAndResume() {
        QTemporaryDir dir;
        const QString run = dir.filePath("run");
        Outcome o = runCli({"train", "--preset", "lenet5", "--dataset", "gratings", "--backend",
                            "cpu", "--max-steps", "20", "--out", run});
        QVERIFY2(o.exitCode == 0, qPrintable(o.err + o.out));
        QVERIFY(QFile::exists(run + "/spec.json"));
        QVERIFY(QFile::exists(run + "/checkpoints/step-20.safetensors"));
        QVERIFY(QFile::exists(run + "/checkpoints/optimizer-step-20.safetensors"));
        QFile csv(run + "/metrics.csv");
        QVERIFY(csv.open(QIODevice::ReadOnly));
        QCOMPARE(csv.readAll().count("\nstep,"), 20);
        o = runCli({"train", "--resume", run, "--dataset", "gratings", "--backend", "cpu",
                    "--epochs", "1", "--out", run});
        QVERIFY2(o.exitCode == 0, qPrintable(o.err + o.out));
        QVERIFY2(o.out.contains("at step 20"), qPrintable(o.out));
        QVERIFY2(o.out.contains("step 94/94"), qPrintable(o.out));
        QVERIFY(QFile::exists(run + "/checkpoints/step-94.safetensors"));
    }

    // train --twin: the pair into DIR/a and DIR/b (run folders with twin.json), progress lines
    // of both tagged and interleaved, the comparison at the end; compare names the difference.
    void twinTrainAndCompare() {
        QTemporaryDir dir;
        const QString out = dir.filePath("pair"), csv = dir.filePath("compare.csv");
        Outcome o =
            runCli({"train", "--preset", "lenet5-bn", "--dataset", "gratings", "--backend", "cpu",
                    "--max-steps", "12", "--log-every", "2", "--twin", "bn=off", "--out", out});
        QVERIFY2(o.exitCode == 0, qPrintable(o.err + o.out));
        QVERIFY2(o.out.contains("twin: batch norm off:") &&
                     o.out.contains("batch_norm layers removed"),
                 qPrintable(o.out));
        // Both curves grow together: a [b] line comes before the last [a] progress line.
        const qsizetype firstB = o.out.indexOf("[b] epoch 1/1"),
                        lastA = o.out.lastIndexOf("[a] epoch 1/1");
        QVERIFY2(firstB > 0 && lastA > firstB, qPrintable(o.out));
        for (const char* run : {"/a", "/b"}) {
            QVERIFY(QFile::exists(out + run + "/spec.json"));
            QVERIFY(QFile::exists(out + run + "/twin.json"));
            QVERIFY(QFile::exists(out + run + "/checkpoints/step-12.safetensors"));
            QFile metrics(out + run + "/metrics.csv");
            QVERIFY(metrics.open(QIODevice::ReadOnly));
            QCOMPARE(metrics.readAll().count("\nstep,"), 12);
        }
        QVERIFY2(o.out.contains("What differs"), qPrintable(o.out)); // the comparison follows

        o = runCli({"compare", out + "/a", out + "/b", "--csv", csv});
        QVERIFY2(o.exitCode == 0, qPrintable(o.err + o.out));
        QVERIFY2(o.out.contains(QRegularExpression(R"(- bn1: batch_norm \S+ \(only in a\))")),
                 qPrintable(o.out));
        QVERIFY2(!o.out.contains("(only in b)"), qPrintable(o.out));
        QVERIFY2(o.out.contains("settings: the same"), qPrintable(o.out));
        QVERIFY2(o.out.contains("twin: bn=off"), qPrintable(o.out));
        QVERIFY2(o.out.contains(QRegularExpression(R"(\n\s+1\s+\d\.\d{4} / \d\.\d{4})")),
                 qPrintable(o.out)); // epoch 1: train loss a / b
        QVERIFY2(o.out.contains(QRegularExpression(R"(\n\s+conv1\s+\S+\s+\S+\s+\d)")),
                 qPrintable(o.out)); // the gradient norms of both and their ratio
        QFile table(csv);
        QVERIFY(table.open(QIODevice::ReadOnly));
        const QString text = QString::fromUtf8(table.readAll());
        QVERIFY2(text.startsWith("metric,key,a,b,b_minus_a,b_over_a\n"), qPrintable(text));
        QVERIFY2(text.contains("\ntest_accuracy,1,") && text.contains("\ngrad_norm,conv1,"),
                 qPrintable(text));
        // The folder of a pair is enough.
        QCOMPARE(runCli({"compare", out}).exitCode, 0);

        // A settings twin: the same layers, the learning rate differs.
        const QString lr = dir.filePath("lr");
        o = runCli({"train", "--preset", "mlp", "--dataset", "gratings", "--backend", "cpu",
                    "--max-steps", "4", "--twin", "lr=0.05", "--out", lr});
        QVERIFY2(o.exitCode == 0, qPrintable(o.err + o.out));
        o = runCli({"compare", lr + "/a", lr + "/b"});
        QVERIFY2(o.exitCode == 0, qPrintable(o.err + o.out));
        QVERIFY2(o.out.contains("network: the same layers") && o.out.contains("lr: 0.02 -> 0.05"),
                 qPrintable(o.out));

        // Bad input: one line, exit code 2 (usage) or 1 (not a run).
        o = runCli({"train", "--dataset", "gratings", "--twin", "bn=sometimes"});
        QCOMPARE(o.exitCode, 2);
        QVERIFY2(o.err.contains("on | off"), qPrintable(o.err));
        o = runCli({"train", "--preset", "lenet5", "--dataset", "gratings", "--twin", "bn=off"});
        QCOMPARE(o.exitCode, 2);
        QVERIFY2(o.err.contains("no batch norm"), qPrintable(o.err));
        QCOMPARE(runCli({"compare", out + "/a"}).exitCode, 2);
        QCOMPARE(runCli({"compare", out + "/a", dir.filePath("missing")}).exitCode, 1);
    }

    // saliency, fgsm and confusion on a short run: every file they promise, the tensors named
    // <method>/<image> with their shapes, and bad input as one line with exit code 1 or 2.
    // rf: the theoretical table for a preset; for a run the effective fields too, and one unit's
    // map as CSV and PNG.
    void rfCommandPrintsTheFields() {
        Outcome o = runCli({"rf", "lenet5"});
        QVERIFY2(o.exitCode == 0, qPrintable(o.err + o.out));
        QVERIFY2(o.out.contains(QRegularExpression(R"(pool2\s+16x5x5\s+16\s+4\s+5.5,5.5)")),
                 qPrintable(o.out));
        QTemporaryDir dir;
        const QString run = dir.filePath("run"), out = dir.filePath("out");
        o = runCli({"train", "--preset", "lenet5", "--dataset", "gratings", "--backend", "cpu",
                    "--max-steps", "20", "--out", run});
        QVERIFY2(o.exitCode == 0, qPrintable(o.err + o.out));
        o = runCli({"rf", run, "--images", "8", "--backend", "cpu"});
        QVERIFY2(o.exitCode == 0 && o.out.contains("ERF-90") &&
                     o.out.contains("over 8 test images (trained weights)"),
                 qPrintable(o.err + o.out));
        o = runCli({"rf", run, "--images", "8", "--backend", "cpu", "--layer", "relu2", "--unit",
                    "3,2,4", "--out", out});
        QVERIFY2(o.exitCode == 0 && o.out.contains("unit (3, 2, 4) of relu2: centre (8.5, 12.5)"),
                 qPrintable(o.err + o.out));
        for (const char* f : {"rf.csv", "erf.csv", "erf.png"})
            QVERIFY2(QFile::exists(out + "/" + f), f);
        QFile table(out + "/rf.csv");
        QVERIFY(table.open(QIODevice::ReadOnly));
        const QStringList rows = QString::fromUtf8(table.readAll()).trimmed().split('\n');
        const QStringList relu2 = rows.filter(QRegularExpression("^relu2,")).value(0).split(',');
        QCOMPARE(relu2.size(), 14); // layer … erf_images, the effective ones filled
        QCOMPARE(relu2[2], QString("14"));
        QVERIFY(relu2[10].toInt() > 0 && relu2[13] == "8");
        QFile csv(out + "/erf.csv");
        QVERIFY(csv.open(QIODevice::ReadOnly));
        const QStringList lines = QString::fromUtf8(csv.readAll()).trimmed().split('\n');
        QCOMPARE(lines.size(), 28);
        QCOMPARE(lines[0].split(',').size(), 28);
    }

    void analysisCommandsWriteTheirFiles() {
        QTemporaryDir dir;
        const QString run = dir.filePath("run"), out = dir.filePath("out");
        Outcome o = runCli({"train", "--preset", "lenet5", "--dataset", "gratings", "--backend",
                            "cpu", "--max-steps", "30", "--out", run});
        QVERIFY2(o.exitCode == 0, qPrintable(o.err + o.out));
        o = runCli({"saliency", run, "--images", "0,5", "--sanity", "--smooth-samples", "4",
                    "--ig-steps", "8", "--out", out});
        QVERIFY2(o.exitCode == 0, qPrintable(o.err + o.out));
        for (const char* f : {"saliency.safetensors", "saliency.csv", "sanity.csv",
                              "saliency-0.png", "saliency-5.png", "sanity-0.png", "sanity-5.png"})
            QVERIFY2(QFile::exists(out + "/" + f), f);
        auto st = io::loadSafetensors((out + "/saliency.safetensors").toStdString());
        QVERIFY2(st.ok(), st.status().message().c_str());
        for (const char* m : {"grad", "gradxinput", "smoothgrad", "ig"})
            QVERIFY((st->tensors.at(std::string(m) + "/5").shape ==
                     std::vector<std::int64_t>{1, 28, 28}));
        QVERIFY((st->tensors.at("gradcam/0").shape == std::vector<std::int64_t>{28, 28}));
        QVERIFY((st->tensors.at("gradcam-raw/0").shape == std::vector<std::int64_t>{5, 5}));
        QFile csv(out + "/saliency.csv");
        QVERIFY(csv.open(QIODevice::ReadOnly));
        QCOMPARE(csv.readAll().count('\n'), 3);

        o = runCli({"fgsm", run, "--count", "50", "--eps", "0,0.1", "--pgd", "2", "--out", out});
        QVERIFY2(o.exitCode == 0, qPrintable(o.err + o.out));
        QFile fgsm(out + "/fgsm.csv");
        QVERIFY(fgsm.open(QIODevice::ReadOnly));
        const QString rows = QString::fromUtf8(fgsm.readAll());
        QVERIFY2(rows.startsWith("method,eps,accuracy,mean_confidence"), qPrintable(rows));
        QCOMPARE(rows.count("\nfgsm,"), 2);
        QCOMPARE(rows.count("\npgd-2,"), 2);
        QVERIFY(QFile::exists(out + "/fgsm.png"));

        o = runCli({"confusion", run, "--count", "100", "--out", out});
        QVERIFY2(o.exitCode == 0, qPrintable(o.err + o.out));
        QVERIFY2(o.out.contains("confusion matrix of 100 test images"), qPrintable(o.out));
        QFile conf(out + "/confusion.csv");
        QVERIFY(conf.open(QIODevice::ReadOnly));
        QCOMPARE(conf.readAll().count('\n'), 11); // header + the network's 10 outputs

        const struct {
            QStringList args;
            int code;
            const char* message;
        } bad[] = {
            {{"saliency", run, "--images", "999999", "--out", out}, 2, "does not exist"},
            {{"saliency", run, "--methods", "magic", "--out", out}, 2, "unknown method 'magic'"},
            {{"saliency", run, "--layer", "fc1", "--out", out}, 2, "not a layer with a spatial"},
            {{"saliency", run, "--target", "zebra", "--out", out}, 2, "--target must be"},
            {{"saliency", run}, 2, "needs --out"},
            {{"saliency", dir.filePath("nothing"), "--out", out}, 1, "no such run folder"},
            {{"fgsm", run, "--eps", "-0.1", "--out", out}, 2, "must be in [0, 1]"},
            {{"fgsm", run, "--count", "many", "--out", out}, 2, "--count"},
            {{"confusion", dir.filePath("empty.safetensors")}, 1, "empty.safetensors"},
        };
        QFile empty(dir.filePath("empty.safetensors"));
        QVERIFY(empty.open(QIODevice::WriteOnly));
        empty.close();
        for (const auto& b : bad) {
            o = runCli(b.args);
            QVERIFY2(
                o.exitCode == b.code && o.err.contains(b.message),
                qPrintable(b.args.join(' ') + " -> " + QString::number(o.exitCode) + ": " + o.err));
        }
    }

    // landscape on a three-epoch run: the files it promises, slices that merge into the same
    // grid, the PCA plane of the checkpoints, a line, an interpolation, the Hessian, and bad
    // input as one line with exit code 1 or 2.
    void landscapeCommandWritesItsFiles() {
        QTemporaryDir dir;
        const QString run = dir.filePath("run"), a = dir.filePath("a"), b = dir.filePath("b");
        Outcome o = runCli({"train", "--preset", "lenet5", "--dataset", "gratings", "--backend",
                            "cpu", "--epochs", "3", "--batch", "256", "--out", run});
        QVERIFY2(o.exitCode == 0, qPrintable(o.err + o.out));
        const QStringList common = {"--backend", "cpu", "--images", "64", "--grid", "-1:1:5"};
        o = runCli(QStringList{"landscape", run, "--out", a} + common);
        QVERIFY2(o.exitCode == 0, qPrintable(o.err + o.out));
        QVERIFY2(o.out.contains("min loss") && o.out.contains("5×5 grid (complete)"),
                 qPrintable(o.out));
        auto text = [](const QString& path) {
            QFile f(path);
            return f.open(QIODevice::ReadOnly) ? QString::fromUtf8(f.readAll()) : QString();
        };
        const QString full = text(a + "/landscape.csv");
        QCOMPARE(full.count('\n'), 26);
        QVERIFY(QFile::exists(a + "/landscape.png"));
        auto dirs = io::loadSafetensors((a + "/directions.safetensors").toStdString());
        QVERIFY2(dirs.ok(), dirs.status().message().c_str());
        QVERIFY((dirs->tensors.at("delta.conv1.weight").shape ==
                 std::vector<std::int64_t>{6, 1, 5, 5}));
        QVERIFY(dirs->tensors.count("eta.fc3.bias"));
        // Two slices, then the same command without --rows: it merges them, computes nothing.
        for (const char* rows : {"0:2", "2:5"}) {
            o = runCli(QStringList{"landscape", run, "--out", b, "--rows", rows} + common);
            QVERIFY2(o.exitCode == 0, qPrintable(o.err + o.out));
        }
        QVERIFY(QFile::exists(b + "/landscape.rows-0-2.csv"));
        o = runCli(QStringList{"landscape", run, "--out", b} + common);
        QVERIFY2(o.exitCode == 0 && o.err.contains("5 of 5 rows already computed"),
                 qPrintable(o.err + o.out));
        QCOMPARE(text(b + "/landscape.csv"), full);
        // --replot redraws the picture from the CSV alone, with the same summary.
        QVERIFY(QFile::remove(b + "/landscape.png"));
        const QString summary = o.out.mid(o.out.indexOf("min loss")).section(';', 0, 0);
        Outcome re = runCli({"landscape", "--replot", b});
        QVERIFY2(re.exitCode == 0 && QFile::exists(b + "/landscape.png"),
                 qPrintable(re.err + re.out));
        QVERIFY2(re.out.contains("lenet5 step") && re.out.contains(summary.section(',', 0, 0)),
                 qPrintable(re.out + " vs " + summary));
        QFile csv(b + "/landscape.csv");
        QVERIFY(csv.open(QIODevice::WriteOnly | QIODevice::Truncate));
        csv.write(full.section('\n', 0, 10).toUtf8() + "\n");
        csv.close();
        re = runCli({"landscape", "--replot", b});
        QVERIFY2(re.exitCode == 1 && re.err.contains("incomplete"), qPrintable(re.err + re.out));

        o = runCli({"landscape", run, "--out", dir.filePath("pca"), "--dir", "pca", "--backend",
                    "cpu", "--images", "64", "--grid", "-1:1:3"});
        QVERIFY2(o.exitCode == 0 && o.out.contains("PCA plane of 3 checkpoints"),
                 qPrintable(o.err + o.out));
        QCOMPARE(text(dir.filePath("pca/trajectory.csv")).count('\n'), 4); // header, 3 epochs
        o = runCli({"landscape", run, "--out", dir.filePath("line"), "--line", "--grid", "-1:1:7",
                    "--backend", "cpu", "--images", "64", "--hessian", "--tolerance", "0.01"});
        QVERIFY2(o.exitCode == 0 && o.out.contains("λ_max"), qPrintable(o.err + o.out));
        QCOMPARE(text(dir.filePath("line/landscape.csv")).count('\n'), 8);
        QVERIFY(text(dir.filePath("line/hessian.csv")).startsWith("lambda_max,lambda_min"));
        QDir ck(run + "/checkpoints");
        const QStringList files = ck.entryList({"step-*.safetensors"}, QDir::Files, QDir::Name);
        QVERIFY(files.size() >= 2);
        o = runCli({"landscape", run, "--out", dir.filePath("interp"), "--interpolate",
                    ck.filePath(files[0]), ck.filePath(files[1]), "--grid", "0:1:3", "--backend",
                    "cpu", "--images", "64"});
        QVERIFY2(o.exitCode == 0, qPrintable(o.err + o.out));
        QCOMPARE(text(dir.filePath("interp/interpolation.csv")).count('\n'), 4);

        const QString mlp = dir.filePath("mlp");
        o = runCli({"train", "--preset", "mlp", "--dataset", "gratings", "--backend", "cpu",
                    "--max-steps", "2", "--out", mlp});
        QVERIFY2(o.exitCode == 0, qPrintable(o.err + o.out));
        const struct {
            QStringList args;
            int code;
            const char* message;
        } bad[] = {
            {{"landscape", run, "--out", b, "--grid", "-1:1:0"}, 2, "whole number from 1"},
            {{"landscape", run, "--out", b, "--grid", "-1:1:1000"}, 2, "too large"},
            {{"landscape", run, "--out", b, "--rows", "3:2"}, 2, "--rows must be"},
            {{"landscape", run, "--out", b, "--norm", "unit"}, 2, "--norm must be"},
            {{"landscape", run}, 2, "needs --out"},
            {{"landscape", run, "--out", b, "--images", "99999999"}, 1, "larger than"},
            {{"landscape", dir.filePath("nothing"), "--out", b}, 1, "no such run folder"},
            {{"landscape", mlp, "--out", b, "--dir", "pca"}, 1, "PCA needs at least 3"},
            {{"landscape", run, "--out", b, "--interpolate", ck.filePath(files[0]), mlp},
             1,
             "different networks"},
        };
        for (const auto& x : bad) {
            o = runCli(x.args + QStringList{"--backend", "cpu"});
            QVERIFY2(
                o.exitCode == x.code && o.err.contains(x.message),
                qPrintable(x.args.join(' ') + " -> " + QString::number(o.exitCode) + ": " + o.err));
        }
    }

    void oneEpochReachesTheExpectedAccuracy_data() {
        QTest::addColumn<QString>("backend");
        QTest::newRow("cpu") << "cpu";
        QTest::newRow("vulkan (validation on)") << "vulkan";
    }
    void oneEpochReachesTheExpectedAccuracy() {
        QFETCH(QString, backend);
        if (!haveFashionMnist()) {
            if (testing::onCi())
                QFAIL("dataset-fashion-mnist is not installed; scripts/test installs it");
            QSKIP("dataset-fashion-mnist is not installed");
        }
        if (backend == "vulkan" && !testing::vulkan()) {
            if (testing::onCi())
                QFAIL("no Vulkan device, and CI=true");
            QSKIP("no Vulkan device");
        }
        Outcome o = runCli({"train", "--preset", "mlp", "--epochs", "1", "--backend", backend});
        QVERIFY2(o.exitCode == 0, qPrintable(o.err + o.out));
        auto m = QRegularExpression(R"(test accuracy: ([0-9.]+) \(([0-9,]+) img/s)").match(o.out);
        QVERIFY2(m.hasMatch(), qPrintable(o.out));
        const double accuracy = m.captured(1).toDouble();
        qInfo("%s: test accuracy %.4f, %s images/s", qPrintable(backend), accuracy,
              qPrintable(m.captured(2)));
        QVERIFY(accuracy >= 0.82);
        QVERIFY(o.out.contains("epoch 1/1 [########################] 100% step 938/938"));
        if (backend == "vulkan") {
            QVERIFY(o.out.contains("vulkan validation messages: 0"));
            QVERIFY(o.err.isEmpty());
        }
    }
};

QTEST_GUILESS_MAIN(TestCli)
#include "tst_cli.moc"
