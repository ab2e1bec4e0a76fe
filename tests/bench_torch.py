#!/usr/bin/env python3
"""Float ResNet-8 inference in PyTorch, the reference point of `make bench` (run by tests/bench.sh).

Loads the weights of models/resnet8_mlperf_float.onnx (python3-onnx), rebuilds the network with
torch.nn.functional (the two stride-2 3x3 convolutions are padded [top 0, left 0, bottom 1, right 1]
with F.pad(x, (0, 1, 0, 1))), and measures images/s on CIFAR-10 test images at the given thread
count. Prints "torch_images_per_s N" (and the accuracy as a check). Exits 77 with a note when torch,
onnx or the data are absent.

usage: bench_torch.py DATA_DIR [THREADS] [IMAGES]
"""
import os
import sys
import time


def main():
    data = sys.argv[1] if len(sys.argv) > 1 else "data"
    threads = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 2048
    try:
        import numpy as np
        import onnx
        import onnx.numpy_helper
        import torch
        import torch.nn.functional as F
    except ImportError as e:
        print(f"# pytorch bench skipped: {e}")
        return 77
    model = os.path.join(data, "models", "resnet8_mlperf_float.onnx")
    test = os.path.join(data, "cifar10", "cifar-10-batches-bin", "test_batch.bin")
    if not (os.path.exists(model) and os.path.exists(test)):
        print(f"# pytorch bench skipped: '{model}' or '{test}' is absent")
        return 77
    init = {t.name: torch.from_numpy(onnx.numpy_helper.to_array(t).copy())
            for t in onnx.load(model).graph.initializer}

    def conv(x, name, stride=1, pad=1):
        w, b = init[f"layers.{name}.weight"], init[f"layers.{name}.bias"]
        if stride == 2 and w.shape[-1] == 3:
            return F.conv2d(F.pad(x, (0, 1, 0, 1)), w, b, stride=2)
        return F.conv2d(x, w, b, stride=stride, padding=pad)

    def net(x):
        x = F.relu(conv(x, "conv2d"))
        y = F.relu(conv(x, "conv2d_1"))
        x = F.relu(x + conv(y, "conv2d_2"))
        y = F.relu(conv(x, "conv2d_3", 2))
        x = F.relu(conv(x, "conv2d_5", 2, 0) + conv(y, "conv2d_4"))
        y = F.relu(conv(x, "conv2d_6", 2))
        x = F.relu(conv(x, "conv2d_8", 2, 0) + conv(y, "conv2d_7"))
        x = torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)
        return F.linear(x, init["layers.dense.weight"], init["layers.dense.bias"])

    raw = np.fromfile(test, dtype=np.uint8)
    recs = raw[: (raw.size // 3073) * 3073].reshape(-1, 3073)[:n]
    labels = torch.from_numpy(recs[:, 0].astype(np.int64))
    x = torch.from_numpy(recs[:, 1:].reshape(-1, 3, 32, 32).astype(np.float32))
    torch.set_num_threads(threads)
    batch = 256
    with torch.no_grad():
        pred = torch.cat([net(x[i:i + batch]).argmax(1) for i in range(0, len(x), batch)])  # warm-up
        best = 0.0
        for _ in range(3):
            t0 = time.perf_counter()
            for i in range(0, len(x), batch):
                net(x[i:i + batch])
            best = max(best, len(x) / (time.perf_counter() - t0))
    acc = 100.0 * (pred == labels).float().mean().item()
    print(f"# pytorch {torch.__version__} float ResNet-8, {threads} threads, batch {batch}, {len(x)} test images: "
          f"{best:.0f} images/s (accuracy {acc:.2f} %)")
    print(f"torch_images_per_s {best:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
