"""mAP@.5 and mAP@.5:.95 per epoch, ours vs PyTorch YOLOv5, from the two results.csv files that
Tools/bench/learning.sh leaves; writes Tools/bench/learning/compare.png and prints a summary
(final and best values, the first epoch each side reaches fractions of PyTorch's final mAP@.5).
Further runs with other seeds, saved as learning/ours_seed<N>_results.csv and
learning/peer_seed<N>_results.csv (`SEED=N Tools/bench/learning.sh`), are drawn and summarised too,
with the mean final mAP@.5 of each side over its seeds; learning/peer_on_ours_results.csv (PyTorch's
train.py trained on our loader's batches) is drawn and summarised when present.

Usage: ~/peer-venv/bin/python Tools/bench/learning_plot.py
"""
import csv
import glob
import os
import re

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "learning")


def read(name):
    with open(os.path.join(DIR, name)) as f:
        rows = list(csv.reader(f))
    header = [h.strip() for h in rows[0]]
    cols = {h: [float(r[i]) for r in rows[1:]] for i, h in enumerate(header)}
    return cols["epoch"], cols["metrics/mAP_0.5"], cols["metrics/mAP_0.5:0.95"]


sides = {"ours (Swift)": read("ours_results.csv"), "PyTorch YOLOv5 7.0.14": read("peer_results.csv")}
for side, title in (("ours", "ours (Swift)"), ("peer", "PyTorch YOLOv5 7.0.14")):
    for path in sorted(glob.glob(os.path.join(DIR, f"{side}_seed*_results.csv"))):
        seed = re.search(rf"{side}_seed(\d+)_results", path).group(1)
        sides[f"{title}, seed {seed}"] = read(os.path.basename(path))
if os.path.exists(os.path.join(DIR, "peer_on_ours_results.csv")):
    # train.py fed our loader's seed-0 batches (Tools/bench/peer_on_our_batches.py)
    sides["train.py on our seed-0 batches"] = read("peer_on_ours_results.csv")
PEER = "PyTorch YOLOv5 7.0.14"
fig, axes = plt.subplots(1, 2, figsize=(12, 5), tight_layout=True)
COLOURS = {"ours": "tab:blue", PEER: "tab:orange"}
for label, (ep, m50, m) in sides.items():
    side = next((k for k in COLOURS if label.startswith(k)), None)
    style = dict(color=COLOURS[side], alpha=0.35, linewidth=0.8) if side else dict(color="gray", linestyle="--",
                                                                                    linewidth=0.8)
    axes[0].plot(ep, m50, label=label, **style)
    axes[1].plot(ep, m, label=label, **style)
for side, colour in COLOURS.items():  # each side's mean over its seeds
    runs = [v for label, v in sides.items() if label.startswith(side)]
    ep = runs[0][0]
    for k, ax in ((1, axes[0]), (2, axes[1])):
        ax.plot(ep, [sum(c) / len(c) for c in zip(*[r[k] for r in runs])], color=colour, linewidth=2,
                label=f"{'ours' if side == 'ours' else 'PyTorch'}: mean of {len(runs)} seeds")
fig.suptitle("yolov5n from scratch on raccoon, 320, batch 16, hyp.scratch-low, AutoAnchor off")
for ax, title in zip(axes, ["mAP@.5", "mAP@.5:.95"]):
    ax.set_title(f"{title} per epoch")
    ax.set_xlabel("epoch")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
fig.savefig(os.path.join(DIR, "compare.png"), dpi=100)

peer_final = sides[PEER][1][-1]
for label, (ep, m50, m) in sides.items():
    reach = []
    for frac in (0.25, 0.5, 0.75, 0.9):
        hit = next((int(e) for e, v in zip(ep, m50) if v >= frac * peer_final), None)
        reach.append(f"{int(frac * 100)}%: {hit}")
    print(f"{label}: final mAP@.5 {m50[-1]:.3f} mAP@.5:.95 {m[-1]:.3f}; best mAP@.5 {max(m50):.3f} "
          f"(epoch {int(ep[m50.index(max(m50))])}); first epoch at fractions of PyTorch's final mAP@.5: "
          + ", ".join(reach))


def rolling(v, k=10):
    return [sum(v[max(0, i - k + 1):i + 1]) / len(v[max(0, i - k + 1):i + 1]) for i in range(len(v))]


print("first epoch the 10-epoch rolling mean of mAP@.5 reaches a level (" + " / ".join(sides) + "):")
smooth = {label: rolling(m50) for label, (_, m50, _) in sides.items()}
for level in (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7):
    hits = [next((i for i, v in enumerate(r) if v >= level), None) for r in smooth.values()]
    print(f"  {level:.1f}: " + " / ".join(str(h) for h in hits))
for label, (_, m50, _) in sides.items():
    print(f"{label}: mean mAP@.5 over epochs 0-99 {sum(m50[:100]) / 100:.3f}, 100-199 {sum(m50[100:200]) / 100:.3f}, "
          f"last 20 {sum(m50[-20:]) / 20:.3f}")
for label, (_, m50, _) in sides.items():
    if label.startswith("ours"):
        print(f"final mAP@.5 ratio {label} / PyTorch seed 0: {m50[-1] / peer_final:.3f} (target >= 0.9)")
finals = {side: [m50[-1] for label, (_, m50, _) in sides.items() if label.startswith(side)]
          for side in ("ours", PEER)}
mean = {side: sum(v) / len(v) for side, v in finals.items()}


def spread(v):
    """Sample standard deviation (0 for one run)."""
    m = sum(v) / len(v)
    return (sum((x - m) ** 2 for x in v) / (len(v) - 1)) ** 0.5 if len(v) > 1 else 0.0


print(f"mean final mAP@.5 over seeds: ours {mean['ours']:.3f} ± {spread(finals['ours']):.3f} s.d. "
      f"({len(finals['ours'])} runs: {', '.join(f'{x:.3f}' for x in finals['ours'])}), "
      f"PyTorch {mean[PEER]:.3f} ± {spread(finals[PEER]):.3f} ({len(finals[PEER])} runs: "
      f"{', '.join(f'{x:.3f}' for x in finals[PEER])}); ratio {mean['ours'] / mean[PEER]:.3f} (target >= 0.9)")
last20 = {side: [sum(m50[-20:]) / 20 for label, (_, m50, _) in sides.items() if label.startswith(side)]
          for side in ("ours", PEER)}
mean20 = {side: sum(v) / len(v) for side, v in last20.items()}
print(f"mean over seeds of the last-20-epoch mean mAP@.5: ours {mean20['ours']:.3f}, PyTorch {mean20[PEER]:.3f}; "
      f"ratio {mean20['ours'] / mean20[PEER]:.3f}")
# The curves averaged over each side's seeds, 10-epoch rolling mean: the first epoch each level is reached.
avg = {side: [sum(c) / len(c) for c in zip(*[m50 for label, (_, m50, _) in sides.items() if label.startswith(side)])]
       for side in ("ours", PEER)}
print("seed-averaged curves, first epoch the 10-epoch rolling mean reaches a level (ours / PyTorch):")
for level in (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7):
    hits = [next((i for i, v in enumerate(rolling(avg[side])) if v >= level), None) for side in ("ours", PEER)]
    print(f"  {level:.1f}: {hits[0]} / {hits[1]}")
