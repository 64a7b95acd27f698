// Controlled experiments: the twin's spec and settings, shared initial weights and the pair
// trained interleaved.
#include "train/twin.h"
#include "core/format.h"
#include "io/atomic_file.h"
#include "model/network.h"
#include "train/run_folder.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <optional>
#include <set>

namespace convscope::train {

using model::Dims;
using model::LayerSpec;
using model::LayerType;
using model::NetSpec;
using model::Shortcut;

namespace {

double now() {
    using namespace std::chrono;
    return duration<double>(steady_clock::now().time_since_epoch()).count();
}

std::string trim(const std::string& s) {
    const auto a = s.find_first_not_of(" \t");
    if (a == std::string::npos)
        return {};
    return s.substr(a, s.find_last_not_of(" \t") - a + 1);
}

// A whole string as a number (C locale); false otherwise.
bool number(const std::string& s, double& v) {
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    return !s.empty() && ec == std::errc() && end == s.data() + s.size() && std::isfinite(v);
}

Status badValue(const TwinKey& k, const std::string& value) {
    return Status::error("\"" + value + "\" is not a value of " + k.key,
                         "twin " + std::string(k.key), std::string(k.key) + " takes " + k.values);
}

// The NetSpec parser's reading of an init spelling (so both accept the same names).
Result<model::Init> readInit(const std::string& value) {
    const nlohmann::json j = {
        {"name", "init"},
        {"input", {1, 2, 2}},
        {"init", value},
        {"layers", {{{"type", "flatten"}}, {{"type", "linear"}, {"out", 2}}}}};
    CS_TRY_ASSIGN(NetSpec s, model::parseNetSpec(j.dump(), "init"));
    return s.init;
}

// --- Walking a spec: every layer list (top level, residual bodies, concat branches).
template <class F>
void forEachList(std::vector<LayerSpec>& layers, F&& f) {
    f(layers);
    for (auto& l : layers) {
        forEachList(l.body, f);
        for (auto& b : l.branches)
            forEachList(b, f);
    }
}
template <class F>
void forEachLayer(std::vector<LayerSpec>& layers, F&& f) {
    forEachList(layers, [&](std::vector<LayerSpec>& list) {
        for (auto& l : list)
            f(l);
    });
}

// A name not used in `list`: `base`, else base_2, base_3, ...
std::string freeName(const std::vector<LayerSpec>& list, const std::string& base) {
    auto used = [&](const std::string& n) {
        return std::any_of(list.begin(), list.end(),
                           [&](const LayerSpec& l) { return l.name == n; });
    };
    if (!used(base))
        return base;
    for (int i = 2;; ++i)
        if (!used(base + "_" + std::to_string(i)))
            return base + "_" + std::to_string(i);
}

LayerSpec simpleLayer(LayerType t, const std::string& name) {
    LayerSpec l;
    l.type = t;
    l.name = name;
    return l;
}

bool isActivation(LayerType t) {
    return t == LayerType::Relu || t == LayerType::LeakyRelu || t == LayerType::Sigmoid ||
           t == LayerType::Tanh;
}

// The classifier: the network's last learnable layer when it is a top-level linear or conv2d
// layer (a 1x1 convolution before global pooling classifies too).
const LayerSpec* classifier(const NetSpec& spec) {
    for (auto it = spec.layers.rbegin(); it != spec.layers.rend(); ++it) {
        if (it->type == LayerType::Linear || it->type == LayerType::Conv2d)
            return &*it;
        if (it->type == LayerType::Residual || it->type == LayerType::Concat)
            return nullptr;
    }
    return nullptr;
}

std::string plural(std::int64_t n, const std::string& what) {
    return std::to_string(n) + " " + what + (n == 1 ? "" : "s");
}

// --- The network keys. Each returns the description, or an error when nothing changed.

Result<std::string> batchNorm(NetSpec& s, bool on) {
    int layers = 0, shortcuts = 0;
    const LayerSpec* last = classifier(s);
    const std::string lastName = last ? last->name : std::string();
    forEachList(s.layers, [&](std::vector<LayerSpec>& list) {
        const bool top = &list == &s.layers;
        if (!on) {
            const auto n = std::erase_if(
                list, [](const LayerSpec& l) { return l.type == LayerType::BatchNorm; });
            layers += int(n);
        } else {
            for (std::size_t i = 0; i < list.size(); ++i) {
                const LayerSpec& l = list[i];
                if (l.type != LayerType::Conv2d && l.type != LayerType::Linear)
                    continue;
                if (top && l.name == lastName)
                    continue; // not after the classifier
                if (i + 1 < list.size() && list[i + 1].type == LayerType::BatchNorm)
                    continue;
                list.insert(list.begin() + std::ptrdiff_t(i + 1),
                            simpleLayer(LayerType::BatchNorm, freeName(list, l.name + "_bn")));
                ++layers;
            }
        }
        for (auto& l : list)
            if (l.type == LayerType::Residual && l.shortcut == Shortcut::Projection &&
                l.shortcutBatchNorm != on) {
                l.shortcutBatchNorm = on;
                ++shortcuts;
            }
    });
    if (layers + shortcuts == 0)
        return Status::error(on ? "every conv2d and hidden linear layer has batch norm already"
                                : "the network has no batch norm",
                             "twin bn=" + std::string(on ? "on" : "off"),
                             "bn=" + std::string(on ? "off" : "on") + " makes a twin of it");
    std::string d = std::string("batch norm ") + (on ? "on: " : "off: ") +
                    plural(layers, "batch_norm layer") + (on ? " added" : " removed");
    if (shortcuts > 0)
        d += " (and " + std::string(on ? "added to " : "removed from ") +
             plural(shortcuts, "projection shortcut") + ")";
    return d;
}

Result<std::string> dropout(NetSpec& s, const std::string& value) {
    if (value == "off") {
        int n = 0;
        forEachList(s.layers, [&](std::vector<LayerSpec>& list) {
            n += int(std::erase_if(
                list, [](const LayerSpec& l) { return l.type == LayerType::Dropout; }));
        });
        if (n == 0)
            return Status::error("the network has no dropout", "twin dropout=off",
                                 "dropout=0.5 makes a twin with dropout");
        return "dropout off: " + plural(n, "dropout layer") + " removed";
    }
    double rate = 0;
    (void)number(value, rate); // checked by checkTwin
    int existing = 0, changed = 0;
    forEachLayer(s.layers, [&](LayerSpec& l) {
        if (l.type != LayerType::Dropout)
            return;
        ++existing;
        if (l.rate != rate) {
            l.rate = rate;
            ++changed;
        }
    });
    if (existing > 0) {
        if (changed == 0)
            return Status::error("every dropout has rate " + value + " already",
                                 "twin dropout=" + value, "Pick another rate, or dropout=off");
        return "dropout rate " + value + ": set on " + plural(changed, "dropout layer");
    }
    // None yet: before every linear layer that follows another linear layer (fc2 and fc3 of
    // lenet5, as in the lenet5-dropout preset); a network with one linear layer after
    // convolutions (resnet20) gets one before it.
    int added = 0;
    forEachList(s.layers, [&](std::vector<LayerSpec>& list) {
        bool seen = false;
        for (std::size_t i = 0; i < list.size(); ++i) {
            if (list[i].type != LayerType::Linear)
                continue;
            if (seen) {
                LayerSpec d =
                    simpleLayer(LayerType::Dropout, freeName(list, "drop_" + list[i].name));
                d.rate = rate;
                list.insert(list.begin() + std::ptrdiff_t(i), d);
                ++i;
                ++added;
            }
            seen = true;
        }
    });
    if (added == 0) {
        auto it = std::find_if(s.layers.rbegin(), s.layers.rend(),
                               [](const LayerSpec& l) { return l.type == LayerType::Linear; });
        const bool learnableBefore =
            it != s.layers.rend() &&
            std::any_of(std::next(it), s.layers.rend(), [](const LayerSpec& l) {
                return l.type == LayerType::Conv2d || l.type == LayerType::Residual ||
                       l.type == LayerType::Concat;
            });
        if (!learnableBefore)
            return Status::error("the network has no linear layer after another learnable layer "
                                 "to put dropout before",
                                 "twin dropout=" + value);
        auto at = std::prev(it.base());
        LayerSpec d = simpleLayer(LayerType::Dropout, freeName(s.layers, "drop_" + at->name));
        d.rate = rate;
        s.layers.insert(at, d);
        added = 1;
    }
    return "dropout " + value + ": " + plural(added, "dropout layer") +
           " added before the linear layers";
}

Result<std::string> initialisation(NetSpec& s, const model::Init& init) {
    const std::string name = init.name(), before = s.init.name();
    int own = 0;
    bool changed = before != name;
    s.init = init;
    forEachLayer(s.layers, [&](LayerSpec& l) {
        if (l.hasInit && l.init.name() != name) {
            l.init = init;
            ++own;
            changed = true;
        }
    });
    if (!changed)
        return Status::error("the network is initialised with " + name + " already",
                             "twin init=" + name);
    return "initialisation " + name + " instead of " + before +
           (own > 0 ? " (and " + plural(own, "layer") + " with an init of its own)" : "") +
           ": the twin's initial weights are its own";
}

Result<std::string> activation(NetSpec& s, LayerType to, const std::string& value) {
    int changed = 0, blocks = 0;
    std::set<std::string> from;
    forEachList(s.layers, [&](std::vector<LayerSpec>& list) {
        for (std::size_t i = 0; i < list.size(); ++i) {
            LayerSpec& l = list[i];
            if (isActivation(l.type) && l.type != to) {
                from.insert(model::layerTypeName(l.type));
                l.type = to;
                ++changed;
            }
            // A residual block's activation after the add is relu or none in a NetSpec: the
            // twin's is none, followed by the new activation (the same function).
            if (l.type == LayerType::Residual && l.activation == LayerType::Relu &&
                to != LayerType::Relu) {
                l.activation = LayerType::Flatten;
                list.insert(list.begin() + std::ptrdiff_t(i + 1),
                            simpleLayer(to, freeName(list, l.name + "_act")));
                ++i;
                ++blocks;
                from.insert("relu");
            }
        }
    });
    if (changed + blocks == 0)
        return Status::error("every activation is " + value + " already",
                             "twin activation=" + value);
    std::string list;
    for (const auto& f : from)
        list += (list.empty() ? "" : "/") + f;
    std::string d = "activation " + value + " instead of " + list + ": " +
                    plural(changed, "layer") + " changed";
    if (blocks > 0)
        d += ", and " + plural(blocks, "residual block") + " end in " + value;
    return d;
}

Result<Dims> listOutput(const std::vector<LayerSpec>& list, Dims in);

// A layer's output for input `in`; blocks too (model::layerOutput leaves them to analyze()).
Result<Dims> outputOf(const LayerSpec& l, const Dims& in) {
    if (l.type == LayerType::Residual)
        return listOutput(l.body, in);
    if (l.type == LayerType::Concat) {
        Dims out;
        for (std::size_t i = 0; i < l.branches.size(); ++i) {
            CS_TRY_ASSIGN(Dims b, listOutput(l.branches[i], in));
            if (i == 0)
                out = b;
            else
                out.c += b.c;
        }
        return out;
    }
    return model::layerOutput(l, in);
}

// The output of a layer list for input `in`.
Result<Dims> listOutput(const std::vector<LayerSpec>& list, Dims in) {
    for (const auto& l : list) {
        CS_TRY_ASSIGN(in, outputOf(l, in));
    }
    return in;
}

Status shortcutsIn(std::vector<LayerSpec>& list, Dims in, Shortcut to, int& changed,
                   int& projections) {
    for (auto& l : list) {
        if (l.type == LayerType::Residual) {
            CS_TRY(shortcutsIn(l.body, in, to, changed, projections));
            if (l.shortcut != to) {
                CS_TRY_ASSIGN(Dims out, listOutput(l.body, in));
                Shortcut next = to;
                if (to == Shortcut::Identity && !(out == in)) {
                    next = Shortcut::Projection;
                    if (l.shortcut != next)
                        ++projections;
                }
                if (l.shortcut != next) {
                    if (next == Shortcut::Projection && l.shortcut == Shortcut::None)
                        l.shortcutBatchNorm =
                            std::any_of(l.body.begin(), l.body.end(), [](const LayerSpec& b) {
                                return b.type == LayerType::BatchNorm;
                            });
                    l.shortcut = next;
                    ++changed;
                }
            }
        } else if (l.type == LayerType::Concat) {
            for (auto& b : l.branches)
                CS_TRY(shortcutsIn(b, in, to, changed, projections));
        }
        CS_TRY_ASSIGN(in, outputOf(l, in));
    }
    return {};
}

Result<std::string> shortcuts(NetSpec& s, const std::string& value) {
    const Shortcut to = value == "none"       ? Shortcut::None
                        : value == "identity" ? Shortcut::Identity
                                              : Shortcut::Projection;
    int blocks = 0;
    forEachLayer(s.layers, [&](LayerSpec& l) { blocks += l.type == LayerType::Residual; });
    if (blocks == 0)
        return Status::error("the network has no residual blocks", "twin shortcut=" + value,
                             "Shortcuts are a property of residual blocks (resnet20, plain20)");
    int changed = 0, projections = 0;
    CS_TRY(shortcutsIn(s.layers, Dims{s.channels, s.height, s.width, false}, to, changed,
                       projections));
    if (changed == 0)
        return Status::error("every residual block has the shortcut " + value +
                                 (to == Shortcut::Identity ? " (or a projection where the shape "
                                                             "changes)"
                                                           : "") +
                                 " already",
                             "twin shortcut=" + value);
    std::string d = "shortcut " + value + ": " + plural(changed, "residual block") + " changed";
    if (projections > 0)
        d += " (" + plural(projections, "projection") + " where the shape changes)";
    if (to == Shortcut::None)
        d += ", a plain network";
    return d;
}

bool adamFamily(ops::OptimizerKind k) {
    return k == ops::OptimizerKind::Adam || k == ops::OptimizerKind::AdamW;
}

} // namespace

const std::vector<TwinKey>& twinKeys() {
    static const std::vector<TwinKey> keys = {
        {"bn", "on | off", "batch norm after every conv and hidden linear layer"},
        {"dropout", "off | a rate in (0, 1)", "dropout before the linear layers (or its rate)"},
        {"init",
         "he | he-normal | he-uniform | xavier | xavier-normal | xavier-uniform | zeros | "
         "normal(σ)",
         "the weights' initialisation"},
        {"activation", "relu | sigmoid | tanh | leaky", "every activation function"},
        {"shortcut", "none | identity | projection", "the residual blocks' shortcuts"},
        {"optimizer", "sgd | momentum | nesterov | rmsprop | adam | adamw", "the optimizer"},
        {"lr", "a positive number", "the learning rate"},
        {"batch", "a whole number 1..8192", "the batch size"},
    };
    return keys;
}

Result<TwinChange> checkTwin(const std::string& keyIn, const std::string& valueIn) {
    const std::string key = trim(keyIn), value = trim(valueIn);
    const auto& keys = twinKeys();
    auto it =
        std::find_if(keys.begin(), keys.end(), [&](const TwinKey& k) { return key == k.key; });
    if (it == keys.end()) {
        std::string list;
        for (const auto& k : keys)
            list += (list.empty() ? "" : ", ") + std::string(k.key);
        return Status::error("unknown key \"" + key + "\"", "twin",
                             "The keys are " + list + " (KEY=VALUE, e.g. bn=off)");
    }
    TwinChange c{key, value};
    double x = 0;
    if (key == "bn") {
        if (value != "on" && value != "off")
            return badValue(*it, value);
    } else if (key == "dropout") {
        if (value != "off" && (!number(value, x) || x <= 0 || x >= 1))
            return badValue(*it, value);
    } else if (key == "init") {
        std::string v = value == "he" ? "he-normal" : value == "xavier" ? "xavier-normal" : value;
        auto init = readInit(v);
        if (!init.ok() || init->scheme == model::InitScheme::Constant)
            return badValue(*it, value);
        c.value = init->name();
    } else if (key == "activation") {
        c.value = value == "leaky_relu" ? "leaky" : value;
        if (c.value != "relu" && c.value != "sigmoid" && c.value != "tanh" && c.value != "leaky")
            return badValue(*it, value);
    } else if (key == "shortcut") {
        if (value != "none" && value != "identity" && value != "projection")
            return badValue(*it, value);
    } else if (key == "optimizer") {
        ops::OptimizerKind k;
        if (!ops::OptimizerConfig::parseKind(value, k))
            return badValue(*it, value);
    } else if (key == "lr") {
        if (!number(value, x) || x <= 0)
            return badValue(*it, value);
    } else if (key == "batch") {
        std::int64_t n = 0;
        const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
        if (value.empty() || ec != std::errc() || end != value.data() + value.size() || n < 1 ||
            n > 8192)
            return badValue(*it, value);
    }
    return c;
}

Result<TwinChange> parseTwin(const std::string& s) {
    const auto eq = s.find('=');
    if (eq == std::string::npos) {
        std::string list;
        for (const auto& k : twinKeys())
            list += (list.empty() ? "" : ", ") + std::string(k.key);
        return Status::error("\"" + s + "\" is not KEY=VALUE", "twin",
                             "e.g. bn=off, init=zeros, activation=sigmoid; the keys are " + list);
    }
    return checkTwin(s.substr(0, eq), s.substr(eq + 1));
}

Result<Twin> makeTwin(const NetSpec& spec, const TrainConfig& cfg, const TwinChange& change) {
    CS_TRY_ASSIGN(TwinChange c, checkTwin(change.key, change.value));
    Twin t;
    t.change = c;
    t.spec = spec;
    t.config = cfg;
    const std::string& k = c.key;
    const std::string& v = c.value;
    std::string d;
    if (k == "bn") {
        CS_TRY_ASSIGN(d, batchNorm(t.spec, v == "on"));
    } else if (k == "dropout") {
        CS_TRY_ASSIGN(d, dropout(t.spec, v));
    } else if (k == "init") {
        CS_TRY_ASSIGN(model::Init init, readInit(v));
        CS_TRY_ASSIGN(d, initialisation(t.spec, init));
    } else if (k == "activation") {
        const LayerType to = v == "relu"      ? LayerType::Relu
                             : v == "sigmoid" ? LayerType::Sigmoid
                             : v == "tanh"    ? LayerType::Tanh
                                              : LayerType::LeakyRelu;
        CS_TRY_ASSIGN(d, activation(t.spec, to, v));
    } else if (k == "shortcut") {
        CS_TRY_ASSIGN(d, shortcuts(t.spec, v));
    } else if (k == "optimizer") {
        auto& o = t.config.optimizer;
        ops::OptimizerKind kind;
        (void)ops::OptimizerConfig::parseKind(v, kind);
        if (kind == o.kind)
            return Status::error("the optimizer is " + v + " already", "twin optimizer=" + v);
        const std::string before = o.name();
        d = "optimizer " + v + " instead of " + before;
        // Adam's usual rate is not SGD's: across the families the twin takes the other's
        // default (the command line's), which the description says.
        if (adamFamily(kind) != adamFamily(o.kind)) {
            const double lr = adamFamily(kind) ? 0.001 : 0.02;
            if (lr != o.lr)
                d += " (lr " + shortNumber(lr) + ", " + v + "'s default, instead of " +
                     shortNumber(o.lr) + ")";
            o.lr = lr;
        }
        o.kind = kind;
    } else if (k == "lr") {
        double lr = 0;
        (void)number(v, lr);
        if (lr == t.config.optimizer.lr)
            return Status::error("the learning rate is " + v + " already", "twin lr=" + v);
        d = "learning rate " + shortNumber(lr) + " instead of " +
            shortNumber(t.config.optimizer.lr);
        t.config.optimizer.lr = lr;
    } else if (k == "batch") {
        const std::int64_t b = std::stoll(v);
        if (b == t.config.batch)
            return Status::error("the batch size is " + v + " already", "twin batch=" + v);
        d = "batch " + v + " instead of " + std::to_string(t.config.batch) +
            ": the same order of images, in different batches";
        t.config.batch = b;
    }
    CS_TRY(t.config.optimizer.check().within("twin " + c.str()));
    t.networkChanged =
        k == "bn" || k == "dropout" || k == "init" || k == "activation" || k == "shortcut";
    if (t.networkChanged) {
        t.spec.name = spec.name + "-" + k + "-" + v;
        if (auto a = model::analyze(t.spec); !a.ok())
            return a.status().within("twin " + c.str());
    }
    t.description = d;
    return t;
}

Result<SharedWeights> shareWeights(Backend& be, const model::Network& a, const model::Network& b,
                                   bool copy) {
    SharedWeights w;
    auto dims = [](const std::vector<std::int64_t>& d) {
        std::string s;
        for (auto x : d) {
            if (!s.empty())
                s += 'x';
            s += std::to_string(x);
        }
        return s;
    };
    std::vector<std::byte> bytes;
    for (const auto& ta : a.namedTensors()) {
        auto tb = std::find_if(b.namedTensors().begin(), b.namedTensors().end(),
                               [&](const model::NamedTensor& t) { return t.name == ta.name; });
        if (tb == b.namedTensors().end()) {
            w.notShared.push_back(ta.name + " (only in a)");
        } else if (tb->dims != ta.dims || tb->parameter != ta.parameter) {
            w.notShared.push_back(ta.name + " (" + dims(ta.dims) + " in a, " + dims(tb->dims) +
                                  " in b)");
        } else if (!copy) {
            w.notShared.push_back(ta.name + " (its own initialisation)");
        } else {
            bytes.resize(ta.tensor.bytes);
            CS_TRY(be.readBytes(ta.tensor, bytes.data(), bytes.size()));
            CS_TRY(be.writeBytes(tb->tensor, bytes.data(), bytes.size()));
            w.shared.push_back(ta.name);
        }
    }
    for (const auto& tb : b.namedTensors())
        if (std::none_of(a.namedTensors().begin(), a.namedTensors().end(),
                         [&](const model::NamedTensor& t) { return t.name == tb.name; }))
            w.notShared.push_back(tb.name + " (only in b)");
    return w;
}

namespace {

Status writeTwinJson(const std::string& dir, const std::string& otherDir, int run, const Twin& twin,
                     const SharedWeights& w, const TrainConfig& cfg, const std::string& dataset) {
    namespace fs = std::filesystem;
    std::error_code ec;
    const fs::path self = fs::absolute(dir, ec), other = fs::absolute(otherDir, ec);
    nlohmann::json j = {{"format", "convscope-twin-1"},
                        {"run", run == 0 ? "a" : "b"},
                        {"change", twin.change.str()},
                        {"key", twin.change.key},
                        {"value", twin.change.value},
                        {"description", twin.description},
                        {"other", other.lexically_relative(self).generic_string()},
                        {"shared", w.shared},
                        {"not_shared", w.notShared},
                        {"seed", cfg.seed},
                        {"dataset", dataset}};
    return io::writeFileAtomic((fs::path(dir) / "twin.json").string(), j.dump(2) + "\n");
}

} // namespace

Status trainPair(Backend& be, const NetSpec& specA, const TrainConfig& cfgA, const Twin& twin,
                 const data::TrainTestSplit& data, const PairOptions& o, PairResult* result) {
    PairResult local;
    PairResult& res = result ? *result : local;
    res = PairResult{};
    if (twin.config.seed != cfgA.seed || twin.config.shuffle != cfgA.shuffle)
        return Status::error("the twin's seed and shuffling must be A's", "trainPair");
    if (o.dirs[0].empty() != o.dirs[1].empty() || (!o.dirs[0].empty() && o.dirs[0] == o.dirs[1]))
        return Status::error("give two different run folders, or none", "trainPair");
    CS_TRY(be.reset());
    model::Network netA(specA), netB(twin.spec);
    Trainer ta(be, netA, data, cfgA), tb(be, netB, data, twin.config);
    std::array<Trainer*, 2> trainers{&ta, &tb};
    CS_TRY(Trainer::setupTogether({&ta, &tb}));
    // The same initial weights wherever name and shape agree (an init twin keeps its own).
    CS_TRY_ASSIGN(res.weights, shareWeights(be, netA, netB, twin.change.key != "init"));

    std::array<std::optional<RunFolder>, 2> folders;
    if (!o.dirs[0].empty())
        for (int r = 0; r < 2; ++r) {
            CS_TRY_ASSIGN(RunFolder f,
                          RunFolder::create(o.dirs[std::size_t(r)], r == 0 ? specA : twin.spec,
                                            o.datasetName, data));
            folders[std::size_t(r)] = std::move(f);
            CS_TRY(writeTwinJson(o.dirs[std::size_t(r)], o.dirs[std::size_t(1 - r)], r, twin,
                                 res.weights, cfgA, o.datasetName));
        }

    std::array<std::int64_t, 2> total{};
    std::array<double, 2> perStep{0, 0};
    for (std::size_t r = 0; r < 2; ++r) {
        const TrainConfig& c = trainers[r]->config();
        total[r] = trainers[r]->stepsPerEpoch() * c.epochs;
        if (c.maxSteps > 0)
            total[r] = std::min(total[r], c.maxSteps);
    }
    std::array<Status, 2> saved;
    auto cancelled = [&] { return o.cancel && o.cancel->load(); };
    while (!cancelled()) {
        // The run further behind goes next (A on a tie).
        int r = -1;
        double behind = 2;
        for (int i = 0; i < 2; ++i) {
            const std::size_t u = std::size_t(i);
            if (!res.status[u].ok() || trainers[u]->stepsDone() >= total[u])
                continue;
            const double f = double(trainers[u]->stepsDone()) / double(total[u]);
            if (f < behind) {
                behind = f;
                r = i;
            }
        }
        if (r < 0)
            break;
        const std::size_t u = std::size_t(r);
        Trainer& t = *trainers[u];
        // About sliceSeconds of steps (one step first, to measure), and at most a twentieth of
        // the run, so even a short run alternates.
        const std::int64_t cap = std::max<std::int64_t>(1, total[u] / 20);
        std::int64_t steps = 1;
        if (perStep[u] > 0 && o.sliceSeconds > 0)
            steps = std::int64_t(std::min(double(cap), o.sliceSeconds / perStep[u]));
        steps = std::clamp<std::int64_t>(steps, 1, cap);
        steps = std::min(steps, total[u] - t.stepsDone());
        auto onStep = [&](const StepReport& s) {
            if (folders[u])
                (void)folders[u]->logStep(s);
            if (o.onStep)
                o.onStep(r, s);
        };
        auto onEpoch = [&](const EpochReport& e) {
            if (folders[u]) {
                (void)folders[u]->logEpoch(e, t.stepsDone());
                if (Status s = folders[u]->checkpoint(t).status(); !s.ok() && saved[u].ok())
                    saved[u] = s;
            }
            if (o.onEpoch)
                o.onEpoch(r, e);
        };
        const double start = now();
        const std::int64_t before = t.stepsDone();
        Status s = t.runSteps(steps, onStep, onEpoch, o.cancel);
        if (t.stepsDone() > before) {
            const double per = (now() - start) / double(t.stepsDone() - before);
            perStep[u] = perStep[u] > 0 ? 0.5 * perStep[u] + 0.5 * per : per;
        }
        if (!s.ok() && !cancelled())
            res.status[u] = s.within(r == 0 ? "run a" : "run b (" + twin.change.str() + ")");
        if (o.afterSlice)
            o.afterSlice(r, t, r == 0 ? netA : netB);
    }
    for (std::size_t r = 0; r < 2; ++r) {
        res.steps[r] = trainers[r]->stepsDone();
        if (folders[r]) {
            // Whatever happened, keep what was learned (as convscope-cli train does).
            auto wrote = folders[r]->close(*trainers[r]);
            if (!wrote.ok() && saved[r].ok())
                saved[r] = wrote.status();
        }
        if (res.status[r].ok() && !saved[r].ok())
            res.status[r] = saved[r];
    }
    if (cancelled())
        return Status::error("training cancelled after steps " + std::to_string(res.steps[0]) +
                                 " (a) and " + std::to_string(res.steps[1]) + " (b)",
                             "trainer");
    for (const auto& s : res.status)
        if (!s.ok())
            return s;
    return {};
}

} // namespace convscope::train
