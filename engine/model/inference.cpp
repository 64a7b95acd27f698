// Shape inference for a NetSpec: per-layer output shapes, parameter counts and FLOPs, and errors
// that name the layer ("layer 4 conv2: kernel 5x5 larger than its 3x3 input").
#include "core/format.h"
#include "model/netspec.h"

#include <cstdint>
#include <cstdio>
#include <utility>

namespace convscope::model {

namespace {

// Sizes a NetSpec may hold, so no shape, parameter or FLOP arithmetic overflows: a layer's
// integer settings (out, kernel, stride, padding, dilation, groups) within ±2^24, every feature
// map under 2^31 values (the engine's tensor limit). Parameter and FLOP counts saturate.
constexpr std::int64_t kMaxSetting = std::int64_t(1) << 24;
constexpr std::int64_t kMaxValues = std::int64_t(1) << 31;

std::int64_t satMul(std::int64_t a, std::int64_t b) {
    std::int64_t r = 0;
    if (__builtin_mul_overflow(a, b, &r))
        return (a < 0) != (b < 0) ? INT64_MIN : INT64_MAX;
    return r;
}

std::int64_t satAdd(std::int64_t a, std::int64_t b) {
    std::int64_t r = 0;
    if (__builtin_add_overflow(a, b, &r))
        return a < 0 ? INT64_MIN : INT64_MAX;
    return r;
}

// A feature map the engine can hold: positive extents, fewer than 2^31 values.
Status checkDims(const Dims& d, const std::string& what) {
    std::int64_t n = 0;
    if (d.c <= 0 || d.h <= 0 || d.w <= 0)
        return Status::error(what + " " + d.str() + " has an empty extent");
    if (__builtin_mul_overflow(d.c, d.h, &n) || __builtin_mul_overflow(n, d.w, &n) ||
        n >= kMaxValues)
        return Status::error(what + " " + d.str() + " holds more than 2^31 values", "",
                             "Use fewer channels or a smaller image");
    return {};
}

Status checkSettings(const LayerSpec& l) {
    const std::pair<const char*, std::int64_t> settings[] = {{"out", l.out},
                                                             {"kernel", l.kernelH},
                                                             {"kernel", l.kernelW},
                                                             {"stride", l.strideH},
                                                             {"stride", l.strideW},
                                                             {"padding", l.padTop},
                                                             {"padding", l.padBottom},
                                                             {"padding", l.padLeft},
                                                             {"padding", l.padRight},
                                                             {"dilation", l.dilationH},
                                                             {"dilation", l.dilationW},
                                                             {"groups", l.groups}};
    for (const auto& [key, v] : settings)
        if (v > kMaxSetting || v < -kMaxSetting)
            return Status::error(std::string("\"") + key + "\" " + std::to_string(v) +
                                 " is out of range (at most " + std::to_string(kMaxSetting) + ")");
    return {};
}

std::string pair(std::int64_t a, std::int64_t b) {
    return std::to_string(a) + "x" + std::to_string(b);
}

Status needMap(const LayerSpec& l, const Dims& in) {
    if (in.flat)
        return Status::error(std::string(layerTypeName(l.type)) +
                                 " needs a feature map (C, H, W) but gets a flat vector of " +
                                 std::to_string(in.c),
                             "", "Move it before the flatten or linear layers");
    return {};
}

// Parameters and FLOPs of a leaf layer (not residual or concat).
void leafCost(const LayerSpec& l, const Dims& in, const Dims& out, LayerInfo& r) {
    const std::int64_t n = out.numel();
    switch (l.type) {
    case LayerType::Conv2d: {
        const std::int64_t perOut = satMul(satMul(in.c / l.groups, l.kernelH), l.kernelW);
        r.params = satAdd(satMul(l.out, perOut), l.bias ? l.out : 0);
        r.flops = satAdd(satMul(satMul(2, perOut), n), l.bias ? n : 0);
        break;
    }
    case LayerType::Linear:
        r.params = satAdd(satMul(l.out, in.numel()), l.bias ? l.out : 0);
        r.flops = satAdd(satMul(satMul(2, in.numel()), l.out), l.bias ? l.out : 0);
        break;
    case LayerType::MaxPool2d:
    case LayerType::AvgPool2d:
        r.flops = satMul(satMul(n, l.kernelH), l.kernelW);
        break;
    case LayerType::GlobalAvgPool:
        r.flops = in.numel();
        break;
    case LayerType::BatchNorm:
        r.params = 2 * in.c;
        r.flops = 2 * n;
        break;
    case LayerType::LayerNorm:
        r.params = 2 * in.numel();
        r.flops = 5 * n;
        break;
    case LayerType::Relu:
    case LayerType::LeakyRelu:
    case LayerType::Sigmoid:
    case LayerType::Tanh:
    case LayerType::Dropout:
        r.flops = n;
        break;
    default:
        break;
    }
}

std::string detailOf(const LayerSpec& l, const Init& defaultInit) {
    switch (l.type) {
    case LayerType::Conv2d: {
        std::string d =
            pair(l.kernelH, l.kernelW) + " s" +
            (l.strideH == l.strideW ? std::to_string(l.strideH) : pair(l.strideH, l.strideW));
        if (!l.padMode.empty())
            d += " " + l.padMode;
        else if (l.padTop || l.padBottom || l.padLeft || l.padRight)
            d += " p" + (l.padTop == l.padBottom && l.padTop == l.padLeft && l.padTop == l.padRight
                             ? std::to_string(l.padTop)
                             : std::to_string(l.padTop) + "," + std::to_string(l.padBottom) + "," +
                                   std::to_string(l.padLeft) + "," + std::to_string(l.padRight));
        if (l.dilationH != 1 || l.dilationW != 1)
            d += " d" + std::to_string(l.dilationH);
        if (l.groups != 1)
            d += " g" + std::to_string(l.groups);
        return d + ", " + (l.hasInit ? l.init : defaultInit).name();
    }
    case LayerType::Linear:
        return (l.hasInit ? l.init : defaultInit).name();
    case LayerType::MaxPool2d:
    case LayerType::AvgPool2d:
        return pair(l.kernelH, l.kernelW) + " s" + std::to_string(l.strideH) +
               (l.padTop ? " p" + std::to_string(l.padTop) : "");
    case LayerType::LeakyRelu:
        return "slope " + shortNumber(l.slope);
    case LayerType::Dropout:
        return "rate " + shortNumber(l.rate);
    case LayerType::Residual:
        return l.shortcut == Shortcut::Identity     ? "identity shortcut"
               : l.shortcut == Shortcut::Projection ? "1x1 projection shortcut"
                                                    : "no shortcut (plain)";
    case LayerType::Concat:
        return std::to_string(l.branches.size()) + " branches";
    default:
        return {};
    }
}

// A sliding window of kernel k (dilated by d), stride s and leading padding p on one axis.
void slide(std::int64_t& size, std::int64_t& jump, double& start, std::int64_t k, std::int64_t d,
           std::int64_t stride, std::int64_t pad) {
    const std::int64_t span = satMul(k - 1, d);
    size = satAdd(size, satMul(span, jump));
    start += (double(span) / 2.0 - double(pad)) * double(jump);
    jump = satMul(jump, stride);
}

// The larger of two fields (by area; a global one is largest).
ReceptiveField larger(const ReceptiveField& a, const ReceptiveField& b) {
    if (a.global != b.global)
        return a.global ? a : b;
    return satMul(b.sizeH, b.sizeW) > satMul(a.sizeH, a.sizeW) ? b : a;
}

// The receptive field after leaf layer `l` (its input `in`, the field so far `rf`).
void leafField(const LayerSpec& l, const Dims& in, ReceptiveField& rf) {
    switch (l.type) {
    case LayerType::Conv2d: {
        const ops::Conv2dShape c = conv2dShape(l, in, 1);
        slide(rf.sizeH, rf.jumpH, rf.startH, c.kernelH, c.dilationH, c.strideH, c.padTop);
        slide(rf.sizeW, rf.jumpW, rf.startW, c.kernelW, c.dilationW, c.strideW, c.padLeft);
        break;
    }
    case LayerType::MaxPool2d:
    case LayerType::AvgPool2d:
    case LayerType::GlobalAvgPool: {
        const ops::Pool2dShape p = pool2dShape(l, in, 1);
        slide(rf.sizeH, rf.jumpH, rf.startH, p.kernelH, 1, p.strideH, p.padH);
        slide(rf.sizeW, rf.jumpW, rf.startW, p.kernelW, 1, p.strideW, p.padW);
        rf.global = rf.global || l.type == LayerType::GlobalAvgPool;
        break;
    }
    case LayerType::Linear:
        rf.global = true;
        break;
    default: // elementwise layers, normalisation, dropout, flatten: one unit, one input unit
        break;
    }
}

struct Walker {
    const Init& defaultInit;
    Analysis& a;

    Result<Dims> layers(const std::vector<LayerSpec>& ls, Dims in, ReceptiveField& rf,
                        const std::string& prefix, const std::string& labelPrefix,
                        const std::string& noun, int depth) {
        for (std::size_t i = 0; i < ls.size(); ++i) {
            const std::string label =
                labelPrefix + noun + " " + std::to_string(i + 1) + " " + ls[i].name;
            auto out = layer(ls[i], in, rf, prefix + ls[i].name, label, depth);
            if (!out.ok())
                return out.status().within(label);
            in = *out;
        }
        return in;
    }

    // One layer's row; on an error, the innermost layer it names becomes Analysis::errorRow.
    Result<Dims> layer(const LayerSpec& l, const Dims& in, ReceptiveField& rf,
                       const std::string& path, const std::string& label, int depth) {
        const int row = int(a.layers.size());
        auto out = rowOf(l, in, rf, path, label, depth);
        if (!out.ok() && a.errorRow < 0)
            a.errorRow = row;
        return out;
    }

    Result<Dims> rowOf(const LayerSpec& l, const Dims& in, ReceptiveField& rf,
                       const std::string& path, const std::string& label, int depth) {
        LayerInfo r;
        r.path = path;
        r.label = label;
        r.type = l.type;
        r.depth = depth;
        r.in = in;
        r.detail = detailOf(l, defaultInit);
        const std::size_t row = a.layers.size();
        a.layers.push_back(r);
        Dims out;
        if (l.type == LayerType::Residual) {
            if (l.body.empty())
                return Status::error("the body is empty", "", "A residual block needs layers");
            ReceptiveField body = rf;
            CS_TRY_ASSIGN(out,
                          layers(l.body, in, body, path + ".body.", "", "body layer", depth + 1));
            CS_TRY(checkDims(out, "the body's output"));
            std::int64_t params = 0, flops = out.numel(); // the add
            if (l.shortcut == Shortcut::Identity && !(out == in))
                return Status::error(
                    "the body turns " + in.str() + " into " + out.str() +
                        ", so an identity shortcut cannot be added to it",
                    "", "Use \"shortcut\": \"projection\" (a 1x1 convolution) or keep the shape");
            if (l.shortcut == Shortcut::Projection) {
                if (in.flat || out.flat)
                    return Status::error("a projection shortcut needs feature maps, not vectors");
                const std::int64_t s = projectionStride(in, out);
                if ((in.h - 1) / s + 1 != out.h || (in.w - 1) / s + 1 != out.w)
                    return Status::error("a 1x1 projection cannot map " + in.str() + " onto " +
                                         out.str() + " with one stride");
                // 1x1 weights, then a bias, or batch norm's γ and β instead of it
                params += out.c * in.c + (l.shortcutBatchNorm ? 2 * out.c : out.c);
                flops = satAdd(flops, satMul(2 * in.c, out.numel()));
            }
            if (l.activation == LayerType::Relu)
                flops = satAdd(flops, out.numel());
            a.layers[row].params = params;
            a.layers[row].flops = flops;
            // The shortcut sees what the block's input saw (a 1x1 projection only strides).
            ReceptiveField shortcut = rf;
            if (l.shortcut == Shortcut::Projection) {
                shortcut.jumpH = satMul(shortcut.jumpH, projectionStride(in, out));
                shortcut.jumpW = satMul(shortcut.jumpW, projectionStride(in, out));
            }
            rf = l.shortcut == Shortcut::None ? body : larger(body, shortcut);
        } else if (l.type == LayerType::Concat) {
            std::int64_t channels = 0;
            Dims first;
            ReceptiveField widest;
            for (std::size_t b = 0; b < l.branches.size(); ++b) {
                const std::string bl = "branch " + std::to_string(b + 1);
                ReceptiveField branch = rf;
                auto o = layers(l.branches[b], in, branch,
                                path + ".branch" + std::to_string(b + 1) + ".", bl + ", ", "layer",
                                depth + 1);
                if (!o.ok())
                    return o.status();
                if (o->flat)
                    return Status::error(bl + " ends in a flat vector; concat joins feature maps");
                if (b == 0)
                    first = *o;
                else if (o->h != first.h || o->w != first.w)
                    return Status::error("branch 1 gives " + first.str() + " but " + bl +
                                             " gives " + o->str() +
                                             "; concat needs the same height and width",
                                         "", "Use padding \"same\" and stride 1 in every branch");
                channels += o->c;
                widest = b == 0 ? branch : larger(widest, branch);
            }
            out = {channels, first.h, first.w, false};
            CS_TRY(checkDims(out, "the joined output"));
            rf = widest;
        } else {
            CS_TRY_ASSIGN(out, layerOutput(l, in));
            CS_TRY(checkDims(out, "the output"));
            leafCost(l, in, out, a.layers[row]);
            leafField(l, in, rf);
        }
        a.layers[row].out = out;
        a.layers[row].rf = rf;
        a.params = satAdd(a.params, a.layers[row].params);
        a.flops = satAdd(a.flops, a.layers[row].flops);
        return out;
    }
};

} // namespace

std::string ReceptiveField::str() const {
    if (global)
        return "all";
    return sizeH == sizeW ? std::to_string(sizeH) : pair(sizeH, sizeW);
}

std::string Dims::str() const {
    return flat ? std::to_string(c)
                : std::to_string(c) + "x" + std::to_string(h) + "x" + std::to_string(w);
}

ops::Conv2dShape conv2dShape(const LayerSpec& l, const Dims& in, std::int64_t batch) {
    ops::Conv2dShape s;
    s.batch = batch;
    s.inChannels = in.c;
    s.height = in.h;
    s.width = in.w;
    s.outChannels = l.out;
    s.kernelH = l.kernelH;
    s.kernelW = l.kernelW;
    s.strideH = l.strideH;
    s.strideW = l.strideW;
    s.dilationH = l.dilationH;
    s.dilationW = l.dilationW;
    s.groups = l.groups;
    s.padTop = l.padTop;
    s.padBottom = l.padBottom;
    s.padLeft = l.padLeft;
    s.padRight = l.padRight;
    if (l.padMode == "same")
        s.samePadding();
    else if (l.padMode == "valid")
        s.validPadding();
    return s;
}

ops::Pool2dShape pool2dShape(const LayerSpec& l, const Dims& in, std::int64_t batch) {
    if (l.type == LayerType::GlobalAvgPool)
        return ops::Pool2dShape::global(batch, in.c, in.h, in.w);
    return {batch,     in.c,      in.h,      in.w,     l.kernelH,
            l.kernelW, l.strideH, l.strideW, l.padTop, l.padLeft};
}

Result<Dims> layerOutput(const LayerSpec& l, const Dims& in) {
    CS_TRY(checkDims(in, "the input"));
    CS_TRY(checkSettings(l));
    switch (l.type) {
    case LayerType::Conv2d: {
        CS_TRY(needMap(l, in));
        if (l.out <= 0)
            return Status::error("\"out\" (the number of filters) must be positive");
        if (l.kernelH <= 0 || l.kernelW <= 0)
            return Status::error("\"kernel\" must be given and positive");
        if (l.padMode == "same" && (l.strideH != 1 || l.strideW != 1))
            return Status::error("padding \"same\" needs stride 1", "",
                                 "Give the padding as a number for strided convolutions");
        const ops::Conv2dShape s = conv2dShape(l, in, 1);
        CS_TRY(ops::checkConv2d(s));
        return Dims{l.out, s.outH(), s.outW(), false};
    }
    case LayerType::Linear:
        if (l.out <= 0)
            return Status::error("\"out\" (the number of units) must be positive");
        return Dims{l.out, 1, 1, true};
    case LayerType::MaxPool2d:
    case LayerType::AvgPool2d:
    case LayerType::GlobalAvgPool: {
        CS_TRY(needMap(l, in));
        const ops::Pool2dShape s = pool2dShape(l, in, 1);
        if (l.padTop != l.padBottom || l.padLeft != l.padRight)
            return Status::error("pooling padding must be the same on both sides");
        CS_TRY(ops::checkPool2d(s));
        return Dims{in.c, s.outH(), s.outW(), false};
    }
    case LayerType::LeakyRelu:
        if (!(l.slope > 0))
            return Status::error("\"slope\" must be positive (the backward pass reads y's sign)");
        return in;
    case LayerType::Dropout:
        if (!(l.rate >= 0 && l.rate < 1))
            return Status::error("\"rate\" must be in [0, 1)");
        return in;
    case LayerType::BatchNorm:
    case LayerType::LayerNorm:
        if (!(l.eps > 0) || !(l.momentum >= 0 && l.momentum <= 1))
            return Status::error("\"eps\" must be positive and \"momentum\" in [0, 1]");
        return in;
    case LayerType::Flatten:
        return Dims{in.numel(), 1, 1, true};
    case LayerType::Residual:
    case LayerType::Concat:
        return Status::error("a block's shape needs analyze()");
    default:
        return in;
    }
}

Analysis analyzePartial(const NetSpec& spec, Status& error) {
    Analysis a;
    a.input = {spec.channels, spec.height, spec.width, false};
    Walker w{spec.init, a};
    const std::string where = spec.name.empty() ? "network" : spec.name;
    if (Status s = checkDims(a.input, "the input"); !s.ok()) {
        error = s.within(where);
        return a;
    }
    ReceptiveField rf;
    auto out = w.layers(spec.layers, a.input, rf, "", "", "layer", 0);
    if (!out.ok()) {
        error = out.status().within(where);
        return a;
    }
    a.output = *out;
    if (!a.output.flat && (a.output.h != 1 || a.output.w != 1))
        error = Status::error("the network ends in a " + a.output.str() +
                                  " feature map, not a vector of class scores",
                              where, "End it with flatten and a linear layer (or global_avg_pool)");
    else
        error = {};
    return a;
}

Result<Analysis> analyze(const NetSpec& spec) {
    Status error;
    Analysis a = analyzePartial(spec, error);
    if (!error.ok())
        return error;
    return a;
}

std::string Analysis::table() const {
    auto grouped = [](std::int64_t v) {
        const std::string digits = std::to_string(v);
        std::string s;
        for (std::size_t i = 0; i < digits.size(); ++i) {
            if (i > 0 && (digits.size() - i) % 3 == 0 && digits[i - 1] != '-')
                s += ',';
            s += digits[i];
        }
        return s;
    };
    std::string t;
    char line[256];
    std::snprintf(line, sizeof line, "%-4s %-28s %-16s %-12s %6s %12s %14s  %s\n", "#", "layer",
                  "type", "output", "RF", "params", "FLOPs", "detail");
    t += line;
    std::snprintf(line, sizeof line, "%-4s %-28s %-16s %-12s %6s %12s %14s\n", "", "input", "",
                  input.str().c_str(), "1", "", "");
    t += line;
    int top = 0;
    for (const auto& l : layers) {
        const std::string index = l.depth == 0 ? std::to_string(++top) : "";
        const std::string name =
            std::string(std::size_t(2 * l.depth), ' ') +
            l.path.substr(l.path.rfind('.') == std::string::npos ? 0 : l.path.rfind('.') + 1);
        std::snprintf(line, sizeof line, "%-4s %-28s %-16s %-12s %6s %12s %14s  %s\n",
                      index.c_str(), name.c_str(), layerTypeName(l.type), l.out.str().c_str(),
                      l.rf.str().c_str(), l.params ? grouped(l.params).c_str() : "-",
                      grouped(l.flops).c_str(), l.detail.c_str());
        t += line;
    }
    std::snprintf(line, sizeof line, "%-4s %-28s %-16s %-12s %6s %12s %14s  per sample, forward\n",
                  "", "total", "", output.str().c_str(), "", grouped(params).c_str(),
                  grouped(flops).c_str());
    return t + line;
}

} // namespace convscope::model
