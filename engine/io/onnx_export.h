// ONNX export: a trained network (its NetSpec, weights and batch-norm running statistics) as an
// ONNX model (opset 13) for Netron and other ONNX tools. No protobuf library: a
// small wire-format encoder writes ModelProto, GraphProto, NodeProto, TensorProto and
// ValueInfoProto with the field numbers of onnx/onnx.proto.
//
// The graph reads "input" (batch, C, H, W), images normalised as the network saw them in
// training, (x − mean)/std (the metadata "convscope.input_mean" and "convscope.input_std" give
// the two numbers), and writes "logits" (batch, classes). It is the evaluation-mode network:
// batch norm is BatchNormalization with the running statistics, dropout an Identity. Every
// layer's last node is named by the layer's path ("stage2_block1.body.conv_a") and its weights
// are initializers named as in the checkpoint ("stage2_block1.body.conv_a.weight", PyTorch's
// state_dict keys). layer_norm (PyTorch's LayerNorm([C, H, W]), which opset 13 lacks) becomes
// ReduceMean, Sub, Mul, ReduceMean, Add, Sqrt, Div, Mul and Add; a residual block an Add (and
// a Relu after it); a concat block a Concat along the channels.
#pragma once

#include "core/status.h"
#include "io/safetensors.h"
#include "model/netspec.h"
#include <cstdint>
#include <string>

namespace convscope::model {
struct Checkpoint;
}

namespace convscope::io {

struct OnnxOptions {
    std::string source;            // the checkpoint the weights came from (metadata)
    bool hasNormalization = false; // mean and std are known (metadata and the graph's doc)
    double mean = 0, std = 1;
    std::int64_t step = 0; // the training step of the checkpoint (metadata)
};

struct OnnxSummary {
    std::int64_t nodes = 0, initializers = 0, parameters = 0, bytes = 0;
    int opset = 13;
};

// The ONNX model of `spec` with the tensors of `weights` (every tensor the network has, F32,
// with the element count its layer needs; no others). Errors name `where` (the checkpoint), the
// tensor or layer at fault and what to do.
Result<std::string> encodeOnnx(const model::NetSpec& spec, const SafeTensors& weights,
                               const std::string& where, const OnnxOptions& options = {},
                               OnnxSummary* summary = nullptr);

// Writes `ckpt` as an ONNX model to `path` (atomically: on any error no file is written).
Result<OnnxSummary> exportOnnx(const model::Checkpoint& ckpt, const std::string& path);
// The same for a run folder's latest checkpoint, or a checkpoint file.
Result<OnnxSummary> exportOnnx(const std::string& runOrFile, const std::string& path);

} // namespace convscope::io
