// DatasetFetcher: data::fetchCifar10 on its own thread (see dataset_fetcher.h).
#include "dataset_fetcher.h"

#include "core/progress.h"
#include "data/datasets.h"
#include "data/download.h"
#include "thread_handoff.h"

#include <QMetaObject>
#include <QPointer>
#include <atomic>
#include <thread>

namespace convscope::ui {

struct DatasetFetcher::Job {
    Progress progress;
    std::thread thread;
    std::atomic<bool> running{false};
    explicit Job(std::function<void(double, const std::string&)> report)
        : progress(std::move(report)) {}
};

namespace {
// Runs `signal` on the fetcher's own thread (queued), unless the fetcher is gone by then.
template <class F>
void later(const QPointer<DatasetFetcher>& self, F signal) {
    if (!self)
        return;
    handoff::queue(self.data(), [self, signal] {
        if (self)
            signal(*self);
    });
}
} // namespace

DatasetFetcher::DatasetFetcher(QObject* parent) : QObject(parent) {}

DatasetFetcher::~DatasetFetcher() {
    if (m_job) {
        m_job->progress.cancel();
        if (m_job->thread.joinable())
            m_job->thread.join();
    }
}

QString DatasetFetcher::defaultDataDir() {
    return QString::fromStdString(data::defaultDataDir());
}

bool DatasetFetcher::busy() const {
    return m_job && m_job->running;
}

void DatasetFetcher::cancel() {
    if (m_job)
        m_job->progress.cancel();
}

bool DatasetFetcher::start(const QString& dataDir, const QString& url, qint64 bytes,
                           const QString& md5) {
    if (busy())
        return false;
    if (m_job && m_job->thread.joinable())
        m_job->thread.join();
    QPointer<DatasetFetcher> self(this);
    // Progress arrives on the fetch's thread: hand it to this object's, at most every 0.5 %.
    auto last = std::make_shared<std::atomic<int>>(-1);
    m_job = std::make_shared<Job>([self, last](double f, const std::string& stage) {
        const int permille = int(f * 200);
        if (last->exchange(permille) == permille)
            return;
        const QString s = QString::fromStdString(stage);
        later(self, [f, s](DatasetFetcher& d) { emit d.progress(f, s); });
    });
    data::FetchOptions options;
    if (!url.isEmpty())
        options.url = url.toStdString();
    if (bytes >= 0)
        options.download.expectedSize = bytes;
    if (!md5.isEmpty())
        options.download.md5 = md5.toStdString();
    const std::string dir = dataDir.isEmpty() ? data::defaultDataDir() : dataDir.toStdString();
    Job* job = m_job.get();
    job->running = true;
    job->thread = std::thread([self, job, dir, options] {
        auto folder = data::fetchCifar10(dir, options, &job->progress);
        const QString path = folder.ok() ? QString::fromStdString(*folder) : QString();
        const QString error =
            folder.ok() ? QString()
            : Progress::isCancellation(folder.status())
                ? tr("Cancelled: the partial download is kept; Get CIFAR-10 again resumes it")
                : QString::fromStdString(folder.status().message());
        job->running = false;
        later(self, [path, error](DatasetFetcher& d) { emit d.finished(path, error); });
    });
    return true;
}

} // namespace convscope::ui
