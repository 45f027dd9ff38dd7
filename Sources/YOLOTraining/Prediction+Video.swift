// `yolo detect` on one video file: every frame through the image path (PredictionStep), a line
// per frame, labels per frame, and the annotated frames encoded to <run>/<stem>.mp4, as detect.py
// does with LoadImages and cv2.VideoWriter. Not streams, webcams or --vid-stride.
import Foundation
import YOLOData

/// Detects on every frame of the video at `url`. Logs detect.py's `video 2/3 (4/30) path: ...`
/// (`number` is the "2/3" part), writes labels/<stem>_<frame>.txt with --save-txt, and unless
/// --nosave encodes the annotated frames into <run>/<stem>.mp4 at the source's size and rate.
/// A file ffprobe cannot read, a decode failure or an encoder failure costs one line and ends
/// this video only; the frames written so far are kept.
func runVideoPrediction(_ url: URL, number: String, step: PredictionStep, ffmpeg: FFmpeg,
                        log: (String) -> Void) throws {
    let reader: VideoReader
    do { reader = try VideoReader(url: url, ffmpeg: ffmpeg) } catch {
        log("video \(number) \(url.path): skipped, \(error)")
        return
    }
    defer { reader.close() }
    let stem = url.deletingPathExtension().lastPathComponent
    let output = step.dir.appendingPathComponent(stem + ".mp4")
    var writer: VideoWriter?
    do {
        if !step.options.nosave {
            writer = try VideoWriter(url: output, width: reader.info.width, height: reader.info.height,
                                     frameRate: reader.info.frameRate, ffmpeg: ffmpeg)
        }
        while let frame = try reader.next() {
            let f = reader.framesRead
            let prefix = "video \(number) (\(f)/\(reader.info.frameCount)) \(url.path): "
            if let annotated = try step.run(frame, prefix: prefix, stem: "\(stem)_\(f)", log: log) {
                try writer?.write(annotated)
            }
        }
        try writer?.finish()
    } catch let error as VideoError {
        reader.close()
        do { try writer?.finish() } catch { log("video \(number) \(url.path): \(error)") }
        log("video \(number) \(url.path): stopped after \(reader.framesRead) frames, \(error)")
    }
}
