// The training/validation sample pipeline: YOLOv5's LoadImagesAndLabels.load_image and
// __getitem__ (utils/dataloaders.py), minus Albumentations (an optional extra in YOLOv5 that is
// skipped when the package is absent) and segments. Batching lives in Batch.swift / Loader.swift.
import Foundation

/// The augmentation keys of YOLOv5's hyperparameter file, defaulting to data/hyps/hyp.scratch-low.yaml.
public struct AugmentationHyperparameters: Codable, Sendable, Equatable {
    public var hsvH = 0.015
    public var hsvS = 0.7
    public var hsvV = 0.4
    public var degrees = 0.0
    public var translate = 0.1
    public var scale = 0.5
    public var shear = 0.0
    public var perspective = 0.0
    public var flipud = 0.0
    public var fliplr = 0.5
    public var mosaic = 1.0
    public var mixup = 0.0

    enum CodingKeys: String, CodingKey {
        case hsvH = "hsv_h", hsvS = "hsv_s", hsvV = "hsv_v"
        case degrees, translate, scale, shear, perspective, flipud, fliplr, mosaic, mixup
    }

    public init() {}

    /// Missing keys keep their hyp.scratch-low value.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = AugmentationHyperparameters()
        func value(_ k: CodingKeys, _ fallback: Double) throws -> Double { try c.decodeIfPresent(Double.self, forKey: k) ?? fallback }
        hsvH = try value(.hsvH, d.hsvH); hsvS = try value(.hsvS, d.hsvS); hsvV = try value(.hsvV, d.hsvV)
        degrees = try value(.degrees, d.degrees); translate = try value(.translate, d.translate)
        scale = try value(.scale, d.scale); shear = try value(.shear, d.shear)
        perspective = try value(.perspective, d.perspective)
        flipud = try value(.flipud, d.flipud); fliplr = try value(.fliplr, d.fliplr)
        mosaic = try value(.mosaic, d.mosaic); mixup = try value(.mixup, d.mixup)
    }
}

/// load_image's result: the image with its long side resized to the training size, its size
/// before resizing, and its labels `[class, x, y, w, h]` (normalised, so unchanged by resizing).
public struct LoadedImage: Sendable {
    public var image: Image
    public var originalWidth: Int, originalHeight: Int
    public var labels: [[Float]]

    public init(image: Image, originalWidth: Int, originalHeight: Int, labels: [[Float]]) {
        self.image = image
        self.originalWidth = originalWidth
        self.originalHeight = originalHeight
        self.labels = labels
    }
}

/// YOLOv5 load_image: resize so the long side is `imageSize` (sides ceil(side·r)), INTER_AREA when
/// shrinking without augmentation, INTER_LINEAR otherwise; unchanged when r == 1.
public func resizeForTraining(_ image: Image, imageSize: Int, augment: Bool) -> Image {
    let r = Double(imageSize) / Double(max(image.width, image.height))
    guard r != 1 else { return image }
    let interpolation: Interpolation = (augment || r > 1) ? .linear : .area
    let (w, h) = trainingSize(width: image.width, height: image.height, imageSize: imageSize)
    return resize(image, width: w, height: h, interpolation: interpolation)
}

/// The size `resizeForTraining` gives a `width` x `height` image: sides ceil(side·r).
public func trainingSize(width: Int, height: Int, imageSize: Int) -> (width: Int, height: Int) {
    let r = Double(imageSize) / Double(max(width, height))
    guard r != 1 else { return (width, height) }
    return (Int((Double(width) * r).rounded(.up)), Int((Double(height) * r).rounded(.up)))
}

/// What the non-mosaic path records for mAP rescaling (YOLOv5 `shapes`):
/// (h0, w0), ((h / h0, w / w0), (dw, dh)).
public struct SampleShape: Sendable, Equatable {
    public var originalHeight: Int, originalWidth: Int
    public var ratio: (height: Double, width: Double)
    public var padding: (x: Double, y: Double)

    public static func == (a: SampleShape, b: SampleShape) -> Bool {
        a.originalHeight == b.originalHeight && a.originalWidth == b.originalWidth && a.ratio == b.ratio
            && a.padding == b.padding
    }
}

/// One sample after the pipeline: image, labels `[class, x, y, w, h]` normalised to it, and the
/// letterbox record (nil for mosaics).
public struct Sample: Sendable {
    public var image: Image
    public var labels: [[Float]]
    public var shape: SampleShape?

    public init(image: Image, labels: [[Float]], shape: SampleShape? = nil) {
        self.image = image
        self.labels = labels
        self.shape = shape
    }
}

/// How a sample is built: the fixed settings of one loader.
public struct SampleRecipe: Sendable {
    public var imageSize: Int
    public var augment: Bool
    /// Mosaic allowed (YOLOv5: augment && !rect).
    public var mosaic: Bool
    public var hyp: AugmentationHyperparameters

    public init(imageSize: Int, augment: Bool, rect: Bool, hyp: AugmentationHyperparameters) {
        self.imageSize = imageSize
        self.augment = augment
        self.mosaic = augment && !rect
        self.hyp = hyp
    }
}

/// YOLOv5 __getitem__ for sample `index`: mosaic with probability hyp.mosaic (then mixup with
/// probability hyp.mixup, its partner a uniform index), else load_image + letterbox to `shape`
/// (height, width; the rect batch shape or imageSize²) + random_perspective when augmenting;
/// then labels to normalised xywh, HSV, flip up-down, flip left-right. `pool` is where mosaic
/// partners are drawn from (YOLOv5 self.indices), `count` the dataset size. `loadTile`, when
/// given, loads mosaic tiles and may return only the part shown (`loadMosaic`); else `load` does.
public func makeSample(index: Int, recipe: SampleRecipe, shape: (height: Int, width: Int), pool: [Int], count: Int,
                       using g: inout some RandomNumberGenerator,
                       load: (Int) throws -> LoadedImage,
                       loadTile: ((Int, MosaicTileView) throws -> MosaicTile)? = nil) rethrows -> Sample {
    let hyp = recipe.hyp
    var image: Image, targets: [[Float]], record: SampleShape?
    func tile(_ i: Int, _ view: MosaicTileView) throws -> MosaicTile {
        if let loadTile { return try loadTile(i, view) }
        let l = try load(i)
        return MosaicTile(image: l.image, labels: l.labels)
    }
    if recipe.mosaic && g.nextDouble() < hyp.mosaic {
        (image, targets) = try loadMosaic(index: index, imageSize: recipe.imageSize, pool: pool, hyp: hyp, using: &g, load: tile)
        if g.nextDouble() < hyp.mixup {
            let partner = g.randint(0, count - 1)
            let (image2, targets2) = try loadMosaic(index: partner, imageSize: recipe.imageSize, pool: pool, hyp: hyp,
                                                    using: &g, load: tile)
            (image, targets) = mixup(image, targets, image2, targets2, using: &g)
        }
    } else {
        let loaded = try load(index)
        let boxed = letterbox(loaded.image, height: shape.height, width: shape.width, auto: false, scaleup: recipe.augment)
        let (w, h) = (Double(loaded.image.width), Double(loaded.image.height))
        record = SampleShape(originalHeight: loaded.originalHeight, originalWidth: loaded.originalWidth,
                             ratio: (h / Double(loaded.originalHeight), w / Double(loaded.originalWidth)),
                             padding: boxed.padding)
        image = boxed.image
        targets = xywhnToXyxy(loaded.labels, width: boxed.ratio.x * w, height: boxed.ratio.y * h,
                              padX: boxed.padding.x, padY: boxed.padding.y)
        if recipe.augment {
            (image, targets) = randomPerspective(image, targets: targets, degrees: hyp.degrees, translate: hyp.translate,
                                                 scale: hyp.scale, shear: hyp.shear, perspective: hyp.perspective,
                                                 using: &g)
        }
    }
    var labels = xyxyToXywhn(targets, width: image.width, height: image.height, clip: true, eps: 1e-3)
    if recipe.augment {
        image = augmentHSV(image, hgain: hyp.hsvH, sgain: hyp.hsvS, vgain: hyp.hsvV, using: &g)
        if g.nextDouble() < hyp.flipud {
            image = image.flippedVertically()
            labels = flipLabelsVertical(labels)
        }
        if g.nextDouble() < hyp.fliplr {
            image = image.flippedHorizontally()
            labels = flipLabelsHorizontal(labels)
        }
    }
    return Sample(image: image, labels: labels, shape: record)
}
