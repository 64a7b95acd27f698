#!/usr/bin/env python3
"""The independent PyTorch-autograd reference for convscope's analysis layer.

    /usr/bin/python3 tests/analysis/analysis_torch.py --checkpoint CKPT.safetensors \
        --inputs IN.safetensors --out OUT.safetensors [--dtype float64|float32] [--batch 256]
        [--out-dtype float32]

The model comes from scripts/convscope_torch.py `load` (spec from the checkpoint's metadata) and
always runs in evaluation mode (batch norm uses its running statistics, dropout is off). With
--dtype float64 (the default) the model and every input are converted to float64; with float32
they stay/become float32. Results are written as F64 (float64) or F32 (float32).

Conventions (design.md, "Analysis layer"):
- Pixel units: the inputs are images x in [0, 1]; the network sees (x - mean) / std. Every
  gradient below is d/dx with respect to the PIXELS (autograd chains through the normalisation).
- y_target(x) = logits(x)[i, targets[i]], the pre-softmax logit of image i's target class.
- CE(x, label) = cross-entropy of the logits (log-softmax, natural log) with the true label,
  per image (reduction "sum" over the batch, so each image gets its own un-averaged gradient).
- Images never interact (evaluation mode), so work is batched in chunks of --batch rows.

IN.safetensors (float tensors F32 or F64, cast to the chosen dtype):
  "pixels"   (N, C, H, W) images in [0, 1]; C, H, W must equal the spec's "input"
  "labels"   (N,) I64 true labels               "targets" (N,) I64 target classes (saliency)
  "noise"    (N, n, C, H, W) SmoothGrad noise, already drawn (task "smoothgrad")
  "baseline" (N, C, H, W) IG baseline in pixel units (task "ig"; (C,H,W) or (1,C,H,W) broadcast)
  metadata (all strings):
  "mean", "std"   required: one number each (or a comma list of C numbers, one per channel)
  "tasks"         comma list of: grad_logit, grad_loss, smoothgrad, ig, gradcam, fgsm, pgd, erf
  "ig_steps" = m, "ig_rule" = midpoint | gauss-legendre                       (task "ig")
  "gradcam_layer" = a module path, e.g. "relu2", "stage3_block3", "stage1_block1.body.relu_a"
  "eps" = comma list of floats                                         (tasks "fgsm", "pgd")
  "erf_layer" = a module path, "erf_unit" = "c,y,x"                                (task "erf")
  "pgd_steps" = k (>= 1)                                                         (task "pgd")
  "keep_images" = "0" leaves fgsm_images, pgd_images and their logits out (large N)
  "points" = "a1:b1,a2:b2,..." grid points (task "landscape"), with the input tensors
             "delta.<name>" and "eta.<name>" (the directions, the checkpoint's parameter names)

OUT.safetensors (E = number of eps values, K = classes):
  "logits"          (N, K) logits of the clean pixels (always)
  grad_logit: "grad_logit" (N,C,H,W) = d y_target / dx
  grad_loss:  "grad_loss"  (N,C,H,W) = d CE(x, label) / dx
  smoothgrad: "smoothgrad"    (N,C,H,W) = mean_j  g(x + noise[:, j])      g = d y_target / dx
              "smoothgrad_sq" (N,C,H,W) = mean_j  g(x + noise[:, j])^2    (no clipping to [0, 1])
  ig:         "ig" (N,C,H,W) = (x - b) * sum_k w_k g(b + a_k (x - b))
              midpoint: a_k = (k - 1/2)/m, w_k = 1/m, k = 1..m;
              gauss-legendre: numpy leggauss(m) nodes t, weights v -> a = (t + 1)/2, w = v/2
              "ig_delta" (N,) = y_target(x) - y_target(b)
              "ig_gap"   (N,) = sum over C,H,W of "ig" - ig_delta   (completeness error)
  gradcam:    A = the OUTPUT of module gradcam_layer (N,k,h,w), G = d y_target / dA,
              "gradcam_raw" (N,h,w) = sum_k mean_{h,w}(G_k) * A_k  (no ReLU)
              "gradcam"     (N,H,W) = F.interpolate(ReLU(raw)[:, None], (H, W), mode="bilinear",
                                                    align_corners=False)
              "gradcam_activation" = A, "gradcam_gradient" = G   (for debugging)
  erf:        the effective receptive field (Luo et al. 2016) of unit (c, y, x) of module
              erf_layer's OUTPUT A: "erf" (H, W) = mean over the N images of
              sum over channels of |d A[n, c, y, x] / dx[n]|
  fgsm:       x'_e = clamp(x + eps_e * sign(d CE / dx at x), 0, 1)   (sign(0) = 0)
              "fgsm_images" (E,N,C,H,W), "fgsm_logits" (E,N,K),
              "fgsm_accuracy" (E,): fraction of images correct on the clean x AND argmax(x'_e)
              == label; "fgsm_confidence" (E,): mean over images of max softmax(logits(x'_e))
  pgd:        per eps: x_0 = x (no random start), alpha = 2.5 eps / k, k times
              x <- clamp(clamp(x + alpha * sign(d CE / dx at x), x_clean - eps, x_clean + eps), 0, 1)
              "pgd_images" (E,N,C,H,W), "pgd_accuracy" (E,) (same rule as FGSM), and also
              "pgd_logits" (E,N,K), "pgd_confidence" (E,) (same definitions as FGSM's)
  landscape:  as tomgoldstein/loss-landscape does per point: every parameter p <- p* + a*delta + b*eta
              (buffers, i.e. batch-norm running statistics, stay the checkpoint's), model.eval(),
              "landscape_loss" (P,) = F.cross_entropy(logits, labels) (mean over the N images),
              "landscape_accuracy" (P,) = mean(argmax(logits) == labels)
argmax ties go to the lowest class index (torch.argmax).

Exit 0 on success; 2 with one line on stderr for a missing file or tensor, bad metadata or
shapes. The output is written to OUT + ".tmp" and renamed, so a failure leaves no half file.
"""
import argparse, math, os, sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
import convscope_torch as cs  # noqa: E402

TASKS = ("grad_logit", "grad_loss", "smoothgrad", "ig", "gradcam", "fgsm", "pgd", "landscape",
         "erf")


class Fail(Exception):
    pass


# ---------------------------------------------------------------------------- parsing helpers
def floats(meta, key, what):
    if key not in meta:
        raise Fail(f"metadata {key!r} missing ({what})")
    try:
        v = [float(s) for s in meta[key].split(",") if s.strip()]
    except ValueError:
        raise Fail(f"metadata {key}={meta[key]!r}: not a comma list of numbers") from None
    if not v or not all(math.isfinite(x) for x in v):
        raise Fail(f"metadata {key}={meta[key]!r}: needs finite numbers")
    return v


def integer(meta, key, what, minimum=1):
    if key not in meta:
        raise Fail(f"metadata {key!r} missing ({what})")
    try:
        v = int(meta[key])
    except ValueError:
        raise Fail(f"metadata {key}={meta[key]!r}: not an integer") from None
    if v < minimum:
        raise Fail(f"metadata {key}={v}: must be >= {minimum}")
    return v


def tensor(ins, key, shape, dtype, what):
    if key not in ins:
        raise Fail(f"inputs: tensor {key!r} missing ({what})")
    t = ins[key]
    if tuple(t.shape) != tuple(shape):
        raise Fail(f"inputs: {key} has shape {list(t.shape)}, expected {list(shape)}")
    if dtype.is_floating_point:
        if not t.dtype.is_floating_point:
            raise Fail(f"inputs: {key} is {t.dtype}, expected a float tensor")
        t = t.to(dtype)
        if not torch.isfinite(t).all():
            raise Fail(f"inputs: {key} holds non-finite values")
        return t
    if t.dtype.is_floating_point or t.dtype == torch.bool:
        raise Fail(f"inputs: {key} is {t.dtype}, expected I64")
    return t.long()


# ---------------------------------------------------------------------------- the reference
class Reference:
    def __init__(self, model, mean, std, batch):
        self.model, self.mean, self.std, self.batch = model, mean, std, batch

    def logits(self, pixels):
        return self.model((pixels - self.mean) / self.std)

    @torch.no_grad()
    def forward(self, pixels):
        return torch.cat([self.logits(c) for c in pixels.split(self.batch)])

    def _grad(self, pixels, seed):
        """d seed(logits, rows) / d pixels, chunked; seed returns a scalar per chunk."""
        out = []
        for lo in range(0, len(pixels), self.batch):
            x = pixels[lo:lo + self.batch].detach().clone().requires_grad_(True)
            s = seed(self.logits(x), slice(lo, lo + len(x)))
            (g,) = torch.autograd.grad(s, x)
            out.append(g)
        return torch.cat(out)

    def grad_target(self, pixels, targets):
        return self._grad(pixels, lambda y, r: y.gather(1, targets[r, None]).sum())

    def grad_loss(self, pixels, labels):
        return self._grad(pixels, lambda y, r: F.cross_entropy(y, labels[r], reduction="sum"))

    def unit_gradient(self, pixels, module, unit):
        """sum over the batch of |d A[n, c, y, x] / dx[n]| summed over channels, A = module's output."""
        store, total = {}, None
        handle = module.register_forward_hook(lambda m, i, o: store.__setitem__("a", o))
        try:
            for lo in range(0, len(pixels), self.batch):
                store.clear()
                x = pixels[lo:lo + self.batch].detach().clone().requires_grad_(True)
                self.logits(x)
                a = store.get("a")
                if not isinstance(a, torch.Tensor) or a.dim() != 4:
                    raise Fail("erf_layer: the module's output is not (N, K, h, w)")
                c, y, xx = unit
                if not (0 <= c < a.shape[1] and 0 <= y < a.shape[2] and 0 <= xx < a.shape[3]):
                    raise Fail(f"erf_unit {unit} is outside the output {tuple(a.shape[1:])}")
                (g,) = torch.autograd.grad(a[:, c, y, xx].sum(), x)
                part = g.abs().sum((0, 1))
                total = part if total is None else total + part
        finally:
            handle.remove()
        return total

    def gradcam(self, pixels, targets, module):
        acts, grads, store = [], [], {}
        handle = module.register_forward_hook(lambda m, i, o: store.__setitem__("a", o))
        try:
            for lo in range(0, len(pixels), self.batch):
                store.clear()
                # the parameters are frozen: the input carries requires_grad so that A has a graph
                y = self.logits(pixels[lo:lo + self.batch].detach().clone().requires_grad_(True))
                a = store.get("a")
                if not isinstance(a, torch.Tensor) or a.dim() != 4:
                    raise Fail(f"gradcam_layer: the module's output is "
                               f"{type(a).__name__ if a is None else tuple(a.shape)}, "
                               f"not (N, K, h, w)")
                s = y.gather(1, targets[lo:lo + len(y), None]).sum()
                (g,) = torch.autograd.grad(s, a)
                acts.append(a.detach())
                grads.append(g)
        finally:
            handle.remove()
        return torch.cat(acts), torch.cat(grads)


def run(a):
    dtype = torch.float64 if a.dtype == "float64" else torch.float32
    for p in (a.checkpoint, a.inputs):
        if not Path(p).is_file():
            raise Fail(f"{p}: no such file")
    try:
        model = cs.load(a.checkpoint)
        ins, meta = cs.read_safetensors(a.inputs)
    except (OSError, ValueError, RuntimeError, KeyError) as e:
        raise Fail(str(e)) from None
    model = model.to(dtype).eval()
    for p in model.parameters():
        p.requires_grad_(False)

    if "pixels" not in ins:
        raise Fail("inputs: tensor 'pixels' missing")
    if ins["pixels"].dim() != 4:
        raise Fail(f"inputs: pixels has shape {list(ins['pixels'].shape)}, expected (N, C, H, W)")
    n, c, h, w = ins["pixels"].shape
    if n == 0:
        raise Fail("inputs: pixels holds no images (N = 0)")
    if (c, h, w) != tuple(model.input_shape):
        raise Fail(f"inputs: pixels are {c}x{h}x{w}, the network's input is "
                   f"{'x'.join(map(str, model.input_shape))}")
    pixels = tensor(ins, "pixels", (n, c, h, w), dtype, "images")
    labels = tensor(ins, "labels", (n,), torch.int64, "true labels")
    targets = tensor(ins, "targets", (n,), torch.int64, "target classes")

    mean, std = floats(meta, "mean", "normalisation"), floats(meta, "std", "normalisation")
    for key, v in (("mean", mean), ("std", std)):
        if len(v) not in (1, c):
            raise Fail(f"metadata {key}: {len(v)} values for {c} channels")
    if not all(s > 0 for s in std):
        raise Fail("metadata std: must be > 0")
    mean = torch.tensor(mean, dtype=dtype).reshape(1, -1, 1, 1)
    std = torch.tensor(std, dtype=dtype).reshape(1, -1, 1, 1)

    tasks = [t.strip() for t in meta.get("tasks", "").split(",") if t.strip()]
    for t in tasks:
        if t not in TASKS:
            raise Fail(f"metadata tasks: unknown task {t!r} (known: {', '.join(TASKS)})")

    ref = Reference(model, mean, std, a.batch)
    logits = ref.forward(pixels)
    classes = logits.shape[1]
    for key, v in (("labels", labels), ("targets", targets)):
        if (int(v.min()) < 0 or int(v.max()) >= classes):
            raise Fail(f"inputs: {key} outside 0..{classes - 1}")
    out = {"logits": logits}
    clean_ok = logits.argmax(1) == labels

    def y_target(lg):
        return lg.gather(1, targets[:, None])[:, 0]

    if "grad_logit" in tasks:
        out["grad_logit"] = ref.grad_target(pixels, targets)
    if "grad_loss" in tasks or "fgsm" in tasks:
        g_loss = ref.grad_loss(pixels, labels)
        if "grad_loss" in tasks:
            out["grad_loss"] = g_loss

    if "smoothgrad" in tasks:
        if "noise" not in ins or ins["noise"].dim() != 5:
            raise Fail("inputs: tensor 'noise' (N, n, C, H, W) missing (task smoothgrad)")
        copies = ins["noise"].shape[1]
        noise = tensor(ins, "noise", (n, copies, c, h, w), dtype, "smoothgrad")
        if copies < 1:
            raise Fail("inputs: noise has no copies (n = 0)")
        x = (pixels[:, None] + noise).reshape(n * copies, c, h, w)
        g = ref.grad_target(x, targets.repeat_interleave(copies)).reshape(n, copies, c, h, w)
        out["smoothgrad"] = g.mean(1)
        out["smoothgrad_sq"] = (g * g).mean(1)

    if "ig" in tasks:
        if "baseline" not in ins:
            raise Fail("inputs: tensor 'baseline' missing (task ig)")
        b = ins["baseline"]
        if tuple(b.shape) in ((c, h, w), (1, c, h, w)):
            b = b.reshape(1, c, h, w).expand(n, c, h, w)
        baseline = tensor({"baseline": b}, "baseline", (n, c, h, w), dtype, "ig").contiguous()
        m = integer(meta, "ig_steps", "task ig")
        rule = meta.get("ig_rule")
        if rule == "midpoint":
            alphas = (np.arange(1, m + 1) - 0.5) / m
            weights = np.full(m, 1.0 / m)
        elif rule == "gauss-legendre":
            t, v = np.polynomial.legendre.leggauss(m)
            alphas, weights = (t + 1.0) / 2.0, v / 2.0
        else:
            raise Fail(f"metadata ig_rule={rule!r}: expected midpoint or gauss-legendre")
        alphas = torch.tensor(alphas, dtype=dtype).reshape(1, m, 1, 1, 1)
        weights = torch.tensor(weights, dtype=dtype).reshape(1, m, 1, 1, 1)
        diff = pixels - baseline
        path = (baseline[:, None] + alphas * diff[:, None]).reshape(n * m, c, h, w)
        g = ref.grad_target(path, targets.repeat_interleave(m)).reshape(n, m, c, h, w)
        ig = diff * (weights * g).sum(1)
        delta = y_target(logits) - y_target(ref.forward(baseline))
        out["ig"] = ig
        out["ig_gap"] = ig.sum((1, 2, 3)) - delta
        out["ig_delta"] = delta

    if "gradcam" in tasks:
        path = meta.get("gradcam_layer", "")
        if not path:
            raise Fail("metadata 'gradcam_layer' missing (task gradcam)")
        try:
            module = model.get_submodule(path)
        except AttributeError:
            raise Fail(f"metadata gradcam_layer={path!r}: no such module in the network") \
                from None
        act, grad = ref.gradcam(pixels, targets, module)
        raw = (grad.mean((2, 3), keepdim=True) * act).sum(1)
        out["gradcam"] = F.interpolate(F.relu(raw)[:, None], size=(h, w), mode="bilinear",
                                       align_corners=False)[:, 0]
        out["gradcam_raw"] = raw
        out["gradcam_activation"] = act
        out["gradcam_gradient"] = grad

    if "erf" in tasks:
        path = meta.get("erf_layer", "")
        try:
            module = model.get_submodule(path)
            unit = tuple(int(v) for v in meta["erf_unit"].split(","))
        except (AttributeError, KeyError, ValueError):
            raise Fail("metadata erf_layer (a module) and erf_unit (c,y,x) are needed (task erf)") \
                from None
        if len(unit) != 3:
            raise Fail("erf_unit must be c,y,x")
        out["erf"] = ref.unit_gradient(pixels, module, unit) / n

    if "fgsm" in tasks or "pgd" in tasks:
        eps = floats(meta, "eps", "tasks fgsm, pgd")
        if any(e < 0 for e in eps):
            raise Fail("metadata eps: values must be >= 0")

    def summarise(prefix, images):
        lg = torch.stack([ref.forward(x) for x in images])
        ok = clean_ok[None] & (lg.argmax(2) == labels[None])
        out[f"{prefix}_accuracy"] = ok.to(dtype).mean(1)
        out[f"{prefix}_confidence"] = F.softmax(lg, 2).amax(2).mean(1)
        return lg

    if "fgsm" in tasks:
        step = g_loss.sign()
        images = torch.stack([(pixels + e * step).clamp(0, 1) for e in eps])
        out["fgsm_images"] = images
        out["fgsm_logits"] = summarise("fgsm", images)
        out["fgsm_gradient"] = g_loss

    if "pgd" in tasks:
        k = integer(meta, "pgd_steps", "task pgd")
        images = []
        for e in eps:
            alpha = 2.5 * e / k
            x = pixels.clone()
            for _ in range(k):
                x = x + alpha * ref.grad_loss(x, labels).sign()
                x = torch.min(torch.max(x, pixels - e), pixels + e).clamp(0, 1)
            images.append(x)
        images = torch.stack(images)
        out["pgd_images"] = images
        out["pgd_logits"] = summarise("pgd", images)

    if "landscape" in tasks:
        try:
            points = [tuple(float(v) for v in p.split(":")) for p in meta["points"].split(",")]
        except (KeyError, ValueError):
            raise Fail("metadata points: expected a1:b1,a2:b2,... (task landscape)") from None
        named = dict(model.named_parameters())
        base = {k: v.detach().clone() for k, v in named.items()}
        dirs = {}
        for k in named:
            for d in ("delta", "eta"):
                if f"{d}.{k}" not in ins:
                    raise Fail(f"inputs: direction tensor {d}.{k} missing (task landscape)")
                dirs[(d, k)] = ins[f"{d}.{k}"].to(dtype).reshape(base[k].shape)
        losses, accs = [], []
        with torch.no_grad():
            for a_, b_ in points:
                for k, p in named.items():
                    p.copy_(base[k] + a_ * dirs[("delta", k)] + b_ * dirs[("eta", k)])
                lg = ref.forward(pixels)
                losses.append(F.cross_entropy(lg, labels))
                accs.append((lg.argmax(1) == labels).to(dtype).mean())
            for k, p in named.items():
                p.copy_(base[k])
        out["landscape_loss"] = torch.stack(losses)
        out["landscape_accuracy"] = torch.stack(accs)

    if meta.get("keep_images", "1") == "0":
        for k in ("fgsm_images", "fgsm_logits", "pgd_images", "pgd_logits", "fgsm_gradient"):
            out.pop(k, None)
    out_dtype = {"float64": torch.float64, "float32": torch.float32}.get(a.out_dtype or a.dtype)
    out = {k: v.detach().to(out_dtype).contiguous() for k, v in out.items()}
    meta_out = {"checkpoint": str(a.checkpoint), "dtype": a.dtype,
                "tasks": ",".join(tasks)}
    tmp = str(a.out) + ".tmp"
    try:
        cs.write_safetensors(tmp, out, meta_out)
        os.replace(tmp, a.out)
    except OSError as e:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise Fail(f"{a.out}: {e.strerror or e}") from None


def main(argv=None):
    ap = argparse.ArgumentParser(description="PyTorch reference for convscope's analysis layer "
                                             "(see the docstring for the file formats).")
    ap.add_argument("--checkpoint", required=True, help="checkpoint .safetensors (spec in metadata)")
    ap.add_argument("--inputs", required=True, help="IN.safetensors")
    ap.add_argument("--out", required=True, help="OUT.safetensors")
    ap.add_argument("--dtype", choices=("float64", "float32"), default="float64")
    ap.add_argument("--out-dtype", choices=("float64", "float32"), default=None,
                    help="dtype of the written tensors (default: --dtype); convscope's reader "
                         "takes F32")
    ap.add_argument("--batch", type=int, default=256, help="rows per forward/backward chunk")
    a = ap.parse_args(argv)
    if a.batch < 1:
        ap.error("--batch must be >= 1")
    torch.set_num_threads(min(2, torch.get_num_threads()))
    try:
        run(a)
    except Fail as e:
        print(f"analysis_torch: {e}", file=sys.stderr)
        return 2
    except (OSError, ValueError, RuntimeError, KeyError) as e:
        print(f"analysis_torch: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else e}",
              file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
