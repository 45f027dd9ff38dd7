#!/usr/bin/env bash
# Data-loader throughput, ours against PyTorch YOLOv5's, same workload: coco128 train images at
# 640, batch 16, hyp.scratch-low augmentation (mosaic, perspective, HSV, flips), 2 workers, one
# warm-up batch then two passes timed. Builds release, runs ours, the peer to float batches (what
# train.py feeds the model; ours collates to floats in its workers) and the peer's loader alone
# (uint8 batches) in turn, ROUNDS times, and prints each run, the medians and both ratios.
# Acceptance: ratio >= 2.
#
#   Tools/bench/bench_data.sh [ROUNDS=3]      (env: WORKERS=2 IMG=640 BATCH=16 PEER_PY=~/peer-venv/bin/python)
# The peer needs the venv of ../shared/PEER.md; it runs on a temporary copy of datasets/coco128.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROUNDS=${1:-3}
WORKERS=${WORKERS:-2}; IMG=${IMG:-640}; BATCH=${BATCH:-16}
PEER_PY=${PEER_PY:-$HOME/peer-venv/bin/python}
export TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1 YOLOV5_CONFIG_DIR=${YOLOV5_CONFIG_DIR:-/tmp/peer-config}

swift build -c release --product yolo >&2
YOLO=$(swift build -c release --show-bin-path)/yolo

field() { python3 -c 'import json,sys; print(json.loads(sys.stdin.read().strip().splitlines()[-1])["images_per_second"])'; }
ours=(); peer=(); peer8=()
for r in $(seq 1 "$ROUNDS"); do
  o=$("$YOLO" benchmark data --source datasets/coco128/images/train2017 --img "$IMG" --workers "$WORKERS" \
        --batch-size "$BATCH" --json | field)
  p=$("$PEER_PY" Tools/bench/peer_data.py --source datasets/coco128 --img "$IMG" --workers "$WORKERS" \
        --batch-size "$BATCH" 2>/dev/null | field)
  q=$("$PEER_PY" Tools/bench/peer_data.py --source datasets/coco128 --img "$IMG" --workers "$WORKERS" \
        --batch-size "$BATCH" --uint8 2>/dev/null | field)
  printf 'round %d: ours %.1f images/s, peer %.1f images/s to float batches, %.1f images/s on its uint8 batches\n' \
    "$r" "$o" "$p" "$q"
  ours+=("$o"); peer+=("$p"); peer8+=("$q")
done
python3 - "${ours[*]}" "${peer[*]}" "${peer8[*]}" <<'PY'
import statistics, sys
o, p, q = (statistics.median(map(float, a.split())) for a in sys.argv[1:4])
print(f"median: ours {o:.1f} images/s; peer {p:.1f} images/s to float batches (ours/peer {o / p:.2f}x), "
      f"{q:.1f} images/s on its uint8 batches alone (ours/peer {o / q:.2f}x)")
PY
