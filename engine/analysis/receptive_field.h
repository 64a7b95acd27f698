// Receptive fields: the theoretical one of every layer (model::analyze computes it with the
// shapes: r_l = r_{l−1} + (k_l − 1)·d_l·j_{l−1}, j_l = j_{l−1}·s_l) and the effective one of a
// unit (Luo et al. 2016): the gradient of the unit's activation with respect to the input,
// |·| summed over colour channels and averaged over K images, in evaluation mode — and how much
// of the theoretical square it fills (the smallest centred square holding 50 % and 90 % of
// the gradient's mass).
#pragma once

#include "analysis/inspector.h"
#include "core/progress.h"
#include <string>
#include <vector>

namespace convscope::analysis {

// One row of the per-layer table: a layer of the inspector (a top-level layer of the spec)
// with its theoretical field.
struct RfRow {
    std::string layer;
    model::Dims dims;
    model::ReceptiveField rf;
};
// The theoretical fields of the inspectable layers, input to output.
Result<std::vector<RfRow>> theoreticalFields(const model::NetSpec& spec);

struct Unit {
    int layer = -1;            // an index into Inspector::layers()
    std::int64_t channel = -1; // −1: all channels at (y, x) together (Luo et al.'s centre pixel)
    std::int64_t y = 0, x = 0;
};
// The centre of layer `layer`'s output, all channels: the default to look at.
Unit centreUnit(const Inspector& in, int layer);

struct EffectiveField {
    Unit unit;
    std::int64_t height = 0, width = 0;
    // H × W: mean over the images of Σ_channels |∂a_unit/∂pixel| (pixel units).
    std::vector<double> map;
    std::int64_t images = 0;
    double centreY = 0, centreX = 0; // the unit's theoretical centre in input pixels
    model::ReceptiveField theoretical;
    // The side of the smallest square centred on the unit (clipped to the image) holding
    // 50 % / 90 % of the map's mass, and its ratio to the theoretical size.
    std::int64_t side50 = 0, side90 = 0;
    double ratio50 = 0, ratio90 = 0;
    double mass = 0; // Σ map (0: the unit does not depend on the input at all)
    // The RMS distance of the map's mass from the unit's centre, in pixels: a continuous size
    // (the squares above move in whole pixels). A Gaussian field of σ per axis has √2·σ.
    double rmsRadius = 0;
};

// The effective field of `unit` over `images` (count × imageSize() pixels in [0, 1]), in
// batches of the inspector's size. Errors: a layer without a spatial output, a unit outside
// it, no images. Cancellable between batches.
Result<EffectiveField> effectiveField(Inspector& in, const Unit& unit,
                                      std::span<const double> images, std::int64_t count,
                                      Progress* progress = nullptr);

// The `convscope-cli rf` table (layer, output, RF size, jump, start) and its CSV; `effective`
// (optional, one per row, null for none) adds the ERF-50 and ERF-90 sides and ERF-90 / RF.
std::string fieldTable(const std::vector<RfRow>& rows,
                       const std::vector<const EffectiveField*>& effective = {});
std::string fieldCsv(const std::vector<RfRow>& rows,
                     const std::vector<const EffectiveField*>& effective = {});

// The smallest odd-or-even side s of a square centred at (cy, cx) (clipped to the map) holding
// at least `fraction` of the map's mass; the map's size when even that is not enough.
std::int64_t centredSquare(std::span<const double> map, std::int64_t height, std::int64_t width,
                           double cy, double cx, double fraction);

} // namespace convscope::analysis
