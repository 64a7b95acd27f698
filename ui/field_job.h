// The Receptive field tab's job: on an inspector already holding the weights to look at, the
// chosen layer's maps for one test image, one unit's effective field with its theoretical one,
// and the per-layer table (each spatial layer's centre, with the weights given and, when asked,
// at initialisation). Runs on the engine thread (AnalysisEngine::fields).
#pragma once

#include "analysis/inspector.h"
#include "analysis_types.h"
#include "core/progress.h"

namespace convscope::data {
struct TrainTestSplit;
}

namespace convscope::ui {

// `trained`: whether the inspector's weights are trained (else they are its initial ones and
// the table's "initial" column is the same as the effective one). The inspector's weights are
// the same afterwards as before.
FieldResult computeFields(analysis::Inspector& in, const data::TrainTestSplit& data,
                          const FieldRequest& r, bool trained, Progress* progress);

} // namespace convscope::ui
