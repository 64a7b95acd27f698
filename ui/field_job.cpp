// The Receptive field tab's job (see field_job.h).
#include "field_job.h"

#include "analysis/receptive_field.h"
#include "data/datasets.h"

#include <QObject>

namespace convscope::ui {

namespace {

Status fill(analysis::Inspector& in, const data::TrainTestSplit& data, const FieldRequest& r,
            bool trained, Progress* progress, FieldResult& out) {
    const auto& test = data.test;
    if (test.channels != in.channels() || test.height != in.height() || test.width != in.width())
        return Status::error("the test images are " + std::to_string(test.channels) + "x" +
                                 std::to_string(test.height) + "x" + std::to_string(test.width) +
                                 ", the network takes " + std::to_string(in.channels()) + "x" +
                                 std::to_string(in.height()) + "x" + std::to_string(in.width()),
                             "receptive field", "Pick the dataset the network is built for");
    if (r.image < 0 || r.image >= test.count)
        return Status::error("test image " + std::to_string(r.image) + " does not exist", test.name,
                             "Pick one of 0.." + std::to_string(test.count - 1));
    // The layers with a spatial output larger than 1×1.
    std::vector<int> spatial;
    for (int l = 0; l < int(in.layers().size()); ++l) {
        const model::Dims& d = in.layers()[std::size_t(l)].dims;
        if (!d.flat && d.h * d.w > 1) {
            spatial.push_back(l);
            out.layers << QString::fromStdString(in.layers()[std::size_t(l)].name);
        }
    }
    if (spatial.empty())
        return Status::error("the network has no layer with a feature map", "receptive field",
                             "Add a convolution");
    int layer = r.layer.isEmpty() ? spatial.back() : in.layerIndex(r.layer.toStdString());
    if (layer < 0 || std::find(spatial.begin(), spatial.end(), layer) == spatial.end())
        layer = spatial.back(); // a layer the edited network no longer has
    const model::Dims& d = in.layers()[std::size_t(layer)].dims;
    analysis::Unit unit = analysis::centreUnit(in, layer);
    if (r.channel >= 0 && r.channel < d.c)
        unit.channel = r.channel;
    if (r.y >= 0 && r.y < d.h && r.x >= 0 && r.x < d.w) {
        unit.y = r.y;
        unit.x = r.x;
    }
    out.layer = QString::fromStdString(in.layers()[std::size_t(layer)].name);
    out.channel = int(unit.channel);
    out.y = int(unit.y);
    out.x = int(unit.x);

    // The test image and the layer's maps of it.
    const auto one = analysis::Inspector::images(test, r.image, 1);
    CS_TRY(in.setImages(one.pixels, 1));
    CS_TRY(in.forward());
    CS_TRY_ASSIGN(std::vector<double> maps, in.layerOutput(layer));
    out.image = {"image", int(in.channels()), int(in.height()), int(in.width()),
                 QVector<float>(one.pixels.begin(), one.pixels.end())};
    out.maps = {out.layer, int(d.c), int(d.h), int(d.w),
                QVector<float>(maps.begin(), maps.begin() + qsizetype(d.numel()))};

    // The unit's effective field over the first K test images.
    const auto set = analysis::Inspector::images(test, 0, std::max(1, r.images));
    CS_TRY_ASSIGN(analysis::EffectiveField e,
                  analysis::effectiveField(in, unit, set.pixels, set.count(), progress));
    out.erf = QVector<float>(e.map.begin(), e.map.end());
    out.erfImages = int(e.images);
    out.centreY = e.centreY;
    out.centreX = e.centreX;
    out.rfH = int(e.theoretical.sizeH);
    out.rfW = int(e.theoretical.sizeW);
    out.side50 = int(e.side50);
    out.side90 = int(e.side90);
    out.ratio90 = e.ratio90;
    if (!r.table)
        return {};

    // The table: every top-level layer, the spatial ones with their centre's effective sides.
    CS_TRY_ASSIGN(std::vector<analysis::RfRow> rows, analysis::theoreticalFields(in.spec()));
    auto centres = [&](std::vector<std::pair<int, int>>& sides) -> Status {
        for (int l : spatial) {
            if (progress && progress->cancelled())
                return Progress::cancelledStatus("receptive fields");
            CS_TRY_ASSIGN(
                analysis::EffectiveField c,
                analysis::effectiveField(in, analysis::centreUnit(in, l), set.pixels, set.count()));
            sides.emplace_back(int(c.side50), int(c.side90));
        }
        return {};
    };
    std::vector<std::pair<int, int>> now, initial;
    CS_TRY(centres(now));
    if (r.untrained && trained) {
        CS_TRY_ASSIGN(io::SafeTensors weights, in.weights());
        Status s = in.initialize(r.seed);
        if (s.ok())
            s = centres(initial);
        CS_TRY(in.loadWeights(weights, "the analysed network"));
        CS_TRY(s);
    } else if (r.untrained) {
        initial = now;
    }
    for (const analysis::RfRow& row : rows) {
        FieldRow f;
        f.layer = QString::fromStdString(row.layer);
        f.output = QString::fromStdString(row.dims.str());
        f.rf = int(std::max(row.rf.sizeH, row.rf.sizeW));
        f.jump = int(std::max(row.rf.jumpH, row.rf.jumpW));
        f.global = row.rf.global;
        const int l = in.layerIndex(row.layer);
        const auto it = std::find(spatial.begin(), spatial.end(), l);
        if (it != spatial.end()) {
            const std::size_t k = std::size_t(it - spatial.begin());
            f.erf50 = now[k].first;
            f.erf90 = now[k].second;
            if (k < initial.size())
                f.erf90Initial = initial[k].second;
        }
        out.rows.push_back(f);
    }
    return {};
}

} // namespace

FieldResult computeFields(analysis::Inspector& in, const data::TrainTestSplit& data,
                          const FieldRequest& r, bool trained, Progress* progress) {
    FieldResult out;
    out.request = r;
    out.trained = trained;
    if (Status s = fill(in, data, r, trained, progress, out); !s.ok())
        out.error = Progress::isCancellation(s) ? QObject::tr("Cancelled")
                                                : QString::fromStdString(s.message());
    return out;
}

} // namespace convscope::ui
