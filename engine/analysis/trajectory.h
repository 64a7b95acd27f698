// Training trajectories for landscape plots (Li et al. 2018, section 7): weight snapshots θ_t
// kept during training in a bounded ring in host memory, and the PCA of the rows θ_t − θ_final
// (one-dimensional tensors left out, as the directions leave them out) that gives the plane the
// trajectory moves in most. As in the authors' code (sklearn's PCA), the rows are centred before
// the decomposition; the explained variances are the two largest eigenvalues' shares. The
// projected coordinates ⟨θ_t − θ_final, d⟩ are not centred: θ_final sits at the origin, where the
// surface along (d₁, d₂) is centred.
#pragma once

#include "analysis/directions.h"
#include <array>
#include <deque>

namespace convscope::analysis {

class Trajectory {
public:
    // At most `capacity` snapshots, one every `every` steps. When full, every second snapshot
    // is dropped and the interval doubles: the ring always covers the whole run.
    explicit Trajectory(std::size_t capacity = 200, std::int64_t every = 50);
    bool wants(std::int64_t step) const { return step % m_every == 0; }
    void add(std::int64_t step, std::vector<double> theta);
    void clear();
    std::size_t size() const { return m_steps.size(); }
    std::int64_t every() const { return m_every; }
    const std::deque<std::int64_t>& steps() const { return m_steps; }
    const std::deque<std::vector<double>>& snapshots() const { return m_snapshots; }

private:
    std::size_t m_capacity;
    std::int64_t m_every;
    std::deque<std::int64_t> m_steps;
    std::deque<std::vector<double>> m_snapshots;
};

struct PcaPlane {
    std::vector<double> d1, d2;        // unit vectors, flat in the layout, zero on 1-D tensors
    std::array<double, 2> explained{}; // share of the variance, each in [0, 1]
    std::vector<std::array<double, 2>> path; // ⟨θ_t − θ_final, d_k⟩ per snapshot
};

// The plane of `snapshots` around `final` (flat in `layout`); as in Li et al.'s code the final
// weights are usually one of the snapshots (a zero row). Needs three snapshots spanning a plane;
// errors say how many more to keep.
Result<PcaPlane> pcaPlane(const std::vector<std::vector<double>>& snapshots,
                          std::span<const double> final, const std::vector<Slice>& layout);

// The weights of a checkpoint file, flat in `layout` (the tensors must all be there and the
// right size: a checkpoint of this network).
Result<std::vector<double>> flatWeights(const io::SafeTensors& file,
                                        const std::vector<Slice>& layout, const std::string& where);

// A run's trajectory: every checkpoints/step-N.safetensors of `runDir` up to step `lastStep`
// (the final weights are one of them), by step.
struct RunTrajectory {
    std::vector<std::int64_t> steps;
    std::vector<std::vector<double>> snapshots;
};
Result<RunTrajectory> runTrajectory(const std::string& runDir, std::int64_t lastStep,
                                    const std::vector<Slice>& layout);

// Same tensor names and shapes: checkpoints of one network. The error names both files.
Status sameNetwork(const io::SafeTensors& a, const io::SafeTensors& b, const std::string& pathA,
                   const std::string& pathB);

} // namespace convscope::analysis
