// DatasetFetcher: File → Get CIFAR-10… — the engine's verified, resumable download and unpack
// (data::fetchCifar10) on a thread of its own, reporting progress and the result as signals, so
// the window never waits on the network. Cancel keeps the partial file; the next start resumes.
#pragma once

#include <QObject>
#include <QString>
#include <memory>

namespace convscope::ui {

class DatasetFetcher : public QObject {
    Q_OBJECT
public:
    explicit DatasetFetcher(QObject* parent = nullptr);
    ~DatasetFetcher() override; // cancels a running fetch and waits for it

    // Fetches CIFAR-10 into `dataDir` (empty: the default data folder). `url`, `bytes` and `md5`
    // replace the official archive's (tests serve a small one); empty/negative keep them.
    // False when a fetch is already running.
    bool start(const QString& dataDir, const QString& url = {}, qint64 bytes = -1,
               const QString& md5 = {});
    void cancel();
    bool busy() const;
    static QString defaultDataDir();

signals:
    void progress(double fraction, const QString& stage); // "downloading", "verifying", ...
    // The dataset's folder on success; else the error ("Cancelled" when cancelled).
    void finished(const QString& folder, const QString& error);

private:
    struct Job;
    std::shared_ptr<Job> m_job;
};

} // namespace convscope::ui
