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

// Bytes for people: "512 B", "3.2 MiB", "14.0 GiB".
inline std::string byteSize(unsigned long long bytes) {
    const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = double(bytes);
    int u = 0;
    while (v >= 1024 && u < 4) {
        v /= 1024;
        ++u;
    }
    char b[32];
    std::snprintf(b, sizeof b, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
    return b;
}

inline std::string exactNumber(double v) {
    char b[32];
    std::snprintf(b, sizeof b, "%.17g", v);
    return b;
}

} // namespace convscope
