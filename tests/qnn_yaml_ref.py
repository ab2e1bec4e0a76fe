#!/usr/bin/env python3
"""Independent executor of approxmap's quantized-model YAML (format approxmap-int8-model, version 1).

Reads the YAML written by `approxmap quantize`, runs CIFAR-10 records through it with plain Python
integers, following only the format description at the top of that file, and prints
`record,label,prediction,l0..` lines like `approxmap eval --logits`. Used by tests/cli_engine.sh to
show that the file is executable bit-exactly by another tool.

usage: qnn_yaml_ref.py MODEL.yaml CIFAR.bin FIRST COUNT
"""
import operator
import sys

import yaml

INT32_MIN, INT32_MAX = -(1 << 31), (1 << 31) - 1


def srdhm(a, b):
    if a == INT32_MIN and b == INT32_MIN:
        return INT32_MAX
    p = a * b
    p += (1 << 30) if p >= 0 else 1 - (1 << 30)
    return p // (1 << 31) if p >= 0 else -((-p) // (1 << 31))  # truncate toward zero


def rdbpot(x, e):
    mask = (1 << e) - 1
    return (x >> e) + (1 if (x & mask) > (mask >> 1) + (1 if x < 0 else 0) else 0)


def requant(x, m, s):
    if s > 0:
        x = max(INT32_MIN, min(INT32_MAX, x << s))
    y = srdhm(x, m)
    return rdbpot(y, -s) if s < 0 else y


def clamp(v, lo_hi):
    return lo_hi[0] if v < lo_hi[0] else lo_hi[1] if v > lo_hi[1] else v


def window_taps(op, shape, oy, ox):
    kh, kw = op["kernel"]
    sh, sw = op["stride"]
    pt, pl = op["pads"][0], op["pads"][1]
    h, w, _ = shape
    for ky in range(kh):
        for kx in range(kw):
            iy, ix = oy * sh - pt + ky, ox * sw - pl + kx
            yield (iy, ix) if 0 <= iy < h and 0 <= ix < w else None


def out_hw(op, shape):
    kh, kw = op["kernel"]
    sh, sw = op["stride"]
    p = op["pads"]
    return (shape[0] + p[0] + p[2] - kh) // sh + 1, (shape[1] + p[1] + p[3] - kw) // sw + 1


def run(model, pixels):
    shapes = {t["id"]: t["shape"] for t in model["tensors"]}
    inp = model["input"]
    c, h, w = inp["image"]
    lut = inp["quantize"]
    # tensors are flat NHWC lists for one image
    x = [0] * (h * w * c)
    for ch in range(c):
        for p in range(h * w):
            x[p * c + ch] = lut[pixels[ch * h * w + p]]
    vals = {inp["tensor"]: x}
    for op in model["ops"]:
        kind = op["op"]
        a = vals[op["inputs"][0]]
        ishape = shapes[op["inputs"][0]]
        oshape = shapes[op["output"]]
        out = []
        if kind in ("conv", "dense"):
            ho, wo = out_hw(op, ishape)
            cin = ishape[2]
            zeros = [0] * cin
            rows = op["weights"]
            for oy in range(ho):
                for ox in range(wo):
                    patch = []
                    for t in window_taps(op, ishape, oy, ox):
                        if t is None:
                            patch.extend(zeros)
                        else:
                            base = (t[0] * ishape[1] + t[1]) * cin
                            patch.extend(a[base:base + cin])
                    for co, row in enumerate(rows):
                        acc = sum(map(operator.mul, patch, row))
                        out.append(clamp(requant(acc + op["bias"][co], op["multiplier"][co], op["shift"][co]),
                                         op["clamp"]))
        elif kind == "add":
            b = vals[op["inputs"][1]]
            ls, im, ish = op["left_shift"], op["input_multiplier"], op["input_shift"]
            for u, v in zip(a, b):
                s = requant(u << ls, im[0], ish[0]) + requant(v << ls, im[1], ish[1])
                out.append(clamp(requant(s, op["output_multiplier"], op["output_shift"]), op["clamp"]))
        elif kind in ("maxpool", "avgpool"):
            ho, wo = out_hw(op, ishape)
            ch = ishape[2]
            kh, kw = op["kernel"]
            for oy in range(ho):
                for ox in range(wo):
                    taps = [t for t in window_taps(op, ishape, oy, ox) if t is not None]
                    for k in range(ch):
                        v = [a[(t[0] * ishape[1] + t[1]) * ch + k] for t in taps]
                        if kind == "maxpool":
                            r = max(v) if v else -128
                        else:
                            s, d = sum(v), (kh * kw if op["count_include_pad"] else max(len(v), 1))
                            q = (abs(s) + d // 2) // d  # C division of a non-negative numerator
                            r = q if s > 0 else -q
                        out.append(clamp(r, op["clamp"]))
        elif kind == "clamp":
            out = [clamp(v, op["clamp"]) for v in a]
        else:
            raise SystemExit("unknown op '%s'" % kind)
        assert len(out) == oshape[0] * oshape[1] * oshape[2], op["name"]
        vals[op["output"]] = out
    return vals[model["output"]]


def main():
    if len(sys.argv) != 5:
        raise SystemExit(__doc__)
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with open(sys.argv[1]) as f:
        model = yaml.load(f, Loader=loader)
    if model.get("format") != "approxmap-int8-model" or model.get("version") != 1:
        raise SystemExit("%s: not an approxmap-int8-model version 1 file" % sys.argv[1])
    first, count = int(sys.argv[3]), int(sys.argv[4])
    with open(sys.argv[2], "rb") as f:
        f.seek(first * 3073)
        data = f.read(count * 3073)
    k = model["tensors"][model["output"]]["shape"]
    print("record,label,prediction," + ",".join("l%d" % j for j in range(k[0] * k[1] * k[2])))
    for i in range(count):
        rec = data[i * 3073:(i + 1) * 3073]
        logits = run(model, rec[1:])
        pred = max(range(len(logits)), key=lambda j: (logits[j], -j))
        print("%d,%d,%d,%s" % (first + i, rec[0], pred, ",".join(str(v) for v in logits)))


if __name__ == "__main__":
    main()
