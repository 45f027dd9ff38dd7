#!/usr/bin/env bash
# Training and validation speed, ours vs PyTorch YOLOv5 7.0.14 (peer venv, ../shared/PEER.md), in one
# run: training images/s (validation excluded), peak RSS, `yolo val` vs `val.py` wall time.
# See Tools/bench/bench_train.py. Run on an otherwise idle machine.
# Usage: Tools/bench/bench_train.sh [epochs=4]
set -euo pipefail
cd "$(dirname "$0")/../.."
swift build -c release --product yolo >/dev/null
exec "${PEER_PYTHON:-$HOME/peer-venv/bin/python}" Tools/bench/bench_train.py "${1:-4}"
