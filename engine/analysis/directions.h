// Directions in weight space for loss-landscape plots, by Li et al. 2018's conventions
// ("Visualizing the Loss Landscape of Neural Nets", and tomgoldstein/loss-landscape):
// a seeded Gaussian direction per parameter tensor; filter normalisation rescales each slice
// d[i] along the first dimension of a weight with two or more dimensions (a conv filter
// (in, kh, kw), a linear row (in)) to ‖w[i]‖ / (‖d[i]‖ + 1e-10); layer normalisation rescales the
// whole tensor to ‖w‖ / (‖d‖ + 1e-10); tensors with one dimension (biases, batch-norm γ and β)
// get a zero direction whatever the normalisation. Batch-norm running statistics are buffers,
// not parameters: no direction moves them.
//
// Vectors here are flat, in the layout of Network::params() (parameterLayout()).
#pragma once

#include "backend/backend.h"
#include "io/safetensors.h"
#include "model/network.h"
#include <span>
#include <string>
#include <vector>

namespace convscope::analysis {

// One named tensor's place in a flat vector.
struct Slice {
    std::string name;               // the checkpoint's name: "conv1.weight"
    std::vector<std::int64_t> dims; // PyTorch's shape
    std::int64_t offset = 0, numel = 0;
    bool multiDimensional() const { return dims.size() >= 2; }
};

// Where each parameter tensor lies in net.params(), and each buffer in net.buffers().
std::vector<Slice> parameterLayout(const Backend& be, const model::Network& net);
std::vector<Slice> bufferLayout(const Backend& be, const model::Network& net);
std::int64_t flatSize(const std::vector<Slice>& layout);

enum class DirectionNorm { Filter, Layer, None };
// "filter" | "layer" | "none"; false for anything else.
bool parseDirectionNorm(const std::string& text, DirectionNorm& out);
const char* directionNormName(DirectionNorm n);

// Rescales `d` in place for the weights `theta` (both flat in `layout`), as described above.
void normalizeDirection(const std::vector<Slice>& layout, std::span<const double> theta,
                        DirectionNorm norm, std::span<double> d);
// Direction `index` (0: δ, 1: η) drawn from N(0, 1) with `seed` and normalised. The stream
// covers every element (zeroed ones too), so a direction depends only on the seed, the index
// and the layout: the same seed gives the same directions on every backend and machine.
std::vector<double> randomDirection(const std::vector<Slice>& layout, std::span<const double> theta,
                                    DirectionNorm norm, std::uint64_t seed, int index);

// The directions as safetensors with the checkpoint's names: "delta.<name>" and "eta.<name>"
// (F32, PyTorch shapes; zero for one-dimensional tensors), so a PyTorch user can evaluate
// θ* + α·δ + β·η with the model's own state_dict. `eta` may be empty (a 1-D plot).
io::SafeTensors directionsFile(const std::vector<Slice>& layout, std::span<const double> delta,
                               std::span<const double> eta,
                               std::map<std::string, std::string> metadata);
// Reads them back (the layout must match: every name, every element count).
Status readDirections(const io::SafeTensors& file, const std::vector<Slice>& layout,
                      std::vector<double>& delta, std::vector<double>& eta,
                      const std::string& where);

// ‖v‖₂ and ⟨a, b⟩ of flat vectors.
double norm2(std::span<const double> v);
double dot(std::span<const double> a, std::span<const double> b);

} // namespace convscope::analysis
