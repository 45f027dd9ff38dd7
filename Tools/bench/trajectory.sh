#!/usr/bin/env bash
# Training mechanics against PyTorch YOLOv5 7.0.14, step by step: both sides train yolov5n from the
# same initial weights (made by PyTorch, loaded by ours as a YOLOv5 .pt) on the first 16 raccoon
# training images, batch 16 (one batch per epoch), no augmentation (so both see the same batch up
# to order), lr0 0.001 and warmup_bias_lr 0 (calmer than hyp.scratch-low, so rounding noise grows
# more slowly), linear LR, AutoAnchor off. What is compared is the training loss of every epoch:
# the model, loss, gradients, SGD with its three groups, warmup of lr and momentum, gradient
# accumulation (it switches from 1 to 2 batches at iteration 17: epochs then repeat a loss) and
# clipping. Training is chaotic, so rounding differences grow; PyTorch run with 1 thread instead of
# 2 shows how fast they grow for PyTorch against itself. Leaves the three results.csv files and
# the comparison under Tools/bench/trajectory/.
#   Tools/bench/trajectory.sh [EPOCHS=24]        (~5 min; peer venv of ../shared/PEER.md)
set -euo pipefail
cd "$(dirname "$0")/../.."
EPOCHS=${1:-24}
PY=${PEER_PYTHON:-$HOME/peer-venv/bin/python}
OUT=Tools/bench/trajectory
export TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1 YOLOV5_CONFIG_DIR=${YOLOV5_CONFIG_DIR:-/tmp/peer-config}
swift build -c release --product yolo
YOLO=$(swift build -c release --show-bin-path)/yolo
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
for side in ours peer; do     # each side writes its own label cache beside the labels
    mkdir -p "$TMP/$side"/{images,labels}/{train,val}
    for split in train:16 val:8; do
        s=${split%:*} n=${split#*:}
        for f in $(ls datasets/raccoon/images/$s | sort | head -"$n"); do
            cp "datasets/raccoon/images/$s/$f" "$TMP/$side/images/$s/"
            cp "datasets/raccoon/labels/$s/${f%.jpg}.txt" "$TMP/$side/labels/$s/"
        done
    done
    printf 'path: %s\ntrain: images/train\nval: images/val\nnc: 1\nnames:\n  0: raccoon\n' "$TMP/$side" > "$TMP/$side/data.yaml"
done
sed -e 's/^\(hsv_[hsv]\|translate\|scale\|fliplr\|mosaic\|warmup_bias_lr\):.*/\1: 0.0/' -e 's/^lr0:.*/lr0: 0.001/' \
    Sources/YOLO/Resources/hyps/hyp.scratch-low.yaml > "$TMP/hyp.yaml"

cat > "$TMP/peer.py" <<'PY'
import os, sys, torch
torch.nn.Module.half = lambda self: self   # checkpoints in float32
import yolov5
from yolov5 import train
from yolov5.models.yolo import Model
tmp, mode = sys.argv[1], sys.argv[2]
if mode == "init":
    torch.manual_seed(0)
    torch.save({"model": Model(os.path.join(os.path.dirname(yolov5.__file__), "models/yolov5n.yaml"), ch=3, nc=1),
                "epoch": -1}, f"{tmp}/init.pt")
else:
    torch.set_num_threads(int(sys.argv[4]))
    # noval=True crashes in the pip package's train.py (map50s unset), so it validates every epoch.
    train.run(data=f"{tmp}/peer/data.yaml", cfg="yolov5n.yaml", weights=f"{tmp}/init.pt", imgsz=320, batch_size=16,
              epochs=int(sys.argv[3]), hyp=f"{tmp}/hyp.yaml", noautoanchor=True, workers=2, seed=0,
              project=f"{tmp}/runs", name=mode, exist_ok=True, device="cpu")
PY
"$PY" "$TMP/peer.py" "$TMP" init 2>/dev/null
"$YOLO" train --data "$TMP/ours/data.yaml" --cfg yolov5n.yaml --weights "$TMP/init.pt" --img 320 --batch-size 16 \
    --epochs "$EPOCHS" --hyp "$TMP/hyp.yaml" --linear-lr --noautoanchor --workers 2 --project "$TMP/runs" --name ours \
    --exist-ok > "$TMP/ours.log" 2>&1
"$PY" "$TMP/peer.py" "$TMP" peer2 "$EPOCHS" 2 > "$TMP/peer2.log" 2>&1
"$PY" "$TMP/peer.py" "$TMP" peer1 "$EPOCHS" 1 > "$TMP/peer1.log" 2>&1
mkdir -p "$OUT"
for run in ours peer2 peer1; do cp "$TMP/runs/$run/results.csv" "$OUT/${run}_results.csv"; done
"$PY" - "$OUT" <<'PY' | tee "$OUT/comparison.txt"
import csv, sys
def losses(name):
    rows = list(csv.reader(open(f"{sys.argv[1]}/{name}_results.csv")))[1:]
    return [(float(r[1]), float(r[2])) for r in rows]
ours, peer, peer1 = losses("ours"), losses("peer2"), losses("peer1")
rel = lambda a, b: (a - b) / b
print("epoch  PyTorch (2 threads) box / obj   ours: relative difference   PyTorch 1 thread: relative difference")
for e, (p, o, q) in enumerate(zip(peer, ours, peer1)):
    print(f"{e:5d}  {p[0]:.6f} / {p[1]:.6f}      {rel(o[0], p[0]):+.1e} / {rel(o[1], p[1]):+.1e}"
          f"              {rel(q[0], p[0]):+.1e} / {rel(q[1], p[1]):+.1e}")
first = lambda run: next((e for e, (a, p) in enumerate(zip(run, peer)) if abs(rel(a[0], p[0])) > 1e-3), None)
print(f"first epoch whose box loss differs from PyTorch's (2 threads) by more than 0.1 %: ours {first(ours)}, "
      f"PyTorch with 1 thread {first(peer1)}")
PY
