// What the window's requests mean to the engine: a TrainRequest as a dataset request, a training
// configuration, a network and a backend. Shared by the training session and the twin session so
// a twin trains exactly as the window trains. Included by .cpp files only (engine types).
#pragma once

#include "training_session.h"

#include "backend/backend.h"
#include "data/datasets.h"
#include "model/netspec.h"
#include "train/trainer.h"

namespace convscope::ui {

// An engine thread (and the OpenMP team it starts, which inherits its nice value) yields to the
// GUI thread: nice +5 on Linux, where the scheduler weighs threads by nice.
void lowerThisThreadsPriority();

inline data::DatasetRequest datasetRequest(const TrainRequest& r) {
    data::DatasetRequest dr;
    dr.name = r.dataset.toStdString();
    dr.dir = r.dataDir.toStdString();
    dr.seed = r.seed;
    return dr;
}

// The request's network (its spec, else its preset) fitted to the dataset's images.
inline Result<model::NetSpec> requestSpec(const TrainRequest& r, const data::TrainTestSplit& d) {
    auto spec = r.spec.isEmpty() ? model::preset(r.preset.toStdString())
                                 : model::parseNetSpec(r.spec.toStdString(), "the network");
    if (spec.ok())
        model::fitInput(*spec, d.train.channels, d.train.height, d.train.width);
    return spec;
}

// The window trains with a cosine schedule over the run.
inline Result<train::TrainConfig> trainConfig(const TrainRequest& r) {
    train::TrainConfig cfg;
    cfg.batch = r.batch;
    cfg.epochs = r.epochs;
    cfg.seed = r.seed;
    cfg.optimizer.lr = r.lr;
    cfg.optimizer.weightDecay = r.weightDecay;
    if (!ops::OptimizerConfig::parseKind(r.optimizer.toStdString(), cfg.optimizer.kind))
        return Status::error("unknown optimizer " + r.optimizer.toStdString());
    cfg.schedule.kind = train::LrSchedule::Kind::Cosine;
    return cfg;
}

inline Result<BackendChoice> requestBackend(const TrainRequest& r) {
    BackendOptions bo;
    bo.backend = r.backend.toStdString();
    bo.validation = qEnvironmentVariableIntValue("CONVSCOPE_VALIDATION") != 0;
    return createBackend(bo);
}

} // namespace convscope::ui
