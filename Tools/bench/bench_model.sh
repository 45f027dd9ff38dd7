#!/usr/bin/env bash
# Whole-model speed, ours against PyTorch YOLOv5 7.0 in the same run: builds the release `yolo`,
# then alternates `yolo benchmark model --json` and Tools/bench/peer_model.py ROUNDS times each
# (ours, peer, ours, peer, …) and prints per-workload medians and the ratio ours / peer
# (the acceptance wants ≤ 0.7 for both). Run from anywhere; needs the peer venv (../shared/PEER.md).
#   Tools/bench/bench_model.sh [ROUNDS=2] [REPEATS=10]
set -euo pipefail
cd "$(dirname "$0")/../.."
ROUNDS=${1:-2}
REPEATS=${2:-10}
PY=${PEER_PYTHON:-/root/peer-venv/bin/python}
export TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1 YOLOV5_CONFIG_DIR=${YOLOV5_CONFIG_DIR:-/tmp/peer-config}
swift build -c release --product yolo >&2
BIN=$(swift build -c release --show-bin-path)/yolo
OURS=$(mktemp) PEER=$(mktemp)
trap 'rm -f "$OURS" "$PEER"' EXIT
for r in $(seq "$ROUNDS"); do
    echo "round $r/$ROUNDS: ours" >&2
    "$BIN" benchmark model --json --repeats "$REPEATS" | tail -1 >>"$OURS"
    echo "round $r/$ROUNDS: peer" >&2
    "$PY" Tools/bench/peer_model.py "$REPEATS" 2>/dev/null | tail -1 >>"$PEER"
done
python3 - "$OURS" "$PEER" <<'PYEOF'
import json, statistics, sys
ours = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
peer = [json.loads(l) for l in open(sys.argv[2]) if l.strip()]
print(f"{'workload':32} {'ours ms':>10} {'peer ms':>10} {'ratio':>7}   (runs: ours / peer)")
for k in ("yolov5s_640_b1_infer_ms", "yolov5n_320_b16_train_step_ms"):
    a = statistics.median(o[k] for o in ours); b = statistics.median(p[k] for p in peer)
    runs = " ".join(f"{o[k]:.1f}" for o in ours) + " / " + " ".join(f"{p[k]:.1f}" for p in peer)
    print(f"{k:32} {a:10.1f} {b:10.1f} {a / b:7.2f}   ({runs})")
PYEOF
