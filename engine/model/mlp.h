// Mlp: a stack of linear layers with ReLU between them (the `mlp` preset, 784-256-10).
// Parameters and gradients each live in one flat tensor, so one optimizer dispatch updates the
// whole network; per-layer W and b are aligned views into it.
#pragma once

#include "backend/backend.h"
#include "ops/linear.h"
#include <vector>

namespace convscope::model {

class Mlp {
public:
    // sizes: input features, hidden widths..., classes.
    explicit Mlp(std::vector<std::int64_t> sizes) : m_sizes(std::move(sizes)) {}

    // Plans every tensor of the network for batches of `batch` rows.
    Status plan(Backend& be, std::int64_t batch);
    // He-normal weights (σ² = 2/n_in), zero biases, zero gradients; seeded.
    Status initialize(Backend& be, std::uint64_t seed);
    // Records x → logits().
    Status recordForward(Backend& be, const Tensor& x);
    // Records the gradients of every parameter from dlogits() (and the x of the forward pass).
    Status recordBackward(Backend& be, const Tensor& x);

    const Tensor& logits() const { return m_layers.back().y; }
    // Where the loss writes its gradient with respect to the logits.
    const Tensor& dlogits() const { return m_layers.back().dy; }
    const Tensor& params() const { return m_params; }
    const Tensor& grads() const { return m_grads; }
    std::int64_t parameterCount() const;
    std::int64_t inputs() const { return m_sizes.front(); }
    std::int64_t classes() const { return m_sizes.back(); }
    std::string summary() const; // "784-256-10 (203,530 parameters)"

    struct Layer {
        ops::LinearShape shape;
        Tensor w, b, dw, db; // views into params / grads
        Tensor y, dy;        // activations (after ReLU for hidden layers) and their gradients
        bool relu = false;
    };
    const std::vector<Layer>& layers() const { return m_layers; }

private:
    std::vector<std::int64_t> m_sizes;
    std::vector<Layer> m_layers;
    Tensor m_params, m_grads;
};

} // namespace convscope::model
