// `Canvas`: a tiny raster painter over `Image` for YOLOv5's plots and annotated mosaics:
// rectangles, thick and dashed lines, dots, bitmap text and YOLOv5's box labels. It is not a
// vector renderer: no anti-aliasing, coordinates are whole pixels, shapes clip at the edges.
import YOLOData

/// An sRGB colour, 8 bits per channel.
public struct RGB: Sendable, Equatable, Hashable {
    public var r: UInt8, g: UInt8, b: UInt8
    public init(_ r: UInt8, _ g: UInt8, _ b: UInt8) { (self.r, self.g, self.b) = (r, g, b) }
    /// From 0xRRGGBB.
    public init(hex: UInt32) {
        self.init(UInt8((hex >> 16) & 0xFF), UInt8((hex >> 8) & 0xFF), UInt8(hex & 0xFF))
    }

    public static let white = RGB(255, 255, 255), black = RGB(0, 0, 0)
    public static let grey = RGB(128, 128, 128), blue = RGB(0, 0, 255)

    /// YOLOv5's 20-colour class palette (`utils/plots.py Colors`), indexed modulo 20.
    public static let yoloPalette: [RGB] = [
        0xFF3838, 0xFF9D97, 0xFF701F, 0xFFB21D, 0xCFD231, 0x48F90A, 0x92CC17, 0x3DDB86, 0x1A9334, 0x00D4BB,
        0x2C99A8, 0x00C2FF, 0x344593, 0x6473FF, 0x0018EC, 0x8438FF, 0x520085, 0xCB38FF, 0xFF95C8, 0xFF37C7,
    ].map { RGB(hex: $0) }

    /// The box colour YOLOv5 gives class `index`.
    public static func yoloClass(_ index: Int) -> RGB {
        yoloPalette[((index % yoloPalette.count) + yoloPalette.count) % yoloPalette.count]
    }

    /// matplotlib's default colour cycle (`tab10`), used for chart series.
    public static let tab10: [RGB] = [
        0x1F77B4, 0xFF7F0E, 0x2CA02C, 0xD62728, 0x9467BD, 0x8C564B, 0xE377C2, 0x7F7F7F, 0xBCBD22, 0x17BECF,
    ].map { RGB(hex: $0) }
}

/// A mutable RGB raster. Rectangles are given by inclusive corners (x0, y0)–(x1, y1), as PIL's
/// `ImageDraw.rectangle` takes them; everything outside the image is clipped.
public struct Canvas: Sendable {
    public var image: Image
    public var width: Int { image.width }
    public var height: Int { image.height }

    public init(width: Int, height: Int, background: RGB = .white) {
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        for i in stride(from: 0, to: pixels.count, by: 3) {
            pixels[i] = background.r; pixels[i + 1] = background.g; pixels[i + 2] = background.b
        }
        image = Image(width: width, height: height, pixels: pixels)
    }

    public init(image: Image) { self.image = image }

    /// The colour at (x, y); the pixel must be inside.
    public func pixel(_ x: Int, _ y: Int) -> RGB {
        let i = (y * width + x) * 3
        return RGB(image.pixels[i], image.pixels[i + 1], image.pixels[i + 2])
    }

    /// Paints one pixel, blending `alpha` (0…1) of `color` over what is there; clipped.
    @inline(__always)
    public mutating func plot(_ x: Int, _ y: Int, _ color: RGB, alpha: Double = 1) {
        guard x >= 0, y >= 0, x < width, y < height else { return }
        let i = (y * width + x) * 3
        if alpha >= 1 {
            image.pixels[i] = color.r; image.pixels[i + 1] = color.g; image.pixels[i + 2] = color.b
            return
        }
        guard alpha > 0 else { return }
        func mix(_ old: UInt8, _ new: UInt8) -> UInt8 {
            UInt8((Double(old) * (1 - alpha) + Double(new) * alpha).rounded())
        }
        image.pixels[i] = mix(image.pixels[i], color.r)
        image.pixels[i + 1] = mix(image.pixels[i + 1], color.g)
        image.pixels[i + 2] = mix(image.pixels[i + 2], color.b)
    }

    /// Fills the rectangle with inclusive corners (x0, y0)–(x1, y1).
    public mutating func fillRect(x0: Int, y0: Int, x1: Int, y1: Int, color: RGB, alpha: Double = 1) {
        let xa = max(0, min(x0, x1)), xb = min(width - 1, max(x0, x1))
        let ya = max(0, min(y0, y1)), yb = min(height - 1, max(y0, y1))
        guard xa <= xb, ya <= yb else { return }
        for y in ya...yb {
            for x in xa...xb { plot(x, y, color, alpha: alpha) }
        }
    }

    /// Outlines the rectangle (x0, y0)–(x1, y1) with a border `thickness` pixels wide drawn
    /// inwards from the corners, as PIL's `rectangle(..., width=)` does.
    public mutating func strokeRect(x0: Int, y0: Int, x1: Int, y1: Int, color: RGB, thickness: Int = 1) {
        let (xa, xb) = (min(x0, x1), max(x0, x1)), (ya, yb) = (min(y0, y1), max(y0, y1))
        let t = max(1, thickness)
        fillRect(x0: xa, y0: ya, x1: xb, y1: min(yb, ya + t - 1), color: color)  // top
        fillRect(x0: xa, y0: max(ya, yb - t + 1), x1: xb, y1: yb, color: color)  // bottom
        fillRect(x0: xa, y0: ya, x1: min(xb, xa + t - 1), y1: yb, color: color)  // left
        fillRect(x0: max(xa, xb - t + 1), y0: ya, x1: xb, y1: yb, color: color)  // right
    }

    /// A straight line (Bresenham) from (x0, y0) to (x1, y1), `thickness` pixels wide (a square
    /// pen centred on the line). `dash` = (on, off) in pixels along the line makes it dashed/dotted.
    public mutating func line(x0: Int, y0: Int, x1: Int, y1: Int, color: RGB, thickness: Int = 1,
                              alpha: Double = 1, dash: (on: Int, off: Int)? = nil, dashPhase: Int = 0) {
        let dx = abs(x1 - x0), dy = -abs(y1 - y0)
        let sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1
        var err = dx + dy, x = x0, y = y0, step = dashPhase
        let lo = -(max(1, thickness) - 1) / 2, hi = lo + max(1, thickness) - 1
        while true {
            let inked = dash.map { step % ($0.on + $0.off) < $0.on } ?? true
            if inked {
                for oy in lo...hi { for ox in lo...hi { plot(x + ox, y + oy, color, alpha: alpha) } }
            }
            if x == x1 && y == y1 { break }
            let e2 = 2 * err
            if e2 >= dy { err += dy; x += sx }
            if e2 <= dx { err += dx; y += sy }
            step += 1
        }
    }

    /// A connected polyline through `points`; dashes continue across vertices.
    public mutating func polyline(_ points: [(x: Int, y: Int)], color: RGB, thickness: Int = 1,
                                  dash: (on: Int, off: Int)? = nil) {
        guard points.count > 1 else {
            if let p = points.first { fillCircle(cx: p.x, cy: p.y, radius: thickness / 2, color: color) }
            return
        }
        var phase = 0
        for k in 1..<points.count {
            let a = points[k - 1], b = points[k]
            line(x0: a.x, y0: a.y, x1: b.x, y1: b.y, color: color, thickness: thickness, dash: dash,
                 dashPhase: phase)
            phase += max(abs(b.x - a.x), abs(b.y - a.y))
        }
    }

    /// A filled disc of `radius` pixels centred on (cx, cy), blended with `alpha`.
    public mutating func fillCircle(cx: Int, cy: Int, radius: Int, color: RGB, alpha: Double = 1) {
        let r = max(0, radius), r2 = r * r + r  // + r rounds the rim like a midpoint circle
        for dy in -r...r {
            for dx in -r...r where dx * dx + dy * dy <= r2 { plot(cx + dx, cy + dy, color, alpha: alpha) }
        }
    }

    /// Draws `text` with its top-left ink corner at (x, y), each font pixel `scale`×`scale`.
    /// Returns the drawn width in pixels.
    @discardableResult
    public mutating func text(_ text: String, x: Int, y: Int, color: RGB, scale: Int = 1) -> Int {
        let s = max(1, scale)
        var penX = x
        for ch in text.unicodeScalars {
            let rows = BitmapFont.rows(of: ch)
            for (ry, bits) in rows.enumerated() where bits != 0 {
                for rx in 0..<BitmapFont.glyphWidth where bits & (0x10 >> UInt8(rx)) != 0 {
                    fillRect(x0: penX + rx * s, y0: y + ry * s, x1: penX + rx * s + s - 1,
                             y1: y + ry * s + s - 1, color: color)
                }
            }
            penX += BitmapFont.cellWidth * s
        }
        return BitmapFont.size(of: text, scale: s).width
    }

    /// Draws `text` rotated 90° counter-clockwise (reading bottom to top, as matplotlib's y
    /// labels), with the bounding box's top-left corner at (x, y).
    public mutating func verticalText(_ text: String, x: Int, y: Int, color: RGB, scale: Int = 1) {
        let s = max(1, scale)
        let length = BitmapFont.size(of: text, scale: s).width
        for (k, ch) in text.unicodeScalars.enumerated() {
            let rows = BitmapFont.rows(of: ch)
            for (ry, bits) in rows.enumerated() where bits != 0 {
                for rx in 0..<BitmapFont.glyphWidth where bits & (0x10 >> UInt8(rx)) != 0 {
                    // Glyph (u, v) → canvas (x + v, y + length − 1 − u).
                    let u = (k * BitmapFont.cellWidth + rx) * s, v = ry * s
                    fillRect(x0: x + v, y0: y + length - u - s, x1: x + v + s - 1, y1: y + length - u - 1,
                             color: color)
                }
            }
        }
    }

    /// YOLOv5's `Annotator.box_label` (PIL branch): the box outlined `lineWidth` wide and, when
    /// `label` is non-empty, a filled label box in `color` with white text, above the box when
    /// it fits, otherwise just inside its top edge. Box corners are (x0, y0)–(x1, y1) in pixels.
    public mutating func boxLabel(x0: Int, y0: Int, x1: Int, y1: Int, label: String, color: RGB,
                                  lineWidth: Int, textScale: Int, textColor: RGB = .white) {
        strokeRect(x0: x0, y0: y0, x1: x1, y1: y1, color: color, thickness: lineWidth)
        guard !label.isEmpty else { return }
        let (w, h) = BitmapFont.size(of: label, scale: textScale)
        let outside = y0 - h >= 0  // label fits above the box
        let top = outside ? y0 - h : y0
        fillRect(x0: x0, y0: top, x1: x0 + w + 1, y1: top + h, color: color)
        text(label, x: x0 + 1, y: top + max(0, (h - BitmapFont.glyphHeight * textScale) / 2), color: textColor,
             scale: textScale)
    }

    /// Copies `source` with its top-left corner at (x, y), clipped.
    public mutating func blit(_ source: Image, x: Int, y: Int) {
        for sy in 0..<source.height {
            let ty = y + sy
            guard ty >= 0, ty < height else { continue }
            let xa = max(0, -x), xb = min(source.width, width - x)
            guard xa < xb else { continue }
            let src = (sy * source.width + xa) * 3, dst = (ty * width + x + xa) * 3
            image.pixels.replaceSubrange(dst..<(dst + (xb - xa) * 3),
                                         with: source.pixels[src..<(src + (xb - xa) * 3)])
        }
    }
}

extension Image {
    /// Resized to `width`×`height` by area-weighted (box) sampling, close to OpenCV's
    /// INTER_AREA when shrinking; enlarging repeats pixels. Plots only shrink.
    public func resized(width newWidth: Int, height newHeight: Int) -> Image {
        precondition(newWidth > 0 && newHeight > 0, "resize target must be positive")
        if newWidth == width && newHeight == height { return self }
        var out = [UInt8](repeating: 0, count: newWidth * newHeight * 3)
        let sx = Double(width) / Double(newWidth), sy = Double(height) / Double(newHeight)
        for oy in 0..<newHeight {
            let fy0 = Double(oy) * sy, fy1 = fy0 + sy
            for ox in 0..<newWidth {
                let fx0 = Double(ox) * sx, fx1 = fx0 + sx
                var acc = (0.0, 0.0, 0.0), total = 0.0
                // Sample the source cells the output pixel covers (at least one).
                let ya = min(height - 1, Int(fy0)), yb = min(height - 1, max(ya, Int((fy1 - 1e-9).rounded(.down))))
                let xa = min(width - 1, Int(fx0)), xb = min(width - 1, max(xa, Int((fx1 - 1e-9).rounded(.down))))
                for y in ya...yb {
                    let wy = max(1e-6, min(fy1, Double(y + 1)) - max(fy0, Double(y)))
                    for x in xa...xb {
                        let w = wy * max(1e-6, min(fx1, Double(x + 1)) - max(fx0, Double(x)))
                        let i = (y * width + x) * 3
                        acc.0 += w * Double(pixels[i]); acc.1 += w * Double(pixels[i + 1])
                        acc.2 += w * Double(pixels[i + 2]); total += w
                    }
                }
                let o = (oy * newWidth + ox) * 3
                out[o] = UInt8(min(255, (acc.0 / total).rounded()))
                out[o + 1] = UInt8(min(255, (acc.1 / total).rounded()))
                out[o + 2] = UInt8(min(255, (acc.2 / total).rounded()))
            }
        }
        return Image(width: newWidth, height: newHeight, pixels: out)
    }
}
