// Weight I/O: reading and writing a network's named tensors, and finding and loading checkpoints.
#include "model/weights.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>

namespace convscope::model {

namespace fs = std::filesystem;

Result<io::SafeTensors> readWeights(Backend& be, const Network& net) {
    CS_TRY(be.finish());
    io::SafeTensors out;
    for (const auto& t : net.namedTensors()) {
        CS_TRY_ASSIGN(auto values, be.readReal(t.tensor));
        io::StoredTensor st;
        st.shape = t.dims;
        st.f32.assign(values.begin(), values.end());
        out.tensors[t.name] = std::move(st);
    }
    return out;
}

Status checkFinite(const io::SafeTensors& file, const std::string& where) {
    for (const auto& [name, t] : file.tensors) {
        const std::int64_t bad =
            std::count_if(t.f32.begin(), t.f32.end(), [](float v) { return !std::isfinite(v); });
        if (bad > 0)
            return Status::error("tensor \"" + name + "\" holds " + std::to_string(bad) + " of " +
                                     std::to_string(t.numel()) +
                                     " values that are not finite (NaN or ±Inf)",
                                 where,
                                 "The run diverged before this was saved: open an earlier "
                                 "checkpoint (checkpoints/step-N.safetensors) or train again with "
                                 "a lower learning rate");
    }
    return {};
}

Status writeWeights(Backend& be, const Network& net, const io::SafeTensors& file,
                    const std::string& where) {
    CS_TRY(checkFinite(file, where));
    for (const auto& t : net.namedTensors()) {
        auto it = file.tensors.find(t.name);
        if (it == file.tensors.end())
            return Status::error("the checkpoint has no tensor \"" + t.name + "\"", where,
                                 "Was it saved from another network? Load it with its spec.json");
        const io::StoredTensor& st = it->second;
        if (st.dtype != "F32" || st.numel() != t.tensor.numel())
            return Status::error("tensor \"" + t.name + "\" has " + std::to_string(st.numel()) +
                                     " values, the network expects " +
                                     std::to_string(t.tensor.numel()),
                                 where, "Load the checkpoint with the spec it was trained with");
        CS_TRY(be.writeReal(t.tensor, std::span<const float>(st.f32)));
    }
    return {};
}

std::vector<std::pair<std::int64_t, std::string>> checkpointFiles(const std::string& runDir) {
    std::vector<std::pair<std::int64_t, std::string>> files;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(fs::path(runDir) / "checkpoints", ec)) {
        const std::string n = e.path().filename().string();
        if (n.rfind("step-", 0) != 0 || !n.ends_with(".safetensors"))
            continue;
        std::int64_t step = -1;
        const char* first = n.data() + 5;
        const char* last = n.data() + n.size() - std::strlen(".safetensors");
        const auto [end, err] = std::from_chars(first, last, step);
        if (err == std::errc() && end == last && step >= 0)
            files.emplace_back(step, e.path().string());
    }
    std::sort(files.begin(), files.end());
    return files;
}

Result<std::string> latestCheckpoint(const std::string& runOrFile) {
    std::error_code ec;
    if (fs::is_regular_file(runOrFile, ec))
        return runOrFile;
    if (!fs::is_directory(runOrFile, ec))
        return Status::error("no such run folder or checkpoint file", runOrFile,
                             "Pass a run folder (with checkpoints/) or a .safetensors file");
    const auto files = checkpointFiles(runOrFile);
    if (files.empty())
        return Status::error("no checkpoint found", (fs::path(runOrFile) / "checkpoints").string(),
                             "Pass a run folder with checkpoints/step-N.safetensors, or the file");
    return files.back().second;
}

namespace {
Result<double> metadataNumber(const io::SafeTensors& f, const std::string& key, double fallback,
                              const std::string& where) {
    auto it = f.metadata.find(key);
    if (it == f.metadata.end())
        return fallback;
    double v = 0;
    const std::string& s = it->second;
    const auto [end, err] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (err != std::errc() || end != s.data() + s.size() || !std::isfinite(v))
        return Status::error("the metadata \"" + key + "\" = \"" + s + "\" is not a number", where,
                             "Use another checkpoint of the run");
    return v;
}
} // namespace

Result<Checkpoint> loadCheckpoint(const std::string& runOrFile) {
    CS_TRY_ASSIGN(std::string path, latestCheckpoint(runOrFile));
    Checkpoint c;
    c.path = path;
    CS_TRY_ASSIGN(c.file, io::loadSafetensors(path));
    CS_TRY(checkFinite(c.file, path));
    if (auto it = c.file.metadata.find("spec"); it != c.file.metadata.end()) {
        CS_TRY_ASSIGN(c.spec, parseNetSpec(it->second, path + " (metadata \"spec\")"));
    } else {
        // Older checkpoints: the run's spec.json, two folders up (or beside the file).
        const fs::path p(path);
        std::error_code ec;
        fs::path spec = p.parent_path().parent_path() / "spec.json";
        if (!fs::is_regular_file(spec, ec))
            spec = p.parent_path() / "spec.json";
        if (!fs::is_regular_file(spec, ec))
            return Status::error("the checkpoint names no network (no \"spec\" metadata, no "
                                 "spec.json beside it)",
                                 path, "Open the run folder the checkpoint came from");
        CS_TRY_ASSIGN(c.spec, loadNetSpec(spec.string()));
    }
    if (auto it = c.file.metadata.find("dataset"); it != c.file.metadata.end())
        c.dataset = it->second;
    c.hasNormalization = c.file.metadata.count("mean") && c.file.metadata.count("std");
    CS_TRY_ASSIGN(c.mean, metadataNumber(c.file, "mean", 0.0, path));
    CS_TRY_ASSIGN(c.std, metadataNumber(c.file, "std", 1.0, path));
    if (!(c.std > 0))
        return Status::error("the metadata \"std\" is not positive", path,
                             "Use another checkpoint of the run");
    CS_TRY_ASSIGN(double step, metadataNumber(c.file, "step", 0.0, path));
    c.step = std::int64_t(step);
    return c;
}

} // namespace convscope::model
