// Rendering a checkpoint's model configuration (the `yaml` dict YOLOv5 keeps on its Model)
// back to YAML text in YOLOv5's layout, so the model builder can read it like a .yaml file:
//
//     nc: 80
//     depth_multiple: 0.33
//     anchors:
//       - [10, 13, 16, 30, 33, 23]
//     backbone:
//       - [-1, 1, Conv, [64, 6, 2, 2]]
//       - [-1, 1, nn.Upsample, [None, 2, nearest]]
//
// Only what PyYAML can have produced is rendered (dicts with string keys, lists, strings,
// numbers, bools, None); anything else (a tensor, an inert object) makes the result nil.
import Foundation

extension TorchCheckpoint {
    /// YAML text for a dict with string keys, or nil when `value` holds something YAML cannot.
    public static func renderYAML(_ value: PickleValue) -> String? {
        guard let text = block(value, indent: 0), case .dict = value else { return nil }
        return text
    }

    /// A block mapping (one `key: value` per line) at `indent` spaces.
    private static func block(_ value: PickleValue, indent: Int) -> String? {
        guard let pairs = value.pairs else { return nil }
        let pad = String(repeating: " ", count: indent)
        var lines: [String] = []
        for (k, v) in pairs {
            guard let key = k.stringValue.map(scalarText) ?? flow(k) else { return nil }
            switch v {
            case .dict where !(v.pairs ?? []).isEmpty:
                guard let inner = block(v, indent: indent + 2) else { return nil }
                lines.append("\(pad)\(key):\n\(inner)")
            case .list(let items) where !items.isEmpty && items.allSatisfy({ $0.elements != nil || $0.pairs != nil }),
                 .tuple(let items) where !items.isEmpty && items.allSatisfy({ $0.elements != nil || $0.pairs != nil }):
                // lists of lists (anchors, backbone, head): one flow row per item
                var rows = ["\(pad)\(key):"]
                for item in items {
                    guard let row = flow(item) else { return nil }
                    rows.append("\(pad)  - \(row)")
                }
                lines.append(rows.joined(separator: "\n"))
            default:
                guard let text = flow(v) else { return nil }
                lines.append("\(pad)\(key): \(text)")
            }
        }
        return lines.joined(separator: "\n") + (indent == 0 ? "\n" : "")
    }

    /// Flow style: `[a, b, [c]]`, `{k: v}`, or a scalar.
    private static func flow(_ value: PickleValue) -> String? {
        switch value {
        case .list(let items), .tuple(let items):
            let parts = items.compactMap(flow)
            return parts.count == items.count ? "[" + parts.joined(separator: ", ") + "]" : nil
        case .dict(let pairs):
            var parts: [String] = []
            for (k, v) in pairs {
                guard let key = flow(k), let val = flow(v) else { return nil }
                parts.append("\(key): \(val)")
            }
            return "{" + parts.joined(separator: ", ") + "}"
        case .none: return "null"
        case .bool(let b): return b ? "True" : "False"
        case .int(let i): return "\(i)"
        case .float(let d):
            if d.isNaN { return ".nan" }
            if d.isInfinite { return d > 0 ? ".inf" : "-.inf" }
            return "\(d)"
        case .string(let s): return scalarText(s)
        default: return nil
        }
    }

    /// A string as a plain scalar when YAML would read it back as the same string (`Conv`,
    /// `nn.Upsample`, `None`, `nearest`), otherwise single-quoted.
    private static func scalarText(_ s: String) -> String {
        let reserved: Set<String> = ["true", "false", "yes", "no", "on", "off", "null", "y", "n", "~", ""]
        let plain = s.unicodeScalars.first.map { $0 == "_" || ($0.isASCII && $0.properties.isAlphabetic) } ?? false
            && s.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "_.-".unicodeScalars.contains($0)) }
            && !reserved.contains(s.lowercased())
        return plain ? s : "'" + s.replacingOccurrences(of: "'", with: "''") + "'"
    }
}
