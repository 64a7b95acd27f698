// What the analysis views ask the session for and what they get back: plain Qt types, copied
// across the engine thread, never engine types (the views do not include the engine).
#pragma once

#include <QLineF>
#include <QMetaType>
#include <QPointF>
#include <QString>
#include <QStringList>
#include <QVector>

namespace convscope::ui {

// The saliency methods, in the order the view shows them; the engine's names.
inline QStringList saliencyMethods() {
    return {"grad", "gradxinput", "smoothgrad", "ig", "gradcam"};
}

struct SaliencyRequest {
    int image = 0;                // test image index
    QString target = "predicted"; // predicted | true | class
    int targetClass = 0;          // when target is "class"
    QString layer;                // Grad-CAM's layer; empty: the last with H, W > 1
    int smoothSamples = 25;
    double smoothNoise = 0.15; // σ as a fraction of the image's pixel range
    int igSteps = 32;
    QString baseline = "black"; // black | blur | noise
    bool sanity = false;        // also the cascading randomisation
};

// One map: (channels, h, w) values, raw (pixel units; the view picks the colour scale).
struct MapImage {
    QString method;
    int channels = 1, h = 0, w = 0;
    QVector<float> values;
};

struct SaliencyResult {
    QString error; // empty when it worked
    SaliencyRequest request;
    int image = -1, label = -1, target = -1, predicted = -1;
    qint64 step = 0; // the weights' training step
    QVector<double> probabilities;
    QStringList classNames;
    QVector<float> pixels; // the image in [0, 1], (channels, h, w)
    int channels = 1, h = 0, w = 0;
    QVector<MapImage> maps;                // in saliencyMethods() order, those computed
    MapImage gradcamRaw;                   // at the layer's size, before the ReLU
    QString gradcamLayer;                  // the layer used
    QStringList layers;                    // layers Grad-CAM can use
    double igGap = 0, igDelta = 0;         // completeness
    QStringList sanityLayers;              // "" (trained), then the layer randomised
    QVector<QVector<double>> sanityRho;    // per step, per map in `maps` order
    QVector<QVector<MapImage>> sanityMaps; // per step
};

struct AttackRequest {
    int image = 0;
    double eps = 0.1; // pixel units
    int pgdSteps = 0; // 0: FGSM
};

struct AttackResult {
    QString error;
    AttackRequest request;
    int label = -1, predictedBefore = -1, predictedAfter = -1;
    QVector<float> clean, adversarial; // (channels, h, w) in [0, 1]
    int channels = 1, h = 0, w = 0;
    QVector<double> before, after; // class probabilities
    QStringList classNames;
};

struct CurveRequest {
    int count = 1000; // the first N test images
    QVector<double> eps;
    int pgdSteps = 0;
};

struct CurvePoint {
    double eps = 0, accuracy = 0, confidence = 0;
    int pgdSteps = 0;
};

struct ConfusionResult {
    QString error;
    int classes = 0;
    QVector<qint64> counts;     // [true][predicted]
    QVector<int> predicted;     // per test image (the first `predicted.size()`)
    QVector<double> confidence; // the predicted class's probability, per image
    QStringList classNames;
    int epoch = 0;
    qint64 step = 0;
    double eps = 0;   // > 0: of the images attacked at this ε
    int pgdSteps = 0; // with PGD (0: FGSM)
};

// The test images, for the image browser: bytes as stored (count, channels, h, w).
struct TestSet {
    QString error;
    QByteArray images;
    QVector<int> labels;
    int count = 0, channels = 1, h = 0, w = 0;
    QStringList classNames;
};

// Receptive fields (the Receptive field tab): one unit's theoretical and effective field, the
// layer's feature maps for one test image, and the per-layer table with the effective sizes of
// each layer's centre, trained and at initialisation.
struct FieldRequest {
    QByteArray spec; // the Build view's network; when it is not the analysed one, its
                     // initial weights are used (nothing trained to look at)
    QString dataset = "fashion-mnist", dataDir; // for a network nothing was trained on
    int image = 0;                              // the test image whose maps are shown
    QString layer;                              // empty: the last layer with a spatial output
    int channel = -1;                           // −1: every channel at (y, x) together
    int y = -1, x = -1;                         // −1: the centre
    int images = 64;       // the effective field's average over test images 0..images−1
    bool table = true;     // also every spatial layer's centre (the table and the depth chart)
    bool untrained = true; // ... and the same at initialisation (seed below)
    quint64 seed = 1;
};

struct FieldRow {
    QString layer, output;
    int rf = 0, jump = 0; // theoretical size (the larger side) and jump
    bool global = false;
    int erf50 = -1, erf90 = -1; // effective sides of the centre unit; −1: not computed
    int erf90Initial = -1;      // the same at initialisation
};

struct FieldResult {
    QString error;
    FieldRequest request;
    bool trained = false; // the weights are trained ones (else initial: an untrained network)
    QString network;      // "lenet5 step 2814" or "vgg-mini (initial weights)"
    QStringList layers;   // the layers with a spatial output (the layer box)
    QString layer;
    int channel = -1, y = 0, x = 0;
    MapImage image;     // the test image (pixels in [0, 1])
    MapImage maps;      // the layer's output for it (channels, h, w)
    QVector<float> erf; // (h, w) of the input: mean |∂unit/∂pixel| over the images
    int erfImages = 0;
    double centreY = 0, centreX = 0; // the unit's theoretical centre in input pixels
    int rfH = 0, rfW = 0, side50 = 0, side90 = 0;
    double ratio90 = 0;
    QVector<FieldRow> rows;
};

// A loss landscape (Li et al. 2018) around the analysed weights: a points × points grid over
// [−range, range]² along two directions, the mean cross-entropy over the first `images`
// training images in evaluation mode.
struct LandscapeRequest {
    // random | pca (the trajectory's plane: the live run's snapshots or the run's checkpoints) |
    // auto (pca when there is a trajectory, else random)
    QString directions = "random";
    QString norm = "filter"; // filter | layer | none (random directions)
    int points = 21;         // per axis, both ends included
    double range = 1.0;      // random: the grid spans [−range, range]; pca: 0 = auto
    int images = 500;
    quint64 seed = 1;     // the directions' seed
    bool hessian = false; // also λ_max and λ_min at θ*
    QString twinRun;      // also this run's surface, on the same grid (twins)
    QStringList runs;     // instead of the analysed model: these runs' last checkpoints
};

// One surface, streamed row by row (rowsDone grows) until complete.
struct LandscapeSurface {
    QString title; // "resnet20 step 2814"
    int rows = 0, cols = 0;
    double alphaLo = -1, alphaHi = 1, betaLo = -1, betaHi = 1;
    QVector<double> loss, accuracy; // rows × cols, NaN where not computed yet
    int rowsDone = 0;
    // Contour lines (the engine's marching squares) in grid units: x = column, y = row.
    QVector<double> levels;
    QVector<QVector<QLineF>> contours;   // one list of segments per level
    QVector<double> lineAlpha, lineLoss; // the 1-D line along δ through θ* (β = 0)
    QVector<QPointF> path;               // the trajectory in (α, β), PCA only
    QVector<qint64> pathSteps;
    QVector<int> epochEnds; // indices into path nearest the end of epoch 1, 2, … (the run's
                            // checkpoints)
    double explained1 = 0, explained2 = 0;
    bool hasHessian = false;
    double lambdaMax = 0, lambdaMin = 0;
    // Li et al.'s roughness within |α|, |β| ≤ 0.5 (when complete).
    int localMinima = 0;
    double meanAbsLaplacian = 0, minLoss = 0;
};

struct LandscapeResult {
    QString error; // empty when it worked (so far)
    LandscapeRequest request;
    QVector<LandscapeSurface> surfaces; // the model's, then the twin's
    bool finished = false;              // false: rows still coming
    double seconds = 0;
    QString summary; // one line for the status area
};

} // namespace convscope::ui

Q_DECLARE_METATYPE(convscope::ui::FieldRequest)
Q_DECLARE_METATYPE(convscope::ui::FieldResult)
Q_DECLARE_METATYPE(convscope::ui::LandscapeRequest)
Q_DECLARE_METATYPE(convscope::ui::LandscapeResult)
Q_DECLARE_METATYPE(convscope::ui::SaliencyRequest)
Q_DECLARE_METATYPE(convscope::ui::SaliencyResult)
Q_DECLARE_METATYPE(convscope::ui::AttackRequest)
Q_DECLARE_METATYPE(convscope::ui::AttackResult)
Q_DECLARE_METATYPE(convscope::ui::CurveRequest)
Q_DECLARE_METATYPE(convscope::ui::CurvePoint)
Q_DECLARE_METATYPE(convscope::ui::ConfusionResult)
Q_DECLARE_METATYPE(convscope::ui::TestSet)
