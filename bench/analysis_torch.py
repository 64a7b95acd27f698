#!/usr/bin/python3
"""PyTorch CPU timings of the analysis layer's interactive work (the torch side of the analysis
benchmark). Run with Debian's /usr/bin/python3; torch.set_num_threads(2); float32; eval mode.

    /usr/bin/python3 bench/analysis_torch.py --preset lenet5|resnet20 [--checkpoint CKPT]
        [--repeats 5] [--images IDX.gz --labels IDX.gz] [--mean 0.2860 --std 0.3530]

The model is resources/presets/<preset>.json built by scripts/convscope_torch.py (PyTorch's
default initialisation, seed 0), or --checkpoint loaded with its own spec. The input shape is
the spec's "input". Images: the IDX files if given (e.g. /usr/share/datasets/fashion-mnist/
t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz), else uniform random pixels and labels
(seed 0). Pixels are in [0, 1]; the network sees (x - mean) / std; gradients are d/dpixels.

(a) saliency for one image (image 0, target = its predicted class), each method computed on its
    own as a view computes it:
      gradient   one forward + backward of the target logit, then gradient x input
      smoothgrad n = 25 noisy copies (sigma 0.15) as one batch: forward + backward, mean
      ig         m = 32 midpoint path points as one batch (forward + backward) plus one no-grad
                 forward of the baseline (zeros), weighted sum times (x - baseline)
      gradcam    forward with a hook on the last top-level layer with spatial output (h*w > 1),
                 gradient of the target logit w.r.t. that output, channel weights, ReLU,
                 bilinear upsampling to the image size
      total      the four in sequence
(b) lenet5-family only (input 1x28x28): FGSM accuracy vs eps for 1,000 images and 13 eps values
    (0, 0.025, ..., 0.3): one gradient pass (loss w.r.t. pixels, batches of --batch = 500), then
    13 no-grad forward passes over the 1,000 adversarial images (same batches), accuracy counted
    with the analysis rule (correct on the clean image and on the adversarial one).
      fgsm_gradient, fgsm_forward (all 13 eps), fgsm_total

Each measurement: one warm-up, then --repeats timed runs. Prints one line per measurement:
    torch <preset> <what> median_ms min_ms max_ms
The accuracies and the Grad-CAM layer go to stderr (for a sanity look, not timed).
"""
import argparse, json, statistics, sys, time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import convscope_torch as cs  # noqa: E402

SMOOTHGRAD_N, SMOOTHGRAD_SIGMA, IG_STEPS = 25, 0.15, 32
FGSM_IMAGES, FGSM_EPS = 1000, [0.025 * i for i in range(13)]


def spatial_layer(model, x):
    """The last top-level layer whose output is (N, K, h, w) with h*w > 1."""
    found, hooks = [], []
    for name, m in model.named_children():
        hooks.append(m.register_forward_hook(
            lambda mod, i, o, name=name: found.append(name)
            if isinstance(o, torch.Tensor) and o.dim() == 4 and o.shape[2] * o.shape[3] > 1
            else None))
    with torch.no_grad():
        model(x)
    for h in hooks:
        h.remove()
    if not found:
        raise SystemExit("analysis_torch: the network has no layer with spatial output")
    return found[-1]


def main(argv=None):
    ap = argparse.ArgumentParser(description="PyTorch timings of saliency and FGSM sweeps.")
    ap.add_argument("--preset", required=True, help="resources/presets/<preset>.json")
    ap.add_argument("--checkpoint", help="checkpoint .safetensors (its spec wins)")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--images", help="IDX images (.gz), e.g. t10k-images-idx3-ubyte.gz")
    ap.add_argument("--labels", help="IDX labels (.gz), e.g. t10k-labels-idx1-ubyte.gz")
    ap.add_argument("--mean", type=float, default=0.2860)
    ap.add_argument("--std", type=float, default=0.3530)
    ap.add_argument("--batch", type=int, default=500, help="FGSM batch size")
    a = ap.parse_args(argv)
    if a.repeats < 1 or a.batch < 1:
        ap.error("--repeats and --batch must be >= 1")
    if bool(a.images) != bool(a.labels):
        ap.error("--images and --labels go together")

    torch.set_num_threads(2)
    torch.manual_seed(0)
    try:
        if a.checkpoint:
            model = cs.load(a.checkpoint)
        else:
            spec_path = ROOT / "resources" / "presets" / f"{a.preset}.json"
            model = cs.build_model(json.loads(spec_path.read_text())).eval()
    except (OSError, ValueError, RuntimeError, KeyError) as e:
        print(f"analysis_torch: {e}", file=sys.stderr)
        return 2
    model = model.float().eval()
    for p in model.parameters():
        p.requires_grad_(False)
    c, h, w = model.input_shape
    mean, std = a.mean, a.std

    n_images = FGSM_IMAGES
    if a.images:
        try:
            images = cs.read_idx(a.images)[:n_images].float().div(255.0).reshape(-1, c, h, w)
            labels = cs.read_idx(a.labels)[:n_images].long().reshape(-1)
        except (OSError, ValueError, RuntimeError) as e:
            print(f"analysis_torch: {e}", file=sys.stderr)
            return 2
    else:
        images = torch.rand(n_images, c, h, w)
        labels = torch.randint(0, 10, (n_images,))

    def net(x):
        return model((x - mean) / std)

    # ------------------------------------------------------------------ (a) saliency, one image
    x0 = images[:1].clone()
    with torch.no_grad():
        target = int(net(x0).argmax(1))
    cam_layer = spatial_layer(model, x0)
    cam_module = model.get_submodule(cam_layer)
    print(f"# {a.preset}: input {c}x{h}x{w}, Grad-CAM layer {cam_layer!r}, target {target}",
          file=sys.stderr)
    noise = torch.randn(SMOOTHGRAD_N, c, h, w) * SMOOTHGRAD_SIGMA
    alphas = ((torch.arange(IG_STEPS) + 0.5) / IG_STEPS).reshape(-1, 1, 1, 1)
    baseline = torch.zeros_like(x0)

    def gradient():
        x = x0.clone().requires_grad_(True)
        (g,) = torch.autograd.grad(net(x)[0, target], x)
        return g, g * x0

    def smoothgrad():
        x = (x0 + noise).requires_grad_(True)
        (g,) = torch.autograd.grad(net(x)[:, target].sum(), x)
        return g.mean(0), (g * g).mean(0)

    def ig():
        x = (baseline + alphas * (x0 - baseline)).requires_grad_(True)
        (g,) = torch.autograd.grad(net(x)[:, target].sum(), x)
        with torch.no_grad():
            yb = net(baseline)[0, target]
        return (x0 - baseline) * g.mean(0, keepdim=True), yb

    def gradcam():
        store = {}
        hook = cam_module.register_forward_hook(lambda m, i, o: store.__setitem__("a", o))
        try:
            y = net(x0.clone().requires_grad_(True))
        finally:
            hook.remove()
        act = store["a"]
        (g,) = torch.autograd.grad(y[0, target], act)
        raw = (g.mean((2, 3), keepdim=True) * act).sum(1, keepdim=True)
        return F.interpolate(F.relu(raw), size=(h, w), mode="bilinear", align_corners=False)

    parts = [("gradient", gradient), ("smoothgrad", smoothgrad), ("ig", ig), ("gradcam", gradcam)]
    times = {name: [] for name, _ in parts}
    times["total"] = []
    for rep in range(a.repeats + 1):  # the first is the warm-up
        t_all = time.perf_counter()
        sample = {}
        for name, fn in parts:
            t0 = time.perf_counter()
            fn()
            sample[name] = time.perf_counter() - t0
        sample["total"] = time.perf_counter() - t_all
        if rep:
            for k, v in sample.items():
                times[k].append(v * 1e3)
    report(a.preset, "saliency_total", times["total"])
    for name, _ in parts:
        report(a.preset, f"saliency_{name}", times[name])

    # ------------------------------------------------------------------ (b) FGSM sweep, lenet5
    if (c, h, w) != (1, 28, 28) or not a.preset.startswith("lenet5"):
        return 0
    xs, ys = images[:FGSM_IMAGES], labels[:FGSM_IMAGES]

    def fgsm():
        t0 = time.perf_counter()
        signs, clean_ok = [], []
        for lo in range(0, len(xs), a.batch):
            x = xs[lo:lo + a.batch].clone().requires_grad_(True)
            logits = net(x)
            (g,) = torch.autograd.grad(F.cross_entropy(logits, ys[lo:lo + a.batch],
                                                       reduction="sum"), x)
            signs.append(g.sign())
            clean_ok.append(logits.detach().argmax(1) == ys[lo:lo + a.batch])
        sign, ok = torch.cat(signs), torch.cat(clean_ok)
        t1 = time.perf_counter()
        acc = []
        with torch.no_grad():
            for eps in FGSM_EPS:
                adv = (xs + eps * sign).clamp(0, 1)
                pred = torch.cat([net(b).argmax(1) for b in adv.split(a.batch)])
                acc.append(float((ok & (pred == ys)).float().mean()))
        t2 = time.perf_counter()
        return (t1 - t0) * 1e3, (t2 - t1) * 1e3, (t2 - t0) * 1e3, acc

    grad_ms, fwd_ms, total_ms = [], [], []
    for rep in range(a.repeats + 1):
        g, f, t, acc = fgsm()
        if rep:
            grad_ms.append(g)
            fwd_ms.append(f)
            total_ms.append(t)
    print(f"# {a.preset}: FGSM accuracy for eps "
          + " ".join(f"{e:.3f}:{v:.3f}" for e, v in zip(FGSM_EPS, acc)), file=sys.stderr)
    report(a.preset, "fgsm_total", total_ms)
    report(a.preset, "fgsm_gradient", grad_ms)
    report(a.preset, "fgsm_forward", fwd_ms)
    return 0


def report(preset, what, ms):
    print(f"torch {preset} {what} {statistics.median(ms):.3f} {min(ms):.3f} {max(ms):.3f}",
          flush=True)


if __name__ == "__main__":
    sys.exit(main())
