// Inspector: a trained network to poke, on its own backend and without a trainer. It is fed
// chosen images in pixel units (x in [0, 1] as stored; the network sees (x − mean)/std as in
// training), runs forward in evaluation mode (batch norm with its running statistics, dropout
// off) and backward from any seed — one class's logit, the loss with given labels, or one unit
// of a layer — and hands back the input gradient in pixel units, any layer's output and the
// gradient that reached it. Every analysis (saliency, adversarial examples, receptive fields,
// landscapes) stands on it.
#pragma once

#include "backend/backend.h"
#include "data/idx.h"
#include "model/network.h"
#include "model/weights.h"
#include <map>
#include <memory>
#include <span>
#include <vector>

namespace convscope::analysis {

// The normalisation the network was trained with: it sees (x − mean)/std.
struct Normalization {
    double mean = 0.0, std = 1.0;
};

// What a backward pass differentiates, per sample of the batch.
struct Seed {
    enum class Kind {
        Logit, // y_c, the pre-softmax score of class classes[i]
        Loss,  // cross-entropy with label classes[i] (each image's own loss, not averaged)
        Unit,  // the activation (channel, y, x) of layer `layer` (an index into layers());
               // channel −1: the sum over all channels at (y, x)
    } kind = Kind::Logit;
    std::vector<std::int32_t> classes; // Logit and Loss: one per sample (missing ones: none)
    int layer = -1;
    std::int64_t channel = 0, y = 0, x = 0;
};

// A layer whose output can be read (a top-level layer of the spec).
struct LayerInfo {
    std::string name;
    model::Dims dims;
    bool spatial() const { return !dims.flat; }
};

class Inspector {
public:
    // Plans `spec` on `be` for batches of up to `batch` images. The backend is reset: give the
    // inspector a backend of its own (never the trainer's).
    static Result<std::unique_ptr<Inspector>> create(Backend& be, const model::NetSpec& spec,
                                                     std::int64_t batch, Normalization norm);
    // A network for `checkpoint` (its spec, weights and normalisation).
    static Result<std::unique_ptr<Inspector>> open(Backend& be, const model::Checkpoint& checkpoint,
                                                   std::int64_t batch);
    ~Inspector();

    Status loadWeights(const io::SafeTensors& weights, const std::string& where);
    Result<io::SafeTensors> weights();
    // The network's own initialisation with `seed` (the sanity check's randomisation).
    Status initialize(std::uint64_t seed);

    Backend& backend() { return m_be; }
    const model::NetSpec& spec() const { return m_spec; }
    const Normalization& normalization() const { return m_norm; }
    std::int64_t batch() const { return m_batch; }
    std::int64_t channels() const { return m_spec.channels; }
    std::int64_t height() const { return m_spec.height; }
    std::int64_t width() const { return m_spec.width; }
    std::int64_t imageSize() const { return m_spec.channels * m_spec.height * m_spec.width; }
    std::int64_t classes() const { return m_classes; }
    const std::vector<LayerInfo>& layers() const { return m_layers; }
    // The index of layer `name` in layers(), or -1.
    int layerIndex(const std::string& name) const;
    // The last layer with a spatial output larger than 1x1 (Grad-CAM's default), or -1.
    int lastSpatialLayer() const;
    // The learnable layers (conv, linear, norms), input to output, with their tensor prefixes.
    std::vector<std::string> learnableLayers() const;

    // Sets the batch to `count` images of imageSize() pixel values each. A single image runs
    // on a network planned for one (so one gradient costs one image, not a batch); otherwise
    // the rest of the batch is zero. Evaluation forward of the batch; logits (rows × classes)
    // afterwards, one row per planned image (batch(), or 1 for a single image).
    Status setImages(std::span<const double> pixels, std::int64_t count);
    Status forward();
    Result<std::vector<double>> logits();

    // Backward from `seed` after forward(). The input gradient (batch × C × H × W, d/dpixel:
    // chained through the normalisation) is read by inputGradient(). With `captureLayer` ≥ 0
    // the gradient reaching that layer's output is kept for layerGradient().
    Status backward(const Seed& seed, int captureLayer = -1, bool weightGradients = false);
    Result<std::vector<double>> inputGradient();
    // Layer `layer`'s output for the whole batch (after forward()).
    Result<std::vector<double>> layerOutput(int layer);
    // The gradient that reached layer `layer`'s output in the last backward() that captured it.
    Result<std::vector<double>> layerGradient(int layer) const;

    // Pixels of dataset images in [0, 1], image after image (C × H × W each).
    static std::vector<double> pixels(const data::ImageDataset& set,
                                      std::span<const std::int64_t> indices);
    // Images first … first + count − 1 of `set` (clipped to the set): pixels and labels.
    struct Images {
        std::vector<double> pixels;
        std::vector<std::int32_t> labels;
        std::int64_t count() const { return std::int64_t(labels.size()); }
    };
    static Images images(const data::ImageDataset& set, std::int64_t first, std::int64_t count);

private:
    Inspector(Backend& be, model::NetSpec spec, Normalization norm);
    struct Plan; // one planned network: its input, programs and layer tensors
    Result<ProgramId> backwardProgram(int from, int to, bool weightGradients);

    Backend& m_be;
    model::NetSpec m_spec;
    Normalization m_norm;
    std::int64_t m_batch = 0, m_classes = 0;
    std::vector<std::unique_ptr<Plan>> m_plans; // [0]: batch(); [1]: one image (batch() > 1)
    Plan* m_cur = nullptr;                      // the plan of the last setImages()
    std::vector<LayerInfo> m_layers;
    Tensor m_step;
    std::vector<double> m_logits;
    bool m_haveLogits = false, m_haveForward = false;
    int m_captured = -1;
    std::vector<double> m_capturedGradient;
};

// softmax of each row of `logits` (rows × classes), numerically stable.
std::vector<double> softmaxRows(std::span<const double> logits, std::int64_t classes);
// The index of the largest of `row`.
int argmax(std::span<const double> row);

} // namespace convscope::analysis
