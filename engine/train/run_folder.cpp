// RunFolder: spec.json, metrics.csv and checkpoint paths.
#include "train/run_folder.h"
#include "core/format.h"
#include "io/atomic_file.h"
#include "model/weights.h"
#include "train/metrics_csv.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <signal.h>
#include <unistd.h>

namespace convscope::train {

namespace fs = std::filesystem;
const std::string kHeader = std::string(kMetricsCsvHeader) + "\n";

Result<RunFolder> RunFolder::create(const std::string& dir, const model::NetSpec& spec,
                                    const std::string& datasetName,
                                    const data::TrainTestSplit& data) {
    CS_TRY(io::makeDirectories((fs::path(dir) / "checkpoints").string()));
    CS_TRY(io::writeFileAtomic((fs::path(dir) / "spec.json").string(), model::toJson(spec)));
    RunFolder f;
    f.m_dir = dir;
    f.m_metadata = {
        {"dataset", datasetName}, {"mean", exactNumber(data.mean)}, {"std", exactNumber(data.std)}};
    auto old = io::readFile((fs::path(dir) / "metrics.csv").string());
    f.m_csv = old.ok() && old->rfind(kHeader, 0) == 0 ? *old : kHeader;
    auto layers = io::readFile((fs::path(dir) / "layers.csv").string());
    f.m_layers = layers.ok() && !layers->empty() ? *layers : std::string(kLayersCsvHeader) + "\n";
    CS_TRY(f.flush());
    return f;
}

std::string RunFolder::checkpointPath(std::int64_t step) const {
    return (fs::path(m_dir) / "checkpoints" / ("step-" + std::to_string(step) + ".safetensors"))
        .string();
}

Status RunFolder::logStep(const StepReport& r) {
    char line[256];
    std::snprintf(line, sizeof line, "step,%d,%lld,%.6g,%.6f,%.6f,,,%.1f,\n", r.epoch,
                  static_cast<long long>(r.step), r.lr, r.loss, r.accuracy, r.imagesPerSecond);
    m_csv += line;
    return {};
}

Status RunFolder::logEpoch(const EpochReport& e, std::int64_t step) {
    char line[256];
    std::snprintf(line, sizeof line, "epoch,%d,%lld,,%.6f,%.6f,%.6f,%.6f,%.1f,%.2f\n", e.epoch,
                  static_cast<long long>(step), e.trainLoss, e.trainAccuracy, e.test.loss,
                  e.test.accuracy, e.imagesPerSecond, e.seconds);
    m_csv += line;
    for (const auto& l : e.layers) {
        std::snprintf(line, sizeof line, "%d,%lld,%s,%.6g,%.6g,%.6g\n", e.epoch,
                      static_cast<long long>(step), l.layer.c_str(), l.weightNorm, l.gradNorm,
                      l.updateRatio);
        m_layers += line;
    }
    return flush();
}

Status RunFolder::flush() {
    CS_TRY(io::writeFileAtomic((fs::path(m_dir) / "layers.csv").string(), m_layers));
    return io::writeFileAtomic((fs::path(m_dir) / "metrics.csv").string(), m_csv);
}

Result<bool> RunFolder::checkpoint(Trainer& trainer) {
    const std::string path = checkpointPath(trainer.stepsDone());
    std::error_code ec;
    if (trainer.stepsDone() == 0 || trainer.diverged() || fs::exists(path, ec))
        return false;
    CS_TRY(trainer.saveCheckpoint(path, m_metadata));
    if (m_prunable > 0 && m_prunable != trainer.stepsDone()) {
        const std::string old = checkpointPath(m_prunable);
        fs::remove(old, ec);
        fs::remove(Trainer::optimizerPath(old), ec);
        m_prunable = 0;
    }
    return true;
}

Result<bool> RunFolder::autosave(Trainer& trainer) {
    CS_TRY(flush());
    CS_TRY_ASSIGN(bool wrote, checkpoint(trainer));
    if (wrote && trainer.stepsDone() % trainer.stepsPerEpoch() != 0)
        m_prunable = trainer.stepsDone();
    return wrote;
}

namespace {
constexpr const char* kPidFile = "training.pid";
}

Status RunFolder::markTraining() {
    return io::writeFileAtomic((fs::path(m_dir) / kPidFile).string(),
                               std::to_string(::getpid()) + "\n");
}

void RunFolder::clearTraining() {
    forgetInterrupted(m_dir);
}

void RunFolder::forgetInterrupted(const std::string& dir) {
    std::error_code ec;
    fs::remove(fs::path(dir) / kPidFile, ec);
}

std::vector<std::string> RunFolder::interruptedRuns(const std::string& runsDir) {
    std::vector<std::pair<fs::file_time_type, std::string>> found;
    std::error_code ec;
    for (fs::directory_iterator it(runsDir, ec), end; !ec && it != end; it.increment(ec)) {
        const fs::path pidFile = it->path() / kPidFile;
        std::ifstream in(pidFile);
        long long pid = 0;
        if (!(in >> pid) || pid <= 0)
            continue;
        // Alive (ours or another window's, even if not ours to signal): still training.
        if (::kill(pid_t(pid), 0) == 0 || errno == EPERM)
            continue;
        std::error_code tec;
        found.emplace_back(fs::last_write_time(pidFile, tec), it->path().string());
    }
    std::sort(found.begin(), found.end(), std::greater<>());
    std::vector<std::string> dirs;
    for (auto& [time, dir] : found)
        dirs.push_back(std::move(dir));
    return dirs;
}

Result<bool> RunFolder::close(Trainer& trainer) {
    CS_TRY(flush());
    return checkpoint(trainer);
}

Result<std::string> RunFolder::latestCheckpoint(const std::string& runOrFile) {
    return model::latestCheckpoint(runOrFile);
}

} // namespace convscope::train
