// RunFolder: what a training run leaves on disk, all written atomically.
//   <dir>/spec.json                          the NetSpec
//   <dir>/metrics.csv                        one row per logged step and per epoch
//   <dir>/layers.csv                         per epoch and layer: weight/gradient norms
//   <dir>/checkpoints/step-N.safetensors     weights + BN statistics (PyTorch names)
//   <dir>/checkpoints/optimizer-step-N.safetensors   the optimizer state, for resuming
//   <dir>/training.pid                       while a process trains it (crash recovery)
#pragma once

#include "model/netspec.h"
#include "train/trainer.h"
#include <string>

namespace convscope::train {

class RunFolder {
public:
    // Creates the folder (and checkpoints/) and writes spec.json; keeps an existing metrics.csv
    // when resuming. The dataset's name and normalisation go into every checkpoint's metadata.
    static Result<RunFolder> create(const std::string& dir, const model::NetSpec& spec,
                                    const std::string& datasetName,
                                    const data::TrainTestSplit& data);
    const std::string& dir() const { return m_dir; }
    std::string checkpointPath(std::int64_t step) const;
    Status logStep(const StepReport& r);
    Status logEpoch(const EpochReport& e, std::int64_t step);
    // Rewrites metrics.csv atomically with the rows so far (called at epoch ends and at exit).
    Status flush();
    // Saves the trainer's checkpoint at its current step unless it exists already, no step
    // has run, or training diverged; true when it wrote one.
    Result<bool> checkpoint(Trainer& trainer);
    // At the end of a run, whether finished, paused, cancelled or failed: flush() and
    // checkpoint(), so nothing learned is lost.
    Result<bool> close(Trainer& trainer);
    // The autosave by time (mid-epoch, from Trainer's quiet hook): flush() and checkpoint().
    // Only the newest mid-epoch autosave is kept: the one before it is deleted once a newer
    // checkpoint exists, so a long run does not fill checkpoints/ (epoch ends are all kept).
    Result<bool> autosave(Trainer& trainer);

    // Crash recovery: training.pid names the process training this folder while it does.
    Status markTraining();
    void clearTraining();
    // The run folders under `runsDir` whose training.pid names a process that is gone (killed,
    // crashed, power lost), newest first: each can continue from its last checkpoint.
    static std::vector<std::string> interruptedRuns(const std::string& runsDir);
    // Recovered or dismissed: no longer offered.
    static void forgetInterrupted(const std::string& dir);

    // The checkpoint with the highest step in <dir>/checkpoints, or the file itself.
    static Result<std::string> latestCheckpoint(const std::string& runOrFile);

private:
    std::string m_dir, m_csv, m_layers;
    std::int64_t m_prunable = 0; // the last mid-epoch autosave's step (0: none)
    std::map<std::string, std::string> m_metadata;
};

} // namespace convscope::train
