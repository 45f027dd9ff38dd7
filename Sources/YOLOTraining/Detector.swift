// `Detector`: the library API for programs — load a model from any supported weights file and
// get detections for an image: `let detections = try Detector(weights: url).detect(image)`.
import Foundation
import TensorCore
import TensorDNNL
import YOLO
import YOLOData

public final class Detector {
    public let model: YOLOModel
    public let names: [String]
    /// Inference size (longest side), a multiple of 32.
    public var imageSize = 640
    public var confThreshold = 0.25
    public var iouThreshold = 0.45
    public var maxDetections = 1000
    /// Keep only these classes (nil: all).
    public var classes: [Int]?
    public var agnostic = false

    /// Loads our checkpoints, a YOLOv5 `.pt`, or a safetensors state dict (with `cfg`). Selects the
    /// oneDNN backend unless the program chose one.
    public init(weights: URL, cfg: String? = nil) throws {
        if Engine.backend is ReferenceBackend { Engine.backend = DNNLBackend() }
        (model, names) = try WeightsLoader.inferenceModel(weights.path, cfg: cfg)
    }

    /// Detections in `image`'s pixel coordinates, best first.
    public func detect(_ image: Image) -> [Detection] {
        detectWithInputShape(image).detections
    }

    /// `detect`, plus the (height, width) of the letterboxed picture the model saw, which
    /// detect.py prints on each line.
    public func detectWithInputShape(_ image: Image) -> (detections: [Detection], inputShape: (height: Int, width: Int)) {
        let lb = letterbox(image, size: imageSize, auto: true, stride: max(model.strides.max() ?? 32, 32))
        let x = tensor(from: lb.image)
        let raw = model(x, training: false)
        let decoded = decodePredictions(raw, anchors: Validator.anchorPixels(model), strides: model.strides)
        let dets = nonMaxSuppression(decoded, confThreshold: confThreshold, iouThreshold: iouThreshold,
                                     classes: classes, agnostic: agnostic, maxDetections: maxDetections)[0]
        let scaled = scaleBoxes(dets, from: (lb.image.height, lb.image.width), to: (image.height, image.width))
        return (clipBoxes(scaled, to: (image.height, image.width)), (lb.image.height, lb.image.width))
    }

    /// Decodes the file and detects.
    public func detect(contentsOf url: URL) throws -> [Detection] {
        try detect(ImageCodec.decode(contentsOf: url).0)
    }
}

/// An image as a (1, H, W, 3) tensor of pixels / 255.
func tensor(from image: Image) -> Tensor {
    var t = Tensor(uninitializedShape: [1, image.height, image.width, 3])
    image.pixels.withUnsafeBufferPointer { src in
        t.withUnsafeMutableBufferPointer { dst in
            for i in 0..<src.count { dst[i] = Float(src[i]) / 255 }
        }
    }
    return t
}
