// Video files in and out through ffmpeg: which sources are videos, ffprobe answers parsed, frames
// written then read back (size, rate, count, colours), a decoder dying mid-video, and the message
// without ffmpeg. Needs ffmpeg and ffprobe on PATH (scripts/install-system-deps.sh installs them).
import Foundation
import XCTest
@testable import YOLOData

final class VideoIOTests: XCTestCase {
    /// Frame k is a solid colour, different per frame, so frames read back can be told apart.
    func solidFrame(_ k: Int, width: Int, height: Int) -> Image {
        let rgb: [UInt8] = [UInt8(40 * k % 256), UInt8(255 - 30 * k), 128]
        return Image(width: width, height: height, pixels: (0..<(width * height)).flatMap { _ in rgb })
    }

    func meanColour(_ image: Image) -> [Double] {
        (0..<3).map { c in
            stride(from: c, to: image.pixels.count, by: 3).reduce(0.0) { $0 + Double(image.pixels[$1]) }
                / Double(image.width * image.height)
        }
    }

    func writeVideo(_ url: URL, frames: Int, width: Int, height: Int, encoder: String? = nil) throws {
        let writer = try VideoWriter(url: url, width: width, height: height, frameRate: "5/1",
                                     ffmpeg: try FFmpeg.locate(), encoder: encoder)
        for k in 0..<frames { try writer.write(solidFrame(k, width: width, height: height)) }
        try writer.finish()
        XCTAssertEqual(writer.framesWritten, frames)
    }

    func testVideoSourcesAreFoundBesideImages() throws {
        let dir = try temporaryFolder(self)
        for name in ["b.jpg", "a.MP4", "c.webm", "notes.txt", "d.png", "e.mkv"] {
            FileManager.default.createFile(atPath: dir.appendingPathComponent(name).path, contents: Data())
        }
        let files = try MediaFiles(source: dir.path)
        XCTAssertEqual(files.images.map(\.lastPathComponent), ["b.jpg", "d.png"])
        XCTAssertEqual(files.videos.map(\.lastPathComponent), ["a.MP4", "c.webm", "e.mkv"])
        XCTAssertEqual(try MediaFiles(source: dir.path + "/*.webm").videos.map(\.lastPathComponent), ["c.webm"])
        XCTAssertEqual(try MediaFiles(source: dir.appendingPathComponent("a.MP4").path).videos.count, 1)
        XCTAssertEqual(MediaFiles.videoExtensions.count, 12)
        XCTAssertFalse(MediaFiles.isVideo("/data/clips.mp4/frame.jpg"))
        XCTAssertThrowsError(try MediaFiles(source: dir.appendingPathComponent("missing.mp4").path))
    }

    func testProbeAnswersParsed() throws {
        // A phone video: rotated a quarter turn, so frames decode 1080 wide; the count from nb_frames.
        let rotated = #"{"streams":[{"width":1920,"height":1080,"r_frame_rate":"30/1","avg_frame_rate":"30000/1001","#
            + #""nb_frames":"299","side_data_list":[{"rotation":-90}]}],"format":{"duration":"9.97"}}"#
        XCTAssertEqual(try VideoInfo.parse(json: Data(rotated.utf8), file: "p.mp4"),
                       VideoInfo(width: 1080, height: 1920, frameRate: "30000/1001", frameCount: 299))
        // WebM: no nb_frames, so duration × rate; avg_frame_rate 0/0 falls back to r_frame_rate.
        let webm = #"{"streams":[{"width":320,"height":240,"r_frame_rate":"5/1","avg_frame_rate":"0/0"}],"#
            + #""format":{"duration":"2.000000"}}"#
        let info = try VideoInfo.parse(json: Data(webm.utf8), file: "w.webm")
        XCTAssertEqual(info, VideoInfo(width: 320, height: 240, frameRate: "5/1", frameCount: 10))
        XCTAssertEqual(info.fps, 5)
        XCTAssertThrowsError(try VideoInfo.parse(json: Data(#"{"streams":[]}"#.utf8), file: "a.mp3")) {
            XCTAssertEqual($0 as? VideoError, .probeFailed(file: "a.mp3", message: "no video stream"))
        }
    }

    func testWrittenFramesReadBack() throws {
        let dir = try temporaryFolder(self)
        for encoder in [nil, "mpeg4"] {
            let url = dir.appendingPathComponent("clip-\(encoder ?? "default").mp4")
            try writeVideo(url, frames: 6, width: 64, height: 48, encoder: encoder)
            let reader = try VideoReader(url: url, ffmpeg: try FFmpeg.locate())
            XCTAssertEqual(reader.info, VideoInfo(width: 64, height: 48, frameRate: "5/1", frameCount: 6))
            var k = 0
            while let frame = try reader.next() {
                XCTAssertEqual([frame.width, frame.height], [64, 48])
                let want = meanColour(solidFrame(k, width: 1, height: 1))
                for (got, w) in zip(meanColour(frame), want) {
                    XCTAssertEqual(got, w, accuracy: 8, "\(encoder ?? "default") frame \(k)")
                }
                k += 1
            }
            XCTAssertEqual(k, 6)
            XCTAssertEqual(reader.framesRead, 6)
            XCTAssertNil(try reader.next(), "stays at the end")
        }
    }

    /// yuv420p needs even sizes: an odd frame gets a padding column and row in the file.
    func testOddFrameSizeIsPaddedToEven() throws {
        let url = try temporaryFolder(self).appendingPathComponent("odd.mp4")
        try writeVideo(url, frames: 2, width: 63, height: 47)
        let info = try VideoInfo.probe(url, ffmpeg: try FFmpeg.locate())
        XCTAssertEqual([info.width, info.height, info.frameCount], [64, 48, 2])
    }

    /// A decoder that dies after a frame and a half: one frame, then an error naming frame 2.
    func testDecoderFailureMidVideoEndsWithError() throws {
        let dir = try temporaryFolder(self)
        let url = dir.appendingPathComponent("clip.mp4")
        try writeVideo(url, frames: 4, width: 32, height: 32)
        let real = try FFmpeg.locate()
        let script = dir.appendingPathComponent("ffmpeg")
        try """
            #!/bin/sh
            '\(real.ffmpeg.path)' "$@" | /usr/bin/head -c \(32 * 32 * 3 * 3 / 2)
            echo 'simulated decoder failure' >&2
            exit 1
            """.write(to: script, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: script.path)
        let reader = try VideoReader(url: url, ffmpeg: FFmpeg(ffmpeg: script, ffprobe: real.ffprobe))
        XCTAssertNotNil(try reader.next())
        XCTAssertThrowsError(try reader.next()) {
            XCTAssertEqual($0 as? VideoError,
                           .decodeFailed(file: url.path, frame: 2, message: "simulated decoder failure"))
        }
    }

    func testUnreadableFileNamesIt() throws {
        let url = try temporaryFolder(self).appendingPathComponent("text.mp4")
        try "not a video".write(to: url, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try VideoReader(url: url, ffmpeg: try FFmpeg.locate())) {
            guard case let .probeFailed(file, _)? = $0 as? VideoError else { return XCTFail("\($0)") }
            XCTAssertEqual(file, url.path)
        }
    }

    func testWithoutFFmpegTheErrorSaysHowToInstall() throws {
        let empty = try temporaryFolder(self)
        XCTAssertThrowsError(try FFmpeg.locate(searchPath: empty.path)) {
            XCTAssertEqual($0 as? VideoError, .ffmpegNotFound(missing: "ffmpeg"))
            XCTAssertTrue("\($0)".contains("apt-get install ffmpeg"), "\($0)")
        }
        XCTAssertThrowsError(try FFmpeg.locate(searchPath: nil))
    }
}
