// Shared helpers for the tests that train with the real `yolo` binary: paths, processes whose
// output goes to files (a full pipe would block a long run), and the tiny training recipe.
import Foundation
import XCTest

enum YOLOBinary {
    /// The built `yolo` next to the test bundle (.build/<config>/yolo).
    static var url: URL { Bundle.main.bundleURL.appendingPathComponent("yolo") }
    /// The package root (this file is Tests/yoloTests/TrainingCLISupport.swift).
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static var coco8: String { root.appendingPathComponent("datasets/coco8/coco8.yaml").path }

    /// The tiny recipe: coco8, 64 px, batch 2, yolov5n from scratch, one worker, seed 3, no AutoAnchor.
    static func tinyTrain(project: String, name: String = "exp", epochs: Int, data: String = coco8) -> [String] {
        ["train", "--data", data, "--cfg", "yolov5n.yaml", "--img", "64", "--batch-size", "2", "--epochs", "\(epochs)",
         "--workers", "1", "--seed", "3", "--noautoanchor", "--project", project, "--name", name]
    }
}

struct YOLORun {
    var status: Int32
    var stdout: String
    var stderr: String
    var seconds: Double
    var output: String { stdout + stderr }
}

/// A started `yolo` process with stdout and stderr going to files.
final class YOLOProcess {
    let process = Process()
    let outURL: URL, errURL: URL
    let start = Date()

    /// `environment` replaces the inherited one when given (e.g. a PATH without ffmpeg).
    init(_ arguments: [String], directory: URL? = nil, environment: [String: String]? = nil) throws {
        let logs = FileManager.default.temporaryDirectory.appendingPathComponent("yolo-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)
        outURL = logs.appendingPathComponent("stdout")
        errURL = logs.appendingPathComponent("stderr")
        FileManager.default.createFile(atPath: outURL.path, contents: nil)
        FileManager.default.createFile(atPath: errURL.path, contents: nil)
        process.executableURL = YOLOBinary.url
        process.arguments = arguments
        process.currentDirectoryURL = directory ?? YOLOBinary.root
        if let environment { process.environment = environment }
        process.standardOutput = try FileHandle(forWritingTo: outURL)
        process.standardError = try FileHandle(forWritingTo: errURL)
        try process.run()
    }

    /// Whether stdout shows the progress line of `batch`/`batches` of `epoch` (0-based) of `epochs`.
    func printedProgress(epoch: Int, of epochs: Int, batch: Int, of batches: Int) -> Bool {
        guard let text = try? String(contentsOf: outURL, encoding: .utf8) else { return false }
        return text.split(whereSeparator: { $0 == "\r" || $0 == "\n" }).contains { line in
            line.split(separator: " ").first == "\(epoch)/\(epochs - 1)" && line.contains(" \(batch)/\(batches) [")
        }
    }

    func wait() -> YOLORun {
        process.waitUntilExit()
        let seconds = Date().timeIntervalSince(start)
        let out = (try? String(contentsOf: outURL, encoding: .utf8)) ?? ""
        let err = (try? String(contentsOf: errURL, encoding: .utf8)) ?? ""
        try? FileManager.default.removeItem(at: outURL.deletingLastPathComponent())
        return YOLORun(status: process.terminationStatus, stdout: out, stderr: err, seconds: seconds)
    }
}

func runYOLO(_ arguments: [String], directory: URL? = nil, environment: [String: String]? = nil) throws -> YOLORun {
    try YOLOProcess(arguments, directory: directory, environment: environment).wait()
}

/// A fresh temporary folder, removed when the test ends.
func temporaryFolder(_ test: XCTestCase) throws -> URL {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("yolo-cli-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
    return dir
}
