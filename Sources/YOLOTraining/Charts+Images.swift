// train_batch{i}.jpg, val_batch{i}_labels.jpg and val_batch{i}_pred.jpg as YOLOv5's
// `plot_images` (utils/plots.py) draws them: up to 16 images in a square grid filled column by
// column, shrunk so the mosaic fits 1920 px, white borders, file names, boxes with labels.
import Foundation
import YOLOData

extension Charts {
    /// Writes a batch mosaic.
    /// - `images`: the batch (at most 16 are drawn); tiles take the size of `images[0]`
    ///   (a batch shares one size after letterboxing), other sizes are clipped or padded white.
    /// - `targets`: rows [image index, class, x, y, w, h] for labels, or
    ///   [image index, class, x, y, w, h, conf] for predictions; (x, y) is the box centre.
    ///   Boxes of an image are taken as normalised (0…1) when all their xywh values ≤ 1.01,
    ///   else as pixels of the unscaled image. Predictions are drawn when conf > 0.25, labelled
    ///   "name 0.9"; labels are labelled "name".
    /// - `paths`: file names drawn at each tile's top-left (last component, ≤ 40 characters).
    /// - `names`: class names; the class index is printed when nil.
    public static func plotImages(_ images: [Image], targets: [[Float]], paths: [String]? = nil,
                                  names: [String]? = nil, to url: URL) throws {
        try PlotFile.write(renderImages(images, targets: targets, paths: paths, names: names), to: url)
    }

    public static func renderImages(_ images: [Image], targets: [[Float]], paths: [String]? = nil,
                                    names: [String]? = nil, maxSize: Int = 1920) -> Image {
        guard let first = images.first else { return Image(width: 1, height: 1, fill: 255) }
        let bs = min(images.count, 16)
        let ns = Int(Double(bs).squareRoot().rounded(.up))  // tiles per side
        var (h, w) = (first.height, first.width)
        let scale = Double(maxSize) / Double(ns) / Double(max(h, w))
        if scale < 1 { (h, w) = (Int((scale * Double(h)).rounded(.up)), Int((scale * Double(w)).rounded(.up))) }
        var canvas = Canvas(width: ns * w, height: ns * h)
        for i in 0..<bs {
            let (x, y) = (w * (i / ns), h * (i % ns))  // column-major, as upstream
            var tile = images[i]
            if scale < 1 {
                let tw = Int((scale * Double(tile.width)).rounded(.up)), th = Int((scale * Double(tile.height)).rounded(.up))
                tile = tile.resized(width: max(1, tw), height: max(1, th))
            }
            canvas.blit(cropped(tile, width: w, height: h), x: x, y: y)
        }
        let fs = Int(Double(h + w) * Double(ns) * 0.01)  // PIL font size upstream
        let textScale = max(1, Int((Double(fs) / Double(BitmapFont.cellHeight)).rounded()))
        let roundedLW = Int((Double(fs) / 10).rounded(.toNearestOrEven))
        let lw = roundedLW > 0 ? roundedLW : max(Int((Double(canvas.width + canvas.height) / 2 * 0.003).rounded()), 2)
        for i in 0..<bs {
            let (x, y) = (w * (i / ns), h * (i % ns))
            canvas.strokeRect(x0: x, y0: y, x1: x + w, y1: y + h, color: .white, thickness: 2)
            if let paths, i < paths.count {
                let name = String(URL(fileURLWithPath: paths[i]).lastPathComponent.prefix(40))
                canvas.text(name, x: x + 5, y: y + 5, color: RGB(220, 220, 220), scale: textScale)
            }
            drawTargets(&canvas, targets.filter { Int($0[0]) == i }, origin: (x, y), tile: (w, h), scale: scale,
                        names: names, lineWidth: lw, textScale: textScale)
        }
        return canvas.image
    }

    static func drawTargets(_ canvas: inout Canvas, _ rows: [[Float]], origin: (x: Int, y: Int), tile: (w: Int, h: Int),
                            scale: Double, names: [String]?, lineWidth: Int, textScale: Int) {
        guard !rows.isEmpty else { return }
        let normalized = rows.allSatisfy { $0[2...5].allSatisfy { $0 <= 1.01 } }
        for row in rows {
            let isLabel = row.count < 7
            let conf = isLabel ? 1 : Double(row[6])
            guard isLabel || conf > 0.25 else { continue }
            var (cx, cy, bw, bh) = (Double(row[2]), Double(row[3]), Double(row[4]), Double(row[5]))
            if normalized {
                (cx, bw) = (cx * Double(tile.w), bw * Double(tile.w))
                (cy, bh) = (cy * Double(tile.h), bh * Double(tile.h))
            } else if scale < 1 {
                (cx, cy, bw, bh) = (cx * scale, cy * scale, bw * scale, bh * scale)
            }
            let cls = Int(row[1])
            let name = names.map { cls >= 0 && cls < $0.count ? $0[cls] : String(cls) } ?? String(cls)
            let label = isLabel ? name : String(format: "%@ %.1f", name, conf)
            canvas.boxLabel(x0: origin.x + Int(cx - bw / 2), y0: origin.y + Int(cy - bh / 2),
                            x1: origin.x + Int(cx + bw / 2), y1: origin.y + Int(cy + bh / 2), label: label,
                            color: RGB.yoloClass(cls), lineWidth: lineWidth, textScale: textScale)
        }
    }

    /// `image` cut or padded (white) to exactly width × height from its top-left corner.
    static func cropped(_ image: Image, width: Int, height: Int) -> Image {
        if image.width == width && image.height == height { return image }
        var c = Canvas(width: width, height: height)
        c.blit(image, x: 0, y: 0)
        return c.image
    }
}
