"""Pieces of train.py the peer scripts in Tools/bench share (imported from the scripts' folder)."""


def train_loss_hyp(hyp, nl, nc, imgsz):
    """train.py's loss-gain scaling: box x 3/nl, cls x nc/80 x 3/nl, obj x (imgsz/640)^2 x 3/nl,
    on a copy of `hyp` (the augmentation keys are left as they are)."""
    out = dict(hyp)
    out["box"] *= 3 / nl
    out["cls"] *= nc / 80 * 3 / nl
    out["obj"] *= (imgsz / 640) ** 2 * 3 / nl
    return out
