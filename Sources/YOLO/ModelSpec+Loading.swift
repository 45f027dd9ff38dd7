// Finding a model YAML: a user path, or a bundled model by name ("yolov5s", "yolov5s.yaml",
// "yolov5s-v5.0"). The bundled YAMLs live in Resources/models.
import Foundation

extension ModelSpec {
    /// Names of the bundled model YAMLs, without extension, sorted.
    public static var bundledNames: [String] {
        let paths = Bundle.module.paths(forResourcesOfType: "yaml", inDirectory: bundledSubdirectory)
        return paths.map { URL(fileURLWithPath: $0).deletingPathExtension().lastPathComponent }.sorted()
    }

    static let bundledSubdirectory = "Resources/models"

    /// The URL of a bundled model YAML, or nil.
    public static func bundledURL(_ name: String) -> URL? {
        let stem = name.hasSuffix(".yaml") || name.hasSuffix(".yml")
            ? String(name[..<name.lastIndex(of: ".")!]) : name
        guard !stem.isEmpty, !stem.contains("/") else { return nil }
        return Bundle.module.url(forResource: stem, withExtension: "yaml", subdirectory: bundledSubdirectory)
    }

    /// Loads `cfg`: an existing file path first, else a bundled model name. `nc`, when given,
    /// replaces the YAML's class count (`--nc`).
    public static func load(cfg: String, nc: Int? = nil) throws -> ModelSpec {
        let url: URL
        if FileManager.default.fileExists(atPath: cfg) {
            url = URL(fileURLWithPath: cfg)
        } else if let bundled = bundledURL(cfg) {
            url = bundled
        } else {
            throw ModelSpecError.notFound(cfg: cfg, bundled: bundledNames)
        }
        return try load(url: url, nc: nc)
    }

    /// Loads the YAML file at `url`; its stem becomes the display name.
    public static func load(url: URL, nc: Int? = nil) throws -> ModelSpec {
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch {
            throw ModelSpecError.unreadable(file: url.path, message: error.localizedDescription)
        }
        let spec = try ModelSpec(yaml: text, name: url.deletingPathExtension().lastPathComponent, file: url.path)
        return nc.map { spec.with(nc: $0) } ?? spec
    }
}
