#!/usr/bin/python3
"""The anchor's method, timed: what tomgoldstein/loss-landscape does per grid point, in PyTorch
CPU (Debian's /usr/bin/python3, torch.set_num_threads(2), float32).

    /usr/bin/python3 bench/landscape_torch.py --checkpoint CKPT --directions DIR.safetensors \
        --images IDX.gz --labels IDX.gz --count N --points P [--batch 500] [--device cpu|cuda]

Per point (as net_plotter.set_weights and evaluation.eval_loss do): every parameter is set to
p* + a*delta + b*eta (the directions convscope-cli landscape wrote, so both compute the same
points), model.eval(), the mean cross-entropy and accuracy over the first N images in batches
of --batch under torch.no_grad(). P points of the 41 x 41 grid over [-1, 1]^2 are timed after
one warm-up point; prints
    torch <name> ms_per_point median min max
and the loss at the centre (stderr) to check against convscope's.
"""
import argparse, statistics, sys, time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.dont_write_bytecode = True
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import convscope_torch as cs  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--directions", required=True)
    ap.add_argument("--images", required=True)
    ap.add_argument("--labels", required=True)
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--points", type=int, default=20)
    ap.add_argument("--batch", type=int, default=500)
    ap.add_argument("--device", default="cpu", help="cpu or cuda (eager; .item() synchronizes)")
    a = ap.parse_args()
    torch.set_num_threads(2)
    dev = torch.device(a.device)
    model = cs.load(a.checkpoint).float().eval().to(dev)
    _, meta = cs.read_safetensors(a.checkpoint)
    mean, std = float(meta.get("mean", 0)), float(meta.get("std", 1))
    dirs, _ = cs.read_safetensors(a.directions)
    x = cs.read_idx(a.images)[: a.count].float().div(255.0).reshape(a.count, *model.input_shape)
    y = cs.read_idx(a.labels)[: a.count].long()
    x, y = ((x - mean) / std).to(dev), y.to(dev)
    named = dict(model.named_parameters())
    base = {k: v.detach().clone() for k, v in named.items()}
    delta = {k: dirs["delta." + k].float().reshape(v.shape).to(dev) for k, v in base.items()}
    eta = {k: dirs["eta." + k].float().reshape(v.shape).to(dev) for k, v in base.items()}

    def point(alpha, beta):
        with torch.no_grad():
            for k, p in named.items():
                p.copy_(base[k] + alpha * delta[k] + beta * eta[k])
            model.eval()
            loss, correct = 0.0, 0
            for xb, yb in zip(x.split(a.batch), y.split(a.batch)):
                out = model(xb)
                loss += F.cross_entropy(out, yb, reduction="sum").item()
                correct += (out.argmax(1) == yb).sum().item()
        return loss / a.count, correct / a.count

    grid = [(-1 + 2 * i / 40, -1 + 2 * j / 40) for j in range(41) for i in range(41)]
    centre = point(0.0, 0.0)  # warm-up, and the value to compare
    print(f"centre loss {centre[0]:.6f} accuracy {centre[1]:.4f}", file=sys.stderr)
    times = []
    step = max(1, len(grid) // a.points)
    for ab in grid[::step][: a.points]:
        t = time.perf_counter()
        point(*ab)
        times.append(1000 * (time.perf_counter() - t))
    name = Path(a.checkpoint).parent.parent.name or "model"
    print(f"torch {name} ms_per_point {statistics.median(times):.2f} {min(times):.2f} "
          f"{max(times):.2f}")


if __name__ == "__main__":
    main()
