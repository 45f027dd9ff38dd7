#!/usr/bin/env bash
# `yolo val` vs YOLOv5's val.py on the same PyTorch-trained checkpoint, data and image size
# (acceptance: mAP@.5 and mAP@.5:.95 within 0.002). Both at val.py's defaults: conf 0.001,
# IoU 0.6, batch 32, rectangular batches with pad 0.5. Prints both and the differences.
# Usage: Tools/bench/val_parity.sh WEIGHTS.pt [DATA.yaml=datasets/raccoon/raccoon.yaml] [IMG=320]
set -euo pipefail
cd "$(dirname "$0")/../.."
WEIGHTS=$(realpath "$1"); DATA=${2:-datasets/raccoon/raccoon.yaml}; IMG=${3:-320}
PY=${PEER_PYTHON:-$HOME/peer-venv/bin/python}
swift build -c release --product yolo >/dev/null
TMP=$(mktemp -d)
NAME=$(basename "$(dirname "$DATA")")
cp -r "$(dirname "$DATA")" "$TMP/$NAME"               # YOLOv5 writes .cache files next to the labels
sed "1i path: $TMP/$NAME" "$DATA" > "$TMP/data.yaml"
export TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1 YOLOV5_CONFIG_DIR=${YOLOV5_CONFIG_DIR:-/tmp/peer-config}
PEER=$("$PY" - "$TMP/data.yaml" "$WEIGHTS" "$IMG" "$TMP" <<'PY' 2>/dev/null | tail -1
import sys
from yolov5 import val
(mp, mr, map50, map_, *_), *_ = val.run(data=sys.argv[1], weights=sys.argv[2], imgsz=int(sys.argv[3]),
                                        batch_size=32, device="cpu", project=sys.argv[4], name="peer")
print(f"{map50:.6f} {map_:.6f}")
PY
)
.build/release/yolo val --weights "$WEIGHTS" --data "$TMP/data.yaml" --img "$IMG" --batch-size 32 \
    --project "$TMP" --name ours > "$TMP/ours.log" 2>&1
OURS=$(python3 -c "import json,sys; m=json.load(open(sys.argv[1])); print(f\"{m['map50']:.6f} {m['map']:.6f}\")" \
    "$TMP/ours/metrics.json")
read -r P50 P <<<"$PEER"; read -r O50 O <<<"$OURS"
python3 - "$P50" "$P" "$O50" "$O" <<'PY'
import sys
p50, p, o50, o = map(float, sys.argv[1:])
print(f"val.py     mAP@.5 {p50:.4f}  mAP@.5:.95 {p:.4f}")
print(f"yolo val   mAP@.5 {o50:.4f}  mAP@.5:.95 {o:.4f}")
print(f"difference mAP@.5 {o50 - p50:+.4f}  mAP@.5:.95 {o - p:+.4f}  (limit ±0.002)")
PY
rm -rf "$TMP"
