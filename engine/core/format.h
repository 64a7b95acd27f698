// Numbers as text: short for people (messages: "1e+30", "0.02", not
// "1000000000000000019884624838656.000000"), exact for files that are read back (metadata).
#pragma once

#include <cmath>
#include <cstdio>
#include <string>

namespace convscope {

inline std::string shortNumber(double v) {
    if (std::isnan(v))
        return "NaN";
    if (std::isinf(v))
        return v > 0 ? "Inf" : "-Inf";
    char b[32];
    std::snprintf(b, sizeof b, "%.6g", v);
    return b;
}

inline std::string exactNumber(double v) {
    char b[32];
    std::snprintf(b, sizeof b, "%.17g", v);
    return b;
}

} // namespace convscope
