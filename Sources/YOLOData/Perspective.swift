// `randomPerspective` and `boxCandidates`: YOLOv5's random affine / perspective augmentation
// (utils/augmentations.py random_perspective, box_candidates). Boxes only: polygon segments are
// not carried (YOLOv5 uses them only for segment datasets and copy_paste, both off in detection).
import Foundation

/// The random values random_perspective draws, in its draw order.
public struct PerspectiveDraws: Sendable, Equatable {
    /// P[2, 0], P[2, 1].
    public var perspectiveX: Double, perspectiveY: Double
    /// Rotation in degrees (counter-clockwise, cv2.getRotationMatrix2D) and isotropic scale.
    public var angle: Double, scale: Double
    /// Shear angles in degrees.
    public var shearX: Double, shearY: Double
    /// Translation as a fraction of the output width / height (0.5 keeps the centre).
    public var translateX: Double, translateY: Double

    public init(perspectiveX: Double = 0, perspectiveY: Double = 0, angle: Double = 0, scale: Double = 1,
                shearX: Double = 0, shearY: Double = 0, translateX: Double = 0.5, translateY: Double = 0.5) {
        self.perspectiveX = perspectiveX; self.perspectiveY = perspectiveY
        self.angle = angle; self.scale = scale
        self.shearX = shearX; self.shearY = shearY
        self.translateX = translateX; self.translateY = translateY
    }

    /// Draws in YOLOv5's order: perspective x, y; angle; scale; shear x, y; translate x, y
    /// (each random.uniform(lo, hi)).
    public static func sample(degrees: Double, translate: Double, scale: Double, shear: Double, perspective: Double,
                              using g: inout some RandomNumberGenerator) -> PerspectiveDraws {
        let px = g.uniform(-perspective, perspective), py = g.uniform(-perspective, perspective)
        let a = g.uniform(-degrees, degrees)
        let s = g.uniform(1 - scale, 1 + scale)
        let shx = g.uniform(-shear, shear), shy = g.uniform(-shear, shear)
        let tx = g.uniform(0.5 - translate, 0.5 + translate), ty = g.uniform(0.5 - translate, 0.5 + translate)
        return PerspectiveDraws(perspectiveX: px, perspectiveY: py, angle: a, scale: s, shearX: shx, shearY: shy,
                                translateX: tx, translateY: ty)
    }

    /// M = T · S · R · P · C for an input of `inputWidth` x `inputHeight` and an output of
    /// `outputWidth` x `outputHeight` (C centres the input; T moves to translate·output size).
    public func matrix(inputWidth: Int, inputHeight: Int, outputWidth: Int, outputHeight: Int) -> Matrix3 {
        var c = Matrix3.identity
        c[0, 2] = -Double(inputWidth) / 2
        c[1, 2] = -Double(inputHeight) / 2
        var p = Matrix3.identity
        p[2, 0] = perspectiveX
        p[2, 1] = perspectiveY
        // cv2.getRotationMatrix2D(center=(0, 0), angle, scale): [[α, β, 0], [−β, α, 0]].
        let radians = angle * Double.pi / 180
        let alpha = scale * cos(radians), beta = scale * sin(radians)
        let r = Matrix3([alpha, beta, 0, -beta, alpha, 0, 0, 0, 1])
        var s = Matrix3.identity
        s[0, 1] = tan(shearX * Double.pi / 180)
        s[1, 0] = tan(shearY * Double.pi / 180)
        var t = Matrix3.identity
        t[0, 2] = translateX * Double(outputWidth)
        t[1, 2] = translateY * Double(outputHeight)
        return t * s * r * p * c
    }
}

/// YOLOv5 random_perspective. `targets` rows are `[class, x1, y1, x2, y2]` in pixels of `image`.
/// The output is (image.width + 2·border) x (image.height + 2·border) (mosaics pass −s/2).
/// Boxes are warped by their 4 corners, clipped to the output and filtered by `boxCandidates`
/// (against the input box times the drawn scale).
public func randomPerspective(_ image: Image, targets: [[Float]], degrees: Double = 10, translate: Double = 0.1,
                              scale: Double = 0.1, shear: Double = 10, perspective: Double = 0, border: Int = 0,
                              using g: inout some RandomNumberGenerator) -> (image: Image, targets: [[Float]]) {
    let draws = PerspectiveDraws.sample(degrees: degrees, translate: translate, scale: scale, shear: shear,
                                        perspective: perspective, using: &g)
    return applyPerspective(image, targets: targets, draws: draws, projective: perspective != 0, border: border)
}

/// The deterministic half of `randomPerspective`: warp and box update for given draws.
public func applyPerspective(_ image: Image, targets: [[Float]], draws: PerspectiveDraws, projective: Bool,
                             border: Int = 0) -> (image: Image, targets: [[Float]]) {
    let width = image.width + border * 2, height = image.height + border * 2
    let m = draws.matrix(inputWidth: image.width, inputHeight: image.height, outputWidth: width, outputHeight: height)
    var out = image
    if border != 0 || m != .identity {
        out = projective ? warpPerspective(image, matrix: m, width: width, height: height)
            : warpAffine(image, matrix: m, width: width, height: height)
    }
    guard !targets.isEmpty else { return (out, []) }
    var kept: [[Float]] = []
    for t in targets {
        let new = transformBox(t, matrix: m, projective: projective, width: width, height: height)
        let old = [Double(t[1]), Double(t[2]), Double(t[3]), Double(t[4])].map { $0 * draws.scale }
        if boxCandidates(before: old, after: new) {
            kept.append([t[0], Float(new[0]), Float(new[1]), Float(new[2]), Float(new[3])])
        }
    }
    return (out, kept)
}

/// The box `[_, x1, y1, x2, y2]` through `matrix` by its four corners, then min/max and clipped to
/// [0, width] x [0, height]. Returns `[x1, y1, x2, y2]`.
func transformBox(_ t: [Float], matrix: Matrix3, projective: Bool, width: Int, height: Int) -> [Double] {
    let x1 = Double(t[1]), y1 = Double(t[2]), x2 = Double(t[3]), y2 = Double(t[4])
    // Corner order as YOLOv5: x1y1, x2y2, x1y2, x2y1.
    let corners = [(x1, y1), (x2, y2), (x1, y2), (x2, y1)].map { matrix.apply(x: $0.0, y: $0.1, projective: projective) }
    let xs = corners.map(\.x), ys = corners.map(\.y)
    let w = Double(width), h = Double(height)
    return [min(max(xs.min()!, 0), w), min(max(ys.min()!, 0), h), min(max(xs.max()!, 0), w), min(max(ys.max()!, 0), h)]
}

/// YOLOv5 box_candidates: keep a box whose augmented width and height exceed `whThreshold` px, whose
/// area is more than `areaThreshold` of the (scaled) original and whose aspect ratio stays under
/// `aspectRatioThreshold`. Boxes are `[x1, y1, x2, y2]`.
public func boxCandidates(before box1: [Double], after box2: [Double], whThreshold: Double = 2,
                          aspectRatioThreshold: Double = 100, areaThreshold: Double = 0.1, eps: Double = 1e-16) -> Bool {
    let w1 = box1[2] - box1[0], h1 = box1[3] - box1[1]
    let w2 = box2[2] - box2[0], h2 = box2[3] - box2[1]
    let ar = max(w2 / (h2 + eps), h2 / (w2 + eps))
    return w2 > whThreshold && h2 > whThreshold && w2 * h2 / (w1 * h1 + eps) > areaThreshold && ar < aspectRatioThreshold
}
