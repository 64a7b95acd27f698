// Helpers the analysis commands share: reading options, reporting errors, the backend.
#pragma once

#include "backend/backend.h"
#include <map>
#include <string>
#include <vector>

namespace convscope::cli {

using Options = std::map<std::string, std::string>;

int usage(const std::string& msg); // prints the message and the --help hint; returns 2
int failed(const Status& s);       // prints the error; returns 1
std::string get(const Options& o, const char* k, const std::string& def);
// "3,17" → {3, 17}; false when an item is not a whole number.
bool parseIntegers(const std::string& s, std::vector<std::int64_t>& out);
bool parseReals(const std::string& s, std::vector<double>& out);
// Option k as one whole number in [lo, hi] (def when absent); false when it is not.
bool parseCount(const Options& o, const char* k, std::int64_t def, std::int64_t lo, std::int64_t hi,
                std::int64_t& v);
std::string fmt(double v, const char* f = "%.6g");
// The backend of --backend, --device and --threads.
Result<BackendChoice> backendFrom(const Options& opt);

} // namespace convscope::cli
