// Training hyperparameters as YOLOv5 writes them in `hyp.*.yaml`; not the optimizer or the
// augmentation code that reads them.
import Foundation
import Yams

/// YOLOv5's hyperparameters. Swift properties are camel-cased; the coding keys are YOLOv5's own
/// (`weight_decay`, `cls_pw`, …), so a YOLOv5 `hyp.*.yaml` decodes unchanged and an encoded
/// value is a valid YOLOv5 hyp file.
///
/// `copy_paste` (added after v5.0) defaults to 0 when absent; `anchors` and `label_smoothing`
/// are optional as in YOLOv5 (`label_smoothing` is set from `--label-smoothing` by train.py).
public struct Hyperparameters: Codable, Equatable, Sendable {
    public var lr0: Double
    public var lrf: Double
    public var momentum: Double
    public var weightDecay: Double
    public var warmupEpochs: Double
    public var warmupMomentum: Double
    public var warmupBiasLR: Double
    public var box: Double
    public var cls: Double
    public var clsPW: Double
    public var obj: Double
    public var objPW: Double
    public var iouT: Double
    public var anchorT: Double
    /// Anchors per output layer for AutoAnchor (YOLOv5 keeps it commented out).
    public var anchors: Double?
    public var flGamma: Double
    public var hsvH: Double
    public var hsvS: Double
    public var hsvV: Double
    public var degrees: Double
    public var translate: Double
    public var scale: Double
    public var shear: Double
    public var perspective: Double
    public var flipud: Double
    public var fliplr: Double
    public var mosaic: Double
    public var mixup: Double
    public var copyPaste: Double
    /// Class label-smoothing epsilon; nil means 0 (as `h.get('label_smoothing', 0.0)`).
    public var labelSmoothing: Double?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case lr0, lrf, momentum
        case weightDecay = "weight_decay"
        case warmupEpochs = "warmup_epochs"
        case warmupMomentum = "warmup_momentum"
        case warmupBiasLR = "warmup_bias_lr"
        case box, cls
        case clsPW = "cls_pw"
        case obj
        case objPW = "obj_pw"
        case iouT = "iou_t"
        case anchorT = "anchor_t"
        case anchors
        case flGamma = "fl_gamma"
        case hsvH = "hsv_h"
        case hsvS = "hsv_s"
        case hsvV = "hsv_v"
        case degrees, translate, scale, shear, perspective, flipud, fliplr, mosaic, mixup
        case copyPaste = "copy_paste"
        case labelSmoothing = "label_smoothing"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func req(_ k: CodingKeys) throws -> Double { try c.decode(Double.self, forKey: k) }
        lr0 = try req(.lr0); lrf = try req(.lrf); momentum = try req(.momentum)
        weightDecay = try req(.weightDecay); warmupEpochs = try req(.warmupEpochs)
        warmupMomentum = try req(.warmupMomentum); warmupBiasLR = try req(.warmupBiasLR)
        box = try req(.box); cls = try req(.cls); clsPW = try req(.clsPW)
        obj = try req(.obj); objPW = try req(.objPW); iouT = try req(.iouT); anchorT = try req(.anchorT)
        anchors = try c.decodeIfPresent(Double.self, forKey: .anchors)
        flGamma = try req(.flGamma)
        hsvH = try req(.hsvH); hsvS = try req(.hsvS); hsvV = try req(.hsvV)
        degrees = try req(.degrees); translate = try req(.translate); scale = try req(.scale)
        shear = try req(.shear); perspective = try req(.perspective)
        flipud = try req(.flipud); fliplr = try req(.fliplr)
        mosaic = try req(.mosaic); mixup = try req(.mixup)
        copyPaste = try c.decodeIfPresent(Double.self, forKey: .copyPaste) ?? 0
        labelSmoothing = try c.decodeIfPresent(Double.self, forKey: .labelSmoothing)
    }
}

/// Why a hyperparameter file could not be used.
public enum HyperparametersError: Error, Equatable, CustomStringConvertible {
    case notFound(String, bundled: [String])
    case unreadable(file: String, reason: String)
    case missingKey(file: String, key: String)
    case wrongType(file: String, key: String, reason: String)

    public var description: String {
        switch self {
        case let .notFound(name, bundled):
            return "hyperparameter file '\(name)' not found; give a path or one of: \(bundled.joined(separator: ", "))"
        case let .unreadable(file, reason):
            return "\(file): not a readable hyperparameter YAML (\(reason))"
        case let .missingKey(file, key):
            return "\(file): missing hyperparameter '\(key)'; add it (see hyp.scratch-low.yaml for every key)"
        case let .wrongType(file, key, reason):
            return "\(file): hyperparameter '\(key)' must be a number (\(reason))"
        }
    }
}

extension Hyperparameters {
    /// Names of the bundled files (v7.0 `hyp.scratch-{low,med,high}`, v5.0 `hyp.scratch`, `hyp.finetune`).
    public static let bundledNames = ["hyp.scratch-low", "hyp.scratch-med", "hyp.scratch-high",
                                      "hyp.scratch", "hyp.finetune"]

    /// Loads a YAML file at `nameOrPath`, or else a bundled file by name: `hyp.scratch-low`,
    /// `hyp.scratch-low.yaml` and `scratch-low` all name the same bundled file.
    public static func load(_ nameOrPath: String) throws -> Hyperparameters {
        let url = try locate(nameOrPath)
        let text: String
        do {
            text = try String(contentsOf: url, encoding: .utf8)
        } catch {
            throw HyperparametersError.unreadable(file: url.path, reason: "\(error)")
        }
        return try decode(yaml: text, file: url.path)
    }

    /// Decodes YAML text; `file` names the source in errors.
    public static func decode(yaml text: String, file: String = "<string>") throws -> Hyperparameters {
        do {
            return try YAMLDecoder().decode(Hyperparameters.self, from: text)
        } catch let DecodingError.keyNotFound(key, _) {
            throw HyperparametersError.missingKey(file: file, key: key.stringValue)
        } catch let DecodingError.typeMismatch(_, context) {
            throw HyperparametersError.wrongType(file: file, key: context.codingPath.last?.stringValue ?? "?",
                                                 reason: context.debugDescription)
        } catch let DecodingError.valueNotFound(_, context) {
            throw HyperparametersError.wrongType(file: file, key: context.codingPath.last?.stringValue ?? "?",
                                                 reason: "no value")
        } catch let DecodingError.dataCorrupted(context) {
            guard let key = context.codingPath.last?.stringValue else {
                throw HyperparametersError.unreadable(file: file, reason: context.debugDescription)
            }
            throw HyperparametersError.wrongType(file: file, key: key, reason: context.debugDescription)
        } catch {
            throw HyperparametersError.unreadable(file: file, reason: "\(error)")
        }
    }

    /// The YAML text of these hyperparameters, with YOLOv5's key names.
    public func yaml() throws -> String { try YAMLEncoder().encode(self) }

    private static func locate(_ nameOrPath: String) throws -> URL {
        let fm = FileManager.default
        if fm.fileExists(atPath: nameOrPath) { return URL(fileURLWithPath: nameOrPath) }
        var name = (nameOrPath as NSString).lastPathComponent
        if name.hasSuffix(".yaml") { name.removeLast(5) }
        if !name.hasPrefix("hyp.") { name = "hyp." + name }
        if bundledNames.contains(name),
           let url = Bundle.module.url(forResource: name, withExtension: "yaml", subdirectory: "Resources/hyps") {
            return url
        }
        throw HyperparametersError.notFound(nameOrPath, bundled: bundledNames)
    }

    /// The gains as train.py scales them before building the loss: `box *= 3/nl`,
    /// `cls *= nc/80 · 3/nl`, `obj *= (imageSize/640)² · 3/nl`; `labelSmoothing` is set
    /// (to 0 when nil) as train.py sets it from `--label-smoothing`.
    public func scaledForTraining(layers nl: Int, classes nc: Int, imageSize: Int) -> Hyperparameters {
        // Same operation order as train.py, so the Float32 gains round identically.
        var h = self
        h.box *= 3 / Double(nl)
        h.cls *= Double(nc) / 80 * 3 / Double(nl)
        h.obj *= pow(Double(imageSize) / 640, 2) * 3 / Double(nl)
        h.labelSmoothing = labelSmoothing ?? 0
        return h
    }
}
