#!/usr/bin/env python3
"""The PyTorch half of the training parity test.

    /usr/bin/python3 tests/train/parity_torch.py DIR

DIR (written by the C++ test) holds spec.json, init.safetensors (initial weights and batch-norm
buffers), final.safetensors (convscope's weights after the run), images.u8 (count*C*H*W bytes,
NCHW), labels.u8 (count bytes), losses.csv ("step,loss" header, one line per step: convscope's
forward loss before that step's update) and config.json {"batch", "steps", "lr", "momentum",
"weight_decay", "scale", "shift"}.

PyTorch replays the run on the CPU in float32: step k trains on samples k*B .. (k+1)*B-1 in file
order, x = u8.float() * scale + shift (two float32 ops), mean cross entropy, SGD (dampening 0, no
Nesterov). It then compares every step's loss, |torch - csv| / |csv|, and every tensor of
final.safetensors against the model's state_dict, max|final - torch| / max|torch| (the
num_batches_tracked counters must equal the step count). One JSON line goes to stdout:
  {"steps", "max_loss_rel", "worst_loss_step", "max_weight_rel", "worst_tensor", "tensors"}
(non-finite numbers as null), and a human line to stderr.
Exit 0: both maxima <= 1e-3; 1: a larger difference; 2: missing/malformed files or key mismatch.
"""
import json, math, sys
from pathlib import Path

import torch
import torch.nn.functional as F

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
import convscope_torch as cs  # noqa: E402

TOLERANCE = 1e-3


def fail(msg):
    print(f"parity_torch: {msg}", file=sys.stderr)
    sys.exit(2)


def check_keys(what, have, want):
    missing, unexpected = sorted(set(want) - set(have)), sorted(set(have) - set(want))
    if missing or unexpected:
        fail(f"{what}: state_dict key mismatch\n  missing: {missing}\n  unexpected: {unexpected}")
    for k in want:
        if tuple(have[k].shape) != tuple(want[k].shape):
            fail(f"{what}: {k} has shape {list(have[k].shape)}, the model wants "
                 f"{list(want[k].shape)}")


def finite_or_none(v):
    return v if math.isfinite(v) else None


def has_dropout(layers):
    for l in layers:
        if l.get("type") == "dropout" and float(l.get("rate", 0.5)) > 0:
            return True
        if has_dropout(l.get("body", [])) or any(has_dropout(b) for b in l.get("branches", [])):
            return True
    return False


def main(argv):
    if len(argv) != 2:
        fail("usage: parity_torch.py DIR")
    d = Path(argv[1])
    if not d.is_dir():
        fail(f"{d}: no such folder")
    names = ["spec.json", "config.json", "init.safetensors", "final.safetensors", "images.u8",
             "labels.u8", "losses.csv"]
    missing = [n for n in names if not (d / n).is_file()]
    if missing:
        fail(f"{d}: missing {', '.join(missing)}")

    torch.set_num_threads(2)
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.manual_seed(0)
    spec = json.loads((d / "spec.json").read_text())
    cfg = json.loads((d / "config.json").read_text())
    try:
        B, S = int(cfg["batch"]), int(cfg["steps"])
        lr, mom = float(cfg["lr"]), float(cfg.get("momentum", 0.0))
        wd = float(cfg.get("weight_decay", 0.0))
        # "float64" replays in double precision against convscope's CPU double backend: deep
        # nets with batch norm are too ill-conditioned at initialisation for fp32 parity (torch
        # fp32 and torch fp64 themselves differ by ~1e-2 in ResNet-20's early gradients).
        dtype = torch.float64 if cfg.get("dtype", "float32") == "float64" else torch.float32
        # convscope normalises in float32 on every backend (x is then widened for fp64)
        scale = torch.tensor(float(cfg["scale"]), dtype=torch.float32)
        shift = torch.tensor(float(cfg["shift"]), dtype=torch.float32)
    except (KeyError, ValueError, TypeError) as e:
        fail(f"config.json: {e!r}")
    if has_dropout(spec.get("layers", [])):
        print("parity_torch: warning: the spec has dropout; its masks cannot match convscope's",
              file=sys.stderr)

    try:
        model = cs.build_model(spec)
    except (KeyError, ValueError, TypeError) as e:
        fail(f"spec.json: {e!r}")
    init, _ = cs.read_safetensors(d / "init.safetensors")
    check_keys("init.safetensors", init, model.state_dict())
    model.load_state_dict(init, strict=True)
    model.to(dtype)
    model.train()

    C, H, W = model.input_shape
    images = (d / "images.u8").read_bytes()
    labels = bytearray((d / "labels.u8").read_bytes())
    if not labels:
        fail("labels.u8 is empty")
    labels = torch.frombuffer(labels, dtype=torch.uint8).long()
    count = len(labels)
    if len(images) != count * C * H * W:
        fail(f"images.u8 has {len(images)} bytes, not {count} labels x {C}x{H}x{W}")
    if B <= 0 or count <= (S - 1) * B:  # the last batch may be partial
        fail(f"{count} samples are too few for {S} steps of batch {B}")
    images = torch.frombuffer(bytearray(images), dtype=torch.uint8).reshape(count, C, H, W)

    rows = [l.strip() for l in (d / "losses.csv").read_text().splitlines() if l.strip()]
    if rows and rows[0].replace(" ", "") == "step,loss":
        rows = rows[1:]
    try:
        ref = [(int(r.split(",")[0]), float(r.split(",")[1])) for r in rows]
    except (ValueError, IndexError):
        fail("losses.csv: expected lines \"step,loss\"")
    if len(ref) != S:
        fail(f"losses.csv has {len(ref)} steps, config.json says {S}")

    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=mom, weight_decay=wd,
                          dampening=0, nesterov=False)
    losses = []
    for k in range(S):
        x = images[k * B:(k + 1) * B].float()
        x = x * scale
        x = (x + shift).to(dtype)
        y = labels[k * B:(k + 1) * B]
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        losses.append(float(loss.item()))

    max_loss_rel, worst_step, worst_pair = -1.0, None, (math.nan, math.nan)
    for (step, b), a in zip(ref, losses):
        rel = abs(a - b) / abs(b) if b != 0 else abs(a - b)
        rel = rel if math.isfinite(rel) else math.inf
        if rel > max_loss_rel:
            max_loss_rel, worst_step, worst_pair = rel, step, (b, a)

    final, _ = cs.read_safetensors(d / "final.safetensors")
    mine = model.state_dict()
    check_keys("final.safetensors", final, mine)
    max_w, worst_tensor, n, counters_bad = -1.0, None, 0, []
    for k, t in final.items():
        if k.endswith("num_batches_tracked"):
            if int(t.reshape(-1)[0]) != S:
                counters_bad.append(f"{k}={int(t.reshape(-1)[0])}")
            continue
        a, b = t.double(), mine[k].double()
        num, den = (a - b).abs().max().item(), b.abs().max().item()
        rel = num / den if den > 0 else num
        rel = rel if math.isfinite(rel) else math.inf
        n += 1
        if rel > max_w:
            max_w, worst_tensor = rel, k

    max_loss_rel, max_w = max(max_loss_rel, 0.0), max(max_w, 0.0)
    ok = max_loss_rel <= TOLERANCE and max_w <= TOLERANCE and not counters_bad
    print(json.dumps({"steps": S, "max_loss_rel": finite_or_none(max_loss_rel),
                      "worst_loss_step": worst_step, "max_weight_rel": finite_or_none(max_w),
                      "worst_tensor": worst_tensor, "tensors": n}))
    print(f"parity_torch: {'PASS' if ok else 'FAIL'} (tolerance {TOLERANCE:g}): worst loss at "
          f"step {worst_step}: convscope {worst_pair[0]:.7g} vs torch {worst_pair[1]:.7g} "
          f"(rel {max_loss_rel:.3g}); worst tensor {worst_tensor} (rel {max_w:.3g}) of {n}"
          + (f"; num_batches_tracked != {S}: {', '.join(counters_bad)}" if counters_bad else ""),
          file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))

# A PyTorch user loading a convscope checkpoint (run folder or .safetensors file):
#   import sys; sys.path.insert(0, "scripts"); import convscope_torch as cs
#   model = cs.load("runs/my-run/checkpoints/step-1000.safetensors")   # eval mode, strict
#   logits = model(images)                                             # (N, C, H, W) -> (N, 10)
