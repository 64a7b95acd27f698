// NetSpec: JSON parsing (unknown keys are errors, so typos are caught), serialisation, presets.
#include "model/netspec.h"

#include "ops/optimizer.h"

#include <charconv>

#include <algorithm>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string_view>

namespace convscope::embedded {
extern const std::vector<std::pair<std::string_view, std::string_view>> presets;
}

namespace convscope::model {

using nlohmann::json;

namespace {

struct TypeRow {
    LayerType type;
    const char* name;
    std::vector<std::string> keys; // allowed besides "type" and "name"
};
const std::vector<TypeRow>& typeTable() {
    static const std::vector<TypeRow> rows = {
        {LayerType::Conv2d,
         "conv2d",
         {"out", "kernel", "stride", "padding", "dilation", "groups", "bias", "init"}},
        {LayerType::Linear, "linear", {"out", "bias", "init"}},
        {LayerType::MaxPool2d, "max_pool2d", {"kernel", "stride", "padding"}},
        {LayerType::AvgPool2d, "avg_pool2d", {"kernel", "stride", "padding"}},
        {LayerType::GlobalAvgPool, "global_avg_pool", {}},
        {LayerType::Relu, "relu", {}},
        {LayerType::LeakyRelu, "leaky_relu", {"slope"}},
        {LayerType::Sigmoid, "sigmoid", {}},
        {LayerType::Tanh, "tanh", {}},
        {LayerType::BatchNorm, "batch_norm", {"eps", "momentum"}},
        {LayerType::LayerNorm, "layer_norm", {"eps"}},
        {LayerType::Dropout, "dropout", {"rate"}},
        {LayerType::Flatten, "flatten", {}},
        {LayerType::Residual,
         "residual",
         {"body", "shortcut", "shortcut_batch_norm", "activation"}},
        {LayerType::Concat, "concat", {"branches"}},
    };
    return rows;
}

const std::vector<std::pair<InitScheme, const char*>> kInitNames = {
    {InitScheme::HeNormal, "he-normal"},
    {InitScheme::HeUniform, "he-uniform"},
    {InitScheme::XavierNormal, "xavier-normal"},
    {InitScheme::XavierUniform, "xavier-uniform"},
    {InitScheme::Zeros, "zeros"},
    {InitScheme::Constant, "constant"},
    {InitScheme::Normal, "normal"},
};

std::string typeList() {
    std::string s;
    for (const auto& r : typeTable())
        s += (s.empty() ? "" : ", ") + std::string(r.name);
    return s;
}

Status fail(const std::string& what, const std::string& hint = {}) {
    return Status::error(what, "", hint);
}

// An integer or a pair [h, w].
Status readPair(const json& v, const char* key, std::int64_t& h, std::int64_t& w) {
    if (v.is_number_integer()) {
        h = w = v.get<std::int64_t>();
        return {};
    }
    if (v.is_array() && v.size() == 2 && v[0].is_number_integer() && v[1].is_number_integer()) {
        h = v[0].get<std::int64_t>();
        w = v[1].get<std::int64_t>();
        return {};
    }
    return fail(std::string("\"") + key + "\" must be an integer or [height, width], not " +
                v.dump());
}

Status readPadding(const json& v, LayerSpec& l) {
    if (v.is_string()) {
        const std::string m = v.get<std::string>();
        if (m != "same" && m != "valid")
            return fail("\"padding\" must be a number, [h, w], [top, bottom, left, right], "
                        "\"same\" or \"valid\", not \"" +
                        m + "\"");
        l.padMode = m;
        return {};
    }
    if (v.is_array() && v.size() == 4) {
        for (const auto& e : v)
            if (!e.is_number_integer())
                return fail("\"padding\" entries must be integers, not " + v.dump());
        l.padTop = v[0].get<std::int64_t>();
        l.padBottom = v[1].get<std::int64_t>();
        l.padLeft = v[2].get<std::int64_t>();
        l.padRight = v[3].get<std::int64_t>();
        return {};
    }
    std::int64_t h = 0, w = 0;
    CS_TRY(readPair(v, "padding", h, w));
    l.padTop = l.padBottom = h;
    l.padLeft = l.padRight = w;
    return {};
}

Result<Init> readInit(const json& v) {
    Init init;
    std::string scheme;
    if (v.is_string()) {
        scheme = v.get<std::string>();
        // "normal(0.01)" and "constant(0.5)", as Init::name() writes them.
        if (const auto open = scheme.find('('); open != std::string::npos && scheme.back() == ')') {
            const std::string arg = scheme.substr(open + 1, scheme.size() - open - 2);
            scheme.resize(open);
            double x = 0; // from_chars: the same in every locale
            const auto [end, ec] = std::from_chars(arg.data(), arg.data() + arg.size(), x);
            if (arg.empty() || ec != std::errc() || end != arg.data() + arg.size())
                return fail("\"" + v.get<std::string>() + "\": \"" + arg + "\" is not a number");
            if (scheme == "normal") {
                if (x <= 0)
                    return fail("\"sigma\" must be a positive number");
                init.sigma = x;
            } else if (scheme == "constant") {
                init.value = x;
            } else {
                return fail("\"" + v.get<std::string>() +
                            "\": only normal(σ) and constant(c) take a number");
            }
        }
    } else if (v.is_object() && v.contains("scheme") && v["scheme"].is_string()) {
        scheme = v["scheme"].get<std::string>();
        for (auto it = v.begin(); it != v.end(); ++it)
            if (it.key() != "scheme" && it.key() != "sigma" && it.key() != "value")
                return fail(
                    "unknown key \"" + it.key() + "\" in \"init\"",
                    "\"init\" takes \"scheme\", \"sigma\" (normal) and \"value\" (constant)");
        if (v.contains("sigma")) {
            if (!v["sigma"].is_number() || v["sigma"].get<double>() <= 0)
                return fail("\"sigma\" must be a positive number");
            init.sigma = v["sigma"].get<double>();
        }
        if (v.contains("value")) {
            if (!v["value"].is_number())
                return fail("\"value\" must be a number");
            init.value = v["value"].get<double>();
        }
    } else {
        return fail("\"init\" must be a scheme name or {\"scheme\": ..., \"sigma\": ...}");
    }
    for (const auto& [s, n] : kInitNames)
        if (scheme == n) {
            init.scheme = s;
            return init;
        }
    std::string names;
    for (const auto& p : kInitNames)
        names += (names.empty() ? "" : ", ") + std::string(p.second);
    return fail("unknown initialisation \"" + scheme + "\"", "Use one of: " + names);
}

Result<std::vector<LayerSpec>> readLayers(const json& v, const std::string& where);

Status readLayer(const json& v, LayerSpec& l) {
    if (!v.is_object())
        return fail("a layer must be a JSON object, not " + v.dump());
    if (!v.contains("type") || !v["type"].is_string())
        return fail("the layer has no \"type\"", "Use one of: " + typeList());
    const std::string type = v["type"].get<std::string>();
    const auto& rows = typeTable();
    auto row =
        std::find_if(rows.begin(), rows.end(), [&](const TypeRow& r) { return r.name == type; });
    if (row == rows.end())
        return fail("unknown layer type \"" + type + "\"", "Use one of: " + typeList());
    l.type = row->type;
    for (auto it = v.begin(); it != v.end(); ++it) {
        const std::string& k = it.key();
        if (k != "type" && k != "name" &&
            std::find(row->keys.begin(), row->keys.end(), k) == row->keys.end()) {
            std::string keys;
            for (const auto& a : row->keys)
                keys += (keys.empty() ? "" : ", ") + a;
            return fail("unknown key \"" + k + "\" for a " + type + " layer",
                        keys.empty() ? "It takes only \"type\" and \"name\""
                                     : "It takes \"name\" and: " + keys);
        }
    }
    auto number = [&](const char* key, double& dst) -> Status {
        if (!v.contains(key))
            return {};
        if (!v[key].is_number())
            return fail(std::string("\"") + key + "\" must be a number, not " + v[key].dump());
        dst = v[key].get<double>();
        return {};
    };
    auto integer = [&](const char* key, std::int64_t& dst) -> Status {
        if (!v.contains(key))
            return {};
        if (!v[key].is_number_integer())
            return fail(std::string("\"") + key + "\" must be an integer, not " + v[key].dump());
        dst = v[key].get<std::int64_t>();
        return {};
    };
    if (v.contains("name")) {
        if (!v["name"].is_string())
            return fail("\"name\" must be a string");
        l.name = v["name"].get<std::string>();
    }
    CS_TRY(integer("out", l.out));
    CS_TRY(integer("groups", l.groups));
    if (v.contains("bias")) {
        if (!v["bias"].is_boolean())
            return fail("\"bias\" must be true or false");
        l.bias = v["bias"].get<bool>();
    }
    if (v.contains("init")) {
        CS_TRY_ASSIGN(l.init, readInit(v["init"]));
        l.hasInit = true;
    }
    if (v.contains("kernel"))
        CS_TRY(readPair(v["kernel"], "kernel", l.kernelH, l.kernelW));
    if (l.type == LayerType::MaxPool2d || l.type == LayerType::AvgPool2d) {
        if (!v.contains("kernel"))
            l.kernelH = l.kernelW = 2;
        l.strideH = l.kernelH; // PyTorch: stride defaults to the kernel size
        l.strideW = l.kernelW;
    }
    if (v.contains("stride"))
        CS_TRY(readPair(v["stride"], "stride", l.strideH, l.strideW));
    if (v.contains("dilation"))
        CS_TRY(readPair(v["dilation"], "dilation", l.dilationH, l.dilationW));
    if (v.contains("padding")) {
        if (l.type != LayerType::Conv2d && !v["padding"].is_number_integer() &&
            !(v["padding"].is_array() && v["padding"].size() == 2))
            return fail("pooling \"padding\" must be an integer or [h, w]");
        CS_TRY(readPadding(v["padding"], l));
    }
    CS_TRY(number("slope", l.slope));
    CS_TRY(number("rate", l.rate));
    CS_TRY(number("eps", l.eps));
    CS_TRY(number("momentum", l.momentum));
    if (l.type == LayerType::Residual) {
        if (!v.contains("body"))
            return fail("a residual block needs a \"body\" (a list of layers)");
        CS_TRY_ASSIGN(l.body, readLayers(v["body"], "body layer"));
        if (v.contains("shortcut")) {
            const std::string s = v["shortcut"].is_string() ? v["shortcut"].get<std::string>() : "";
            if (s == "identity")
                l.shortcut = Shortcut::Identity;
            else if (s == "projection")
                l.shortcut = Shortcut::Projection;
            else if (s == "none")
                l.shortcut = Shortcut::None;
            else
                return fail("\"shortcut\" must be \"identity\", \"projection\" or \"none\", not " +
                            v["shortcut"].dump());
        }
        if (v.contains("shortcut_batch_norm")) {
            if (!v["shortcut_batch_norm"].is_boolean())
                return fail("\"shortcut_batch_norm\" must be true or false");
            l.shortcutBatchNorm = v["shortcut_batch_norm"].get<bool>();
        }
        if (v.contains("activation")) {
            const std::string a =
                v["activation"].is_string() ? v["activation"].get<std::string>() : "";
            if (a == "relu")
                l.activation = LayerType::Relu;
            else if (a == "none")
                l.activation = LayerType::Flatten;
            else
                return fail("\"activation\" after the add must be \"relu\" or \"none\"");
        }
    }
    if (l.type == LayerType::Concat) {
        if (!v.contains("branches") || !v["branches"].is_array() || v["branches"].size() < 2)
            return fail("a concat block needs \"branches\": a list of at least two layer lists");
        for (std::size_t i = 0; i < v["branches"].size(); ++i) {
            auto branch = readLayers(v["branches"][i], "layer");
            if (!branch.ok())
                return branch.status().within("branch " + std::to_string(i + 1));
            if (branch->empty())
                return fail("branch " + std::to_string(i + 1) + " is empty",
                            "Every branch needs at least one layer");
            l.branches.push_back(std::move(*branch));
        }
    }
    return {};
}

Result<std::vector<LayerSpec>> readLayers(const json& v, const std::string& noun) {
    if (!v.is_array())
        return fail("expected a list of layers, not " + v.dump());
    std::vector<LayerSpec> layers(v.size());
    std::set<std::string> names;
    for (std::size_t i = 0; i < v.size(); ++i) {
        Status s = readLayer(v[i], layers[i]);
        LayerSpec& l = layers[i];
        const std::string label =
            noun + " " + std::to_string(i + 1) + (l.name.empty() ? "" : " " + l.name);
        if (!s.ok())
            return s.within(label);
        if (l.name.empty())
            l.name = std::string(layerTypeName(l.type)) + "_" + std::to_string(i + 1);
        if (l.name.find_first_not_of(
                "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") !=
            std::string::npos)
            return fail("name \"" + l.name + "\" may hold only letters, digits, _ and -")
                .within(label);
        if (!names.insert(l.name).second)
            return fail("the name \"" + l.name + "\" is used twice",
                        "Give every layer its own name")
                .within(label);
    }
    return layers;
}

json pairJson(std::int64_t h, std::int64_t w) {
    return h == w ? json(h) : json::array({h, w});
}

json initJson(const Init& i) {
    const char* n = "he-normal";
    for (const auto& [s, name] : kInitNames)
        if (s == i.scheme)
            n = name;
    if (i.scheme == InitScheme::Normal)
        return {{"scheme", n}, {"sigma", i.sigma}};
    if (i.scheme == InitScheme::Constant)
        return {{"scheme", n}, {"value", i.value}};
    return n;
}

json layersJson(const std::vector<LayerSpec>& layers);

json layerJson(const LayerSpec& l) {
    static const LayerSpec d;
    json j;
    j["type"] = layerTypeName(l.type);
    j["name"] = l.name;
    switch (l.type) {
    case LayerType::Conv2d:
    case LayerType::Linear:
        j["out"] = l.out;
        if (!l.bias)
            j["bias"] = false;
        if (l.hasInit)
            j["init"] = initJson(l.init);
        if (l.type == LayerType::Linear)
            break;
        j["kernel"] = pairJson(l.kernelH, l.kernelW);
        if (l.groups != 1)
            j["groups"] = l.groups;
        if (l.dilationH != 1 || l.dilationW != 1)
            j["dilation"] = pairJson(l.dilationH, l.dilationW);
        [[fallthrough]];
    case LayerType::MaxPool2d:
    case LayerType::AvgPool2d:
        if (l.type != LayerType::Conv2d)
            j["kernel"] = pairJson(l.kernelH, l.kernelW);
        // Defaults are left out: stride 1 for conv, the kernel for pooling (PyTorch), padding 0.
        if (l.type == LayerType::Conv2d ? (l.strideH != 1 || l.strideW != 1)
                                        : (l.strideH != l.kernelH || l.strideW != l.kernelW))
            j["stride"] = pairJson(l.strideH, l.strideW);
        if (!l.padMode.empty())
            j["padding"] = l.padMode;
        else if (l.padTop == l.padBottom && l.padLeft == l.padRight) {
            if (l.padTop != 0 || l.padLeft != 0)
                j["padding"] = pairJson(l.padTop, l.padLeft);
        } else
            j["padding"] = json::array({l.padTop, l.padBottom, l.padLeft, l.padRight});
        break;
    case LayerType::LeakyRelu:
        j["slope"] = l.slope;
        break;
    case LayerType::BatchNorm:
        if (l.momentum != d.momentum)
            j["momentum"] = l.momentum;
        [[fallthrough]];
    case LayerType::LayerNorm:
        if (l.eps != d.eps)
            j["eps"] = l.eps;
        break;
    case LayerType::Dropout:
        j["rate"] = l.rate;
        break;
    case LayerType::Residual:
        j["body"] = layersJson(l.body);
        j["shortcut"] = l.shortcut == Shortcut::Identity     ? "identity"
                        : l.shortcut == Shortcut::Projection ? "projection"
                                                             : "none";
        if (l.shortcutBatchNorm)
            j["shortcut_batch_norm"] = true;
        if (l.activation != LayerType::Relu)
            j["activation"] = "none";
        break;
    case LayerType::Concat:
        j["branches"] = json::array();
        for (const auto& b : l.branches)
            j["branches"].push_back(layersJson(b));
        break;
    default:
        break;
    }
    return j;
}

json layersJson(const std::vector<LayerSpec>& layers) {
    json a = json::array();
    for (const auto& l : layers)
        a.push_back(layerJson(l));
    return a;
}

} // namespace

const char* layerTypeName(LayerType t) {
    for (const auto& r : typeTable())
        if (r.type == t)
            return r.name;
    return "?";
}

std::string Init::name() const {
    std::string n = initJson(*this).is_string() ? initJson(*this).get<std::string>() : "";
    if (scheme == InitScheme::Normal)
        return "normal(" + json(sigma).dump() + ")";
    if (scheme == InitScheme::Constant)
        return "constant(" + json(value).dump() + ")";
    return n;
}

namespace {
Result<TrainingDefaults> readTraining(const json& t) {
    const std::string hint = "\"training\" takes optimizer (a name), lr and weight_decay "
                             "(numbers ≥ 0) and epochs (a positive integer)";
    if (!t.is_object())
        return Status::error("\"training\" must be an object", "", hint);
    TrainingDefaults d;
    for (auto it = t.begin(); it != t.end(); ++it) {
        const std::string& k = it.key();
        const json& v = it.value();
        ops::OptimizerKind kind;
        if (k == "optimizer" && v.is_string() &&
            ops::OptimizerConfig::parseKind(v.get<std::string>(), kind))
            d.optimizer = v.get<std::string>();
        else if (k == "lr" && v.is_number() && v.get<double>() > 0)
            d.lr = v.get<double>();
        else if (k == "weight_decay" && v.is_number() && v.get<double>() >= 0)
            d.weightDecay = v.get<double>();
        else if (k == "epochs" && v.is_number_integer() && v.get<std::int64_t>() > 0 &&
                 v.get<std::int64_t>() <= 1000)
            d.epochs = int(v.get<int>());
        else
            return Status::error("\"training\": bad or unknown entry \"" + k + "\"", "", hint);
    }
    return d;
}
} // namespace

namespace {
// How deep a NetSpec's JSON may nest: a network of blocks within blocks 20 deep needs about 60.
// Parsing, reading the layers, shape inference and error messages (json::dump) recurse.
constexpr int kMaxJsonDepth = 100;

// The deepest nesting of arrays and objects in `text` (exact for valid JSON; invalid JSON fails
// to parse anyway), stopping once past `limit`.
int jsonDepth(const std::string& text, int limit) {
    int depth = 0, deepest = 0;
    bool inString = false, escaped = false;
    for (const char c : text) {
        if (inString) {
            if (escaped)
                escaped = false;
            else if (c == '\\')
                escaped = true;
            else if (c == '"')
                inString = false;
        } else if (c == '"') {
            inString = true;
        } else if (c == '[' || c == '{') {
            deepest = std::max(deepest, ++depth);
            if (deepest > limit)
                break;
        } else if (c == ']' || c == '}') {
            --depth;
        }
    }
    return deepest;
}

Result<NetSpec> parseNetSpecJson(const std::string& text, const std::string& where) {
    if (jsonDepth(text, kMaxJsonDepth) > kMaxJsonDepth)
        return Status::error("the JSON nests deeper than " + std::to_string(kMaxJsonDepth) +
                                 " levels",
                             where, "A NetSpec's blocks nest a few levels, not hundreds");
    json j;
    try {
        j = json::parse(text);
    } catch (const json::parse_error& e) {
        return Status::error(std::string("not valid JSON: ") + e.what(), where,
                             "Check brackets, commas and quotes near the byte named");
    } catch (const json::out_of_range& e) { // a number beyond a double, e.g. 1e400
        return Status::error(std::string("a number is out of range: ") + e.what(), where,
                             "Use numbers a double can hold (below about 1.8e308)");
    }
    if (!j.is_object())
        return Status::error("a NetSpec must be a JSON object", where);
    NetSpec spec;
    for (auto it = j.begin(); it != j.end(); ++it) {
        static const std::set<std::string> keys = {"name", "description", "input",
                                                   "init", "layers",      "training"};
        if (!keys.count(it.key()))
            return Status::error("unknown key \"" + it.key() + "\"", where,
                                 "A NetSpec takes name, description, input, init, layers and "
                                 "training");
    }
    if (j.contains("name") && j["name"].is_string())
        spec.name = j["name"].get<std::string>();
    if (j.contains("description") && j["description"].is_string())
        spec.description = j["description"].get<std::string>();
    if (!j.contains("input") || !j["input"].is_array() || j["input"].size() != 3 ||
        !std::all_of(j["input"].begin(), j["input"].end(), [](const json& e) {
            return e.is_number_integer() && e.get<std::int64_t>() > 0;
        }))
        return Status::error("\"input\" must be [channels, height, width] with positive integers",
                             where, "Fashion-MNIST is [1, 28, 28], CIFAR-10 [3, 32, 32]");
    spec.channels = j["input"][0].get<std::int64_t>();
    spec.height = j["input"][1].get<std::int64_t>();
    spec.width = j["input"][2].get<std::int64_t>();
    if (j.contains("init")) {
        auto init = readInit(j["init"]);
        if (!init.ok())
            return init.status().within(where);
        spec.init = *init;
    }
    if (!j.contains("layers"))
        return Status::error("no \"layers\"", where);
    auto layers = readLayers(j["layers"], "layer");
    if (!layers.ok())
        return layers.status().within(where);
    if (layers->empty())
        return Status::error("\"layers\" is empty", where, "Add at least one layer");
    spec.layers = std::move(*layers);
    if (j.contains("training")) {
        auto t = readTraining(j["training"]);
        if (!t.ok())
            return t.status().within(where);
        spec.training = *t;
    }
    return spec;
}
} // namespace

Result<NetSpec> parseNetSpec(const std::string& text, const std::string& where) {
    // Every exception nlohmann/json can throw (a value of the wrong type or range deep in a
    // layer) becomes an error; none reaches the caller (a Qt slot, main).
    try {
        return parseNetSpecJson(text, where);
    } catch (const json::exception& e) {
        return Status::error(std::string("the NetSpec has a value it cannot use: ") + e.what(),
                             where, "Check the numbers and types of the layer settings");
    } catch (const std::exception& e) {
        return Status::error(std::string("the NetSpec could not be read: ") + e.what(), where);
    }
}

Result<NetSpec> loadNetSpec(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in)
        return Status::error("cannot open the NetSpec file", path,
                             "Check the path, or use --preset (convscope-cli inspect --list)");
    std::stringstream ss;
    ss << in.rdbuf();
    return parseNetSpec(ss.str(), path);
}

std::string toJson(const NetSpec& spec) {
    json j;
    j["name"] = spec.name;
    if (!spec.description.empty())
        j["description"] = spec.description;
    j["input"] = json::array({spec.channels, spec.height, spec.width});
    j["init"] = initJson(spec.init);
    j["layers"] = layersJson(spec.layers);
    if (!spec.training.empty()) {
        json t = json::object();
        const TrainingDefaults& d = spec.training;
        if (!d.optimizer.empty())
            t["optimizer"] = d.optimizer;
        if (d.lr > 0)
            t["lr"] = d.lr;
        if (d.weightDecay >= 0)
            t["weight_decay"] = d.weightDecay;
        if (d.epochs > 0)
            t["epochs"] = d.epochs;
        j["training"] = t;
    }
    return j.dump(2) + "\n";
}

NetSpec mlpSpec(std::int64_t channels, std::int64_t height, std::int64_t width,
                const std::vector<std::int64_t>& hidden, std::int64_t classes) {
    NetSpec spec;
    spec.name = "mlp";
    spec.channels = channels;
    spec.height = height;
    spec.width = width;
    LayerSpec flatten;
    flatten.type = LayerType::Flatten;
    flatten.name = "flatten";
    spec.layers.push_back(flatten);
    for (std::size_t i = 0; i <= hidden.size(); ++i) {
        LayerSpec fc;
        fc.type = LayerType::Linear;
        fc.name = "fc" + std::to_string(i + 1);
        fc.out = i < hidden.size() ? hidden[i] : classes;
        spec.layers.push_back(fc);
        if (i < hidden.size()) {
            LayerSpec relu;
            relu.type = LayerType::Relu;
            relu.name = "relu" + std::to_string(i + 1);
            spec.layers.push_back(relu);
        }
    }
    return spec;
}

bool fitInput(NetSpec& spec, std::int64_t channels, std::int64_t height, std::int64_t width) {
    if (spec.channels == channels && spec.height == height && spec.width == width)
        return false;
    spec.channels = channels;
    spec.height = height;
    spec.width = width;
    return true;
}

std::vector<std::string> presetNames() {
    std::vector<std::string> names;
    for (const auto& [name, text] : embedded::presets)
        names.emplace_back(name);
    return names;
}

Result<NetSpec> preset(const std::string& name) {
    for (const auto& [n, text] : embedded::presets)
        if (n == name)
            return parseNetSpec(std::string(text), "preset " + name);
    std::string names;
    for (const auto& n : presetNames())
        names += (names.empty() ? "" : ", ") + n;
    return Status::error("no preset named \"" + name + "\"", "presets", "Choose one of: " + names);
}

} // namespace convscope::model
