// Adversarial examples (Goodfellow et al. 2015; Madry et al. 2018), in pixel units:
//   FGSM  x' = clip(x + ε·sign(∇x L(x, y_true)), 0, 1)
//   PGD   k steps x ← clip(Π_ε(x + α·sign(∇x L(x, y_true))), 0, 1), α = 2.5ε/k, from x
// (no random start), where Π_ε clips to the L∞ ball of radius ε around the clean image and L is
// the cross-entropy of the image's own true label; and what they do to a test set: accuracy as
// a function of ε, and the confusion matrix.
#pragma once

#include "analysis/inspector.h"
#include "core/progress.h"
#include <functional>

namespace convscope::analysis {

struct AttackOptions {
    double eps = 0.1;
    int pgdSteps = 0; // 0: FGSM; k > 0: PGD with k steps
};

struct AttackResult {
    std::int64_t count = 0, classes = 0;
    std::vector<double> adversarial;             // count × imageSize(), pixels in [0, 1]
    std::vector<double> probsBefore, probsAfter; // count × classes (softmax)
    std::vector<int> predictedBefore, predictedAfter;
};

// Attacks `count` images (pixels, count × imageSize()) with their true labels.
Result<AttackResult> attack(Inspector& in, std::span<const double> images,
                            std::span<const std::int32_t> labels, const AttackOptions& options,
                            Progress* progress = nullptr);

struct EpsilonPoint {
    double eps = 0;
    std::int64_t correct = 0, count = 0;
    double accuracy = 0;       // correct / count; an image misclassified when clean counts as
                               // wrong at every ε
    double meanConfidence = 0; // mean softmax probability of the adversarial prediction
};

// Accuracy vs ε over the images. FGSM needs one gradient per image for every ε (computed once);
// PGD attacks again for each ε. `onPoint` receives each point as soon as it is computed.
Result<std::vector<EpsilonPoint>>
accuracyVsEpsilon(Inspector& in, std::span<const double> images,
                  std::span<const std::int32_t> labels, std::span<const double> eps, int pgdSteps,
                  Progress* progress = nullptr,
                  const std::function<void(const EpsilonPoint&)>& onPoint = {});

// ε = 0, 0.025, …, 0.3: the default curve.
std::vector<double> defaultEpsilons();

struct ConfusionMatrix {
    int classes = 0;
    std::vector<std::int64_t> counts; // [true][predicted], classes × classes
    std::vector<int> predicted;       // per image
    std::vector<double> confidence;   // per image: the predicted class's probability
    std::int64_t at(int truth, int pred) const {
        return counts[std::size_t(truth * classes + pred)];
    }
    double accuracy() const;
};

// The confusion matrix of the images (or, with eps > 0, of their adversarial versions).
Result<ConfusionMatrix> confusion(Inspector& in, std::span<const double> images,
                                  std::span<const std::int32_t> labels,
                                  const AttackOptions& attack = {0.0, 0},
                                  Progress* progress = nullptr);

} // namespace convscope::analysis
