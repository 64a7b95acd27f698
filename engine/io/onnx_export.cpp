// ONNX export (see onnx_export.h): the protobuf wire format, the graph built layer by layer
// from the NetSpec, and the file written atomically.
#include "io/onnx_export.h"
#include "io/atomic_file.h"
#include "model/weights.h"

#include <bit>
#include <cstdio>
#include <set>
#include <string_view>
#include <vector>

namespace convscope::io {

namespace {

using model::Dims;
using model::LayerSpec;
using model::LayerType;

// --- protobuf wire format -------------------------------------------------------------------
// A message is the concatenation of its fields; each field is a key (field number << 3 | wire
// type) and a value: a varint (wire type 0), 8 bytes (1), a length and bytes (2) or 4 bytes (5).
class Proto {
public:
    const std::string& bytes() const { return m_buf; }

    Proto& varint(int field, std::uint64_t v) {
        key(field, 0);
        putVarint(v);
        return *this;
    }
    // int64 and int32 fields: negative values as 10-byte two's-complement varints.
    Proto& int64(int field, std::int64_t v) { return varint(field, std::uint64_t(v)); }
    Proto& bytes(int field, std::string_view s) {
        key(field, 2);
        putVarint(s.size());
        m_buf.append(s);
        return *this;
    }
    Proto& message(int field, const Proto& m) { return bytes(field, m.bytes()); }
    Proto& float32(int field, float f) {
        key(field, 5);
        putFixed32(std::bit_cast<std::uint32_t>(f));
        return *this;
    }

    static void appendFloat(std::string& out, float f) {
        const std::uint32_t u = std::bit_cast<std::uint32_t>(f);
        for (int i = 0; i < 4; ++i)
            out.push_back(char((u >> (8 * i)) & 0xff)); // little-endian, as raw_data wants
    }

private:
    void key(int field, int wireType) {
        putVarint((std::uint64_t(field) << 3) | unsigned(wireType));
    }
    void putVarint(std::uint64_t v) {
        while (v >= 0x80) {
            m_buf.push_back(char((v & 0x7f) | 0x80));
            v >>= 7;
        }
        m_buf.push_back(char(v));
    }
    void putFixed32(std::uint32_t u) {
        for (int i = 0; i < 4; ++i)
            m_buf.push_back(char((u >> (8 * i)) & 0xff));
    }
    std::string m_buf;
};

// Field numbers of onnx/onnx.proto (IR version 7, the one opset 13 came with).
namespace f {
// ModelProto
constexpr int kModelIrVersion = 1, kModelProducerName = 2, kModelProducerVersion = 3,
              kModelDocString = 6, kModelGraph = 7, kModelOpsetImport = 8, kModelMetadataProps = 14;
// OperatorSetIdProto, StringStringEntryProto
constexpr int kOpsetDomain = 1, kOpsetVersion = 2, kEntryKey = 1, kEntryValue = 2;
// GraphProto
constexpr int kGraphNode = 1, kGraphName = 2, kGraphInitializer = 5, kGraphDocString = 10,
              kGraphInput = 11, kGraphOutput = 12;
// NodeProto
constexpr int kNodeInput = 1, kNodeOutput = 2, kNodeName = 3, kNodeOpType = 4, kNodeAttribute = 5;
// AttributeProto and its AttributeType values
constexpr int kAttrName = 1, kAttrF = 2, kAttrI = 3, kAttrInts = 8, kAttrType = 20;
constexpr int kAttrTypeFloat = 1, kAttrTypeInt = 2, kAttrTypeInts = 7;
// TensorProto (data type 1: FLOAT)
constexpr int kTensorDims = 1, kTensorDataType = 2, kTensorName = 8, kTensorRawData = 9;
constexpr int kFloat = 1;
// ValueInfoProto, TypeProto, TypeProto.Tensor, TensorShapeProto, its Dimension
constexpr int kValueName = 1, kValueType = 2, kTypeTensor = 1, kTensorElemType = 1,
              kTensorShape = 2, kShapeDim = 1, kDimValue = 1, kDimParam = 2;
} // namespace f

constexpr int kOpset = 13;
constexpr int kIrVersion = 7;

Proto attrInt(const std::string& name, std::int64_t v) {
    Proto a;
    a.bytes(f::kAttrName, name).int64(f::kAttrI, v).varint(f::kAttrType, f::kAttrTypeInt);
    return a;
}
Proto attrFloat(const std::string& name, double v) {
    Proto a;
    a.bytes(f::kAttrName, name)
        .float32(f::kAttrF, float(v))
        .varint(f::kAttrType, f::kAttrTypeFloat);
    return a;
}
Proto attrInts(const std::string& name, const std::vector<std::int64_t>& v) {
    Proto a;
    a.bytes(f::kAttrName, name);
    for (std::int64_t x : v)
        a.int64(f::kAttrInts, x);
    a.varint(f::kAttrType, f::kAttrTypeInts);
    return a;
}

// A float tensor's ValueInfoProto; a dimension < 0 is the symbolic batch size.
Proto valueInfo(const std::string& name, const std::vector<std::int64_t>& dims) {
    Proto shape;
    for (std::int64_t d : dims) {
        Proto dim;
        if (d < 0)
            dim.bytes(f::kDimParam, "batch");
        else
            dim.int64(f::kDimValue, d);
        shape.message(f::kShapeDim, dim);
    }
    Proto tensor;
    tensor.varint(f::kTensorElemType, f::kFloat).message(f::kTensorShape, shape);
    Proto type;
    type.message(f::kTypeTensor, tensor);
    Proto v;
    v.bytes(f::kValueName, name).message(f::kValueType, type);
    return v;
}

struct Node {
    std::string op, name;
    std::vector<std::string> inputs, outputs;
    std::vector<Proto> attributes;
};

std::string dimsStr(const std::vector<std::int64_t>& d) {
    std::string s = "(";
    for (std::size_t i = 0; i < d.size(); ++i)
        s += (i ? ", " : "") + std::to_string(d[i]);
    return s + ")";
}

// Builds the graph: nodes in execution order and the initializers they read.
class GraphBuilder {
public:
    GraphBuilder(const SafeTensors& w, std::string where) : m_w(w), m_where(std::move(where)) {}

    std::vector<Node> nodes;
    std::vector<Proto> initializers;
    std::int64_t parameters = 0;

    // The layers of a sequence read `x` (shaped `in`); returns the last one's output value.
    Result<std::string> sequence(const std::vector<LayerSpec>& layers, std::string x, Dims& in,
                                 const std::string& prefix) {
        for (const LayerSpec& l : layers) {
            const std::string path = prefix + l.name;
            auto y = layer(l, x, in, path);
            if (!y.ok())
                return y.status().within(path);
            x = *y;
        }
        return x;
    }

    // Every tensor of the checkpoint used, none left over (the mark of another network's file).
    Status checkAllUsed() const {
        for (const auto& [name, t] : m_w.tensors)
            if (!m_used.count(name) && !name.ends_with(".num_batches_tracked"))
                return Status::error("the checkpoint has a tensor \"" + name + "\" " +
                                         dimsStr(t.shape) + " that the network does not have",
                                     m_where,
                                     "It was saved from another network: export it with the "
                                     "spec it was trained with (its run folder)");
        return {};
    }

private:
    const SafeTensors& m_w;
    std::string m_where;
    std::set<std::string> m_used;

    // The name of a layer's output value: its path (kept clear of the graph's own names).
    std::string valueName(const std::string& path) {
        return path == "input" || path == "logits" ? path + "/out" : path;
    }

    std::string add(std::string op, std::string name, std::vector<std::string> inputs,
                    std::string output, std::vector<Proto> attributes = {}) {
        nodes.push_back(
            {std::move(op), std::move(name), std::move(inputs), {output}, std::move(attributes)});
        return output;
    }

    // The checkpoint's tensor `name`, which the layer needs shaped `dims`, as an initializer.
    Result<std::string> weight(const std::string& name, const std::vector<std::int64_t>& dims) {
        auto it = m_w.tensors.find(name);
        if (it == m_w.tensors.end())
            return Status::error("the checkpoint has no tensor \"" + name + "\"", "",
                                 "Was it saved from another network? Export it with the spec it "
                                 "was trained with (its run folder)");
        const StoredTensor& t = it->second;
        std::int64_t count = 1;
        for (std::int64_t d : dims)
            count *= d;
        if (t.dtype != "F32" || std::int64_t(t.f32.size()) != count)
            return Status::error("tensor \"" + name + "\" is " + t.dtype + " " + dimsStr(t.shape) +
                                     ", the network needs F32 " + dimsStr(dims),
                                 "",
                                 "The checkpoint belongs to another network: export it with the "
                                 "spec it was trained with (its run folder)");
        m_used.insert(name);
        Proto p;
        for (std::int64_t d : dims)
            p.int64(f::kTensorDims, d);
        p.varint(f::kTensorDataType, f::kFloat).bytes(f::kTensorName, name);
        std::string raw;
        raw.reserve(t.f32.size() * 4);
        for (float v : t.f32)
            Proto::appendFloat(raw, v);
        p.bytes(f::kTensorRawData, raw);
        initializers.push_back(std::move(p));
        parameters += count;
        return name;
    }

    // A constant scalar initializer (layer norm's ε).
    std::string scalar(const std::string& name, double v) {
        Proto p;
        p.varint(f::kTensorDataType, f::kFloat).bytes(f::kTensorName, name);
        std::string raw;
        Proto::appendFloat(raw, float(v));
        p.bytes(f::kTensorRawData, raw);
        initializers.push_back(std::move(p));
        return name;
    }

    Result<std::string> conv(const LayerSpec& l, const std::string& x, const Dims& in,
                             const std::string& path) {
        const ops::Conv2dShape s = model::conv2dShape(l, in, 1);
        CS_TRY_ASSIGN(std::string w,
                      weight(path + ".weight", {l.out, in.c / l.groups, l.kernelH, l.kernelW}));
        std::vector<std::string> inputs{x, w};
        if (l.bias) {
            CS_TRY_ASSIGN(std::string b, weight(path + ".bias", {l.out}));
            inputs.push_back(b);
        }
        return add("Conv", path, inputs, valueName(path),
                   {attrInts("kernel_shape", {s.kernelH, s.kernelW}),
                    attrInts("strides", {s.strideH, s.strideW}),
                    attrInts("pads", {s.padTop, s.padLeft, s.padBottom, s.padRight}),
                    attrInts("dilations", {s.dilationH, s.dilationW}), attrInt("group", s.groups)});
    }

    Result<std::string> batchNorm(const std::string& x, std::int64_t channels, double eps,
                                  double momentum, const std::string& path) {
        CS_TRY_ASSIGN(std::string g, weight(path + ".weight", {channels}));
        CS_TRY_ASSIGN(std::string b, weight(path + ".bias", {channels}));
        CS_TRY_ASSIGN(std::string m, weight(path + ".running_mean", {channels}));
        CS_TRY_ASSIGN(std::string v, weight(path + ".running_var", {channels}));
        // ONNX's momentum weighs the old running value (PyTorch's the new batch statistic).
        return add("BatchNormalization", path, {x, g, b, m, v}, valueName(path),
                   {attrFloat("epsilon", eps), attrFloat("momentum", 1.0 - momentum)});
    }

    // PyTorch's LayerNorm over all of a sample's features: (x − mean)/√(var + ε)·γ + β with
    // the biased variance, decomposed into opset-13 ops.
    Result<std::string> layerNorm(const LayerSpec& l, const std::string& x, const Dims& in,
                                  const std::string& path) {
        const std::vector<std::int64_t> dims =
            in.flat ? std::vector<std::int64_t>{in.c} : std::vector<std::int64_t>{in.c, in.h, in.w};
        const std::vector<std::int64_t> axes =
            in.flat ? std::vector<std::int64_t>{1} : std::vector<std::int64_t>{1, 2, 3};
        CS_TRY_ASSIGN(std::string g, weight(path + ".weight", dims));
        CS_TRY_ASSIGN(std::string b, weight(path + ".bias", dims));
        const std::string p = path + "/";
        auto reduce = [&](const std::string& name, const std::string& v) {
            return add("ReduceMean", p + name, {v}, p + name,
                       {attrInts("axes", axes), attrInt("keepdims", 1)});
        };
        const std::string mean = reduce("mean", x);
        const std::string centered = add("Sub", p + "centered", {x, mean}, p + "centered");
        const std::string square = add("Mul", p + "square", {centered, centered}, p + "square");
        const std::string var = reduce("var", square);
        const std::string eps = scalar(p + "eps", l.eps);
        const std::string varEps = add("Add", p + "var_eps", {var, eps}, p + "var_eps");
        const std::string sd = add("Sqrt", p + "std", {varEps}, p + "std");
        const std::string norm = add("Div", p + "normalized", {centered, sd}, p + "normalized");
        const std::string scaled = add("Mul", p + "scaled", {norm, g}, p + "scaled");
        return add("Add", path, {scaled, b}, valueName(path));
    }

    Result<std::string> residual(const LayerSpec& l, const std::string& x, Dims& in,
                                 const std::string& path) {
        if (l.body.empty())
            return Status::error("the residual block has no body");
        Dims out = in;
        CS_TRY_ASSIGN(std::string body, sequence(l.body, x, out, path + ".body."));
        const bool relu = l.activation == LayerType::Relu;
        std::string sum = body;
        if (l.shortcut != model::Shortcut::None) {
            std::string shortcut = x;
            if (l.shortcut == model::Shortcut::Projection) {
                // The synthetic 1x1 convolution (and batch norm) Network builds for it.
                LayerSpec c;
                c.type = LayerType::Conv2d;
                c.out = out.c;
                c.kernelH = c.kernelW = 1;
                c.strideH = c.strideW = model::projectionStride(in, out);
                c.bias = !l.shortcutBatchNorm;
                CS_TRY_ASSIGN(shortcut, conv(c, x, in, path + ".shortcut.conv"));
                if (l.shortcutBatchNorm) {
                    const LayerSpec bn{};
                    CS_TRY_ASSIGN(shortcut, batchNorm(shortcut, out.c, bn.eps, bn.momentum,
                                                      path + ".shortcut.bn"));
                }
            }
            sum = relu ? add("Add", path + "/add", {body, shortcut}, path + "/add")
                       : add("Add", path, {body, shortcut}, valueName(path));
        }
        in = out;
        if (relu)
            return add("Relu", path, {sum}, valueName(path));
        if (l.shortcut == model::Shortcut::None) // a plain block without activation: its body
            return add("Identity", path, {sum}, valueName(path));
        return sum;
    }

    Result<std::string> concat(const LayerSpec& l, const std::string& x, Dims& in,
                               const std::string& path) {
        if (l.branches.empty())
            return Status::error("the concat block has no branches");
        std::vector<std::string> outs;
        Dims out{0, 1, 1, false};
        for (std::size_t b = 0; b < l.branches.size(); ++b) {
            Dims d = in;
            auto y = sequence(l.branches[b], x, d, path + ".branch" + std::to_string(b + 1) + ".");
            if (!y.ok())
                return y.status().within("branch " + std::to_string(b + 1));
            outs.push_back(*y);
            out = {out.c + d.c, d.h, d.w, false};
        }
        in = out;
        return add("Concat", path, outs, valueName(path), {attrInt("axis", 1)});
    }

    Result<std::string> layer(const LayerSpec& l, const std::string& x, Dims& in,
                              const std::string& path) {
        if (l.type == LayerType::Residual)
            return residual(l, x, in, path);
        if (l.type == LayerType::Concat)
            return concat(l, x, in, path);
        CS_TRY_ASSIGN(const Dims out, model::layerOutput(l, in));
        Result<std::string> y = std::string();
        switch (l.type) {
        case LayerType::Conv2d:
            y = conv(l, x, in, path);
            break;
        case LayerType::Linear: {
            std::string a = x;
            if (!in.flat)
                a = add("Flatten", path + "/flatten", {x}, path + "/flatten", {attrInt("axis", 1)});
            CS_TRY_ASSIGN(std::string w, weight(path + ".weight", {l.out, in.numel()}));
            std::vector<std::string> inputs{a, w};
            if (l.bias) {
                CS_TRY_ASSIGN(std::string b, weight(path + ".bias", {l.out}));
                inputs.push_back(b);
            }
            y = add("Gemm", path, inputs, valueName(path), {attrInt("transB", 1)});
            break;
        }
        case LayerType::MaxPool2d:
        case LayerType::AvgPool2d: {
            const ops::Pool2dShape s = model::pool2dShape(l, in, 1);
            std::vector<Proto> attrs{attrInts("kernel_shape", {s.kernelH, s.kernelW}),
                                     attrInts("strides", {s.strideH, s.strideW}),
                                     attrInts("pads", {s.padH, s.padW, s.padH, s.padW})};
            if (l.type == LayerType::AvgPool2d) // padding counts as zeros, as PyTorch's default
                attrs.push_back(attrInt("count_include_pad", 1));
            y = add(l.type == LayerType::MaxPool2d ? "MaxPool" : "AveragePool", path, {x},
                    valueName(path), std::move(attrs));
            break;
        }
        case LayerType::GlobalAvgPool:
            y = add("GlobalAveragePool", path, {x}, valueName(path));
            break;
        case LayerType::Relu:
            y = add("Relu", path, {x}, valueName(path));
            break;
        case LayerType::LeakyRelu:
            y = add("LeakyRelu", path, {x}, valueName(path), {attrFloat("alpha", l.slope)});
            break;
        case LayerType::Sigmoid:
            y = add("Sigmoid", path, {x}, valueName(path));
            break;
        case LayerType::Tanh:
            y = add("Tanh", path, {x}, valueName(path));
            break;
        case LayerType::BatchNorm:
            y = batchNorm(x, in.c, l.eps, l.momentum, path);
            break;
        case LayerType::LayerNorm:
            y = layerNorm(l, x, in, path);
            break;
        case LayerType::Dropout: // evaluation mode: the identity
            y = add("Identity", path, {x}, valueName(path));
            break;
        case LayerType::Flatten:
            y = add("Flatten", path, {x}, valueName(path), {attrInt("axis", 1)});
            break;
        default:
            return Status::error(std::string("cannot export a ") + model::layerTypeName(l.type) +
                                 " layer");
        }
        if (y.ok())
            in = out;
        return y;
    }
};

std::string formatNumber(double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.9g", v);
    return buf;
}

} // namespace

Result<std::string> encodeOnnx(const model::NetSpec& spec, const SafeTensors& weights,
                               const std::string& where, const OnnxOptions& options,
                               OnnxSummary* summary) {
    CS_TRY_ASSIGN(const model::Analysis analysis, model::analyze(spec));
    GraphBuilder g(weights, where);
    Dims dims = analysis.input;
    auto out = g.sequence(spec.layers, "input", dims, "");
    if (!out.ok())
        return out.status().within(spec.name).within(where);
    CS_TRY(g.checkAllUsed());
    if (g.nodes.empty())
        return Status::error("the network has no layers", where);
    // The last layer writes the graph's output, (batch, classes): a network ending in a
    // (classes, 1, 1) map (global average pooling) gets a Flatten.
    const Dims& o = analysis.output;
    if (!o.flat) {
        g.nodes.push_back({"Flatten", "logits/flatten", {*out}, {"logits"}, {attrInt("axis", 1)}});
    } else {
        for (Node& n : g.nodes)
            for (std::string& v : n.outputs)
                if (v == *out)
                    v = "logits";
    }

    Proto graph;
    for (const Node& n : g.nodes) {
        Proto node;
        for (const auto& i : n.inputs)
            node.bytes(f::kNodeInput, i);
        for (const auto& o : n.outputs)
            node.bytes(f::kNodeOutput, o);
        node.bytes(f::kNodeName, n.name).bytes(f::kNodeOpType, n.op);
        for (const Proto& a : n.attributes)
            node.message(f::kNodeAttribute, a);
        graph.message(f::kGraphNode, node);
    }
    graph.bytes(f::kGraphName, spec.name.empty() ? "convscope" : spec.name);
    for (const Proto& t : g.initializers)
        graph.message(f::kGraphInitializer, t);
    std::string doc = "convscope network " + spec.name + " (evaluation mode).";
    if (!spec.description.empty())
        doc += " " + spec.description;
    if (options.hasNormalization)
        doc += " The input is the image normalised as in training: (x - " +
               formatNumber(options.mean) + ") / " + formatNumber(options.std) + ".";
    graph.bytes(f::kGraphDocString, doc);
    graph.message(f::kGraphInput,
                  valueInfo("input", {-1, analysis.input.c, analysis.input.h, analysis.input.w}));
    graph.message(f::kGraphOutput, valueInfo("logits", {-1, o.numel()}));

    Proto model;
    model.int64(f::kModelIrVersion, kIrVersion)
        .bytes(f::kModelProducerName, "convscope")
        .bytes(f::kModelProducerVersion, "0.1.0")
        .bytes(f::kModelDocString, doc)
        .message(f::kModelGraph, graph);
    Proto opset;
    opset.bytes(f::kOpsetDomain, "").int64(f::kOpsetVersion, kOpset);
    model.message(f::kModelOpsetImport, opset);
    auto meta = [&](const std::string& k, const std::string& v) {
        Proto e;
        e.bytes(f::kEntryKey, k).bytes(f::kEntryValue, v);
        model.message(f::kModelMetadataProps, e);
    };
    meta("convscope.spec", model::toJson(spec));
    if (!options.source.empty())
        meta("convscope.checkpoint", options.source);
    meta("convscope.step", std::to_string(options.step));
    if (options.hasNormalization) {
        meta("convscope.input_mean", formatNumber(options.mean));
        meta("convscope.input_std", formatNumber(options.std));
    }
    if (summary) {
        summary->nodes = std::int64_t(g.nodes.size());
        summary->initializers = std::int64_t(g.initializers.size());
        summary->parameters = g.parameters;
        summary->bytes = std::int64_t(model.bytes().size());
        summary->opset = kOpset;
    }
    return model.bytes();
}

Result<OnnxSummary> exportOnnx(const model::Checkpoint& ckpt, const std::string& path) {
    OnnxOptions o;
    o.source = ckpt.path;
    o.hasNormalization = ckpt.hasNormalization;
    o.mean = ckpt.mean;
    o.std = ckpt.std;
    o.step = ckpt.step;
    OnnxSummary summary;
    CS_TRY_ASSIGN(const std::string bytes,
                  encodeOnnx(ckpt.spec, ckpt.file, ckpt.path, o, &summary));
    if (Status s = writeFileAtomic(path, bytes); !s.ok()) // it names the folder or the file
        return Status::error("cannot write the ONNX model " + path + ": " + s.what(), s.where(),
                             s.hint());
    return summary;
}

Result<OnnxSummary> exportOnnx(const std::string& runOrFile, const std::string& path) {
    CS_TRY_ASSIGN(const model::Checkpoint ckpt, model::loadCheckpoint(runOrFile));
    return exportOnnx(ckpt, path);
}

} // namespace convscope::io
