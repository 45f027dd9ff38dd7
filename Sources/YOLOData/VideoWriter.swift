// `Image` frames into a video file: raw rgb24 piped into an ffmpeg subprocess that encodes H.264
// (libx264, or MPEG-4 part 2 where ffmpeg lacks it) as yuv420p. The cv2.VideoWriter of detect.py.
import Foundation

/// Encodes frames of one size into a video file through an `ffmpeg` subprocess.
///
/// ```swift
/// let writer = try VideoWriter(url: out, width: 640, height: 480, frameRate: "30/1", ffmpeg: ffmpeg)
/// try writer.write(frame)   // each frame width x height
/// try writer.finish()       // waits for the file to be complete
/// ```
public final class VideoWriter {
    public let url: URL
    public let width: Int
    public let height: Int
    /// Frames written so far.
    public private(set) var framesWritten = 0
    private let process = Process()
    private let input: FileHandle
    private let log: TemporaryLog
    private var finished = false

    /// Starts the encoder, replacing any file at `url`. `encoder` defaults to
    /// `ffmpeg.h264OrMPEG4Encoder()`. yuv420p needs even sizes: an odd width or height gets one
    /// padding column or row in the file.
    public init(url: URL, width: Int, height: Int, frameRate: String, ffmpeg: FFmpeg, encoder: String? = nil) throws {
        precondition(width > 0 && height > 0, "frame size \(width)x\(height)")
        self.url = url
        self.width = width
        self.height = height
        // A dead encoder must surface as a write error, not kill this process.
        signal(SIGPIPE, SIG_IGN)
        log = try TemporaryLog()
        let pipe = Pipe()
        input = pipe.fileHandleForWriting
        let codec = encoder ?? ffmpeg.h264OrMPEG4Encoder()
        var arguments = ["-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", "\(width)x\(height)",
                         "-r", frameRate, "-i", "-", "-an"]
        if width % 2 == 1 || height % 2 == 1 { arguments += ["-vf", "pad=ceil(iw/2)*2:ceil(ih/2)*2"] }
        arguments += ["-c:v", codec, "-pix_fmt", "yuv420p"]
        if codec == "mpeg4" { arguments += ["-q:v", "3"] }  // its default bitrate (200 kb/s) smears boxes
        process.executableURL = ffmpeg.ffmpeg
        process.arguments = arguments + [url.path]
        process.standardInput = pipe
        process.standardOutput = FileHandle.nullDevice
        process.standardError = log.handle
        try process.run()
    }

    /// Appends one frame. Throws `VideoError.encodeFailed` when the encoder has gone.
    public func write(_ frame: Image) throws {
        precondition(frame.width == width && frame.height == height,
                     "frame \(frame.width)x\(frame.height) in a \(width)x\(height) video")
        do {
            try frame.pixels.withUnsafeBytes { try input.write(contentsOf: Data($0)) }
        } catch {
            try? finish()
            throw VideoError.encodeFailed(file: url.path, message: failureReason(or: "\(error)"))
        }
        framesWritten += 1
    }

    /// Ends the stream and waits for ffmpeg to finish the file. Throws `VideoError.encodeFailed`
    /// when ffmpeg fails. Calling it again does nothing.
    public func finish() throws {
        guard !finished else { return }
        finished = true
        try? input.close()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw VideoError.encodeFailed(file: url.path,
                                          message: failureReason(or: "ffmpeg exited with status \(process.terminationStatus)"))
        }
    }

    private func failureReason(or fallback: String) -> String {
        let line = log.lastLine()
        return line.isEmpty ? fallback : line
    }

    deinit {
        if !finished, process.processIdentifier != 0 { try? finish() }
    }
}
