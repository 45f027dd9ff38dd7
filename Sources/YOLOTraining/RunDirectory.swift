// Run folders as YOLOv5 lays them out: `runs/train/exp`, `exp2`, `exp3`, … (increment_path).
import Foundation

public enum RunDirectory {
    /// `project/name` if free (or `existOK`), else `project/name{N}` with the smallest N ≥ 2 that
    /// is free, as YOLOv5's `increment_path(Path(project) / name, exist_ok)`. Creates the folder.
    public static func make(project: String, name: String, existOK: Bool,
                            fileManager: FileManager = .default) throws -> URL {
        let base = URL(fileURLWithPath: project).appendingPathComponent(name)
        var candidate = base
        if fileManager.fileExists(atPath: base.path) && !existOK {
            var n = 2
            while fileManager.fileExists(atPath: base.path + "\(n)") { n += 1 }
            candidate = URL(fileURLWithPath: base.path + "\(n)")
        }
        try fileManager.createDirectory(at: candidate, withIntermediateDirectories: true)
        return candidate
    }

    /// The most recently modified `last.safetensors` under `directory` (YOLOv5's get_latest_run).
    public static func latestLast(in directory: String = "runs", fileManager: FileManager = .default) -> URL? {
        guard let walker = fileManager.enumerator(at: URL(fileURLWithPath: directory),
                                                  includingPropertiesForKeys: [.contentModificationDateKey])
        else { return nil }
        var best: (URL, Date)?
        for case let url as URL in walker where url.lastPathComponent == "last.safetensors" {
            let date = (try? url.resourceValues(forKeys: [.contentModificationDateKey]))?.contentModificationDate
                ?? .distantPast
            if best == nil || date > best!.1 { best = (url, date) }
        }
        return best?.0
    }
}
