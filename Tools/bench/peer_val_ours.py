#!/usr/bin/env python3
"""PyTorch YOLOv5 7.0.14's val.py on one of our yolov5n checkpoints (a raccoon learning run's
weights), to show that our validation scores our models as val.py does: our safetensors state dict
(PyTorch's names under `model.`) is loaded into YOLOv5's own yolov5n (nc 1) and validated on the
bundled raccoon val split at 320 px with train.py's in-training settings (batch 32, conf 0.001,
IoU 0.6, rect, pad 0.5).

  ~/peer-venv/bin/python Tools/bench/peer_val_ours.py Tools/bench/learning/runs/ours/weights/last.safetensors

(fifth session: 0.643 / 0.235, the final row of ours_results.csv).
"""
import os
import shutil
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")
os.environ.setdefault("YOLOV5_CONFIG_DIR", "/tmp/peer-config")
import torch  # noqa: E402
import yolov5  # noqa: E402
from safetensors.torch import load_file  # noqa: E402
from yolov5 import val  # noqa: E402
from yolov5.models.yolo import Model  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
torch.set_num_threads(2)
state = {k[len("model."):]: v for k, v in load_file(sys.argv[1]).items() if k.startswith("model.")}
model = Model(str(Path(yolov5.__file__).parent / "models/yolov5n.yaml"), ch=3, nc=1)
missing, unexpected = model.load_state_dict(state, strict=False)
if missing or unexpected:
    sys.exit(f"{sys.argv[1]} is not a 1-class yolov5n state dict: missing {missing}, unexpected {unexpected}")
model.names, model.nc = {0: "raccoon"}, 1
tmp = Path(tempfile.mkdtemp())
try:
    shutil.copytree(ROOT / "datasets/raccoon", tmp / "raccoon")  # YOLOv5 writes label caches
    (tmp / "raccoon.yaml").write_text(f"path: {tmp}/raccoon\ntrain: images/train\nval: images/val\nnc: 1\n"
                                      "names:\n  0: raccoon\n")
    torch.save({"model": model.float().eval(), "epoch": -1}, tmp / "weights.pt")
    (mp, mr, map50, map_, *_), *_ = val.run(data=str(tmp / "raccoon.yaml"), weights=str(tmp / "weights.pt"), imgsz=320,
                                          batch_size=32, conf_thres=0.001, iou_thres=0.6, device="cpu",
                                          project=str(tmp / "runs"), half=False)
    print(f"val.py on {sys.argv[1]}: P {mp:.4f} R {mr:.4f} mAP@.5 {map50:.4f} mAP@.5:.95 {map_:.4f}")
finally:
    shutil.rmtree(tmp, ignore_errors=True)
