// A checkpoint and its dataset, loaded together (see checkpoint_data.h).
#include "analysis/checkpoint_data.h"

namespace convscope::analysis {

Result<data::TrainTestSplit> loadDatasetFor(const model::NetSpec& spec, const std::string& name,
                                            const std::string& dir, const std::string& where) {
    data::DatasetRequest dr;
    dr.name = name;
    dr.dir = dir;
    dr.side = int(spec.height);
    dr.channels = int(spec.channels);
    CS_TRY_ASSIGN(data::TrainTestSplit d, data::loadDataset(dr));
    const auto& te = d.test;
    if (te.channels != spec.channels || te.height != spec.height || te.width != spec.width)
        return Status::error("the images of " + name + " are " + std::to_string(te.channels) + "x" +
                                 std::to_string(te.height) + "x" + std::to_string(te.width) +
                                 ", the network takes " + std::to_string(spec.channels) + "x" +
                                 std::to_string(spec.height) + "x" + std::to_string(spec.width),
                             where,
                             "Use the dataset the network was built for (--dataset and --data)");
    return d;
}

Result<CheckpointData> loadCheckpointData(const std::string& runOrFile, const std::string& dataset,
                                          const std::string& dataDir) {
    CheckpointData out;
    CS_TRY_ASSIGN(out.ckpt, model::loadCheckpoint(runOrFile));
    out.dataset = !dataset.empty()           ? dataset
                  : out.ckpt.dataset.empty() ? std::string("fashion-mnist")
                                             : out.ckpt.dataset;
    CS_TRY_ASSIGN(out.data, loadDatasetFor(out.ckpt.spec, out.dataset, dataDir, out.ckpt.path));
    if (!out.ckpt.hasNormalization) { // an older checkpoint: the dataset's own statistics
        out.ckpt.mean = out.data.mean;
        out.ckpt.std = out.data.std;
    }
    return out;
}

} // namespace convscope::analysis
