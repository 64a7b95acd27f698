// Trajectory: the snapshot ring and the PCA, through the T × T Gram matrix (T ≤ a few hundred
// snapshots, up to millions of weights).
#include "analysis/trajectory.h"

#include "model/weights.h"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <filesystem>

namespace convscope::analysis {

Trajectory::Trajectory(std::size_t capacity, std::int64_t every)
    : m_capacity(std::max<std::size_t>(capacity, 4)), m_every(std::max<std::int64_t>(every, 1)) {}

void Trajectory::add(std::int64_t step, std::vector<double> theta) {
    m_steps.push_back(step);
    m_snapshots.push_back(std::move(theta));
    if (m_steps.size() <= m_capacity)
        return;
    // Thin out: keep the 1st, 3rd, 5th … and the newest; sample half as often from now on.
    std::deque<std::int64_t> steps;
    std::deque<std::vector<double>> snaps;
    for (std::size_t i = 0; i < m_steps.size(); ++i)
        if (i % 2 == 0 || i + 1 == m_steps.size()) {
            steps.push_back(m_steps[i]);
            snaps.push_back(std::move(m_snapshots[i]));
        }
    m_steps = std::move(steps);
    m_snapshots = std::move(snaps);
    m_every *= 2;
}

void Trajectory::clear() {
    m_steps.clear();
    m_snapshots.clear();
}

Result<PcaPlane> pcaPlane(const std::vector<std::vector<double>>& snapshots,
                          std::span<const double> final, const std::vector<Slice>& layout) {
    const char* who = "trajectory PCA";
    const auto T = Eigen::Index(snapshots.size());
    const auto n = std::size_t(flatSize(layout));
    if (T < 3)
        return Status::error("the trajectory has " + std::to_string(T) +
                                 " snapshot(s); the PCA needs at least 3 (the final weights count)",
                             who, "Train longer, or keep snapshots more often");
    if (final.size() != n)
        return Status::error("the final weights have the wrong size", who);
    // The rows θ_t − θ_final on the multi-dimensional tensors only.
    std::vector<char> keep(n, 0);
    for (const Slice& s : layout)
        if (s.multiDimensional())
            std::fill(keep.begin() + s.offset, keep.begin() + s.offset + s.numel, 1);
    Eigen::MatrixXd X(T, Eigen::Index(n));
    for (Eigen::Index t = 0; t < T; ++t) {
        const auto& th = snapshots[std::size_t(t)];
        if (th.size() != n)
            return Status::error("snapshot " + std::to_string(t) + " has the wrong size", who);
        for (std::size_t i = 0; i < n; ++i)
            X(t, Eigen::Index(i)) = keep[i] ? th[i] - final[i] : 0.0;
    }
    const Eigen::RowVectorXd mean = X.colwise().mean();
    const Eigen::MatrixXd Xc = X.rowwise() - mean;
    const Eigen::MatrixXd G = Xc * Xc.transpose();
    Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(G);
    if (eig.info() != Eigen::Success)
        return Status::error("the eigen-decomposition did not converge", who);
    const Eigen::VectorXd values = eig.eigenvalues(); // ascending
    const double total = values.cwiseMax(0.0).sum();
    PcaPlane out;
    for (int k = 0; k < 2; ++k) {
        const Eigen::Index col = T - 1 - k;
        const double s = values(col);
        if (!(s > 1e-12 * std::max(total, 1e-300)))
            return Status::error("the snapshots span fewer than two directions", who,
                                 "Keep snapshots from more of the run");
        Eigen::VectorXd u = eig.eigenvectors().col(col);
        // sklearn's svd_flip: the largest |component| of u is positive, so signs are stable.
        Eigen::Index big = 0;
        u.cwiseAbs().maxCoeff(&big);
        if (u(big) < 0)
            u = -u;
        const Eigen::VectorXd d = Xc.transpose() * u / std::sqrt(s);
        auto& dk = k == 0 ? out.d1 : out.d2;
        dk.assign(d.data(), d.data() + d.size());
        out.explained[std::size_t(k)] = s / total;
    }
    out.path.resize(std::size_t(T));
    for (Eigen::Index t = 0; t < T; ++t) {
        double a = 0, b = 0;
        for (std::size_t i = 0; i < n; ++i) {
            a += X(t, Eigen::Index(i)) * out.d1[i];
            b += X(t, Eigen::Index(i)) * out.d2[i];
        }
        out.path[std::size_t(t)] = {a, b};
    }
    return out;
}

Result<std::vector<double>> flatWeights(const io::SafeTensors& file,
                                        const std::vector<Slice>& layout,
                                        const std::string& where) {
    std::vector<double> theta(std::size_t(flatSize(layout)), 0.0);
    for (const Slice& sl : layout) {
        auto it = file.tensors.find(sl.name);
        if (it == file.tensors.end() || it->second.dtype != "F32" || it->second.numel() != sl.numel)
            return Status::error("tensor \"" + sl.name + "\" is missing or has the wrong size",
                                 where, "Use checkpoints of this network");
        std::copy(it->second.f32.begin(), it->second.f32.end(), theta.begin() + sl.offset);
    }
    return theta;
}

Result<RunTrajectory> runTrajectory(const std::string& runDir, std::int64_t lastStep,
                                    const std::vector<Slice>& layout) {
    std::vector<std::pair<std::int64_t, std::string>> files;
    for (auto& f : model::checkpointFiles(runDir))
        if (f.first <= lastStep)
            files.push_back(std::move(f));
    RunTrajectory out;
    for (const auto& [step, path] : files) {
        CS_TRY_ASSIGN(io::SafeTensors f, io::loadSafetensors(path));
        CS_TRY_ASSIGN(auto theta, flatWeights(f, layout, path));
        out.steps.push_back(step);
        out.snapshots.push_back(std::move(theta));
    }
    return out;
}

Status sameNetwork(const io::SafeTensors& a, const io::SafeTensors& b, const std::string& pa,
                   const std::string& pb) {
    bool same = a.tensors.size() == b.tensors.size();
    for (const auto& [name, t] : a.tensors) {
        auto it = b.tensors.find(name);
        same = same && it != b.tensors.end() && it->second.shape == t.shape;
    }
    if (!same)
        return Status::error("the two checkpoints are of different networks (" + pa + " and " + pb +
                                 ")",
                             "interpolation",
                             "Interpolate between two checkpoints of one run, or of twins with "
                             "the same layers");
    return {};
}

} // namespace convscope::analysis
