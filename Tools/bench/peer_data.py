#!/usr/bin/env python3
"""PyTorch YOLOv5's side of the data-loader benchmark (run by Tools/bench/bench_data.sh).

Workload, identical to `yolo benchmark data`'s: YOLOv5's own create_dataloader /
LoadImagesAndLabels over coco128's train images at 640, batch 16, augment=True with
hyp.scratch-low.yaml (mosaic, random_perspective, HSV, flips), shuffle, 2 workers. The batches
are taken as one continuous stream (YOLOv5's InfiniteDataLoader keeps its workers across
epochs): one warm-up batch untimed, then two passes' worth of batches (2 x len(loader)) timed.
Each batch is brought to what the model takes, `imgs.float() / 255` as train.py does next (ours
collates to that float batch in its workers).
Prints one JSON object: {"images_per_second": ...}.

YOLOv5 writes labels/*.cache next to the labels, so the dataset is copied to a temporary folder
first and the repository's copy is never touched.

Needs the peer venv (../shared/PEER.md):
  ~/peer-venv/bin/python Tools/bench/peer_data.py [--source DIR] [--img 640] [--workers 2] [--batch-size 16]
"""
import argparse, json, os, shutil, sys, tempfile, time
from pathlib import Path

os.environ.setdefault("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")
os.environ.setdefault("YOLOV5_CONFIG_DIR", "/tmp/peer-config")
import yaml
import yolov5
from yolov5.utils.dataloaders import create_dataloader

ROOT = Path(__file__).resolve().parents[2]
PKG = Path(yolov5.__file__).parent


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--source", default=str(ROOT / "datasets/coco128"),
                    help="dataset folder holding images/ and labels/ (copied before use)")
    ap.add_argument("--split", default="images/train2017", help="image folder inside --source")
    ap.add_argument("--img", type=int, default=640)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--uint8", action="store_true",
                    help="time the loader's uint8 batches alone, without train.py's float conversion")
    args = ap.parse_args()

    hyp = yaml.safe_load((PKG / "data/hyps/hyp.scratch-low.yaml").read_text())
    tmp = Path(tempfile.mkdtemp(prefix="peer-data-"))
    try:
        data = tmp / "data"
        shutil.copytree(args.source, data, ignore=shutil.ignore_patterns("*.cache"))
        loader, dataset = create_dataloader(str(data / args.split), args.img, args.batch_size, 32, hyp=hyp,
                                            augment=True, workers=args.workers, shuffle=True, seed=args.seed,
                                            prefix="peer: ")

        def stream():
            while True:
                yield from loader

        batches = stream()
        next(batches)  # warm-up: worker start-up and the first batch
        timed = 2 * len(loader)
        images = 0
        start = time.perf_counter()
        for _ in range(timed):
            imgs, targets, paths, shapes = next(batches)
            # train.py's next step, on the training loop's thread: ours hands over float batches already
            # divided by 255 (collate does it in the workers), so the peer's batch is taken to the same point.
            if not args.uint8:
                imgs = imgs.float() / 255
            images += imgs.shape[0]
        seconds = time.perf_counter() - start
        print(json.dumps({"images_per_second": images / seconds, "images": images, "seconds": seconds,
                          "workers": args.workers, "batch_size": args.batch_size, "img": args.img}))
        batches.close()
        if hasattr(loader.iterator, "_shutdown_workers"):
            loader.iterator._shutdown_workers()  # before the copy is deleted under the prefetching workers
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
