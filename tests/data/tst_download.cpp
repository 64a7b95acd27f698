// Downloads against a tiny HTTP/1.1 server of the test's own on 127.0.0.1: MD5 on RFC 1321's
// vectors, progress to 100 %, redirects, resume after a broken connection, a server that ignores
// Range, a complete .part (416), a bad checksum, HTTP 404, a refused connection, a stalled
// transfer, cancel; tar.gz unpacking (path traversal and truncation refused, nothing left behind);
// and fetchCifar10 end to end with a small fake CIFAR-10 archive.
#include "data/datasets.h"
#include "data/download.h"
#include "data/md5.h"
#include "http_fixture.h"
#include "test_support.h"

#include <QElapsedTimer>
#include <QTemporaryDir>
#include <arpa/inet.h>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <zlib.h>

using namespace convscope;
using namespace convscope::data;
using namespace convscope::testing;
namespace fs = std::filesystem;

namespace {

bool contains(const std::string& s, const std::string& part) {
    return s.find(part) != std::string::npos;
}

} // namespace

// Fails unless `status` failed with a message holding every fragment.
#define EXPECT_ERROR(status, ...)                                                                  \
    do {                                                                                           \
        const Status s_ = (status);                                                                \
        QVERIFY2(!s_.ok(), "expected an error");                                                   \
        for (const std::string& f_ : std::initializer_list<std::string>{__VA_ARGS__})              \
            QVERIFY2(contains(s_.message(), f_),                                                   \
                     ("\"" + f_ + "\" missing from: " + s_.message()).c_str());                    \
    } while (0)

class TestDownload : public QObject {
    Q_OBJECT
    QTemporaryDir m_tmp;
    std::unique_ptr<HttpServer> m_server;
    int m_paths = 0;

    // A fresh path in the temporary folder.
    std::string fresh(const std::string& name) {
        return m_tmp.filePath(QString::fromStdString(name + std::to_string(m_paths++)))
            .toStdString();
    }
    static DownloadOptions checked(const std::string& body) {
        return {.expectedSize = std::int64_t(body.size()), .md5 = md5Hex(body)};
    }

private slots:
    void initTestCase() {
        qputenv("no_proxy", "127.0.0.1"); // a proxy from the environment must not take these
        m_server = std::make_unique<HttpServer>();
    }

    void md5MatchesRfc1321() {
        const std::pair<const char*, const char*> vectors[] = {
            {"", "d41d8cd98f00b204e9800998ecf8427e"},
            {"a", "0cc175b9c0f1b6a831c399e269772661"},
            {"abc", "900150983cd24fb0d6963f7d28e17f72"},
            {"message digest", "f96b697d7cb7938d525a2f31aaf161d0"},
            {"abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"},
            {"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
             "d174ab98d277d9f5a5611c2c9f419d9f"},
            {"1234567890123456789012345678901234567890123456789012345678901234567890123456789"
             "0",
             "57edf4a22be3c955ac49da2e2107b67a"}};
        for (const auto& [text, digest] : vectors)
            QCOMPARE(md5Hex(text), std::string(digest));
        // Fed in uneven pieces across block boundaries, and from a file: the same digest.
        const std::string big = noise(100000, 7);
        Md5 pieces;
        for (std::size_t at = 0, step = 1; at < big.size(); at += step, step = step % 97 + 13)
            pieces.update(big.data() + at, std::min(step, big.size() - at));
        const std::string whole = md5Hex(big);
        QCOMPARE(pieces.hexDigest(), whole);
        const std::string file = fresh("big");
        writeFile(file, big);
        auto fromFile = md5File(file);
        QVERIFY2(fromFile.ok(), fromFile.status().message().c_str());
        QCOMPARE(*fromFile, whole);
    }

    void downloadReachesHundredPercentThroughARedirect() {
        const std::string body = noise(300000, 1), dest = fresh("good") + "/file.bin";
        m_server->serve(body);
        std::vector<std::pair<std::string, double>> reports;
        Progress progress([&](double f, const std::string& stage) {
            reports.push_back({stage, f});
        });
        CS_VERIFY_OK(downloadFile(m_server->url("/moved"), dest, checked(body), &progress));
        QVERIFY(readFile(dest) == body);
        QVERIFY(!fs::exists(dest + ".part"));
        double downloaded = 0, verified = 0;
        for (const auto& [stage, f] : reports) {
            QVERIFY2(stage == "downloading" || stage == "verifying", stage.c_str());
            QVERIFY(f >= 0 && f <= 1);
            (stage == "downloading" ? downloaded : verified) = f;
        }
        QCOMPARE(downloaded, 1.0);
        QCOMPARE(verified, 1.0);
    }

    void brokenConnectionResumesFromThePart() {
        const std::string body = noise(200000, 2), dest = fresh("resume.bin"),
                          url = m_server->url("/f");
        m_server->serve(body, ServeMode::Truncate);
        EXPECT_ERROR(downloadFile(url, dest, checked(body)), url, "connection broke off",
                     "resumes from " + dest + ".part", "by hand",
                     "as " + fs::path(dest).filename().string());
        QVERIFY(!fs::exists(dest));
        const auto part = fs::file_size(dest + ".part");
        QCOMPARE(part, std::uintmax_t(body.size() / 2));
        m_server->setMode(ServeMode::Normal);
        CS_VERIFY_OK(downloadFile(url, dest, checked(body)));
        QCOMPARE(m_server->ranges().back(), "bytes=" + std::to_string(part) + "-");
        QVERIFY(readFile(dest) == body);
        QVERIFY(!fs::exists(dest + ".part"));
    }

    void serverIgnoringRangeRestartsFromZero() {
        const std::string body = noise(50000, 3), dest = fresh("norange.bin");
        writeFile(dest + ".part", std::string(1000, 'x'));
        m_server->serve(body, ServeMode::IgnoreRange);
        CS_VERIFY_OK(downloadFile(m_server->url("/f"), dest, checked(body)));
        QCOMPARE(m_server->ranges().back(), std::string("bytes=1000-"));
        QVERIFY(readFile(dest) == body);
    }

    void completePartIsVerifiedNotDownloadedAgain() {
        const std::string body = noise(40000, 4);
        m_server->serve(body);
        // With the size known, a full .part needs no request at all ...
        std::string dest = fresh("full.bin");
        writeFile(dest + ".part", body);
        const std::size_t before = m_server->ranges().size();
        CS_VERIFY_OK(downloadFile(m_server->url("/f"), dest, checked(body)));
        QCOMPARE(m_server->ranges().size(), before);
        QVERIFY(readFile(dest) == body);
        // ... without it, the server answers 416 to the Range, and the MD5 decides.
        dest = fresh("full.bin");
        writeFile(dest + ".part", body);
        CS_VERIFY_OK(downloadFile(m_server->url("/f"), dest, {.md5 = md5Hex(body)}));
        QCOMPARE(m_server->ranges().back(), "bytes=" + std::to_string(body.size()) + "-");
        QVERIFY(readFile(dest) == body);
    }

    void wrongChecksumDeletesThePart() {
        const std::string body = noise(60000, 5), dest = fresh("bad.bin"),
                          url = m_server->url("/f");
        std::string wrong = body;
        wrong[wrong.size() / 2] ^= 0x5a;
        m_server->serve(body, ServeMode::WrongBytes);
        EXPECT_ERROR(downloadFile(url, dest, checked(body)), url, "MD5 mismatch",
                     "expected " + md5Hex(body), "got " + md5Hex(wrong),
                     "Deleted " + dest + ".part");
        QVERIFY(!fs::exists(dest));
        QVERIFY(!fs::exists(dest + ".part"));
        // A wrong size is caught the same way.
        m_server->serve(body);
        EXPECT_ERROR(downloadFile(url, dest, {.expectedSize = 12345}), "expected 12345 bytes",
                     "got " + std::to_string(body.size()));
        QVERIFY(!fs::exists(dest) && !fs::exists(dest + ".part"));
    }

    void httpErrorNamesTheStatus() {
        const std::string dest = fresh("missing.bin"), url = m_server->url("/missing");
        EXPECT_ERROR(downloadFile(url, dest), url, "HTTP 404", "by hand");
        QVERIFY(!fs::exists(dest) && !fs::exists(dest + ".part"));
    }

    void refusedConnectionSaysWhatToDo() {
        // A socket bound but not listening: connections to its port are refused.
        const int s = socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof a;
        QVERIFY(bind(s, reinterpret_cast<sockaddr*>(&a), len) == 0);
        QVERIFY(getsockname(s, reinterpret_cast<sockaddr*>(&a), &len) == 0);
        const std::string url =
            "http://127.0.0.1:" + std::to_string(ntohs(a.sin_port)) + "/cifar-10-binary.tar.gz";
        const std::string dest = fresh("refused") + "/cifar-10-binary.tar.gz";
        QElapsedTimer timer;
        timer.start();
        const Status st = downloadFile(url, dest);
        close(s);
        QVERIFY2(timer.elapsed() < 5000, "a refused connection took seconds");
        EXPECT_ERROR(st, url, "cannot connect", "Check the network connection",
                     "save it in " + fs::path(dest).parent_path().string() +
                         " as cifar-10-binary.tar.gz");
        QVERIFY(!fs::exists(dest + ".part"));
    }

    void stalledTransferTimesOut() {
        const std::string body = noise(100000, 6), dest = fresh("stall.bin"),
                          url = m_server->url("/f");
        m_server->serve(body, ServeMode::Stall);
        QElapsedTimer timer;
        timer.start();
        // libcurl averages the speed over the last 5 s: a high limit makes the stall count at once.
        EXPECT_ERROR(downloadFile(url, dest, {.lowSpeedBytesPerS = 1 << 20, .lowSpeedTimeS = 1}),
                     url, "timed out", "resumes from");
        QVERIFY2(timer.elapsed() < 5000, "the stall was not noticed within the low-speed time");
        QCOMPARE(fs::file_size(dest + ".part"), std::uintmax_t(body.size() / 2));
    }

    void cancelKeepsThePartForLater() {
        const std::string body = noise(1 << 20, 8), dest = fresh("cancel.bin"),
                          url = m_server->url("/f");
        m_server->serve(body, ServeMode::Slow);
        Progress progress([&](double f, const std::string&) {
            if (f > 0.25)
                progress.cancel();
        });
        const Status st = downloadFile(url, dest, checked(body), &progress);
        QVERIFY2(Progress::isCancellation(st), st.message().c_str());
        QVERIFY(contains(st.message(), url));
        const auto part = fs::file_size(dest + ".part");
        QVERIFY2(part > 0 && part < body.size(), std::to_string(part).c_str());
        QVERIFY(!fs::exists(dest));
        progress.reset();
        m_server->setMode(ServeMode::Normal);
        CS_VERIFY_OK(downloadFile(url, dest, checked(body)));
        QCOMPARE(m_server->ranges().back(), "bytes=" + std::to_string(part) + "-");
        QVERIFY(readFile(dest) == body);
    }

    void extractsFilesAndFolders() {
        const std::string archive = fresh("good") + ".tar.gz", dest = fresh("out");
        const std::string b = noise(1000, 9), longDir = std::string(120, 'd');
        // Long names three ways: the ustar prefix, a GNU 'L' entry and a pax 'x' header; a pax
        // global header (with an absolute name, as GNU tar writes it) is skipped.
        const std::string gnuPath = "top/" + std::string(150, 'g'), paxPath = "top/" + longDir;
        writeTarGz(archive, tarEntry("/tmp/GlobalHead.0.0", "17 comment=hello\n", 'g') +
                                tarEntry("top/", {}, '5') + tarEntry("top/a.txt", "hello\n") +
                                tarEntry("./top/sub/b.bin", b) + tarEntry("top/empty/", {}, '5') +
                                tarEntry("c.txt", "long path", '0', "top/" + longDir) +
                                tarEntry("././@LongLink", gnuPath + '\0', 'L') +
                                tarEntry("top/ggg", "gnu") + paxPathHeader(paxPath + "/p.txt") +
                                tarEntry("top/ppp", "pax"));
        Progress progress;
        CS_VERIFY_OK(extractTarGz(archive, dest, &progress));
        QCOMPARE(readFile(dest + "/top/a.txt"), std::string("hello\n"));
        QVERIFY(readFile(dest + "/top/sub/b.bin") == b);
        QVERIFY(fs::is_directory(dest + "/top/empty"));
        QCOMPARE(readFile(dest + "/top/" + longDir + "/c.txt"), std::string("long path"));
        QCOMPARE(readFile(dest + "/" + gnuPath), std::string("gnu"));
        QCOMPARE(readFile(dest + "/" + paxPath + "/p.txt"), std::string("pax"));
        QVERIFY(!fs::exists(dest + "/top/ggg") && !fs::exists(dest + "/top/ppp"));
        QCOMPARE(progress.fraction(), 1.0);
        QVERIFY(!fs::exists(dest + "/.tmp-extract"));
        // Unpacking again would overwrite: refused, and the first copy is untouched.
        writeFile(dest + "/top/a.txt", "mine");
        EXPECT_ERROR(extractTarGz(archive, dest), dest + "/top", "already exists", "Move it away");
        QCOMPARE(readFile(dest + "/top/a.txt"), std::string("mine"));
        QVERIFY(!fs::exists(dest + "/.tmp-extract"));
    }

    void pathTraversalIsRefused() {
        for (const std::string bad : {"../evil.txt", "top/../../evil.txt", "/tmp/evil.txt"}) {
            const std::string archive = fresh("evil") + ".tar.gz", dest = fresh("out");
            writeTarGz(archive, tarEntry("top/ok.txt", "fine") + tarEntry(bad, "gotcha"));
            EXPECT_ERROR(extractTarGz(archive, dest), archive, "\"" + bad + "\"",
                         bad[0] == '/' ? "absolute path" : "\"..\"", "outside the folder");
            QVERIFY(!fs::exists(dest + "/top"));
            QVERIFY(!fs::exists(dest + "/.tmp-extract"));
            QVERIFY(!fs::exists(fs::path(dest).parent_path() / "evil.txt"));
        }
        QVERIFY(!fs::exists("/tmp/evil.txt") || readFile("/tmp/evil.txt") != "gotcha");
    }

    void cancelledUnpackLeavesNothing() {
        const std::string archive = fresh("cancel") + ".tar.gz", dest = fresh("out");
        writeTarGz(archive, tarEntry("top/", {}, '5') + tarEntry("top/x.bin", noise(300000, 11)));
        Progress progress([&](double f, const std::string&) {
            if (f > 0.2)
                progress.cancel();
        });
        const Status st = extractTarGz(archive, dest, &progress);
        QVERIFY2(Progress::isCancellation(st), st.message().c_str());
        QVERIFY(!fs::exists(dest + "/top"));
        QVERIFY(!fs::exists(dest + "/.tmp-extract"));
    }

    void truncatedOrForeignArchiveLeavesNothing() {
        const std::string archive = fresh("cut") + ".tar.gz", dest = fresh("out");
        writeTarGz(archive, tarEntry("top/", {}, '5') + tarEntry("top/x.bin", noise(100000, 10)));
        const std::string gz = readFile(archive);
        writeFile(archive, gz.substr(0, gz.size() / 2));
        EXPECT_ERROR(extractTarGz(archive, dest), archive, "ends inside entry \"top/x.bin\"",
                     "truncated or damaged", "download it again");
        QVERIFY(!fs::exists(dest + "/top"));
        QVERIFY(!fs::exists(dest + "/.tmp-extract"));
        // Not a tar archive at all (an HTML error page saved under the archive's name).
        writeFile(archive, "<html>Not Found</html>" + std::string(600, '\n'));
        EXPECT_ERROR(extractTarGz(archive, dest), archive, "not a tar archive");
        // A whole gzip stream whose tar stops after an entry, without the end marker.
        const std::string entry = tarEntry("top/y.txt", "y");
        gzFile gzOut = gzopen(archive.c_str(), "wb");
        gzwrite(gzOut, entry.data(), unsigned(entry.size()));
        gzclose(gzOut);
        EXPECT_ERROR(extractTarGz(archive, dest), archive, "end-of-archive marker");
        QVERIFY(!fs::exists(dest + "/top"));
    }

    void fetchesCifar10EndToEnd() {
        const std::string data = fresh("data"), archive = data + "/cifar-10-binary.tar.gz";
        const std::string staged = fresh("staged.tar.gz");
        writeTarGz(staged, fakeCifarTar());
        const std::string bytes = readFile(staged);
        m_server->serve(bytes);
        FetchOptions options{.url = m_server->url("/cifar-10-binary.tar.gz"),
                             .download = checked(bytes)};
        const std::size_t before = m_server->ranges().size();
        std::vector<std::string> stages;
        Progress progress([&](double, const std::string& stage) {
            if (stages.empty() || stages.back() != stage)
                stages.push_back(stage);
        });
        auto folder = fetchCifar10(data, options, &progress);
        QVERIFY2(folder.ok(), folder.status().message().c_str());
        QCOMPARE(*folder, data + "/cifar-10-batches-bin");
        QCOMPARE(stages, (std::vector<std::string>{"downloading", "verifying", "extracting"}));
        QCOMPARE(m_server->ranges().size(), before + 1);
        auto split = loadDataset({.name = "cifar10", .dir = *folder});
        QVERIFY2(split.ok(), split.status().message().c_str());
        QCOMPARE(split->train.count, qint64(10));
        QCOMPARE(split->test.count, qint64(4));
        QCOMPARE(int(split->train.labels[3]), 2); // batch 2, record 0
        QCOMPARE(split->test.classNames[9], std::string("truck"));
        QVERIFY(readFile(archive) == bytes); // kept, for a later unpack

        // A folder that loads: nothing to do. Without the folder, the verified archive is reused.
        CS_VERIFY_OK(fetchCifar10(data, options).status());
        fs::remove_all(*folder);
        CS_VERIFY_OK(fetchCifar10(data, options).status());
        QCOMPARE(m_server->ranges().size(), before + 1);
        QVERIFY(loadDataset({.name = "cifar10", .dir = *folder}).ok());

        // A folder that does not load is the user's to fix: an error, and nothing deleted.
        fs::remove(*folder + "/data_batch_3.bin");
        EXPECT_ERROR(fetchCifar10(data, options).status(), *folder, "does not load",
                     "data_batch_3.bin", "Move it away or delete it");
        QVERIFY(fs::exists(*folder + "/data_batch_1.bin"));
        // An archive that fails its check is not replaced either.
        fs::remove_all(*folder);
        const std::size_t half = bytes.size() / 2;
        writeFile(archive, bytes.substr(0, half));
        EXPECT_ERROR(fetchCifar10(data, options).status(), archive, "size mismatch",
                     "expected " + std::to_string(bytes.size()), "got " + std::to_string(half),
                     "delete it");
        QCOMPARE(fs::file_size(archive), std::uintmax_t(half));
        QVERIFY(!fs::exists(*folder));
    }
};

QTEST_GUILESS_MAIN(TestDownload)
#include "tst_download.moc"
