// metrics.csv parsing: a line at a time, std::from_chars for every number (no locale, no throw).
#include "train/metrics_csv.h"

#include <charconv>
#include <limits>
#include <string_view>

namespace convscope::train {

namespace {

constexpr std::size_t kRequiredFields = 8; // kind .. test_accuracy
constexpr std::size_t kFields = 10;

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
        s.remove_suffix(1);
    return s;
}

// An empty field is NaN; false unless the whole field is one number ("nan" and "inf" count).
bool real(std::string_view s, double& out) {
    if (s.empty()) {
        out = std::numeric_limits<double>::quiet_NaN();
        return true;
    }
    const char* first = s.data();
    if (*first == '+' && s.size() > 1 && s[1] != '-') // from_chars takes no '+'
        ++first;
    const auto [end, ec] = std::from_chars(first, s.data() + s.size(), out);
    return ec == std::errc() && end == s.data() + s.size();
}

template <class Int>
bool integer(std::string_view s, Int& out) {
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return !s.empty() && ec == std::errc() && end == s.data() + s.size() && out >= 0;
}

bool parseRow(std::string_view line, MetricsRow& r) {
    std::string_view f[kFields];
    std::size_t n = 0;
    for (;;) {
        const std::size_t comma = line.find(',');
        if (n < kFields)
            f[n] = trim(line.substr(0, comma));
        ++n;
        if (comma == std::string_view::npos)
            break;
        line.remove_prefix(comma + 1);
    }
    if (n < kRequiredFields)
        return false;
    if (f[0] == "step")
        r.kind = MetricsRow::Kind::Step;
    else if (f[0] == "epoch")
        r.kind = MetricsRow::Kind::Epoch;
    else
        return false;
    return integer(f[1], r.epoch) && integer(f[2], r.step) && real(f[3], r.lr) &&
           real(f[4], r.loss) && real(f[5], r.accuracy) && real(f[6], r.testLoss) &&
           real(f[7], r.testAccuracy) && real(f[8], r.imagesPerSecond) && real(f[9], r.seconds);
}

} // namespace

MetricsCsv parseMetricsCsv(const std::string& text) {
    MetricsCsv csv;
    std::string_view rest(text);
    bool first = true;
    while (!rest.empty()) {
        const std::size_t nl = rest.find('\n');
        const std::string_view line = trim(rest.substr(0, nl));
        rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
        if (first && line == kMetricsCsvHeader) {
            csv.header = true;
            first = false;
            continue;
        }
        first = false;
        if (line.empty())
            continue;
        MetricsRow row;
        if (parseRow(line, row))
            csv.rows.push_back(row);
        else
            ++csv.skipped;
    }
    return csv;
}

} // namespace convscope::train
