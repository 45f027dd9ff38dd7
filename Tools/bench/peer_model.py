#!/usr/bin/env python3
"""PyTorch YOLOv5's side of the model benchmarks (run by Tools/bench/bench_model.sh).

Workloads, identical to `yolo benchmark model`'s:
  * inference: yolov5s at 640, batch 1, Conv+BN fused, eval mode, torch.no_grad()
  * training step: yolov5n at 320, batch 16, forward + ComputeLoss + backward (train mode,
    hyp.scratch-low.yaml gains scaled as train.py scales them)
Inputs are deterministic pseudo-random pixels; targets are the labels of the first 16
coco128 images (the same files `yolo benchmark model` reads). Prints one JSON object with
median milliseconds.

Needs the peer venv (../shared/PEER.md): ~/peer-venv/bin/python Tools/bench/peer_model.py
"""
import json, os, statistics, sys, time
from pathlib import Path

os.environ.setdefault("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")
os.environ.setdefault("YOLOV5_CONFIG_DIR", "/tmp/peer-config")
import torch
import yaml
import yolov5
from yolov5.models.yolo import Model
from yolov5.utils.loss import ComputeLoss

from peer_common import train_loss_hyp

ROOT = Path(__file__).resolve().parents[2]
PKG = Path(yolov5.__file__).parent


def median_ms(fn, repeats, warmup=2):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1e3)
    return statistics.median(times)


def pixels(b, s, seed):
    # The same formula as Swift's benchmark input: frac(sin(i * 12.9898 + seed) * 43758.5453)
    i = torch.arange(b * 3 * s * s, dtype=torch.float64)
    v = torch.frac(torch.abs(torch.sin(i * 12.9898 + seed) * 43758.5453))
    return v.float().reshape(b, 3, s, s)


def coco128_targets(n):
    labels = sorted((ROOT / "datasets/coco128/labels/train2017").glob("*.txt"))[:n]
    rows = []
    for i, f in enumerate(labels):
        for line in f.read_text().split("\n"):
            if line.strip():
                rows.append([i] + [float(x) for x in line.split()])
    return torch.tensor(rows, dtype=torch.float32)


def main():
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    torch.manual_seed(0)
    out = {"threads": torch.get_num_threads(), "torch": torch.__version__}

    m = Model(str(PKG / "models/yolov5s.yaml"), nc=80).fuse().eval()
    x = pixels(1, 640, 1.0)
    with torch.no_grad():
        out["yolov5s_640_b1_infer_ms"] = median_ms(lambda: m(x), repeats)

    m = Model(str(PKG / "models/yolov5n.yaml"), nc=80).train()
    hyp = yaml.safe_load((PKG / "data/hyps/hyp.scratch-low.yaml").read_text())
    m.hyp = train_loss_hyp(hyp, m.model[-1].nl, nc=80, imgsz=320)
    loss_fn = ComputeLoss(m)
    x = pixels(16, 320, 2.0)
    targets = coco128_targets(16)

    def step():
        m.zero_grad(set_to_none=True)
        loss, _ = loss_fn(m(x), targets)
        loss.backward()

    out["yolov5n_320_b16_train_step_ms"] = median_ms(step, repeats)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
