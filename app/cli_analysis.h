// convscope-cli's analysis commands: saliency, fgsm and confusion, on a run folder's last
// checkpoint (or a checkpoint file). Files out: safetensors (raw numbers), CSV, PNG.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace convscope::cli {

using Options = std::map<std::string, std::string>;

// Each returns the process's exit code: 0, 1 (the work failed) or 2 (bad usage).
int saliencyCommand(const std::vector<std::string>& args, const Options& opt);
int fgsmCommand(const std::vector<std::string>& args, const Options& opt);
int confusionCommand(const std::vector<std::string>& args, const Options& opt);
int landscapeCommand(const std::vector<std::string>& args, const Options& opt); // cli_landscape
int rfCommand(const std::vector<std::string>& args, const Options& opt);        // cli_fields
int gaborCommand(const std::vector<std::string>& args, const Options& opt);     // cli_fields

extern const char* kAnalysisUsage;
extern const std::vector<std::string> kAnalysisOptions; // their option names
extern const char* kLandscapeUsage;
extern const std::vector<std::string> kLandscapeOptions;
extern const char* kFieldsUsage;
extern const std::vector<std::string> kFieldsOptions;

} // namespace convscope::cli
