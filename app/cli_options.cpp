// Helpers the analysis commands share.
#include "cli_options.h"

#include <cmath>
#include <cstdio>
#include <sstream>

namespace convscope::cli {

int usage(const std::string& msg) {
    std::fprintf(stderr, "convscope-cli: %s\nRun 'convscope-cli --help' for the options.\n",
                 msg.c_str());
    return 2;
}
int failed(const Status& s) {
    std::fprintf(stderr, "convscope-cli: error: %s\n", s.message().c_str());
    return 1;
}

std::string get(const Options& o, const char* k, const std::string& def) {
    auto it = o.find(k);
    return it == o.end() ? def : it->second;
}

// "3,17" → {3, 17}; false when an item is not a whole number.
bool parseIntegers(const std::string& s, std::vector<std::int64_t>& out) {
    std::stringstream ss(s);
    std::string item;
    while (std::getline(ss, item, ',')) {
        try {
            std::size_t used = 0;
            const long long v = std::stoll(item, &used);
            if (used != item.size())
                return false;
            out.push_back(v);
        } catch (const std::exception&) {
            return false;
        }
    }
    return !out.empty();
}
bool parseReals(const std::string& s, std::vector<double>& out) {
    std::stringstream ss(s);
    std::string item;
    while (std::getline(ss, item, ',')) {
        try {
            std::size_t used = 0;
            const double v = std::stod(item, &used);
            if (used != item.size() || !std::isfinite(v))
                return false;
            out.push_back(v);
        } catch (const std::exception&) {
            return false;
        }
    }
    return !out.empty();
}
bool parseCount(const Options& o, const char* k, std::int64_t def, std::int64_t lo, std::int64_t hi,
                std::int64_t& v) {
    std::vector<std::int64_t> one;
    if (!o.count(k)) {
        v = def;
        return true;
    }
    if (!parseIntegers(o.at(k), one) || one.size() != 1 || one[0] < lo || one[0] > hi)
        return false;
    v = one[0];
    return true;
}

std::string fmt(double v, const char* f) {
    char buf[64];
    std::snprintf(buf, sizeof buf, f, v);
    return buf;
}

Result<BackendChoice> backendFrom(const Options& opt) {
    BackendOptions bo;
    bo.backend = get(opt, "backend", "auto");
    bo.device = get(opt, "device", "");
    try {
        bo.threads = std::stoi(get(opt, "threads", "0"));
    } catch (const std::exception&) {
        return Status::error("--threads is not a number", "convscope-cli");
    }
    return createBackend(bo);
}

} // namespace convscope::cli
