#!/usr/bin/python3
"""PyTorch CPU timings of the cases `convscope-bench-ops --list` prints (same shapes, batch 64):
forward, and backward = every input gradient (aten's *_backward ops, so nothing else is timed).
Prints `name<TAB>forward ms<TAB>backward ms`. Run with Debian's /usr/bin/python3.
Usage: ops_torch.py CASES_JSON [THREADS] [DEVICE]   (DEVICE: cpu (default) or cuda: eager, each
timing ends with torch.cuda.synchronize())"""
import json, sys, time
import torch
import torch.nn.functional as F

torch.set_num_threads(int(sys.argv[2]) if len(sys.argv) > 2 else 2)
torch.manual_seed(0)
aten = torch.ops.aten
dev = torch.device(sys.argv[3] if len(sys.argv) > 3 else "cpu")
sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
if dev.type == "cuda":  # every tensor below on the GPU
    if hasattr(torch, "set_default_device"):
        torch.set_default_device(dev)
    else:
        torch.set_default_tensor_type(torch.cuda.FloatTensor)


def timed(fn):
    fn()
    sync()
    t0 = time.perf_counter()
    fn()
    sync()
    single = max(time.perf_counter() - t0, 1e-6)
    repeat = int(min(max(0.3 / single, 1), 2000))
    t0 = time.perf_counter()
    for _ in range(repeat):
        fn()
    sync()
    return (time.perf_counter() - t0) / repeat * 1e3


def run(c):
    n, ch, h, w, k, r, s, p = (c[x] for x in ("n", "c", "h", "w", "k", "r", "stride", "pad"))
    if c["kind"] == "conv":
        x, wt, b = torch.randn(n, ch, h, w), torch.randn(k, ch, r, r), torch.randn(k)
        y = F.conv2d(x, wt, b, s, p)
        dy = torch.randn_like(y)
        fwd = lambda: F.conv2d(x, wt, b, s, p)
        bwd = lambda: aten.convolution_backward(dy, x, wt, [k], [s, s], [p, p], [1, 1], False,
                                                [0, 0], 1, [True, True, True])
    elif c["kind"] == "linear":
        x, wt, b = torch.randn(n, ch), torch.randn(k, ch), torch.randn(k)
        dy = torch.randn(n, k)
        fwd = lambda: F.linear(x, wt, b)
        bwd = lambda: (dy @ wt, dy.t() @ x, dy.sum(0))
    elif c["kind"] == "maxpool":
        x = torch.randn(n, ch, h, w)
        y, idx = aten.max_pool2d_with_indices(x, [r, r], [s, s])
        dy = torch.randn_like(y)
        fwd = lambda: aten.max_pool2d_with_indices(x, [r, r], [s, s])
        bwd = lambda: aten.max_pool2d_with_indices_backward(dy, x, [r, r], [s, s], [0, 0], [1, 1],
                                                           False, idx)
    elif c["kind"] == "relu":
        x = torch.randn(n, ch, h, w)
        y, dy = F.relu(x), torch.randn(n, ch, h, w)
        fwd = lambda: F.relu(x)
        bwd = lambda: aten.threshold_backward(dy, y, 0)
    else:  # bn
        x, g, b = torch.randn(n, ch, h, w), torch.ones(ch), torch.zeros(ch)
        rm, rv = torch.zeros(ch), torch.ones(ch)
        _, mean, invstd = aten.native_batch_norm(x, g, b, rm, rv, True, 0.1, 1e-5)
        dy = torch.randn_like(x)
        fwd = lambda: aten.native_batch_norm(x, g, b, rm, rv, True, 0.1, 1e-5)
        bwd = lambda: aten.native_batch_norm_backward(dy, x, g, rm, rv, mean, invstd, True, 1e-5,
                                                      [True, True, True])
    return timed(fwd), timed(bwd)


with torch.no_grad():
    for case in json.load(open(sys.argv[1])):
        f, b = run(case)
        print(f"{case['name']}\t{f:.4f}\t{b:.4f}", flush=True)
