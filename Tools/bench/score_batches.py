#!/usr/bin/env python3
"""Batches compared by what one trained model makes of them: the training loss (box, obj, cls) that
a fixed YOLOv5 checkpoint, in eval mode, scores on our loader's batches and on YOLOv5's own loader's
batches of the same dataset and recipe (raccoon train, 320, batch 16, hyp.scratch-low). Equal means
and the standard errors say the two loaders feed the model the same kind of batches; label and pixel
statistics can miss differences a model does not.

Our batches: yolo benchmark data --source datasets/raccoon/raccoon.yaml --img 320 --seed 0 \\
                 --dump-batches DIR --dump-epochs EPOCHS
  ~/peer-venv/bin/python Tools/bench/score_batches.py DIR EPOCHS WEIGHTS.pt [train]
(the README's figures: EPOCHS 20, WEIGHTS the PyTorch seed-0 learning run's last.pt). With `train`
the model scores in training mode, as it does while it learns: BatchNorm normalises by each batch's
own statistics (running statistics are restored before every batch), so batches that differ in how
their images vary together, which eval mode cannot see, score differently.
"""
import os
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

os.environ.setdefault("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")
os.environ.setdefault("YOLOV5_CONFIG_DIR", "/tmp/peer-config")
import torch  # noqa: E402
import yaml  # noqa: E402
import yolov5  # noqa: E402
from yolov5.utils.dataloaders import create_dataloader  # noqa: E402
from yolov5.utils.loss import ComputeLoss  # noqa: E402

from peer_common import train_loss_hyp  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
folder, epochs, weights = sys.argv[1], int(sys.argv[2]), sys.argv[3]
train_mode = len(sys.argv) > 4 and sys.argv[4] == "train"
torch.set_num_threads(2)
hyp = yaml.safe_load((Path(yolov5.__file__).parent / "data/hyps/hyp.scratch-low.yaml").read_text())
model = torch.load(weights, map_location="cpu")["model"].float().eval()
model.hyp = train_loss_hyp(hyp, model.model[-1].nl, nc=1, imgsz=320)
loss = ComputeLoss(model)


buffers = {k: v.clone() for k, v in model.state_dict().items()}


def score(batches):
    items = []
    with torch.no_grad():
        for imgs, targets in batches:
            if train_mode:
                model.load_state_dict(buffers)
                model.train()
                outputs = model(imgs.float() / 255)  # training mode returns the raw head outputs
            else:
                outputs = model(imgs.float() / 255)[1]
            items.append(loss(outputs, targets)[1].numpy())
    a = np.array(items)
    return a.mean(0), a.std(0) / np.sqrt(len(a)), len(a)


ours = ((torch.from_numpy(np.load(f"{folder}/e{e}_b{b}_images.npy")).permute(0, 3, 1, 2).contiguous(),
         torch.from_numpy(np.load(f"{folder}/e{e}_b{b}_targets.npy")))
        for e in range(epochs) for b in range(len([f for f in os.listdir(folder) if f.startswith("e0_") and "images" in f])))
tmp = Path(tempfile.mkdtemp())
try:
    shutil.copytree(ROOT / "datasets/raccoon", tmp / "raccoon")  # YOLOv5 writes label caches
    loader, _ = create_dataloader(str(tmp / "raccoon/images/train"), 320, 16, 32, hyp=hyp, augment=True, workers=2,
                                  shuffle=True, seed=0)
    peer = ((imgs, targets) for _ in range(epochs) for imgs, targets, _, _ in loader)
    for name, batches in (("ours", ours), ("YOLOv5", peer)):
        mean, se, n = score(batches)
        print(f"{'train' if train_mode else 'eval'} mode, {name:7s} {n} batches: box {mean[0]:.5f} ± {se[0]:.5f}, obj {mean[1]:.5f} ± {se[1]:.5f}, "
              f"cls {mean[2]:.5f} ± {se[2]:.5f} (mean ± standard error)")
finally:
    shutil.rmtree(tmp, ignore_errors=True)
