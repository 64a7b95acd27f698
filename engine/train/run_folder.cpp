// RunFolder: spec.json, metrics.csv and checkpoint paths.
#include "train/run_folder.h"
#include "core/format.h"
#include "io/atomic_file.h"
#include "model/weights.h"

#include <cstdio>
#include <filesystem>

namespace convscope::train {

namespace fs = std::filesystem;
constexpr const char* kHeader =
    "kind,epoch,step,lr,loss,accuracy,test_loss,test_accuracy,images_per_s,seconds\n";

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
    f.m_layers = layers.ok() && !layers->empty()
                     ? *layers
                     : "epoch,step,layer,weight_norm,grad_norm,update_ratio\n";
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
    return true;
}

Result<bool> RunFolder::close(Trainer& trainer) {
    CS_TRY(flush());
    return checkpoint(trainer);
}

Result<std::string> RunFolder::latestCheckpoint(const std::string& runOrFile) {
    return model::latestCheckpoint(runOrFile);
}

} // namespace convscope::train
