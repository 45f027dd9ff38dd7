// The ffmpeg and ffprobe binaries that video decoding and encoding run as subprocesses: finding
// them on PATH, running one to completion, and the errors. Not the frame pipes (VideoReader,
// VideoWriter).
import Foundation

/// Errors of video input and output; each says what to do.
public enum VideoError: Error, Equatable, CustomStringConvertible {
    /// No `ffmpeg` or `ffprobe` executable on the search path.
    case ffmpegNotFound(missing: String)
    /// ffprobe could not read the file or found no video stream in it.
    case probeFailed(file: String, message: String)
    /// Decoding stopped before the end: ffmpeg failed or the last frame was cut short.
    case decodeFailed(file: String, frame: Int, message: String)
    /// The encoder exited or refused input.
    case encodeFailed(file: String, message: String)

    public var description: String {
        switch self {
        case let .ffmpegNotFound(missing):
            return "\(missing) not found on PATH; videos need ffmpeg (install it: apt-get install ffmpeg)"
        case let .probeFailed(file, message): return "ffprobe cannot read \(file): \(message)"
        case let .decodeFailed(file, frame, message): return "decoding \(file) failed at frame \(frame): \(message)"
        case let .encodeFailed(file, message): return "encoding \(file) failed: \(message)"
        }
    }
}

/// Where `ffmpeg` and `ffprobe` are, and which H.264 encoder they offer.
public struct FFmpeg: Sendable {
    public var ffmpeg: URL
    public var ffprobe: URL

    public init(ffmpeg: URL, ffprobe: URL) {
        self.ffmpeg = ffmpeg
        self.ffprobe = ffprobe
    }

    /// Both binaries from the first `searchPath` folder (colon-separated, as `PATH`) that has each.
    /// Throws `VideoError.ffmpegNotFound` naming the one missing.
    public static func locate(searchPath: String? = ProcessInfo.processInfo.environment["PATH"]) throws -> FFmpeg {
        let folders = (searchPath ?? "").split(separator: ":").map(String.init)
        func find(_ name: String) throws -> URL {
            for folder in folders {
                let url = URL(fileURLWithPath: folder).appendingPathComponent(name)
                if FileManager.default.isExecutableFile(atPath: url.path) { return url }
            }
            throw VideoError.ffmpegNotFound(missing: name)
        }
        return try FFmpeg(ffmpeg: find("ffmpeg"), ffprobe: find("ffprobe"))
    }

    /// `libx264` when this ffmpeg was built with it, else the always-present `mpeg4`.
    public func h264OrMPEG4Encoder() -> String {
        let listing = (try? Self.run(ffmpeg, ["-hide_banner", "-encoders"]))?.stdout ?? ""
        let hasX264 = listing.split(separator: "\n").contains { $0.split(separator: " ").dropFirst().first == "libx264" }
        return hasX264 ? "libx264" : "mpeg4"
    }

    /// Runs `executable` to completion; stdout and stderr as text and the exit status.
    static func run(_ executable: URL, _ arguments: [String]) throws -> (stdout: String, stderr: String, status: Int32) {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        let err = try TemporaryLog()
        let out = Pipe()
        process.standardOutput = out
        process.standardError = err.handle
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (String(decoding: data, as: UTF8.self), err.text(), process.terminationStatus)
    }
}

/// A temporary file taking a subprocess's stderr, so a chatty process never blocks on a full pipe;
/// removed when released.
final class TemporaryLog {
    let url: URL
    let handle: FileHandle

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("yolo-ffmpeg-\(UUID().uuidString).log")
        FileManager.default.createFile(atPath: url.path, contents: nil)
        handle = try FileHandle(forWritingTo: url)
    }

    /// The last non-empty line written so far (ffmpeg puts the reason last), or "" if none.
    func lastLine() -> String {
        text().split(whereSeparator: \.isNewline).last.map(String.init) ?? ""
    }

    func text() -> String {
        (try? String(contentsOf: url, encoding: .utf8)) ?? ""
    }

    deinit {
        try? handle.close()
        try? FileManager.default.removeItem(at: url)
    }
}
