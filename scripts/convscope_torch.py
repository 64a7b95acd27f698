#!/usr/bin/env python3
"""convscope_torch: convscope networks (NetSpec JSON) and checkpoints (safetensors) in PyTorch.

    import sys; sys.path.insert(0, "scripts")                   # from the convscope checkout
    import convscope_torch as cs, torch
    model = cs.load("runs/lenet5")          # a run folder (newest checkpoint) or a .safetensors file
    print(model(torch.zeros(1, 1, 28, 28)).argmax(1))          # eval mode, logits (N, classes)

Command line (needs only torch; /usr/bin/python3 on Debian):
    convscope_torch.py RUN_OR_CHECKPOINT                         # the model and its parameter count
    convscope_torch.py RUN --images t10k-images-idx3-ubyte.gz --labels t10k-labels-idx1-ubyte.gz \
        --mean 0.1307 --std 0.3081                               # test accuracy on an IDX test set

The modules mirror engine/model/network.cpp: state_dict keys are the layers' dotted paths
("conv1.weight", "stage2_block1.shortcut.bn.running_var", "inception1.branch2.b2_3x3.bias").
"""
import argparse, ctypes, gzip, json, math, re, struct, sys
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

# ---------------------------------------------------------------------------- safetensors
_DTYPES = {"F64": torch.float64, "F32": torch.float32, "F16": torch.float16,
           "BF16": torch.bfloat16, "I64": torch.int64, "I32": torch.int32, "I16": torch.int16,
           "I8": torch.int8, "U8": torch.uint8, "BOOL": torch.bool}
_NAMES = {v: k for k, v in _DTYPES.items()}


def read_safetensors(path):
    """Reads a .safetensors file: returns ({name: tensor}, {metadata key: str value})."""
    if sys.byteorder != "little":
        raise RuntimeError("read_safetensors supports little-endian hosts only")
    raw = Path(path).read_bytes()
    if len(raw) < 8:
        raise ValueError(f"{path}: too short for a safetensors file")
    (n,) = struct.unpack("<Q", raw[:8])
    if 8 + n > len(raw):
        raise ValueError(f"{path}: header length {n} runs past the end of the file")
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    data = bytearray(raw[8 + n:])
    metadata = dict(header.pop("__metadata__", None) or {})
    tensors = {}
    for name, info in header.items():
        dtype = _DTYPES.get(info["dtype"])
        if dtype is None:
            raise ValueError(f"{path}: tensor {name}: unsupported dtype {info['dtype']}")
        shape = [int(d) for d in info["shape"]]
        begin, end = (int(o) for o in info["data_offsets"])
        itemsize = torch.empty((), dtype=dtype).element_size()
        if not 0 <= begin <= end <= len(data) or end - begin != math.prod(shape) * itemsize:
            raise ValueError(f"{path}: tensor {name}: data_offsets {begin}..{end} do not fit "
                             f"shape {shape} of {info['dtype']} in {len(data)} data bytes")
        if end == begin:
            tensors[name] = torch.empty(shape, dtype=dtype)
            continue
        chunk = torch.frombuffer(data, dtype=torch.uint8, count=end - begin, offset=begin).clone()
        tensors[name] = chunk.view(dtype).reshape(shape)  # the clone is aligned
    return tensors, metadata


def write_safetensors(path, tensors, metadata=None):
    """Writes {name: tensor} (any of F64 F32 F16 BF16 I64 I32 I16 I8 U8 BOOL) and optional
    {str: str} metadata to a .safetensors file, in the order given."""
    if sys.byteorder != "little":
        raise RuntimeError("write_safetensors supports little-endian hosts only")
    header, blobs, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    for name, t in tensors.items():
        t = t.detach().cpu().contiguous()
        if t.dtype not in _NAMES:
            raise ValueError(f"tensor {name}: unsupported dtype {t.dtype}")
        nbytes = t.numel() * t.element_size()
        blobs.append(ctypes.string_at(t.data_ptr(), nbytes) if nbytes else b"")
        header[name] = {"dtype": _NAMES[t.dtype], "shape": list(t.shape),
                        "data_offsets": [offset, offset + nbytes]}
        offset += nbytes
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)  # the data starts 8-byte aligned
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


# ---------------------------------------------------------------------------- NetSpec -> modules
def _pair(v, default):
    v = default if v is None else v
    return (int(v), int(v)) if isinstance(v, (int, float)) else (int(v[0]), int(v[1]))


class Conv2d(nn.Conv2d):
    """nn.Conv2d with padding (left, right, top, bottom), asymmetric allowed."""
    def __init__(self, *args, pad=(0, 0, 0, 0), **kw):
        sym = pad[0] == pad[1] and pad[2] == pad[3]
        super().__init__(*args, padding=(pad[2], pad[0]) if sym else 0, **kw)
        self.pad = None if sym else tuple(pad)

    def forward(self, x):
        return super().forward(x if self.pad is None else F.pad(x, self.pad))

    def extra_repr(self):
        return super().extra_repr() + ("" if self.pad is None else f", pad(l,r,t,b)={self.pad}")


class Linear(nn.Linear):
    """nn.Linear that flattens its input to (N, features) first."""
    def forward(self, x):
        return super().forward(x.flatten(1))


class GlobalAvgPool(nn.Module):
    def forward(self, x):
        return x.mean(dim=(2, 3), keepdim=True)


class Residual(nn.Module):
    """out = activation(body(x) + shortcut(x)); shortcut "none": out = activation(body(x))."""
    def __init__(self, body, shortcut, relu):
        super().__init__()
        self.body, self.relu = body, relu
        self.kind = "projection" if isinstance(shortcut, nn.Module) else shortcut
        if isinstance(shortcut, nn.Module):
            self.shortcut = shortcut

    def forward(self, x):
        y = self.body(x)
        if self.kind == "identity":
            y = y + x
        elif self.kind != "none":
            y = y + self.shortcut(x)
        return F.relu(y) if self.relu else y


class Concat(nn.Module):
    """Every branch (children branch1, branch2, ...) reads the input; joined along channels."""
    def __init__(self, branches):
        super().__init__()
        for i, b in enumerate(branches):
            self.add_module(f"branch{i + 1}", b)

    def forward(self, x):
        return torch.cat([b(x) for b in self.children()], dim=1)


class Net(nn.Sequential):
    """A NetSpec network: (N, C, H, W) float32 -> logits (N, classes)."""
    def __init__(self, spec, layers):
        super().__init__(layers)
        self.spec, self.input_shape = spec, tuple(int(d) for d in spec.get("input", (1, 28, 28)))

    def forward(self, x):
        return super().forward(x.reshape(-1, *self.input_shape) if x.dim() != 4 else x)


def _layer(l, dims, where):
    """Builds one layer for input dims (c, h, w, flat); returns (module, output dims)."""
    t, (c, h, w, flat) = l["type"], dims
    if t == "conv2d":
        kh, kw = _pair(l.get("kernel"), 0)
        sh, sw = _pair(l.get("stride"), 1)
        dh, dw = _pair(l.get("dilation"), 1)
        p = l.get("padding", 0)
        if p == "same":
            th, tw = dh * (kh - 1), dw * (kw - 1)
            pad = (tw // 2, tw - tw // 2, th // 2, th - th // 2)
        elif p == "valid":
            pad = (0, 0, 0, 0)
        elif isinstance(p, list) and len(p) == 4:
            pad = (int(p[2]), int(p[3]), int(p[0]), int(p[1]))
        else:
            ph, pw = _pair(p, 0)
            pad = (pw, pw, ph, ph)
        out, groups = int(l["out"]), int(l.get("groups", 1))
        m = Conv2d(c, out, (kh, kw), stride=(sh, sw), dilation=(dh, dw), groups=groups,
                   bias=bool(l.get("bias", True)), pad=pad)
        oh = (h + pad[2] + pad[3] - dh * (kh - 1) - 1) // sh + 1
        ow = (w + pad[0] + pad[1] - dw * (kw - 1) - 1) // sw + 1
        return m, (out, oh, ow, False)
    if t == "linear":
        return Linear(c * h * w, int(l["out"]), bias=bool(l.get("bias", True))), \
            (int(l["out"]), 1, 1, True)
    if t in ("max_pool2d", "avg_pool2d"):
        k = _pair(l.get("kernel"), 2)
        s, p = _pair(l.get("stride"), k), _pair(l.get("padding"), 0)
        m = nn.MaxPool2d(k, s, p) if t == "max_pool2d" else \
            nn.AvgPool2d(k, s, p, count_include_pad=True)
        return m, (c, (h + 2 * p[0] - k[0]) // s[0] + 1, (w + 2 * p[1] - k[1]) // s[1] + 1, False)
    if t == "global_avg_pool":
        return GlobalAvgPool(), (c, 1, 1, False)
    if t == "flatten":
        return nn.Flatten(1), (c * h * w, 1, 1, True)
    simple = {"relu": lambda: nn.ReLU(), "sigmoid": lambda: nn.Sigmoid(), "tanh": lambda: nn.Tanh(),
              "leaky_relu": lambda: nn.LeakyReLU(float(l.get("slope", 0.01))),
              "dropout": lambda: nn.Dropout(float(l.get("rate", 0.5))),
              "batch_norm": lambda: (nn.BatchNorm1d if flat else nn.BatchNorm2d)(
                  c, eps=float(l.get("eps", 1e-5)), momentum=float(l.get("momentum", 0.1))),
              "layer_norm": lambda: nn.LayerNorm((c,) if flat else (c, h, w),
                                                 eps=float(l.get("eps", 1e-5)))}
    if t in simple:
        return simple[t](), dims
    if t == "residual":
        body, out = _sequence(l["body"], dims, where + ".body")
        kind = l.get("shortcut", "identity")
        shortcut = kind
        if kind == "projection":
            bn = bool(l.get("shortcut_batch_norm", False))
            s = (h + out[1] - 1) // out[1]
            shortcut = nn.Sequential()
            shortcut.add_module("conv", nn.Conv2d(c, out[0], 1, stride=s, bias=not bn))
            if bn:
                shortcut.add_module("bn", nn.BatchNorm2d(out[0]))
        elif kind == "identity" and tuple(out) != tuple(dims):
            raise ValueError(f"{where}: identity shortcut but the body maps {dims} to {out}")
        elif kind not in ("identity", "none"):
            raise ValueError(f"{where}: unknown shortcut {kind!r}")
        return Residual(body, shortcut, l.get("activation", "relu") == "relu"), out
    if t == "concat":
        branches, outs = [], []
        for i, b in enumerate(l["branches"]):
            m, o = _sequence(b, dims, f"{where}.branch{i + 1}")
            branches.append(m)
            outs.append(o)
        return Concat(branches), (sum(o[0] for o in outs), outs[0][1], outs[0][2], False)
    raise ValueError(f"{where}: unknown layer type {t!r}")


def _sequence(layers, dims, where):
    seq, names = nn.Sequential(), set()
    for i, l in enumerate(layers):
        name = l.get("name") or f"{l['type']}_{i + 1}"
        if name in names or not re.fullmatch(r"[A-Za-z0-9_-]+", name):
            raise ValueError(f"{where or 'network'}: layer {i + 1}: bad or repeated name "
                             f"{name!r} (names: letters, digits, _ and -, unique per level)")
        names.add(name)
        m, dims = _layer(l, dims, f"{where}.{name}" if where else name)
        seq.add_module(name, m)
    return seq, dims


def build_model(spec):
    """A NetSpec (dict, or JSON text) as an nn.Module with PyTorch's default initialisation."""
    spec = json.loads(spec) if isinstance(spec, str) else spec
    c, h, w = (int(d) for d in spec.get("input", (1, 28, 28)))
    seq, _ = _sequence(spec["layers"], (c, h, w, False), "")
    return Net(spec, seq._modules)


# ---------------------------------------------------------------------------- runs and checkpoints
def _step_of(p):
    m = re.search(r"(\d+)", p.stem)
    return int(m.group(1)) if m else -1


def load(path):
    """A run folder (spec.json, checkpoints/step-*.safetensors: the highest step) or a checkpoint
    file (spec from its "__metadata__"["spec"], else <run>/spec.json two folders up) as a model
    in eval mode, loaded with load_state_dict(strict=True)."""
    path = Path(path)
    spec = None
    if path.is_dir():
        found = sorted(list((path / "checkpoints").glob("step-*.safetensors")) or
                       list(path.glob("*.safetensors")), key=_step_of)
        if not found:
            raise FileNotFoundError(f"{path}: no checkpoints/step-*.safetensors")
        ckpt = found[-1]
        if (path / "spec.json").is_file():
            spec = json.loads((path / "spec.json").read_text())
    else:
        ckpt = path
    tensors, meta = read_safetensors(ckpt)
    if spec is None and "spec" in meta:
        spec = json.loads(meta["spec"])
    for cand in (ckpt.parent.parent / "spec.json", ckpt.parent / "spec.json"):
        if spec is None and cand.is_file():
            spec = json.loads(cand.read_text())
    if spec is None:
        raise FileNotFoundError(f"{ckpt}: no spec (no \"spec\" metadata, no spec.json nearby)")
    model = build_model(spec)
    try:
        model.load_state_dict(tensors, strict=True)
    except RuntimeError as e:
        raise RuntimeError(f"{ckpt} does not fit the spec {spec.get('name', '')!r}: {e}") from None
    model.checkpoint = str(ckpt)
    return model.eval()


def read_idx(path):
    """An unsigned-byte IDX file (MNIST format), gzip or raw, as a uint8 tensor."""
    raw = Path(path).read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    if len(raw) < 4 or raw[:3] != b"\x00\x00\x08":
        raise ValueError(f"{path}: not an unsigned-byte IDX file")
    dims = struct.unpack(f">{raw[3]}I", raw[4:4 + 4 * raw[3]])
    data = raw[4 + 4 * raw[3]:]
    if len(data) < math.prod(dims):
        raise ValueError(f"{path}: {len(data)} bytes of data for shape {dims}")
    return torch.frombuffer(bytearray(data[:math.prod(dims)]), dtype=torch.uint8).reshape(dims)


def main(argv=None):
    ap = argparse.ArgumentParser(description="Load a convscope run or checkpoint in PyTorch.")
    ap.add_argument("path", help="run folder or checkpoint .safetensors")
    ap.add_argument("--images", help="IDX images (e.g. t10k-images-idx3-ubyte.gz)")
    ap.add_argument("--labels", help="IDX labels (e.g. t10k-labels-idx1-ubyte.gz)")
    ap.add_argument("--mean", type=float, nargs="+", default=[0.0], help="per pixel in [0,1]")
    ap.add_argument("--std", type=float, nargs="+", default=[1.0], help="per pixel in [0,1]")
    ap.add_argument("--batch", type=int, default=500)
    a = ap.parse_args(argv)
    try:
        model = load(a.path)
    except (OSError, ValueError, RuntimeError, KeyError) as e:
        print(f"convscope_torch: {e}", file=sys.stderr)
        return 2
    if not a.images:
        print(model)
        print(f"checkpoint: {model.checkpoint}")
        print(f"parameters: {sum(p.numel() for p in model.parameters()):,}")
        return 0
    if not a.labels:
        ap.error("--images needs --labels")
    try:
        images, labels = read_idx(a.images), read_idx(a.labels).long().reshape(-1)
    except (OSError, ValueError) as e:
        print(f"convscope_torch: {e}", file=sys.stderr)
        return 2
    c, h, w = model.input_shape
    if images.dim() == 4 and images.shape[-1] == c and images.shape[1] != c:
        images = images.permute(0, 3, 1, 2)  # NHWC
    if images.numel() != len(labels) * c * h * w:
        print(f"convscope_torch: {a.images} holds {tuple(images.shape)}, not {len(labels)} "
              f"images of {c}x{h}x{w} for {len(labels)} labels", file=sys.stderr)
        return 2
    images = images.reshape(-1, c, h, w)
    mean = torch.tensor(a.mean).reshape(-1, 1, 1)
    std = torch.tensor(a.std).reshape(-1, 1, 1)
    correct = 0
    with torch.no_grad():
        for i in range(0, len(images), a.batch):
            x = (images[i:i + a.batch].float() / 255.0 - mean) / std
            correct += int((model(x).argmax(1) == labels[i:i + a.batch]).sum())
    print(f"test accuracy: {100.0 * correct / len(labels):.2f}% ({correct}/{len(labels)}) "
          f"with {model.checkpoint}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
