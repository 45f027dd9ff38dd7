// Video frames as `Image`s: ffprobe for size, rate and length, then ffmpeg decoding to raw rgb24
// on a pipe, one frame per `next()`. The cv2.VideoCapture of YOLOv5's LoadImages, without OpenCV.
// Not seeking, not frame strides, not streams or webcams.
import Foundation

/// What ffprobe reports about a file's first video stream.
public struct VideoInfo: Sendable, Equatable {
    /// Frame size as decoded: after the display rotation, which ffmpeg applies by default.
    public var width: Int
    public var height: Int
    /// Frames per second as ffprobe's rational text ("30000/1001"), handed to the encoder unchanged.
    public var frameRate: String
    /// From the container when it says (`nb_frames`), else duration × rate; 0 when neither is known.
    /// An estimate, like OpenCV's CAP_PROP_FRAME_COUNT that detect.py prints.
    public var frameCount: Int

    public init(width: Int, height: Int, frameRate: String, frameCount: Int) {
        self.width = width
        self.height = height
        self.frameRate = frameRate
        self.frameCount = frameCount
    }

    /// `frameRate` as a number (0 when it is not a positive rational).
    public var fps: Double {
        let parts = frameRate.split(separator: "/").compactMap { Double($0) }
        guard let num = parts.first, num > 0 else { return 0 }
        let den = parts.count > 1 ? parts[1] : 1
        return den > 0 ? num / den : 0
    }

    /// Runs ffprobe on `url`. Throws `VideoError.probeFailed` when it cannot.
    public static func probe(_ url: URL, ffmpeg: FFmpeg) throws -> VideoInfo {
        let r = try FFmpeg.run(ffmpeg.ffprobe, [
            "-v", "error", "-select_streams", "v:0", "-of", "json", "-show_entries",
            "stream=width,height,r_frame_rate,avg_frame_rate,nb_frames,duration:stream_side_data=rotation:"
                + "stream_tags=rotate:format=duration", url.path,
        ])
        guard r.status == 0 else {
            let reason = r.stderr.split(whereSeparator: \.isNewline).last.map(String.init)
            throw VideoError.probeFailed(file: url.path, message: reason ?? "ffprobe exited with status \(r.status)")
        }
        return try parse(json: Data(r.stdout.utf8), file: url.path)
    }

    /// Reads ffprobe's `-of json` answer.
    public static func parse(json: Data, file: String) throws -> VideoInfo {
        struct Probe: Decodable {
            struct SideData: Decodable { var rotation: Double? }
            struct Stream: Decodable {
                var width: Int?, height: Int?
                var r_frame_rate: String?, avg_frame_rate: String?, nb_frames: String?, duration: String?
                var tags: [String: String]?
                var side_data_list: [SideData]?
            }
            struct Format: Decodable { var duration: String? }
            var streams: [Stream]?
            var format: Format?
        }
        let probe: Probe
        do { probe = try JSONDecoder().decode(Probe.self, from: json) } catch {
            throw VideoError.probeFailed(file: file, message: "unreadable ffprobe output (\(error))")
        }
        guard let s = probe.streams?.first, let w = s.width, let h = s.height, w > 0, h > 0 else {
            throw VideoError.probeFailed(file: file, message: "no video stream")
        }
        // Variable-rate files (GIF) give a tick rate in r_frame_rate; the average is the real rate.
        let rates = [s.avg_frame_rate, s.r_frame_rate].compactMap { $0 }
        let rate = rates.first { VideoInfo(width: 1, height: 1, frameRate: $0, frameCount: 0).fps > 0 } ?? "25/1"
        let rotation = s.side_data_list?.compactMap(\.rotation).first ?? s.tags?["rotate"].flatMap(Double.init) ?? 0
        let quarterTurn = Int(rotation.rounded()) %% 180 == 90
        var info = VideoInfo(width: quarterTurn ? h : w, height: quarterTurn ? w : h, frameRate: rate, frameCount: 0)
        if let n = s.nb_frames.flatMap(Int.init), n > 0 {
            info.frameCount = n
        } else if let d = (s.duration ?? probe.format?.duration).flatMap(Double.init) {
            info.frameCount = Int((d * info.fps).rounded())
        }
        return info
    }
}

/// Decodes a video file frame by frame through an `ffmpeg` subprocess.
///
/// ```swift
/// let reader = try VideoReader(url: url, ffmpeg: try FFmpeg.locate())
/// while let frame = try reader.next() { ... }   // frames 1...reader.framesRead
/// ```
public final class VideoReader {
    public let url: URL
    public let info: VideoInfo
    /// Frames returned by `next()` so far.
    public private(set) var framesRead = 0
    private let process = Process()
    private let output: FileHandle
    private let log: TemporaryLog

    /// Probes the file and starts the decoder. Throws `VideoError.probeFailed` for a file ffprobe
    /// cannot read.
    public init(url: URL, ffmpeg: FFmpeg) throws {
        self.url = url
        info = try VideoInfo.probe(url, ffmpeg: ffmpeg)
        log = try TemporaryLog()
        let pipe = Pipe()
        output = pipe.fileHandleForReading
        process.executableURL = ffmpeg.ffmpeg
        // Every decoded frame once (no duplicating or dropping to a constant rate), first video stream.
        process.arguments = ["-nostdin", "-v", "error", "-i", url.path, "-map", "0:v:0", "-an", "-sn",
                             "-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = pipe
        process.standardError = log.handle
        try process.run()
    }

    /// The next frame, or nil after the last one. Throws `VideoError.decodeFailed` when ffmpeg
    /// fails or the stream ends inside a frame; the reader is finished after that.
    public func next() throws -> Image? {
        let frameBytes = info.width * info.height * 3
        var data = Data()
        data.reserveCapacity(frameBytes)
        while data.count < frameBytes {
            guard let chunk = try output.read(upToCount: frameBytes - data.count), !chunk.isEmpty else { break }
            data.append(chunk)
        }
        if data.count == frameBytes {
            framesRead += 1
            return Image(width: info.width, height: info.height, pixels: [UInt8](data))
        }
        process.waitUntilExit()
        if process.terminationStatus != 0 {
            let reason = log.lastLine()
            throw VideoError.decodeFailed(file: url.path, frame: framesRead + 1,
                                          message: reason.isEmpty ? "ffmpeg exited with status \(process.terminationStatus)" : reason)
        }
        if !data.isEmpty {
            throw VideoError.decodeFailed(file: url.path, frame: framesRead + 1,
                                          message: "the stream ended inside a frame (\(data.count) of \(frameBytes) bytes)")
        }
        return nil
    }

    /// Stops the decoder if it is still running, to end a video early; done on release too.
    public func close() {
        guard process.processIdentifier != 0 else { return }  // never started
        if process.isRunning { process.terminate() }
        try? output.close()
        process.waitUntilExit()
    }

    deinit { close() }
}
