// The PyTorch oracle of the analysis tests (see torch_reference.h).
#include "torch_reference.h"
#include "backend/cpu_backend.h"
#include "core/random.h"
#include "io/atomic_file.h"
#include "model/weights.h"

#include <QProcess>
#include <QTemporaryDir>

namespace convscope::testing {

namespace {
const char* kPython = "/usr/bin/python3"; // Debian's interpreter, the one with python3-torch
}

QString torchMissing() {
    static const QString why = [] {
        QProcess p;
        p.start(kPython, {"-c", "import torch, numpy"});
        if (!p.waitForFinished(120000) || p.exitStatus() != QProcess::NormalExit ||
            p.exitCode() != 0)
            return QString("%1 cannot import torch (install python3-torch; scripts/test does): %2")
                .arg(kPython, QString::fromUtf8(p.readAllStandardError()).trimmed().right(200));
        return QString();
    }();
    return why;
}

Status writeCheckpoint(const std::string& path, const model::NetSpec& spec, io::SafeTensors weights,
                       double mean, double std) {
    weights.metadata["format"] = "convscope-checkpoint-1";
    weights.metadata["spec"] = model::toJson(spec);
    weights.metadata["mean"] = std::to_string(mean);
    weights.metadata["std"] = std::to_string(std);
    weights.metadata["step"] = std::to_string(0);
    return io::saveSafetensors(path, weights);
}

Status writeRandomCheckpoint(const std::string& path, const model::NetSpec& spec,
                             std::uint64_t seed, double mean, double std) {
    CpuBackend<double> be(1);
    model::Network net(spec);
    CS_TRY(net.plan(be, 1));
    CS_TRY(be.allocate());
    CS_TRY(net.initialize(be, seed));
    CS_TRY_ASSIGN(io::SafeTensors w, model::readWeights(be, net));
    Rng rng(seed * 7919 + 1);
    for (auto& [name, t] : w.tensors) {
        std::string stats = name.substr(0, name.rfind('.'));
        stats.append(".running_mean");
        if (w.tensors.count(stats) == 0)
            continue;
        for (float& v : t.f32) {
            const double u = rng.uniform();
            if (name.ends_with(".running_mean") || name.ends_with(".bias"))
                v = float(u - 0.5);
            else if (name.ends_with(".running_var"))
                v = float(0.3 + 2.0 * u);
            else if (name.ends_with(".weight"))
                v = float(0.5 + u);
        }
    }
    return writeCheckpoint(path, spec, std::move(w), mean, std);
}

io::StoredTensor storedF32(std::vector<std::int64_t> shape, const std::vector<double>& values) {
    io::StoredTensor t;
    t.shape = std::move(shape);
    t.f32.assign(values.begin(), values.end());
    return t;
}

io::StoredTensor storedI64(const std::vector<std::int64_t>& values) {
    io::StoredTensor t;
    t.dtype = "I64";
    t.shape = {std::int64_t(values.size())};
    t.i64 = values;
    return t;
}

std::vector<double> valuesOf(const io::SafeTensors& f, const std::string& name) {
    auto it = f.tensors.find(name);
    if (it == f.tensors.end())
        return {};
    if (it->second.dtype == "I64")
        return {it->second.i64.begin(), it->second.i64.end()};
    return {it->second.f32.begin(), it->second.f32.end()};
}

Result<io::SafeTensors> torchAnalysis(const std::string& checkpoint, const io::SafeTensors& inputs,
                                      const std::string& dtype) {
    QTemporaryDir dir;
    if (!dir.isValid())
        return Status::error("no temporary folder", "torch reference");
    const std::string in = dir.filePath("in.safetensors").toStdString(),
                      out = dir.filePath("out.safetensors").toStdString();
    CS_TRY(io::saveSafetensors(in, inputs));
    QProcess p;
    p.start(kPython, {QString(CONVSCOPE_SOURCE_DIR "/tests/analysis/analysis_torch.py"),
                      "--checkpoint", QString::fromStdString(checkpoint), "--inputs",
                      QString::fromStdString(in), "--out", QString::fromStdString(out), "--dtype",
                      QString::fromStdString(dtype), "--out-dtype", "float32"});
    if (!p.waitForFinished(600000) || p.exitStatus() != QProcess::NormalExit || p.exitCode() != 0)
        return Status::error(QString("analysis_torch.py failed: %1")
                                 .arg(QString::fromUtf8(p.readAllStandardError()).trimmed())
                                 .toStdString(),
                             "torch reference");
    return io::loadSafetensors(out);
}

} // namespace convscope::testing
