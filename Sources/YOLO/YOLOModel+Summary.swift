// YOLOv5's model printout: the layer table `parse_model` logs (`from n params module
// arguments`) and `model_info`'s summary line (modules, parameters, gradients, GFLOPs at 640).
import Foundation
import NN
import TensorCore

extension YOLOModel {
    /// Number of parameters (`sum(p.numel() for p in model.parameters())`).
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.value.count } }

    /// Number of parameters that take gradients (false for parameters frozen with `--freeze`).
    public var gradientCount: Int { parameters.filter(\.requiresGradient).reduce(0) { $0 + $1.value.count } }

    /// `len(list(model.modules()))`: the model, its `nn.Sequential`, the one SiLU that every
    /// Conv shares, and each block's modules.
    public var moduleCount: Int { 3 + blocks.reduce(0) { $0 + $1.moduleCount } + detect.moduleCount }

    /// GFLOPs of one `size`×`size` image as YOLOv5's `model_info` reports them: thop's count
    /// (conv multiply-adds without bias, 4 per BatchNorm element, 1 per upsampled element) for a
    /// 1×3×s×s input with s = max(largest stride, 32), times 2, scaled by (size / s)².
    public func gflops(imageSize size: Int = 640) -> Double {
        let s = max(strides.max() ?? 32, 32)
        let ops = propagateShapes(input: [1, s, s, inputChannels]).ops
        let flops = ops / 1e9 * 2
        return flops * Double(size) / Double(s) * Double(size) / Double(s)
    }

    /// `YOLOv5s` for `yolov5s.yaml` (`Path(yaml_file).stem.replace('yolov5', 'YOLOv5')`).
    public var displayName: String { spec.name.replacingOccurrences(of: "yolov5", with: "YOLOv5") }

    /// `YOLOv5s summary: 214 layers, 7235389 parameters, 7235389 gradients, 16.6 GFLOPs`.
    /// (YOLOv5 7.0 omits the GFLOPs of Focus models because it profiles them with the stem's
    /// 12 input channels; here they are printed, as v5.0 did.)
    public var summaryLine: String {
        let g = String(format: "%.1f", gflops())
        return "\(displayName) summary: \(moduleCount) layers, \(parameterCount) parameters, "
            + "\(gradientCount) gradients, \(g) GFLOPs"
    }

    /// The layer table rows as `parse_model` prints them (header first), with parameter
    /// counts of the current (fused or not) blocks.
    public var layerTable: [String] {
        var lines = [pad("", 3) + pad("from", 18) + pad("n", 3) + pad("params", 10) + "  "
                     + padRight("module", 40) + padRight("arguments", 30)]
        let rows = spec.layers
        let all: [(typeName: String, params: Int)] = blocks.map {
            ($0.typeName, $0.parameters.reduce(0) { $0 + $1.value.count })
        } + [(detect.typeName, detect.parameters.reduce(0) { $0 + $1.value.count })]
        for (i, row) in rows.enumerated() {
            let f = row.fromIsList ? "[" + row.from.map(String.init).joined(separator: ", ") + "]" : String(row.from[0])
            lines.append(pad(String(i), 3) + pad(f, 18) + pad(String(tableRows[i].n), 3) + pad(String(all[i].params), 10)
                         + "  " + padRight(all[i].typeName, 40) + padRight(tableRows[i].args, 30))
        }
        return lines
    }

    /// The table followed by the summary line.
    public func summary() -> String { (layerTable + [summaryLine]).joined(separator: "\n") }

    /// Arguments as `parse_model` passes them: [c1, c2, (n,) rest of the YAML args].
    static func tableArgs(_ row: LayerSpec, c1: Int, c2: Int, repeats n: Int) -> String {
        var args = row.args
        switch row.module {
        case .conv, .focus, .bottleneck, .bottleneckCSP, .c3, .spp, .sppf:
            args = [String(c1), String(c2)] + args.dropFirst()
            if row.module.takesRepeats { args.insert(String(n), at: 2) }
        case .concat, .upsample, .detect:
            break
        }
        return "[" + args.joined(separator: ", ") + "]"
    }

    static func detectArgs(nc: Int, anchors: [[Float]], channels: [Int]) -> String {
        func num(_ v: Float) -> String { v == v.rounded() ? String(Int(v)) : String(v) }
        let a = "[" + anchors.map { "[" + $0.map(num).joined(separator: ", ") + "]" }.joined(separator: ", ") + "]"
        return "[\(nc), \(a), [" + channels.map(String.init).joined(separator: ", ") + "]]"
    }
}

/// Right-aligned in `width` (Python `{s:>w}`).
private func pad(_ s: String, _ width: Int) -> String {
    s.count >= width ? s : String(repeating: " ", count: width - s.count) + s
}

/// Left-aligned in `width` (Python `{s:<w}`).
private func padRight(_ s: String, _ width: Int) -> String {
    s.count >= width ? s : s + String(repeating: " ", count: width - s.count)
}
