// convscope-cli export: a run's trained network as a file other tools open (ONNX).
#pragma once

#include <map>
#include <string>
#include <vector>

namespace convscope::cli {

// export RUN --onnx FILE; returns the exit code: 0, 1 (the export failed) or 2 (bad usage).
int exportCommand(const std::vector<std::string>& args,
                  const std::map<std::string, std::string>& opt);

extern const char* kExportUsage;
extern const std::vector<std::string> kExportOptions; // its option names

} // namespace convscope::cli
