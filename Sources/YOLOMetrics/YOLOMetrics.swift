// Detection metrics on plain arrays: matching, AP per class, P/R/F1, confusion matrix.
// Not tensors: this target imports the standard library only, so validation can run anywhere.
//
// Layouts used throughout (all row-major, flat where the element type is a number):
//   boxes       N × 4   x1, y1, x2, y2 (pixels, xyxy)
//   detections  N × 6   x1, y1, x2, y2, conf, class   (as YOLOv5's NMS emits, sorted by conf)
//   labels      M × 5   class, x1, y1, x2, y2         (as val.py's `labelsn`)
//   correct     N rows of T Bools, one per IoU threshold (val.py's `correct`)
// Boxes, confidences and IoUs are Float, as YOLOv5 keeps them in float32 tensors; everything
// derived from counts (precision, recall, AP) is Double, as numpy computes it in float64.

/// The ten IoU thresholds of mAP@0.5:0.95: `torch.linspace(0.5, 0.95, 10)` in float32
/// (these literals round to exactly those float32 values).
public let iouThresholds: [Float] = [0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95]
