// convscope-cli export RUN --onnx FILE: the checkpoint (a run folder's latest, or the file) as
// an ONNX model with its weights (engine/io/onnx_export.h).
#include "cli_export.h"
#include "cli_options.h"
#include "io/onnx_export.h"
#include "model/weights.h"

#include <cstdio>

namespace convscope::cli {

const char* kExportUsage = R"(
export (RUN: a run folder, whose last checkpoint is used, or a checkpoint file):
  convscope-cli export RUN --onnx FILE
      the trained network as an ONNX model (opset 13, weights as initializers, evaluation
      mode: batch norm with its running statistics, dropout the identity) for Netron and
      other ONNX tools. Input "input" (batch, C, H, W), normalised as in training
      ((x - mean) / std, the two numbers in the model's metadata); output "logits".
    --onnx FILE        the file to write (atomically; nothing is written on an error)
)";

const std::vector<std::string> kExportOptions = {"onnx"};

int exportCommand(const std::vector<std::string>& args,
                  const std::map<std::string, std::string>& opt) {
    if (args.size() != 1)
        return usage("export needs one run folder or checkpoint file: convscope-cli export RUN "
                     "--onnx FILE");
    const std::string onnx = get(opt, "onnx", "");
    if (onnx.empty())
        return usage("export needs --onnx FILE (the ONNX model to write)");
    auto ckpt = model::loadCheckpoint(args[0]);
    if (!ckpt.ok())
        return failed(ckpt.status());
    auto summary = io::exportOnnx(*ckpt, onnx);
    if (!summary.ok())
        return failed(summary.status());
    std::printf("wrote %s: %s (step %lld), opset %d, %lld nodes, %lld initializers "
                "(%lld parameters and statistics), %lld bytes\n",
                onnx.c_str(), ckpt->spec.name.c_str(), (long long)ckpt->step, summary->opset,
                (long long)summary->nodes, (long long)summary->initializers,
                (long long)summary->parameters, (long long)summary->bytes);
    if (ckpt->hasNormalization)
        std::printf("input \"input\" (batch, %lld, %lld, %lld): images as (x - %g) / %g; output "
                    "\"logits\"\n",
                    (long long)ckpt->spec.channels, (long long)ckpt->spec.height,
                    (long long)ckpt->spec.width, ckpt->mean, ckpt->std);
    return 0;
}

} // namespace convscope::cli
