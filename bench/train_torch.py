#!/usr/bin/python3
"""PyTorch CPU reference for bench/train.sh: times training steps of a convscope preset built
by scripts/convscope_torch.py (the same layers, shapes and batch), SGD with momentum, on random
batches of the preset's input shape. Prints '<images/s>' for `steps` timed steps after a few
warm-up steps. Usage: train_torch.py PRESET_JSON STEPS [BATCH] [THREADS] [DEVICE]
(DEVICE: cpu or cuda; CUDA runs eager and synchronizes before the clock starts and stops)"""
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts"))
import convscope_torch  # noqa: E402

spec = json.load(open(sys.argv[1]))
steps = int(sys.argv[2])
batch = int(sys.argv[3]) if len(sys.argv) > 3 else 64
torch.set_num_threads(int(sys.argv[4]) if len(sys.argv) > 4 else 2)
dev = torch.device(sys.argv[5] if len(sys.argv) > 5 else "cpu")
torch.manual_seed(1)
model = convscope_torch.build_model(spec).to(dev).train()
opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
c, h, w = spec["input"]
x = torch.randn(batch, c, h, w, device=dev)
y = torch.randint(0, 10, (batch,), device=dev)
sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
loss_fn = torch.nn.CrossEntropyLoss()


def step():
    opt.zero_grad(set_to_none=True)
    loss = loss_fn(model(x), y)
    loss.backward()
    opt.step()


for _ in range(3):
    step()
sync()
start = time.perf_counter()
for _ in range(steps):
    step()
sync()
print(f"{steps * batch / (time.perf_counter() - start):.0f}")
