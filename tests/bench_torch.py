#!/usr/bin/env python3
"""ResNet-8 in PyTorch, float and int8, as benchmark servers for `make bench` (driven by tests/bench_cmp.py).

usage: bench_torch.py DATA_DIR float [IMAGES]
       bench_torch.py DATA_DIR int8 Q.yaml [IMAGES]

float: the weights of models/resnet8_mlperf_float.onnx (python3-onnx) rebuilt with torch.nn.functional
  (the two stride-2 3x3 convolutions are padded [top 0, left 0, bottom 1, right 1] with F.pad).
int8: approxmap's own quantized network, read from the YAML that `approxmap quantize -o Q.yaml` writes
  (the same weights (cout, kh, kw, cin) int8 with their per-channel scales, int32 biases, tensor scales),
  built from PyTorch's quantized modules on the onednn engine (fbgemm or x86 when onednn is absent):
  activations quint8 with zero point 0 where approxmap's are non-negative (the input and every ReLU output,
  i.e. every conv input: values 0..127, 7 bits used) and zero point 128 where they are signed (the
  convolutions that feed residual adds, the logits), weights qint8 per channel with zero point 0. What
  differs from approxmap: PyTorch requantizes in floating point (rounding differs by one step now and
  then), and a ReLU output saturates at 255 instead of 127 (approxmap's clamp; 0.01 % of the calibration
  values reach it). The agreement of the top-1 predictions with approxmap exact shows how close it is.

Protocol (the same as tests/bench_net): after "#" notes it prints "ready NAME macs 0 accuracy PERCENT",
then for each stdin line "run T B" classifies IMAGES (default 1024) CIFAR-10 test images in calls of B
images with torch.set_num_threads(T) and prints "done CPU_SECONDS WALL_SECONDS IMAGES" (process CPU time,
all threads); "pred" prints "pred " and one digit per image; "quit" ends. Input conversion (uint8 pixels
to float, and to quint8 for int8) is inside the timed loop. Exits 77 with a note when torch, onnx, yaml
or the data are absent.
"""
import os
import sys
import time


def load_images(data, n):
    import numpy as np
    test = os.path.join(data, "cifar10", "cifar-10-batches-bin", "test_batch.bin")
    raw = np.fromfile(test, dtype=np.uint8)
    recs = raw[: (raw.size // 3073) * 3073].reshape(-1, 3073)[:n]
    return recs[:, 1:].reshape(-1, 3, 32, 32).copy(), recs[:, 0].astype(np.int64)


def float_net(data):
    import onnx
    import onnx.numpy_helper
    import torch
    import torch.nn.functional as F
    model = os.path.join(data, "models", "resnet8_mlperf_float.onnx")
    init = {t.name: torch.from_numpy(onnx.numpy_helper.to_array(t).copy())
            for t in onnx.load(model).graph.initializer}

    def conv(x, name, stride=1, pad=1):
        w, b = init[f"layers.{name}.weight"], init[f"layers.{name}.bias"]
        if stride == 2 and w.shape[-1] == 3:
            return F.conv2d(F.pad(x, (0, 1, 0, 1)), w, b, stride=2)
        return F.conv2d(x, w, b, stride=stride, padding=pad)

    def net(pixels):
        x = pixels.float()
        x = F.relu(conv(x, "conv2d"))
        y = F.relu(conv(x, "conv2d_1"))
        x = F.relu(x + conv(y, "conv2d_2"))
        y = F.relu(conv(x, "conv2d_3", 2))
        x = F.relu(conv(x, "conv2d_5", 2, 0) + conv(y, "conv2d_4"))
        y = F.relu(conv(x, "conv2d_6", 2))
        x = F.relu(conv(x, "conv2d_8", 2, 0) + conv(y, "conv2d_7"))
        x = torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)
        return F.linear(x, init["layers.dense.weight"], init["layers.dense.bias"]).argmax(1)
    return net


def int8_net(qyaml):
    """Build approxmap's quantized network (the YAML of `approxmap quantize`) from PyTorch quantized ops."""
    import torch
    import torch.nn.functional as F
    import yaml
    from torch.nn.intrinsic.quantized import ConvReLU2d
    from torch.nn.quantized import Conv2d, Linear, QFunctional
    engines = torch.backends.quantized.supported_engines
    engine = next((e for e in ("onednn", "x86", "fbgemm") if e in engines), None)
    if engine is None:
        raise RuntimeError(f"no x86 quantized engine (supported: {engines})")
    torch.backends.quantized.engine = engine
    with open(qyaml) as f:
        q = yaml.load(f, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    tensors = {t["id"]: t for t in q["tensors"]}
    zp = {q["input"]["tensor"]: 0}   # tensor id -> 128 (signed values) or 0; pools keep their input's
    for op in q["ops"]:
        pool = op["op"] in ("avgpool", "maxpool")
        zp[op["output"]] = zp[op["inputs"][0]] if pool else (128 if op["clamp"][0] < 0 else 0)
    steps = []    # (kind, module or params, inputs, output)
    for op in q["ops"]:
        ins, out = op["inputs"], op["output"]
        s_out = tensors[out]["scale"]
        if op["op"] in ("conv", "dense"):
            t_in = tensors[ins[0]]
            if zp[ins[0]] != 0:
                raise RuntimeError(f"{op['name']}: a signed conv input is not mapped")
            cout = len(op["weights"])
            kh, kw = op["kernel"]
            cin = t_in["shape"][2]
            w = torch.tensor(op["weights"], dtype=torch.int8).reshape(cout, kh, kw, cin).permute(0, 3, 1, 2)
            ws = torch.tensor(op["weight_scale"], dtype=torch.double)
            qw = torch._make_per_channel_quantized_tensor(w.contiguous(), ws, torch.zeros(cout, dtype=torch.long), 0)
            bias = (torch.tensor(op["bias"], dtype=torch.double) * t_in["scale"] * ws).float()
            relu = op["clamp"][0] >= 0
            if op["op"] == "dense" or (kh == t_in["shape"][0] and kw == t_in["shape"][1] and op["pads"] == [0, 0, 0, 0]
                                       and t_in["shape"][0] == 1):
                if relu:
                    raise RuntimeError(f"{op['name']}: a dense layer with ReLU is not mapped")
                m = Linear(cin * kh * kw, cout)
                m.set_weight_bias(qw.reshape(cout, -1) if kh * kw == 1 else qw.permute(0, 2, 3, 1).reshape(cout, -1),
                                  bias)
                kind = "dense"
            else:
                pt, pl, pb, pr = op["pads"]
                sym = pt == pb and pl == pr
                cls = ConvReLU2d if relu else Conv2d
                m = cls(cin, cout, (kh, kw), stride=tuple(op["stride"]), padding=(pt, pl) if sym else 0)
                m.set_weight_bias(qw, bias)
                kind = "conv" if sym else ("pad", (pl, pr, pt, pb))
            m.scale, m.zero_point = float(s_out), zp[out]
            steps.append((kind, m, ins, out))
        elif op["op"] == "add":
            f = QFunctional()
            f.scale, f.zero_point = float(s_out), zp[out]
            steps.append(("add_relu" if op["clamp"][0] >= 0 else "add", f, ins, out))
        elif op["op"] == "avgpool":
            t_in = tensors[ins[0]]
            if op["kernel"] != t_in["shape"][:2]:
                raise RuntimeError(f"{op['name']}: only global average pooling is mapped")
            steps.append(("gap", None, ins, out))
        else:
            raise RuntimeError(f"{op['name']}: op '{op['op']}' is not mapped")
    s_in = tensors[q["input"]["tensor"]]["scale"]
    t_input, t_output = q["input"]["tensor"], q["output"]

    def net(pixels):
        v = {t_input: torch.quantize_per_tensor(pixels.float(), s_in, 0, torch.quint8)}
        for kind, m, ins, out in steps:
            if kind == "conv":
                v[out] = m(v[ins[0]])
            elif kind == "dense":
                v[out] = m(torch.flatten(v[ins[0]], 1))
            elif kind == "add_relu":
                v[out] = m.add_relu(v[ins[0]], v[ins[1]])
            elif kind == "add":
                v[out] = m.add(v[ins[0]], v[ins[1]])
            elif kind == "gap":
                v[out] = F.adaptive_avg_pool2d(v[ins[0]], 1)
            else:  # asymmetric padding: zero point 0, so padding with 0 is a real zero
                v[out] = m(F.pad(v[ins[0]], kind[1]))
        return v[t_output].int_repr().flatten(1).argmax(1)
    return net, engine


def main():
    if len(sys.argv) < 3 or sys.argv[2] not in ("float", "int8") or (sys.argv[2] == "int8" and len(sys.argv) < 4):
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    data, kind = sys.argv[1], sys.argv[2]
    n = int(sys.argv[4 if kind == "int8" else 3]) if len(sys.argv) > (4 if kind == "int8" else 3) else 1024
    try:
        import numpy  # noqa: F401
        import torch
        if kind == "float":
            import onnx  # noqa: F401
        else:
            import yaml  # noqa: F401
    except ImportError as e:
        print(f"# pytorch {kind} skipped: {e}", flush=True)
        return 77
    model = os.path.join(data, "models", "resnet8_mlperf_float.onnx")
    test = os.path.join(data, "cifar10", "cifar-10-batches-bin", "test_batch.bin")
    if not (os.path.exists(model) and os.path.exists(test)):
        print(f"# pytorch {kind} skipped: '{model}' or '{test}' is absent", flush=True)
        return 77
    pixels, labels = load_images(data, n)
    x = torch.from_numpy(pixels)
    name = f"torch-{kind}"
    if kind == "float":
        net = float_net(data)
        what = "float32"
    else:
        try:
            net, engine = int8_net(sys.argv[3])
        except (RuntimeError, OSError, KeyError, ValueError) as e:
            print(f"# pytorch int8 skipped: {e}", flush=True)
            return 77
        what = f"int8, quantized engine {engine}"
    print(f"# pytorch {torch.__version__} {what}", flush=True)
    pred = None

    def run(threads, batch):
        torch.set_num_threads(threads)
        with torch.no_grad():
            return torch.cat([net(x[i:i + batch]) for i in range(0, len(x), batch)])

    pred = run(1, 256)
    acc = 100.0 * float((pred.numpy() == labels).mean())
    print(f"ready {name} macs 0 accuracy {acc:.2f}", flush=True)
    for line in sys.stdin:
        f = line.split()
        if len(f) == 3 and f[0] == "run":
            c0, w0 = time.process_time(), time.perf_counter()
            pred = run(int(f[1]), int(f[2]))
            c1, w1 = time.process_time(), time.perf_counter()
            print(f"done {c1 - c0:.6f} {w1 - w0:.6f} {len(x)}", flush=True)
        elif f and f[0] == "pred":
            print("pred " + "".join(str(int(p)) for p in pred), flush=True)
        elif f and f[0] == "quit":
            break
        else:
            print("error: unknown command", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
