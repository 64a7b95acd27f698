// Network: a NetSpec made real on a backend. Plans every tensor for one batch size, initialises
// the parameters (seeded), and records the forward pass (training or evaluation mode) and the
// backward pass into the backend's current program. Parameters and gradients each live in one
// flat tensor, so one optimizer dispatch updates the whole network; per-layer tensors are views.
#pragma once

#include "backend/backend.h"
#include "model/netspec.h"
#include "ops/activation.h"
#include "ops/batch_norm.h"
#include "ops/concat.h"
#include "ops/dropout.h"
#include "ops/layer_norm.h"
#include "ops/linear.h"
#include <memory>

namespace convscope::model {

// A named tensor of the checkpoint: "conv1.weight", "bn1.running_mean", ...
struct NamedTensor {
    std::string name;
    Tensor tensor;                  // a view into params() or buffers()
    Tensor grad;                    // its gradient, a view into grads() (parameters only)
    std::vector<std::int64_t> dims; // the PyTorch shape, e.g. (6, 1, 5, 5)
    bool parameter = true;          // false: a buffer (batch-norm running statistics)
};

// One learnable layer's tensors, for per-layer metrics and the filter views.
struct ParamLayer {
    std::string path;
    LayerType type;
    Tensor w, dw, b, db; // b/db invalid without a bias
};

class Network {
public:
    explicit Network(NetSpec spec);
    ~Network();
    Network(Network&&) noexcept;

    const NetSpec& spec() const { return m_spec; }
    // Shape inference; call before plan() to report errors early.
    Result<Analysis> analysis() const { return analyze(m_spec); }

    // Plans every tensor for batches of `batch` samples. With `inputGradient` the backward pass
    // also computes the gradient with respect to the input (saliency, adversarial examples).
    Status plan(Backend& be, std::int64_t batch, bool inputGradient = false);
    // Weights by each layer's scheme, zero biases, γ = 1, β = 0, running mean 0 and variance 1,
    // zero gradients. Seeded: the same seed gives the same values on every backend. The last
    // layer, when it is a linear classifier without an init of its own, draws its weights at a
    // tenth of the scheme's scale: the logits start near 0 and the first loss near ln K (the
    // check lecturers give: a 10-class network should start at 2.30).
    Status initialize(Backend& be, std::uint64_t seed);
    // Records x (N, C, H, W) → logits(). `step` is the device step counter that seeds dropout.
    Status recordForward(Backend& be, const Tensor& x, bool training, const Tensor& step);
    // An evaluation forward pass of which only logits() is read (a landscape point, test-set
    // accuracy): each batch norm after a conv or linear layer is folded into it
    // (ops/batch_norm_fold) and a ReLU after it fused, so those layers write no outputs of their
    // own. logits() agree with recordForward(…, false, …) up to float rounding; the feature maps
    // of the folded layers are not written and no backward pass may follow.
    Status recordInference(Backend& be, const Tensor& x, const Tensor& step);
    // How many batch norms the last recorded forward pass folded (0 unless an inference pass).
    int foldedBatchNorms() const { return m_foldedBatchNorms; }
    // Which part of the backward pass to record: the top-level layers `from` (-1: the last)
    // down to `to`, each reading its output gradient `dy` (layerOutputs()); weight gradients
    // only when asked. The default is the whole pass from dlogits().
    struct BackwardOptions {
        bool weightGradients = true;
        int from = -1, to = 0;
    };
    // Records the gradients of the parameters (and of the input when planned) in the mode of
    // the last recorded forward pass: after an evaluation forward, batch norm is the affine map
    // of its running statistics and dropout the identity, as in PyTorch's model.eval().
    Status recordBackward(Backend& be, const Tensor& step, const BackwardOptions& options);
    Status recordBackward(Backend& be, const Tensor& step) {
        return recordBackward(be, step, BackwardOptions{});
    }

    const Tensor& logits() const;
    const Tensor& dlogits() const;
    const Tensor& inputGradient() const { return m_dx; } // (N, C, H, W) when planned
    const Tensor& params() const { return m_params; }
    const Tensor& grads() const { return m_grads; }
    const Tensor& buffers() const { return m_buffers; } // running statistics (may be empty)
    std::int64_t parameterCount() const { return m_parameterCount; }
    std::int64_t classes() const;
    std::int64_t inputFeatures() const { return m_spec.channels * m_spec.height * m_spec.width; }
    std::int64_t batch() const { return m_batch; }
    std::string summary() const; // "lenet5: 61,706 parameters, 0.83 MFLOPs per image"

    // A layer's output for the feature-map view: (N, C, H, W) of each top-level layer with a
    // spatial output. Where layers share one buffer (a conv and its fused or in-place ReLU) only
    // the last is listed, since the buffer holds its output.
    struct FeatureMap {
        std::string path;
        Dims dims;
        Tensor y;      // (N, C, H, W) or (N, C)
        Tensor dy;     // the gradient that reached y, while a backward pass has not gone past
        int index = 0; // the top-level layer's position (BackwardOptions)
    };
    std::vector<FeatureMap> featureMaps() const;
    // Every top-level layer whose output stays readable after a forward pass (flat ones too;
    // a layer overwritten in place by the next is left out: the next one stands for it).
    std::vector<FeatureMap> layerOutputs() const;

    const std::vector<NamedTensor>& namedTensors() const { return m_named; }
    const std::vector<ParamLayer>& paramLayers() const { return m_paramLayers; }

    struct Node; // the planned layer tree (network.cpp)
    // How initialize() fills one parameter or buffer tensor.
    struct InitSlot {
        enum class Fill { Weights, Zeros, Ones };
        std::string name;
        Tensor view;
        Fill fill; // Weights: drawn by `init`
        Init init;
        std::int64_t fanIn, fanOut;
        bool param;
        double scale = 1.0; // the classifier's weights: 0.1 (see initialize())
    };

private:
    Status recordForward(Backend& be, const Tensor& x, bool training, const Tensor& step,
                         bool fold);

    NetSpec m_spec;
    std::vector<std::unique_ptr<Node>> m_nodes;
    std::int64_t m_batch = 0, m_parameterCount = 0;
    std::uint64_t m_seed = 1;
    bool m_forwardTraining = true; // the mode of the last recorded forward pass
    bool m_forwardFolded = false;  // it was an inference pass (recordInference)
    int m_foldedBatchNorms = 0;
    Tensor m_params, m_grads, m_buffers, m_dx, m_dummy;
    std::vector<InitSlot> m_slots;
    std::vector<Tensor> m_zeroTensors; // the zero biases of bias-free layers
    std::vector<NamedTensor> m_named;
    std::vector<ParamLayer> m_paramLayers;
};

} // namespace convscope::model
