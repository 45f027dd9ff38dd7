#!/usr/bin/env python3
"""PyTorch YOLOv5 7.0.14's train.py trained on the batches our loader makes, to tell whether a
learning gap comes from the batches (augmentation) or from training.

`yolo benchmark data --source <data.yaml> --img 320 --seed S --dump-batches DIR --dump-epochs N`
writes the exact batches `yolo train --seed S` sees; this script runs train.py unchanged except
that its training loader yields those batches (epoch e: DIR/e{e}_b{b}_*.npy) instead of its own.
The dataset object (labels for plots) and the validation loader are YOLOv5's own.

  ~/peer-venv/bin/python Tools/bench/peer_on_our_batches.py DATA.yaml DIR EPOCHS PROJECT NAME [SEED]

The README's Learning run (recipe of Tools/bench/learning.sh; DATA.yaml a copy of the raccoon YAML
with an absolute `path:`, as learning.sh makes, since YOLOv5 writes label caches):
  yolo benchmark data --source datasets/raccoon/raccoon.yaml --img 320 --seed 0 \
      --dump-batches /tmp/ourbatches --dump-epochs 200          (9.2 GB, 2 min)
  ~/peer-venv/bin/python Tools/bench/peer_on_our_batches.py $TMP/raccoon.yaml /tmp/ourbatches 200 \
      Tools/bench/learning/runs peer-on-ours 0
"""
import glob
import os
import sys

os.environ.setdefault("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")
os.environ.setdefault("YOLOV5_CONFIG_DIR", "/tmp/peer-config")
import numpy as np
import torch
from yolov5 import train

data, batches, epochs, project, name = sys.argv[1:6]
seed = int(sys.argv[6]) if len(sys.argv) > 6 else 0


class OurBatches:
    """Stands in for train.py's training DataLoader: len() batches per epoch, one epoch per iteration."""

    num_workers = 0  # train.py logs it

    def __init__(self, folder):
        self.folder = folder
        self.epoch = 0
        self.count = len(glob.glob(os.path.join(folder, "e0_b*_images.npy")))
        if self.count == 0:
            sys.exit(f"no batches in {folder}: write them with yolo benchmark data --dump-batches")

    def __len__(self):
        return self.count

    def __iter__(self):
        e = self.epoch
        self.epoch += 1
        for b in range(self.count):
            stem = os.path.join(self.folder, f"e{e}_b{b}")
            if not os.path.exists(stem + "_images.npy"):
                sys.exit(f"{stem}_images.npy is missing: dump at least as many epochs as are trained")
            images = torch.from_numpy(np.load(stem + "_images.npy")).permute(0, 3, 1, 2).contiguous()
            targets = torch.from_numpy(np.load(stem + "_targets.npy"))
            yield images, targets, tuple(f"{stem}_{i}" for i in range(images.shape[0])), None


original = train.create_dataloader


def create_dataloader(path, *args, **kwargs):
    loader, dataset = original(path, *args, **kwargs)
    if kwargs.get("augment"):  # the training loader; validation keeps YOLOv5's own
        return OurBatches(batches), dataset
    return loader, dataset


train.create_dataloader = create_dataloader
train.run(data=data, cfg="yolov5n.yaml", weights="", imgsz=320, batch_size=16, epochs=int(epochs),
          hyp="hyp.scratch-low.yaml", noautoanchor=True, workers=2, seed=seed, project=project, name=name,
          exist_ok=True, device="cpu")
