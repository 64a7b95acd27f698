#!/usr/bin/python3
"""Checks an ONNX model convscope exported against what convscope says about the network.

    onnx_check.py MODEL.onnx EXPECTED.json

EXPECTED.json (written by tests/io/tst_onnx_export.cpp):
    {"input": [C, H, W], "classes": K,
     "layers": [{"path": "conv1", "shape": [6, 28, 28]}, ...],   # convscope's shape inference
     "tensors": ["conv1.weight", ...],                           # the checkpoint's tensors
     "inputs": [[...], ...], "logits": [[...], ...],             # convscope's CPU forward pass
     "logits_float": [[...], ...],                               # ... on the float CPU backend
     "tolerance": 1e-4}

1. onnx.checker.check_model(full_check=True) and onnx.shape_inference.infer_shapes(strict_mode=True);
   the opset, the graph's input "input" (batch, C, H, W) and output "logits" (batch, K);
2. every layer path names a node, whose output's inferred shape is (batch, *convscope's shape);
   the initializers are the checkpoint's tensors (plus helper constants named "<layer>/...");
3. the graph evaluated by a small interpreter of its nodes on torch.nn.functional (float64)
   gives convscope's logits on the same inputs to the tolerance.

Prints what it checked and "max |logits difference| ..."; exits 1 naming every failure.
"""
import json
import sys

import onnx
import onnx.numpy_helper
import onnx.shape_inference
import torch
import torch.nn.functional as F

failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL: " + msg)


def attrs(node):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def dims_of(value_info):
    out = []
    for d in value_info.type.tensor_type.shape.dim:
        if d.HasField("dim_value"):
            out.append(d.dim_value)
        elif d.HasField("dim_param"):
            out.append(d.dim_param)
        else:
            out.append(None)
    return out


def pad_nchw(x, pads, value=0.0):
    """ONNX pads (top, left, bottom, right) on an NCHW tensor."""
    top, left, bottom, right = pads
    if any(pads):
        return F.pad(x, (left, right, top, bottom), value=value)
    return x


def run_node(node, env):
    a = attrs(node)
    xs = [env[i] if i else None for i in node.input]
    op = node.op_type
    if op == "Conv":
        pads = a.get("pads", [0, 0, 0, 0])
        w = xs[1]
        return F.conv2d(pad_nchw(xs[0], pads), w, xs[2] if len(xs) > 2 else None,
                        stride=tuple(a.get("strides", [1, 1])),
                        dilation=tuple(a.get("dilations", [1, 1])), groups=a.get("group", 1))
    if op == "Gemm":
        A, B = xs[0], xs[1]
        if a.get("transA", 0):
            A = A.t()
        if a.get("transB", 0):
            B = B.t()
        y = a.get("alpha", 1.0) * (A @ B)
        if len(xs) > 2 and xs[2] is not None:
            y = y + a.get("beta", 1.0) * xs[2]
        return y
    if op in ("MaxPool", "AveragePool"):
        if a.get("ceil_mode", 0) or any(d != 1 for d in a.get("dilations", [1, 1])):
            raise ValueError(f"{node.name}: ceil_mode/dilations not interpreted")
        k = tuple(a["kernel_shape"])
        s = tuple(a.get("strides", [1, 1]))
        pads = a.get("pads", [0, 0, 0, 0])
        if op == "MaxPool":
            return F.max_pool2d(pad_nchw(xs[0], pads, float("-inf")), k, s)
        if a.get("count_include_pad", 0):
            return F.avg_pool2d(pad_nchw(xs[0], pads), k, s)
        if pads[0] != pads[2] or pads[1] != pads[3]:
            raise ValueError(f"{node.name}: asymmetric pads without count_include_pad")
        return F.avg_pool2d(xs[0], k, s, padding=(pads[0], pads[1]), count_include_pad=False)
    if op == "GlobalAveragePool":
        return xs[0].mean(dim=(2, 3), keepdim=True)
    if op == "Relu":
        return F.relu(xs[0])
    if op == "LeakyRelu":
        return F.leaky_relu(xs[0], a.get("alpha", 0.01))
    if op == "Sigmoid":
        return torch.sigmoid(xs[0])
    if op == "Tanh":
        return torch.tanh(xs[0])
    if op == "BatchNormalization":
        return F.batch_norm(xs[0], xs[3], xs[4], xs[1], xs[2], training=False,
                            eps=a.get("epsilon", 1e-5))
    if op == "ReduceMean":
        return xs[0].mean(dim=tuple(a["axes"]), keepdim=bool(a.get("keepdims", 1)))
    if op == "Add":
        return xs[0] + xs[1]
    if op == "Sub":
        return xs[0] - xs[1]
    if op == "Mul":
        return xs[0] * xs[1]
    if op == "Div":
        return xs[0] / xs[1]
    if op == "Sqrt":
        return torch.sqrt(xs[0])
    if op == "Identity":
        return xs[0]
    if op == "Flatten":
        axis = a.get("axis", 1)
        lead = 1
        for d in xs[0].shape[:axis]:
            lead *= d
        return xs[0].reshape(lead, -1)
    if op == "Concat":
        return torch.cat(xs, dim=a["axis"])
    raise ValueError(f"{node.name}: op type {op} is not interpreted")


def evaluate(model, inputs):
    env = {t.name: torch.from_numpy(onnx.numpy_helper.to_array(t).copy()).double()
           for t in model.graph.initializer}
    env["input"] = inputs
    for node in model.graph.node:
        y = run_node(node, env)
        env[node.output[0]] = y
    return env["logits"]


def main():
    model_path, expected_path = sys.argv[1], sys.argv[2]
    with open(expected_path) as f:
        exp = json.load(f)
    model = onnx.load(model_path)

    # 1. the checker and strict shape inference
    try:
        onnx.checker.check_model(model, full_check=True)
        print("check_model(full_check=True): ok")
    except Exception as e:  # noqa: BLE001 - report whatever the checker raises
        fail(f"check_model: {e}")
    try:
        inferred = onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True)
        print("infer_shapes(strict_mode=True): ok")
    except Exception as e:  # noqa: BLE001
        fail(f"infer_shapes: {e}")
        inferred = onnx.shape_inference.infer_shapes(model)
    opsets = {o.domain: o.version for o in model.opset_import}
    if opsets.get("", 0) < 13:
        fail(f"opset {opsets} is not 13 or later")
    print(f"ir_version {model.ir_version}, opset {opsets.get('', None)}, "
          f"{len(model.graph.node)} nodes, {len(model.graph.initializer)} initializers")

    C, H, W = exp["input"]
    ins = [i for i in model.graph.input if i.name not in {t.name for t in model.graph.initializer}]
    if len(ins) != 1 or ins[0].name != "input" or dims_of(ins[0]) != ["batch", C, H, W]:
        fail(f"graph input {[(i.name, dims_of(i)) for i in ins]}, expected input (batch, {C}, {H}, {W})")
    outs = list(model.graph.output)
    if len(outs) != 1 or outs[0].name != "logits" or dims_of(outs[0])[1:] != [exp["classes"]]:
        fail(f"graph output {[(o.name, dims_of(o)) for o in outs]}, expected logits (batch, {exp['classes']})")

    # 2. layer shapes and names
    shapes = {v.name: dims_of(v) for v in list(inferred.graph.value_info) + list(inferred.graph.output)}
    by_name = {}
    for n in model.graph.node:
        if n.name in by_name:
            fail(f"two nodes are named {n.name}")
        by_name[n.name] = n
    checked = 0
    for layer in exp["layers"]:
        path, want = layer["path"], layer["shape"]
        node = by_name.get(path)
        if node is None:
            fail(f"no node is named after layer {path}")
            continue
        got = shapes.get(node.output[0])
        if got is None:
            fail(f"{path}: no inferred shape for {node.output[0]}")
        elif got[0] != "batch" or got[1:] != want:
            fail(f"{path} ({node.op_type}): ONNX infers {got}, convscope (batch, {want})")
        checked += 1
    print(f"layer shapes: {checked} of {len(exp['layers'])} layers match convscope's shape inference")
    inits = {t.name for t in model.graph.initializer}
    weights = {n for n in inits if "/" not in n}
    if weights != set(exp["tensors"]):
        fail(f"initializers {sorted(weights ^ set(exp['tensors']))} differ from the checkpoint's tensors")
    else:
        print(f"initializers: the checkpoint's {len(weights)} tensors by name "
              f"(+{len(inits) - len(weights)} helper constants)")

    # 3. the graph evaluated independently against convscope's forward pass
    x = torch.tensor(exp["inputs"], dtype=torch.float64).reshape(-1, C, H, W)
    try:
        with torch.no_grad():
            y = evaluate(model, x).reshape(x.shape[0], -1)
        for key, what in (("logits", "CPU double"), ("logits_float", "CPU float")):
            if key not in exp:
                continue
            ref = torch.tensor(exp[key], dtype=torch.float64).reshape(x.shape[0], -1)
            if ref.shape != y.shape:
                fail(f"the graph gives logits {tuple(y.shape)}, convscope {tuple(ref.shape)}")
                continue
            diff = (y - ref).abs().max().item()
            print(f"max |logits difference| vs convscope {what} = {diff:.3g} over "
                  f"{x.shape[0]} inputs (logits up to {ref.abs().max().item():.3g})")
            if not diff <= exp["tolerance"]:
                fail(f"logits differ from convscope {what} by {diff:.3g} > {exp['tolerance']}")
    except Exception as e:  # noqa: BLE001
        fail(f"evaluation: {e}")

    if failures:
        print(f"{len(failures)} failure(s)")
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
