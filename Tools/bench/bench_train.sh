#!/usr/bin/env bash
# Whole training runs, ours vs PyTorch YOLOv5 7.0.14, in one run: yolov5n, coco128, --img 320,
# batch 16, hyp.scratch-low, AutoAnchor off, validation every epoch on both sides (YOLOv5's --noval
# crashes in this package), 2 workers. Prints wall time and peak RSS of each (GNU time).
# Usage: Tools/bench/bench_train.sh [epochs=3]
set -euo pipefail
cd "$(dirname "$0")/../.."
EPOCHS=${1:-3}
PY=${PEER_PYTHON:-$HOME/peer-venv/bin/python}
swift build -c release --product yolo >/dev/null
TMP=$(mktemp -d)
cp -r datasets/coco128 "$TMP/coco128"
sed "1i path: $TMP/coco128" datasets/coco128/coco128.yaml > "$TMP/coco128.yaml"
export TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1 YOLOV5_CONFIG_DIR=${YOLOV5_CONFIG_DIR:-/tmp/peer-config}
/usr/bin/time -f "ours: %e s wall, %M KB peak RSS" .build/release/yolo train --data "$TMP/coco128.yaml" \
    --cfg yolov5n.yaml --img 320 --batch-size 16 --epochs "$EPOCHS" --noautoanchor --workers 2 \
    --project "$TMP/runs" --name ours 2>&1 | grep -E "ours:|100%\|" | tail -4
/usr/bin/time -f "peer: %e s wall, %M KB peak RSS" "$PY" - "$TMP/coco128.yaml" "$EPOCHS" "$TMP/runs" <<'PY' 2>&1 | grep -E "peer:" 
import sys
from yolov5 import train
train.run(data=sys.argv[1], cfg="yolov5n.yaml", weights="", imgsz=320, batch_size=16, epochs=int(sys.argv[2]),
          hyp="hyp.scratch-low.yaml", noautoanchor=True, workers=2, project=sys.argv[3], name="peer", device="cpu")
PY
