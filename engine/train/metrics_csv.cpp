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

// Splits `line` at commas into at most `max` trimmed fields; the number of fields it has.
std::size_t split(std::string_view line, std::string_view* f, std::size_t max) {
    std::size_t n = 0;
    for (;;) {
        const std::size_t comma = line.find(',');
        if (n < max)
            f[n] = trim(line.substr(0, comma));
        ++n;
        if (comma == std::string_view::npos)
            return n;
        line.remove_prefix(comma + 1);
    }
}

// Calls `row` with every non-blank line after an optional `header` line; counts the rejected.
template <class Csv, class Parse>
Csv parseLines(const std::string& text, const char* header, bool& sawHeader, Parse parse) {
    Csv csv;
    std::string_view rest(text);
    bool first = true;
    while (!rest.empty()) {
        const std::size_t nl = rest.find('\n');
        const std::string_view line = trim(rest.substr(0, nl));
        rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
        if (first && line == header) {
            sawHeader = true;
            first = false;
            continue;
        }
        first = false;
        if (line.empty())
            continue;
        typename decltype(csv.rows)::value_type row;
        if (parse(line, row))
            csv.rows.push_back(std::move(row));
        else
            ++csv.skipped;
    }
    return csv;
}

bool parseRow(std::string_view line, MetricsRow& r) {
    std::string_view f[kFields];
    const std::size_t n = split(line, f, kFields);
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

bool parseLayerRow(std::string_view line, LayerRow& r) {
    std::string_view f[6];
    if (split(line, f, 6) < 6 || f[2].empty())
        return false;
    r.layer = std::string(f[2]);
    return integer(f[0], r.epoch) && integer(f[1], r.step) && real(f[3], r.weightNorm) &&
           real(f[4], r.gradNorm) && real(f[5], r.updateRatio);
}

} // namespace

MetricsCsv parseMetricsCsv(const std::string& text) {
    bool header = false;
    MetricsCsv csv = parseLines<MetricsCsv>(text, kMetricsCsvHeader, header, parseRow);
    csv.header = header;
    return csv;
}

LayersCsv parseLayersCsv(const std::string& text) {
    bool header = false;
    return parseLines<LayersCsv>(text, kLayersCsvHeader, header, parseLayerRow);
}

std::vector<LayerRow> LayersCsv::lastEpoch() const {
    std::vector<LayerRow> out;
    if (rows.empty())
        return out;
    const int last = rows.back().epoch;
    const std::int64_t step = rows.back().step;
    for (const LayerRow& r : rows)
        if (r.epoch == last && r.step == step)
            out.push_back(r);
    return out;
}

} // namespace convscope::train
