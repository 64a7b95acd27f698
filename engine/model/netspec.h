// NetSpec: a network described in JSON (input shape, layers, residual blocks, concat branches),
// its shape inference (per-layer output shape, parameter count, FLOPs) and errors named by layer.
//
//   {"name": "lenet5", "input": [1, 28, 28], "init": "he-normal",
//    "layers": [{"type": "conv2d", "name": "conv1", "out": 6, "kernel": 5, "padding": 2},
//               {"type": "relu"}, {"type": "max_pool2d", "kernel": 2}, ...,
//               {"type": "residual", "body": [...], "shortcut": "identity", "activation": "relu"},
//               {"type": "concat", "branches": [[...], [...]]}]}
#pragma once

#include "core/status.h"
#include "ops/conv2d.h"
#include "ops/pool2d.h"
#include <cstdint>
#include <string>
#include <vector>

namespace convscope::model {

enum class LayerType {
    Conv2d,
    Linear,
    MaxPool2d,
    AvgPool2d,
    GlobalAvgPool,
    Relu,
    LeakyRelu,
    Sigmoid,
    Tanh,
    BatchNorm,
    LayerNorm,
    Dropout,
    Flatten,
    Residual,
    Concat,
};
// The JSON spelling: "conv2d", "max_pool2d", "batch_norm", ...
const char* layerTypeName(LayerType t);

enum class InitScheme { HeNormal, HeUniform, XavierNormal, XavierUniform, Zeros, Constant, Normal };
struct Init {
    InitScheme scheme = InitScheme::HeNormal;
    double value = 0.0;       // constant
    double sigma = 0.01;      // normal: N(0, σ²)
    std::string name() const; // "he-normal", "normal(0.01)", "constant(0.5)"
};

enum class Shortcut { Identity, Projection, None };

struct LayerSpec {
    LayerType type = LayerType::Relu;
    std::string name; // unique among its siblings; generated ("conv2d_3") when not given
    // conv2d, linear
    std::int64_t out = 0;
    bool bias = true;
    bool hasInit = false; // else the network's default
    Init init;
    // conv2d and pooling windows
    std::int64_t kernelH = 0, kernelW = 0, strideH = 1, strideW = 1;
    std::int64_t padTop = 0, padBottom = 0, padLeft = 0, padRight = 0;
    std::string padMode; // "" (explicit numbers), "same" or "valid"
    std::int64_t dilationH = 1, dilationW = 1, groups = 1;
    // activations, normalisation, dropout
    double slope = 0.01, rate = 0.5, eps = 1e-5, momentum = 0.1;
    // residual: out = activation(body(x) + shortcut(x)); `none` drops the shortcut (plain twin)
    std::vector<LayerSpec> body;
    Shortcut shortcut = Shortcut::Identity;
    bool shortcutBatchNorm = false;         // projection: 1x1 conv, then batch norm
    LayerType activation = LayerType::Relu; // after the add; Flatten here means none
    // concat: the branches all read the block's input; outputs joined along channels
    std::vector<std::vector<LayerSpec>> branches;
};

// How a preset is best trained ("training": {"optimizer": "momentum", "lr": 0.02,
// "weight_decay": 0.02, "epochs": 3}): the command line's and the window's defaults for it.
// Unset fields (empty, negative) leave the usual defaults.
struct TrainingDefaults {
    std::string optimizer;
    double lr = -1, weightDecay = -1;
    int epochs = -1;
    bool empty() const { return optimizer.empty() && lr < 0 && weightDecay < 0 && epochs < 0; }
    bool operator==(const TrainingDefaults&) const = default;
};

struct NetSpec {
    std::string name, description;
    std::int64_t channels = 1, height = 28, width = 28;
    Init init; // default for conv2d and linear weights
    std::vector<LayerSpec> layers;
    TrainingDefaults training;
};

// Parses a NetSpec; `where` (a file name or "preset lenet5") prefixes every error.
Result<NetSpec> parseNetSpec(const std::string& json, const std::string& where);
Result<NetSpec> loadNetSpec(const std::string& path);
// Pretty JSON that parseNetSpec reads back to the same spec (defaults left out).
std::string toJson(const NetSpec& spec);

// A feature map (C, H, W); a flat vector is (F, 1, 1) with `flat` set.
struct Dims {
    std::int64_t c = 0, h = 1, w = 1;
    bool flat = false;
    std::int64_t numel() const { return c * h * w; }
    std::string str() const; // "6x28x28" or "120"
    bool operator==(const Dims&) const = default;
};

// The theoretical receptive field of a unit of a layer's output, in input pixels, per axis:
// r_l = r_{l−1} + (k_l − 1)·d_l·j_{l−1} (its size), j_l = j_{l−1}·s_l (the jump: how far apart
// neighbouring units look), start_l = start_{l−1} + ((k_l − 1)·d_l/2 − p_l)·j_{l−1} (the centre
// of unit (0, 0)'s field; unit (y, x) is centred at start + (y, x)·jump). Pooling counts like
// a convolution; a residual block takes the larger of body and shortcut, a concat block its
// largest branch. Units after a linear layer see the whole input (`global`).
struct ReceptiveField {
    std::int64_t sizeH = 1, sizeW = 1, jumpH = 1, jumpW = 1;
    double startH = 0, startW = 0;
    bool global = false;
    std::string str() const; // "7x7", "7" when square, "all" when global
    bool operator==(const ReceptiveField&) const = default;
};

struct LayerInfo {
    std::string path;  // "conv1", "stage2.block1.body.conv_a"
    std::string label; // "layer 4 conv2" for messages
    LayerType type;
    int depth = 0; // nesting level (0: top level)
    Dims in, out;
    std::int64_t params = 0; // learnable scalars
    std::int64_t flops = 0;  // forward, per sample, 2 per multiply-add
    std::string detail;      // "5x5 s1 p2, he-normal"
    ReceptiveField rf;       // of a unit of `out`
};

struct Analysis {
    std::vector<LayerInfo> layers; // blocks first, then their insides, in execution order
    Dims input, output;
    std::int64_t params = 0, flops = 0;
    int errorRow = -1;         // analyzePartial(): the row of the layer its error names
    std::string table() const; // the `convscope-cli inspect` table
};

// The op shapes of a conv2d or pooling layer for a batch of `batch` inputs shaped `in`.
ops::Conv2dShape conv2dShape(const LayerSpec& l, const Dims& in, std::int64_t batch);
ops::Pool2dShape pool2dShape(const LayerSpec& l, const Dims& in, std::int64_t batch);

// The stride of the 1x1 projection shortcut that maps a block's input onto its body's output.
inline std::int64_t projectionStride(const Dims& in, const Dims& out) {
    return (in.h + out.h - 1) / out.h;
}

// The output of one layer for input `in`, or an error saying what is wrong with it.
Result<Dims> layerOutput(const LayerSpec& l, const Dims& in);
// Shape inference over the whole network; errors say "layer 4 conv2: kernel 5x5 larger than
// its 3x3 input".
Result<Analysis> analyze(const NetSpec& spec);
// Shape inference as far as it gets, for editors: the rows up to the first error (that layer's
// row included, its output unset), the error in `error`, and in errorRow the row of the innermost
// layer the error names (-1 when it is about the network as a whole, or there is none).
Analysis analyzePartial(const NetSpec& spec, Status& error);

// A multilayer perceptron on (channels, height, width) inputs: flatten, then linear layers of
// the given widths with ReLU between them, then `classes` outputs.
NetSpec mlpSpec(std::int64_t channels, std::int64_t height, std::int64_t width,
                const std::vector<std::int64_t>& hidden, std::int64_t classes);

// Sets the spec's input to (channels, height, width), e.g. a preset to a dataset's images;
// true when it changed. analyze() says whether the layers still fit.
bool fitInput(NetSpec& spec, std::int64_t channels, std::int64_t height, std::int64_t width);

// The presets shipped in resources/presets (embedded at build time).
std::vector<std::string> presetNames();
Result<NetSpec> preset(const std::string& name);

} // namespace convscope::model
