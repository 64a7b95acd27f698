// metrics.csv of a run folder (RunFolder writes it): one row per logged step and per epoch,
//   kind,epoch,step,lr,loss,accuracy,test_loss,test_accuracy,images_per_s,seconds
//   step,1,100,0.0199,0.512345,0.812500,,,5321.4,
//   epoch,1,469,,0.498765,0.823400,0.455678,0.838100,5210.7,11.52
// The one reader of it (a resumed run, the window's Open run): it takes any bytes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace convscope::train {

inline constexpr const char* kMetricsCsvHeader =
    "kind,epoch,step,lr,loss,accuracy,test_loss,test_accuracy,images_per_s,seconds";

struct MetricsRow {
    enum class Kind { Step, Epoch };
    Kind kind = Kind::Step;
    int epoch = 0;
    std::int64_t step = 0;
    // NaN where the field is empty or absent: a step row has no test loss, test accuracy or
    // seconds, an epoch row no lr. A diverged run's "nan" and "inf" are read as such.
    double lr = 0, loss = 0, accuracy = 0, testLoss = 0, testAccuracy = 0, imagesPerSecond = 0,
           seconds = 0;
};

struct MetricsCsv {
    std::vector<MetricsRow> rows; // in file order
    bool header = false;          // the first line is kMetricsCsvHeader
    // Lines that are not rows and were left out: fewer than 8 fields (kind .. test_accuracy), a
    // kind other than step or epoch, an epoch or step that is not a non-negative integer, a value
    // that is not a number. Blank lines are not counted.
    std::int64_t skipped = 0;
};

// layers.csv of a run folder: per epoch and learnable layer, the weight and gradient norms
// after the epoch's last step (the vanishing-gradient chart).
//   epoch,step,layer,weight_norm,grad_norm,update_ratio
inline constexpr const char* kLayersCsvHeader =
    "epoch,step,layer,weight_norm,grad_norm,update_ratio";

struct LayerRow {
    int epoch = 0;
    std::int64_t step = 0;
    std::string layer;
    double weightNorm = 0, gradNorm = 0, updateRatio = 0;
};

struct LayersCsv {
    std::vector<LayerRow> rows; // in file order
    std::int64_t skipped = 0;   // lines that are not rows (as metrics.csv's)
    // The rows of the last epoch in the file, in their order (input to output).
    std::vector<LayerRow> lastEpoch() const;
};

// Reads layers.csv text with the same rules as parseMetricsCsv. Never throws (but bad_alloc).
LayersCsv parseLayersCsv(const std::string& text);

// Reads metrics.csv text: LF or CRLF lines, fields trimmed of spaces, numbers in the C locale
// (std::from_chars), columns past the tenth ignored. Never throws (except std::bad_alloc).
MetricsCsv parseMetricsCsv(const std::string& text);

} // namespace convscope::train
