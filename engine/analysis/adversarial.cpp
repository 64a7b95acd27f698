// Adversarial examples: batches of the inspector's size; the gradient of each image's own loss
// (softmax − onehot at the logits), its sign, a step, the clip to [0, 1] (and to the ε-ball).
#include "analysis/adversarial.h"

#include <algorithm>
#include <cmath>

namespace convscope::analysis {

namespace {

double sign(double v) {
    return v > 0 ? 1.0 : v < 0 ? -1.0 : 0.0; // torch.sign: 0 at 0
}

Status checkInputs(const Inspector& in, std::span<const double> images,
                   std::span<const std::int32_t> labels, const char* job) {
    const std::int64_t D = in.imageSize();
    if (images.size() != labels.size() * std::size_t(D))
        return Status::error(std::to_string(images.size()) + " pixel values for " +
                                 std::to_string(labels.size()) + " labels of " + std::to_string(D) +
                                 "-pixel images",
                             job);
    for (std::int32_t l : labels)
        if (l < 0 || l >= in.classes())
            return Status::error("label " + std::to_string(l) + " is not a class of the network",
                                 job);
    return {};
}

// One batch: the adversarial versions of rows [first, first + n) of `clean`.
Status attackBatch(Inspector& in, std::span<const double> clean,
                   std::span<const std::int32_t> labels, double eps, int steps,
                   std::vector<double>& adv) {
    const std::size_t n = labels.size(), D = std::size_t(in.imageSize());
    adv.assign(clean.begin(), clean.end());
    const int k = std::max(1, steps);
    const double alpha = steps > 0 ? 2.5 * eps / double(steps) : eps;
    Seed seed;
    seed.kind = Seed::Kind::Loss;
    seed.classes.assign(labels.begin(), labels.end());
    for (int s = 0; s < k; ++s) {
        CS_TRY(in.setImages(adv, std::int64_t(n)));
        CS_TRY(in.forward());
        CS_TRY(in.backward(seed));
        CS_TRY_ASSIGN(auto g, in.inputGradient());
        for (std::size_t i = 0; i < n * D; ++i) {
            double x = adv[i] + alpha * sign(g[i]);
            if (steps > 0)
                x = std::clamp(x, clean[i] - eps, clean[i] + eps);
            adv[i] = std::clamp(x, 0.0, 1.0);
        }
    }
    return {};
}

// Forward of n rows; probabilities (n × K).
Result<std::vector<double>> probabilities(Inspector& in, std::span<const double> rows,
                                          std::int64_t n) {
    CS_TRY(in.setImages(rows, n));
    CS_TRY(in.forward());
    CS_TRY_ASSIGN(auto z, in.logits());
    z.resize(std::size_t(n * in.classes()));
    return softmaxRows(z, in.classes());
}

} // namespace

std::vector<double> defaultEpsilons() {
    std::vector<double> e;
    for (int i = 0; i <= 12; ++i)
        e.push_back(0.025 * i);
    return e;
}

Result<AttackResult> attack(Inspector& in, std::span<const double> images,
                            std::span<const std::int32_t> labels, const AttackOptions& o,
                            Progress* progress) {
    const char* job = o.pgdSteps > 0 ? "PGD" : "FGSM";
    CS_TRY(checkInputs(in, images, labels, job));
    if (!(o.eps >= 0) || o.eps > 1 || o.pgdSteps < 0 || o.pgdSteps > 1000)
        return Status::error("ε must be in [0, 1] and the PGD steps in 0..1000", job);
    const std::int64_t N = std::int64_t(labels.size()), D = in.imageSize(), K = in.classes(),
                       B = in.batch();
    AttackResult r;
    r.count = N;
    r.classes = K;
    r.adversarial.reserve(std::size_t(N * D));
    for (std::int64_t first = 0; first < N; first += B) {
        if (cancelled(progress))
            return Progress::cancelledStatus(job);
        const std::int64_t n = std::min(B, N - first);
        const auto clean = images.subspan(std::size_t(first * D), std::size_t(n * D));
        CS_TRY_ASSIGN(auto before, probabilities(in, clean, n));
        std::vector<double> adv;
        CS_TRY(attackBatch(in, clean, labels.subspan(std::size_t(first), std::size_t(n)), o.eps,
                           o.pgdSteps, adv));
        CS_TRY_ASSIGN(auto after, probabilities(in, adv, n));
        for (std::int64_t i = 0; i < n; ++i) {
            r.predictedBefore.push_back(
                argmax(std::span(before).subspan(std::size_t(i * K), std::size_t(K))));
            r.predictedAfter.push_back(
                argmax(std::span(after).subspan(std::size_t(i * K), std::size_t(K))));
        }
        r.probsBefore.insert(r.probsBefore.end(), before.begin(), before.end());
        r.probsAfter.insert(r.probsAfter.end(), after.begin(), after.end());
        r.adversarial.insert(r.adversarial.end(), adv.begin(), adv.end());
        if (progress)
            progress->report(first + n, N, job);
    }
    return r;
}

Result<std::vector<EpsilonPoint>>
accuracyVsEpsilon(Inspector& in, std::span<const double> images,
                  std::span<const std::int32_t> labels, std::span<const double> eps, int pgdSteps,
                  Progress* progress, const std::function<void(const EpsilonPoint&)>& onPoint) {
    const char* job = "accuracy vs ε";
    CS_TRY(checkInputs(in, images, labels, job));
    for (double e : eps)
        if (!(e >= 0) || e > 1)
            return Status::error("ε = " + std::to_string(e) + " is outside [0, 1]", job,
                                 "ε is in pixel units: 0.1 is a tenth of the pixel range");
    if (pgdSteps < 0 || pgdSteps > 1000)
        return Status::error("the PGD steps must be in 0..1000", job);
    const std::int64_t N = std::int64_t(labels.size()), D = in.imageSize(), K = in.classes(),
                       B = in.batch();
    // Clean predictions, and for FGSM the sign of each image's loss gradient (ε-free).
    std::vector<char> cleanCorrect(static_cast<std::size_t>(N));
    std::vector<double> signs;
    const std::int64_t units = N * (1 + std::int64_t(eps.size()) * std::max(1, pgdSteps));
    std::int64_t done = 0;
    for (std::int64_t first = 0; first < N; first += B) {
        if (cancelled(progress))
            return Progress::cancelledStatus(job);
        const std::int64_t n = std::min(B, N - first);
        CS_TRY(in.setImages(images.subspan(std::size_t(first * D)), n));
        CS_TRY(in.forward());
        CS_TRY_ASSIGN(auto z, in.logits());
        for (std::int64_t i = 0; i < n; ++i)
            cleanCorrect[std::size_t(first + i)] =
                argmax(std::span(z).subspan(std::size_t(i * K), std::size_t(K))) ==
                labels[std::size_t(first + i)];
        if (pgdSteps == 0) {
            Seed seed;
            seed.kind = Seed::Kind::Loss;
            seed.classes.assign(labels.begin() + first, labels.begin() + first + n);
            CS_TRY(in.backward(seed));
            CS_TRY_ASSIGN(auto g, in.inputGradient());
            for (std::int64_t i = 0; i < n * D; ++i)
                signs.push_back(sign(g[std::size_t(i)]));
        }
        done += n;
        if (progress)
            progress->report(done, units, job);
    }
    std::vector<EpsilonPoint> points;
    std::vector<double> adv;
    for (double e : eps) {
        EpsilonPoint p;
        p.eps = e;
        p.count = N;
        double confidence = 0;
        for (std::int64_t first = 0; first < N; first += B) {
            if (cancelled(progress))
                return Progress::cancelledStatus(job);
            const std::int64_t n = std::min(B, N - first);
            const auto clean = images.subspan(std::size_t(first * D), std::size_t(n * D));
            if (pgdSteps == 0) {
                adv.resize(clean.size());
                for (std::size_t i = 0; i < clean.size(); ++i)
                    adv[i] = std::clamp(clean[i] + e * signs[std::size_t(first * D) + i], 0.0, 1.0);
            } else {
                CS_TRY(attackBatch(in, clean, labels.subspan(std::size_t(first), std::size_t(n)), e,
                                   pgdSteps, adv));
            }
            CS_TRY_ASSIGN(auto prob, probabilities(in, adv, n));
            for (std::int64_t i = 0; i < n; ++i) {
                const auto row = std::span(prob).subspan(std::size_t(i * K), std::size_t(K));
                const int pred = argmax(row);
                confidence += row[std::size_t(pred)];
                if (cleanCorrect[std::size_t(first + i)] && pred == labels[std::size_t(first + i)])
                    ++p.correct;
            }
            done += n * std::max(1, pgdSteps);
            if (progress)
                progress->report(done, units, job);
        }
        p.accuracy = double(p.correct) / double(std::max<std::int64_t>(1, N));
        p.meanConfidence = confidence / double(std::max<std::int64_t>(1, N));
        points.push_back(p);
        if (onPoint)
            onPoint(p);
    }
    return points;
}

double ConfusionMatrix::accuracy() const {
    std::int64_t right = 0, all = 0;
    for (int t = 0; t < classes; ++t)
        for (int p = 0; p < classes; ++p) {
            all += at(t, p);
            if (t == p)
                right += at(t, p);
        }
    return all > 0 ? double(right) / double(all) : 0.0;
}

Result<ConfusionMatrix> confusion(Inspector& in, std::span<const double> images,
                                  std::span<const std::int32_t> labels, const AttackOptions& a,
                                  Progress* progress) {
    const char* job = "confusion matrix";
    CS_TRY(checkInputs(in, images, labels, job));
    const std::int64_t N = std::int64_t(labels.size()), D = in.imageSize(), B = in.batch();
    const int K = int(in.classes());
    ConfusionMatrix m;
    m.classes = K;
    m.counts.assign(std::size_t(K * K), 0);
    std::vector<double> adv;
    for (std::int64_t first = 0; first < N; first += B) {
        if (cancelled(progress))
            return Progress::cancelledStatus(job);
        const std::int64_t n = std::min(B, N - first);
        auto rows = images.subspan(std::size_t(first * D), std::size_t(n * D));
        if (a.eps > 0) {
            CS_TRY(attackBatch(in, rows, labels.subspan(std::size_t(first), std::size_t(n)), a.eps,
                               a.pgdSteps, adv));
            rows = adv;
        }
        CS_TRY_ASSIGN(auto prob, probabilities(in, rows, n));
        for (std::int64_t i = 0; i < n; ++i) {
            const int pred = argmax(std::span(prob).subspan(std::size_t(i * K), std::size_t(K)));
            m.predicted.push_back(pred);
            m.confidence.push_back(prob[std::size_t(i * K + pred)]);
            ++m.counts[std::size_t(labels[std::size_t(first + i)] * K + pred)];
        }
        if (progress)
            progress->report(first + n, N, job);
    }
    return m;
}

} // namespace convscope::analysis
