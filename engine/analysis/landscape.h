// Loss landscapes (Li et al. 2018): the mean cross-entropy and accuracy of a network at points
// θ* + α·δ + β·η of a plane through its weights θ*, evaluated in evaluation mode (batch-norm
// running statistics, dropout off) over a fixed subset of the training set (its first N images
// in file order). The subset and the directions stay on the device; one recorded program moves
// the weights (ops::axpy, no host round trip) and one evaluates the subset, so a point costs one
// forward pass over N images. Also: a line through θ* along δ, the interpolation
// (1 − t)·θ₀ + t·θ₁ between two checkpoints (running statistics interpolated too), and the mean
// loss's gradient at any point (for Hessian-vector products: analysis/hessian.h).
#pragma once

#include "analysis/directions.h"
#include "core/progress.h"
#include "data/idx.h"
#include "model/weights.h"
#include <memory>

namespace convscope::analysis {

struct LossAt {
    double loss = 0, accuracy = 0;
};

class LossLandscape {
public:
    // A landscape of `checkpoint` over the first `images` images of `set` (all of them when
    // `images` is 0), evaluated `batch` images at a time (0: up to 500). The backend is reset:
    // give it one of its own.
    static Result<std::unique_ptr<LossLandscape>>
    create(Backend& be, const model::Checkpoint& checkpoint, const data::ImageDataset& set,
           std::int64_t images, std::int64_t batch = 0);
    ~LossLandscape();

    Backend& backend() { return m_be; }
    const model::NetSpec& spec() const;
    std::int64_t images() const { return m_images; }
    std::int64_t batch() const { return m_batch; }
    const std::vector<Slice>& layout() const { return m_layout; } // parameters
    const std::vector<Slice>& bufferLayout() const { return m_bufferLayout; }
    std::int64_t parameterCount() const { return flatSize(m_layout); }
    const std::vector<double>& theta() const { return m_theta; } // θ* as loaded
    const std::vector<double>& thetaBuffers() const { return m_thetaBuffers; }

    // The plane: δ and η flat in layout() (η empty: a line). Running statistics do not move.
    Status setDirections(std::span<const double> delta, std::span<const double> eta);
    // The interpolation θ₀ → θ₁: the centre becomes θ₀, δ = θ₁ − θ₀ for the parameters and for
    // the running statistics, η = 0; evaluate(t, 0) is then (1 − t)·θ₀ + t·θ₁.
    Status setInterpolation(const io::SafeTensors& from, const io::SafeTensors& to,
                            const std::string& where);

    // The subset's mean loss and accuracy at θ* + α·δ + β·η.
    Result<LossAt> evaluate(double alpha, double beta);
    // ∇θ of the subset's mean loss at θ* + α·δ + β·η (all trainable parameters, evaluation
    // mode), flat in layout(); the loss there too.
    Result<std::vector<double>> gradient(double alpha, double beta, double* loss = nullptr);
    // ∇θ at θ* + h·v for any flat vector v (the Hessian's finite differences); it replaces δ
    // and η (setDirections() again afterwards).
    Result<std::vector<double>> gradientAlong(std::span<const double> v, double h,
                                              double* loss = nullptr);

private:
    explicit LossLandscape(Backend& be);
    Status moveTo(double alpha, double beta);
    Result<std::vector<double>> meanGradient(double* loss);
    struct Impl;
    Backend& m_be;
    std::unique_ptr<Impl> m;
    std::int64_t m_images = 0, m_batch = 0;
    std::vector<Slice> m_layout, m_bufferLayout;
    std::vector<double> m_theta, m_thetaBuffers;
};

// A grid over [lo, hi] with `points` values, both ends included (Li et al.'s
// np.linspace(lo, hi, points)).
struct Axis {
    double lo = -1, hi = 1;
    int points = 41;
    double at(int i) const { return points == 1 ? lo : lo + (hi - lo) * i / (points - 1); }
};
// "-1:1:41" → {-1, 1, 41}. Errors say what is wrong.
Result<Axis> parseAxis(const std::string& text);

// A surface: loss and accuracy for rows (β, first dimension) × columns (α).
struct Surface {
    Axis alpha, beta;
    std::vector<double> loss, accuracy; // rows × columns, NaN where not computed
    std::vector<bool> done;             // per row
    double lossAt(int row, int col) const { return loss[std::size_t(row * alpha.points + col)]; }
    int rowsDone() const;
};
Surface emptySurface(const Axis& alpha, const Axis& beta);

// Computes rows [firstRow, lastRow) of `s` not yet done, row by row; after each row
// `onRow(row)` (stream it out, save a partial file). Cancelling stops between points and keeps
// the rows finished so far.
Status computeRows(LossLandscape& land, Surface& s, int firstRow, int lastRow, Progress* progress,
                   const std::function<Status(int row)>& onRow = {});

// CSV: "alpha,beta,loss,accuracy", one line per computed point, rows in order (a partial file
// holds the finished rows). readSurfaceCsv fills the points it finds into `s` (same axes) and
// marks the rows it finds complete as done: how slices of a grid merge and a job resumes.
std::string surfaceCsv(const Surface& s);
Status readSurfaceCsv(const std::string& text, Surface& s, const std::string& where);

// How rugged a surface is, on the grid's points within the square |α|, |β| ≤ radius:
// - localMinima: points lower than all 8 neighbours (interior points of the whole grid);
// - meanAbsLaplacian: mean |L(i+1,j) + L(i−1,j) + L(i,j+1) + L(i,j−1) − 4·L(i,j)| / h²;
// - the minimum's loss and place.
struct Roughness {
    int localMinima = 0;
    double meanAbsLaplacian = 0;
    double minLoss = 0, minAlpha = 0, minBeta = 0;
    int pointsInSquare = 0;
};
Roughness roughness(const Surface& s, double radius = 0.5);

} // namespace convscope::analysis
