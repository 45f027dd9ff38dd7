// `yolo detect` on videos with the real binary: a 5-frame clip made from datasets/images/bus.jpg,
// run with the tiny PyTorch-trained fixture model at a low threshold so frames have detections.
// A line and a label file per frame and <stem>.mp4 with the source's frame count and size; --nosave;
// a decoder dying mid-video; and no ffmpeg on PATH. Needs ffmpeg and ffprobe on PATH.
import Foundation
import XCTest

final class DetectVideoTests: XCTestCase {
    /// The tiny YOLOv5 trained by PyTorch (Tests/NNTests/Fixtures), loadable by `yolo detect`.
    let weights = YOLOBinary.root.appendingPathComponent("Tests/NNTests/Fixtures/yolov5_tiny_best.pt").path

    struct MissingTool: Error, CustomStringConvertible {
        var name: String
        var description: String { "\(name) is not on PATH: install ffmpeg (scripts/install-system-deps.sh)" }
    }

    /// An executable's path from PATH; a test without ffmpeg fails saying to install it.
    func tool(_ name: String) throws -> String {
        let folders = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":")
        guard let path = folders.map({ "\($0)/\(name)" }).first(where: FileManager.default.isExecutableFile) else {
            throw MissingTool(name: name)
        }
        return path
    }

    @discardableResult
    func run(_ executable: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, "\(executable) \(arguments)")
        return String(decoding: data, as: UTF8.self)
    }

    /// `frames` frames of bus.jpg scaled to 160 px wide, 5 per second.
    func makeClip(_ url: URL, frames: Int = 5) throws {
        let bus = YOLOBinary.root.appendingPathComponent("datasets/images/bus.jpg").path
        try run(tool("ffmpeg"), ["-v", "error", "-y", "-loop", "1", "-i", bus, "-vf", "scale=160:-2", "-r", "5",
                                 "-frames:v", "\(frames)", "-pix_fmt", "yuv420p", url.path])
    }

    /// Width, height and decoded frame count, as ffprobe counts them.
    func probe(_ url: URL) throws -> [Int] {
        let csv = try run(tool("ffprobe"), ["-v", "error", "-select_streams", "v:0", "-count_frames", "-show_entries",
                                            "stream=width,height,nb_read_frames", "-of", "csv=p=0", url.path])
        return csv.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ",").compactMap { Int($0) }
    }

    func detect(_ source: URL, project: URL, _ extra: [String] = [], environment: [String: String]? = nil) throws
        -> YOLORun {
        try runYOLO(["detect", "--weights", weights, "--source", source.path, "--img", "64", "--conf-thres", "0.00005",
                     "--max-det", "5", "--save-txt", "--project", project.path] + extra, environment: environment)
    }

    func lines(_ output: String, prefix: String) -> [String] {
        output.split(separator: "\n").map(String.init).filter { $0.hasPrefix(prefix) }
    }

    func testVideoFramesAreDetectedLabelledAndEncoded() throws {
        let tmp = try temporaryFolder(self)
        let source = tmp.appendingPathComponent("source")
        try FileManager.default.createDirectory(at: source, withIntermediateDirectories: true)
        let clip = source.appendingPathComponent("bus.mov")
        try makeClip(clip)
        try FileManager.default.copyItem(at: YOLOBinary.root.appendingPathComponent("datasets/images/zidane.jpg"),
                                         to: source.appendingPathComponent("zidane.jpg"))
        let r = try detect(source, project: tmp.appendingPathComponent("runs"))
        XCTAssertEqual(r.status, 0, r.output)

        // Images first, then the video, numbered together; detect.py's frame counter (k/5).
        XCTAssertEqual(lines(r.stdout, prefix: "image ").count, 1, r.stdout)
        let frames = lines(r.stdout, prefix: "video 2/2 (")
        XCTAssertEqual(frames.map { $0.split(separator: " ")[2] }, (1...5).map { "(\($0)/5)" }, r.stdout)
        for line in frames {
            XCTAssertTrue(line.contains(" \(clip.path): 64x64 ") && line.hasSuffix("ms"), line)
            XCTAssertFalse(line.contains("(no detections)"), line)
        }

        let exp = tmp.appendingPathComponent("runs/exp")
        for k in 1...5 {
            let label = try String(contentsOf: exp.appendingPathComponent("labels/bus_\(k).txt"), encoding: .utf8)
            XCTAssertFalse(label.isEmpty, "bus_\(k).txt")
            XCTAssertTrue(label.split(separator: "\n").allSatisfy { $0.split(separator: " ").count == 5 }, label)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: exp.appendingPathComponent("labels/bus_6.txt").path))
        XCTAssertTrue(FileManager.default.fileExists(atPath: exp.appendingPathComponent("zidane.jpg").path))
        // The annotated video: .mp4 whatever the source container, same size and frame count.
        XCTAssertEqual(try probe(exp.appendingPathComponent("bus.mp4")), try probe(clip))
        XCTAssertEqual(try probe(clip).last, 5)
    }

    func testNosaveWritesLabelsButNoVideo() throws {
        let tmp = try temporaryFolder(self)
        let clip = tmp.appendingPathComponent("bus.mp4")
        try makeClip(clip, frames: 2)
        let r = try detect(clip, project: tmp.appendingPathComponent("runs"), ["--nosave"])
        XCTAssertEqual(r.status, 0, r.output)
        XCTAssertEqual(lines(r.stdout, prefix: "video 1/1 (").count, 2, r.stdout)
        let exp = tmp.appendingPathComponent("runs/exp")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: exp.path), ["labels"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: exp.appendingPathComponent("labels").path)
            .sorted(), ["bus_1.txt", "bus_2.txt"])
    }

    /// A decoder that fails on "broken" files after 2.5 frames: that video stops with a line after
    /// 2 frames (which are kept); the next video is whole; the run succeeds.
    func testDecodeFailureEndsOnlyThatVideo() throws {
        let tmp = try temporaryFolder(self)
        let source = tmp.appendingPathComponent("source")
        try FileManager.default.createDirectory(at: source, withIntermediateDirectories: true)
        try makeClip(source.appendingPathComponent("broken.mp4"))
        try FileManager.default.copyItem(at: source.appendingPathComponent("broken.mp4"),
                                         to: source.appendingPathComponent("good.mp4"))
        let bin = tmp.appendingPathComponent("bin")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        let frameBytes = try probe(source.appendingPathComponent("good.mp4")).prefix(2).reduce(3, *)
        try """
            #!/bin/sh
            case "$*" in
            *broken.mp4*) '\(try tool("ffmpeg"))' "$@" | /usr/bin/head -c \(frameBytes * 5 / 2); exit 1 ;;
            *) exec '\(try tool("ffmpeg"))' "$@" ;;
            esac
            """.write(to: bin.appendingPathComponent("ffmpeg"), atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: bin.appendingPathComponent("ffmpeg").path)
        try FileManager.default.createSymbolicLink(atPath: bin.appendingPathComponent("ffprobe").path,
                                                   withDestinationPath: try tool("ffprobe"))

        let r = try detect(source, project: tmp.appendingPathComponent("runs"), environment: ["PATH": bin.path])
        XCTAssertEqual(r.status, 0, r.output)
        XCTAssertEqual(lines(r.stdout, prefix: "video 1/2 (").count, 2, r.stdout)
        XCTAssertTrue(r.stdout.contains("video 1/2 \(source.path)/broken.mp4: stopped after 2 frames, decoding "), r.stdout)
        XCTAssertEqual(lines(r.stdout, prefix: "video 2/2 (").count, 5, r.stdout)
        let exp = tmp.appendingPathComponent("runs/exp")
        XCTAssertEqual(try probe(exp.appendingPathComponent("broken.mp4")).last, 2)
        XCTAssertEqual(try probe(exp.appendingPathComponent("good.mp4")).last, 5)
    }

    /// Without ffmpeg on PATH: one line naming the video and how to install ffmpeg; images still run.
    func testWithoutFFmpegVideosAreSkippedAndImagesRun() throws {
        let tmp = try temporaryFolder(self)
        let source = tmp.appendingPathComponent("source")
        try FileManager.default.createDirectory(at: source, withIntermediateDirectories: true)
        let clip = source.appendingPathComponent("clip.mp4")
        try makeClip(clip, frames: 1)
        for name in ["bus.jpg", "zidane.jpg"] {
            try FileManager.default.copyItem(at: YOLOBinary.root.appendingPathComponent("datasets/images/\(name)"),
                                             to: source.appendingPathComponent(name))
        }
        let r = try detect(source, project: tmp.appendingPathComponent("runs"),
                           environment: ["PATH": tmp.appendingPathComponent("empty").path])
        XCTAssertEqual(r.status, 0, r.output)
        let skipped = lines(r.stdout, prefix: "video ")
        XCTAssertEqual(skipped.count, 1, r.stdout)
        XCTAssertTrue(skipped[0].hasPrefix("video 3/3 \(clip.path): skipped"), skipped[0])
        XCTAssertTrue(skipped[0].contains("apt-get install ffmpeg"), skipped[0])
        XCTAssertEqual(lines(r.stdout, prefix: "image ").count, 2, r.stdout)
        let exp = tmp.appendingPathComponent("runs/exp")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: exp.path).sorted(),
                       ["bus.jpg", "labels", "zidane.jpg"])
    }
}
