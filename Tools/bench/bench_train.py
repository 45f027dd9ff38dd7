"""Training and validation speed, ours vs PyTorch YOLOv5 7.0.14, in one run on one machine.

yolov5n from scratch, coco128, --img 320, batch 16, hyp.scratch-low, AutoAnchor off, 2 workers,
for E epochs on each side (validation every epoch on both, as YOLOv5's --noval crashes in the pip
package). Reports, per side:
  - training images/s: images per epoch / the epoch's training-loop time (first batch to last,
    validation excluded); median over the epochs after the first;
  - peak RSS of the training process (GNU time);
  - `yolo val` vs `val.py` wall time (the whole command, start-up included) on the same
    PyTorch-trained checkpoint (the peer's last.pt from this run), coco128 at 320, batch 32.
Ours: epoch start is the progress header line, its end the `100%|` line (stdout time-stamped as it
arrives). Peer: YOLOv5's own callbacks on_train_epoch_start / on_train_epoch_end.

Usage: ~/peer-venv/bin/python Tools/bench/bench_train.py [epochs=4]   (run from the repo root
after `swift build -c release --product yolo`; Tools/bench/bench_train.sh does both.)
"""
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

EPOCHS = int(sys.argv[1]) if len(sys.argv) > 1 else 4
PY = sys.executable
YOLO = os.path.abspath(".build/release/yolo")
TMP = tempfile.mkdtemp()
shutil.copytree("datasets/coco128", f"{TMP}/coco128")
with open("datasets/coco128/coco128.yaml") as f:
    yaml_text = f"path: {TMP}/coco128\n" + f.read()
DATA = f"{TMP}/coco128.yaml"
with open(DATA, "w") as f:
    f.write(yaml_text)
IMAGES = len(os.listdir(f"{TMP}/coco128/images/train2017"))
ENV = dict(os.environ, TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD="1",
           YOLOV5_CONFIG_DIR=os.environ.get("YOLOV5_CONFIG_DIR", "/tmp/peer-config"))


def timed(cmd, **kw):
    """Runs cmd under GNU time; yields (timestamp, line) of its stdout; returns peak RSS (KB) at the end."""
    rss_file = f"{TMP}/rss.txt"
    p = subprocess.Popen(["/usr/bin/time", "-o", rss_file, "-f", "%M"] + cmd, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True, bufsize=1, env=ENV, **kw)
    lines = [(time.monotonic(), line) for line in p.stdout]
    p.wait()
    if p.returncode:
        sys.exit("".join(l for _, l in lines[-30:]) + f"\nfailed: {cmd}")
    with open(rss_file) as f:
        return lines, int(f.read().split()[-1])


def ours_train():
    lines, rss = timed([YOLO, "train", "--data", DATA, "--cfg", "yolov5n.yaml", "--img", "320", "--batch-size", "16",
                        "--epochs", str(EPOCHS), "--noautoanchor", "--workers", "2", "--project", f"{TMP}/runs",
                        "--name", "ours"])
    starts = [t for t, l in lines if re.match(r"\s+Epoch\s+mem", l)]
    ends = [t for t, l in lines if "100%|" in l and re.match(r"\s+\d+/\d+\s", l)]
    return [e - s for s, e in zip(starts, ends)], rss


PEER_TRAIN = r"""
import sys, time, json
from yolov5.utils.callbacks import Callbacks
marks = []
run = Callbacks.run
def timed_run(self, hook, *args, **kwargs):
    if hook in ("on_train_epoch_start", "on_train_epoch_end"):
        marks.append((hook, time.monotonic()))
    return run(self, hook, *args, **kwargs)
Callbacks.run = timed_run
from yolov5 import train
train.run(data=sys.argv[1], cfg="yolov5n.yaml", weights="", imgsz=320, batch_size=16, epochs=int(sys.argv[2]),
          hyp="hyp.scratch-low.yaml", noautoanchor=True, workers=2, project=sys.argv[3], name="peer", device="cpu")
starts = [t for h, t in marks if h == "on_train_epoch_start"]
ends = [t for h, t in marks if h == "on_train_epoch_end"]
print("EPOCH_TIMES " + json.dumps([e - s for s, e in zip(starts, ends)]))
"""


def peer_train():
    lines, rss = timed([PY, "-c", PEER_TRAIN, DATA, str(EPOCHS), f"{TMP}/runs"])
    times = next(json.loads(l.split(" ", 1)[1]) for _, l in lines if l.startswith("EPOCH_TIMES"))
    return times, rss


PEER_VAL = r"""
import sys
from yolov5 import val
r = val.run(data=sys.argv[1], weights=sys.argv[2], imgsz=320, batch_size=32, device="cpu", project=sys.argv[3],
            name="peer", exist_ok=True)
print("MAPS", r[0][2], r[0][3])
"""


def wall(cmd):
    t = time.monotonic()
    lines, _ = timed(cmd)
    return time.monotonic() - t, lines


ours_times, ours_rss = ours_train()
peer_times, peer_rss = peer_train()
weights = f"{TMP}/runs/peer/weights/last.pt"
val_ours, val_peer = [], []
for _ in range(3):  # alternate, median of three
    t, ours_lines = wall([YOLO, "val", "--weights", weights, "--data", DATA, "--img", "320", "--batch-size", "32",
                          "--project", f"{TMP}/runs/val", "--name", "ours", "--exist-ok"])
    val_ours.append(t)
    t, peer_lines = wall([PY, "-c", PEER_VAL, DATA, weights, f"{TMP}/runs/val"])
    val_peer.append(t)


def rate(times):
    steady = times[1:] if len(times) > 1 else times
    return IMAGES / statistics.median(steady)


r_ours, r_peer = rate(ours_times), rate(peer_times)
print(f"epoch training-loop seconds  ours {['%.2f' % t for t in ours_times]}  peer {['%.2f' % t for t in peer_times]}")
print(f"training images/s (median of epochs 1..{EPOCHS - 1}): ours {r_ours:.1f}  peer {r_peer:.1f}  "
      f"ratio {r_ours / r_peer:.2f} (target >= 1.3)")
print(f"peak RSS of training: ours {ours_rss / 1e6:.2f} GB  peer {peer_rss / 1e6:.2f} GB  "
      f"ratio {ours_rss / peer_rss:.2f} (target <= 0.6)")
vo, vp = statistics.median(val_ours), statistics.median(val_peer)
print(f"val wall time (median of 3): ours {vo:.2f} s  peer {vp:.2f} s  ratio {vo / vp:.2f} (target <= 0.7)")
shutil.rmtree(TMP)
