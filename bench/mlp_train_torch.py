#!/usr/bin/python3
"""PyTorch CPU reference for the mlp preset: the same job as `convscope-cli train --preset mlp`
(784-256-10, ReLU, He-normal init, SGD lr 0.05 momentum 0.9, batch 64, one epoch of
Fashion-MNIST, normalised with the training mean/std). Prints the training images/s and the
test accuracy on one line. Run with Debian's /usr/bin/python3 (python3-torch)."""
import gzip, struct, sys, time
import numpy as np
import torch

DATA = sys.argv[1] if len(sys.argv) > 1 else "/usr/share/datasets/fashion-mnist"
THREADS = int(sys.argv[2]) if len(sys.argv) > 2 else 2
torch.set_num_threads(THREADS)
torch.manual_seed(1)


def idx(path):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    rank = raw[3]
    dims = struct.unpack(">" + "I" * rank, raw[4:4 + 4 * rank])
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * rank).reshape(dims)


xtr = idx(f"{DATA}/train-images-idx3-ubyte.gz").reshape(-1, 784).astype(np.float32) / 255
ytr = idx(f"{DATA}/train-labels-idx1-ubyte.gz").astype(np.int64)
xte = idx(f"{DATA}/t10k-images-idx3-ubyte.gz").reshape(-1, 784).astype(np.float32) / 255
yte = idx(f"{DATA}/t10k-labels-idx1-ubyte.gz").astype(np.int64)
mean, std = xtr.mean(), xtr.std()
xtr, xte = torch.from_numpy((xtr - mean) / std), torch.from_numpy((xte - mean) / std)
ytr, yte = torch.from_numpy(ytr), torch.from_numpy(yte)

model = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Linear(256, 10))
for m in model:
    if isinstance(m, torch.nn.Linear):
        torch.nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
        torch.nn.init.zeros_(m.bias)
opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
loss_fn = torch.nn.CrossEntropyLoss()

B = 64
perm = torch.randperm(len(xtr))
start = time.perf_counter()
for s in range(0, len(xtr), B):
    idxs = perm[s:s + B]
    opt.zero_grad(set_to_none=True)
    loss = loss_fn(model(xtr[idxs]), ytr[idxs])
    loss.backward()
    opt.step()
elapsed = time.perf_counter() - start
with torch.no_grad():
    acc = (model(xte).argmax(1) == yte).float().mean().item()
print(f"pytorch {torch.__version__} ({THREADS} threads): {len(xtr) / elapsed:.0f} img/s, "
      f"test accuracy {acc:.4f}")
