"""PyTorch CPU reference for the stdlib/train benchmark.

Trains the same architectures as BenchmarkFashionMNIST (MLP 784-256-10 and
Conv2D(32, 3x3, relu) -> Flatten -> Dense(10, softmax)) with Adam(1e-3),
batch size and epochs from the command line, and prints one JSON line per
model: seconds per epoch and test accuracy.

Usage: python3 torch_fashion_mnist.py DATA_DIR EPOCHS BATCH THREADS [mlp|cnn ...]

With TORCH_INIT=keras in the environment, weights are initialised as Keras
and stdlib/train do (Glorot-uniform kernels, zero biases) instead of
PyTorch's defaults.
"""
import gzip
import json
import os
import sys
import time

import numpy as np
import torch
from torch import nn


def read_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load(data_dir, prefix):
    def pick(name):
        p = os.path.join(data_dir, name)
        return p + ".gz" if os.path.exists(p + ".gz") else p
    x = read_idx(pick(prefix + "-images-idx3-ubyte")).astype(np.float32) / 255.0
    y = read_idx(pick(prefix + "-labels-idx1-ubyte")).astype(np.int64)
    return torch.from_numpy(x).unsqueeze(1), torch.from_numpy(y)


def build(arch):
    if arch == "mlp":
        model = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
    else:
        model = nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.Flatten(), nn.Linear(32 * 26 * 26, 10))
    if os.environ.get("TORCH_INIT") == "keras":
        for layer in model:
            if isinstance(layer, (nn.Linear, nn.Conv2d)):
                nn.init.xavier_uniform_(layer.weight)
                nn.init.zeros_(layer.bias)
    return model


def main():
    data_dir, epochs, batch, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    archs = sys.argv[5:] or ["mlp", "cnn"]
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    xtr, ytr = load(data_dir, "train")
    xte, yte = load(data_dir, "t10k")
    for arch in archs:
        model = build(arch)
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        loss_fn = nn.CrossEntropyLoss()
        times, cpu = [], []
        for _ in range(epochs):
            t0, c0 = time.perf_counter(), time.process_time()
            perm = torch.randperm(xtr.shape[0])
            model.train()
            for i in range(0, xtr.shape[0], batch):
                idx = perm[i:i + batch]
                opt.zero_grad()
                loss = loss_fn(model(xtr[idx]), ytr[idx])
                loss.backward()
                opt.step()
            times.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
        model.eval()
        with torch.no_grad():
            correct = 0
            for i in range(0, xte.shape[0], 1000):
                correct += (model(xte[i:i + 1000]).argmax(1) == yte[i:i + 1000]).sum().item()
        print(json.dumps({"arch": arch, "seconds_per_epoch": sum(times) / len(times),
                          "epoch_seconds": times,
                          "cpu_seconds_per_epoch": sum(cpu) / len(cpu), "test_accuracy": correct / xte.shape[0],
                          "torch": torch.__version__, "threads": threads,
                          "init": os.environ.get("TORCH_INIT", "pytorch")}), flush=True)


if __name__ == "__main__":
    main()
