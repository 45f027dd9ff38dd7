#!/usr/bin/env bash
# Learning comparison (model/training issue acceptance): yolov5n from scratch on the bundled raccoon
# set, --img 320, batch 16, hyp.scratch-low, the same number of epochs for ours and for PyTorch
# YOLOv5 7.0.14 (peer venv, ../shared/PEER.md), AutoAnchor off on both sides, and the same LR schedule:
# 7.0's default is linear (its --cos-lr is off), ours defaults to v5.0's one-cycle cosine, so ours
# gets --linear-lr. Leaves both
# results.csv files under Tools/bench/learning/ and prints the final mAP@.5 of each.
# Usage: Tools/bench/learning.sh [epochs=200] [sides="ours peer"]   (about 1.5 h for both on a quiet
# 2-core machine; pass "peer" or "ours" to run one side only). SEED=N (default 0) runs each side with
# seed N into runs/<side>-seedN and learning/<side>_seedN_results.csv, which learning_plot.py adds.
set -euo pipefail
cd "$(dirname "$0")/../.."
EPOCHS=${1:-200}
SIDES=${2:-ours peer}
OUT=Tools/bench/learning
PY=${PEER_PYTHON:-$HOME/peer-venv/bin/python}
SEED=${SEED:-0}
mkdir -p "$OUT"
if [[ " $SIDES " == *" ours "* ]]; then
swift build -c release --product yolo
NAME=ours; [[ "$SEED" == 0 ]] || NAME=ours-seed$SEED
rm -rf "$OUT/runs/$NAME"    # --exist-ok appends to an existing results.csv, as YOLOv5's does
.build/release/yolo train --data datasets/raccoon/raccoon.yaml --cfg yolov5n.yaml --img 320 --batch-size 16 \
    --epochs "$EPOCHS" --hyp hyp.scratch-low.yaml --linear-lr --noautoanchor --workers 2 --seed "$SEED" \
    --project "$OUT/runs" --name "$NAME" --exist-ok
cp "$OUT/runs/$NAME/results.csv" "$OUT/$([[ "$SEED" == 0 ]] && echo ours || echo "ours_seed$SEED")_results.csv"
fi

if [[ " $SIDES " == *" peer "* ]]; then
PNAME=peer; [[ "$SEED" == 0 ]] || PNAME=peer-seed$SEED
rm -rf "$OUT/runs/$PNAME"
TMP=$(mktemp -d)
cp -r datasets/raccoon "$TMP/raccoon"              # YOLOv5 writes .cache files next to the labels
sed "1i path: $TMP/raccoon" datasets/raccoon/raccoon.yaml > "$TMP/raccoon.yaml"
export TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1 YOLOV5_CONFIG_DIR=${YOLOV5_CONFIG_DIR:-/tmp/peer-config}
"$PY" - "$TMP/raccoon.yaml" "$EPOCHS" "$OUT/runs" "$SEED" "$PNAME" <<'PY'
import sys
from yolov5 import train
train.run(data=sys.argv[1], cfg="yolov5n.yaml", weights="", imgsz=320, batch_size=16, epochs=int(sys.argv[2]),
          hyp="hyp.scratch-low.yaml", noautoanchor=True, workers=2, seed=int(sys.argv[4]), project=sys.argv[3], name=sys.argv[5],
          exist_ok=True, device="cpu")
PY
cp "$OUT/runs/$PNAME/results.csv" "$OUT/$([[ "$SEED" == 0 ]] && echo peer || echo "peer_seed$SEED")_results.csv"
fi
for side in $SIDES; do
    F="$OUT/${side}_results.csv"; [[ "$SEED" == 0 ]] || F="$OUT/${side}_seed${SEED}_results.csv"
    echo "$side seed $SEED final mAP@.5: $(tail -1 "$F" | cut -d, -f7 | tr -d ' ')"
done
if [[ -f "$OUT/ours_results.csv" && -f "$OUT/peer_results.csv" ]]; then
    "$PY" Tools/bench/learning_plot.py
fi
