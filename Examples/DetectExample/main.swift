// detect-example: the smallest program on the library API. It loads a detector from a weights
// file, detects objects in one image and prints one line per detection. It is not `yolo detect`:
// no folders, no drawing, no saving.
//
//     swift run detect-example runs/train/exp/weights/best.safetensors datasets/images/bus.jpg [conf]
import Foundation
import YOLOData
import YOLOTraining

let arguments = CommandLine.arguments
guard arguments.count == 3 || arguments.count == 4 else {
    FileHandle.standardError.write(Data("usage: detect-example <weights> <image> [confidence threshold, default 0.25]\n".utf8))
    exit(2)
}

do {
    // Any weights `yolo` reads: our .safetensors checkpoints or a YOLOv5 .pt.
    let detector = try Detector(weights: URL(fileURLWithPath: arguments[1]))
    if arguments.count == 4 {
        guard let conf = Double(arguments[3]), (0...1).contains(conf) else {
            FileHandle.standardError.write(Data("confidence threshold must be a number in 0...1, got \(arguments[3])\n".utf8))
            exit(2)
        }
        detector.confThreshold = conf
    }
    let (image, _) = try ImageCodec.decode(contentsOf: URL(fileURLWithPath: arguments[2]))
    let detections = detector.detect(image)  // best first, in the image's pixels
    print("\(arguments[2]): \(image.width)x\(image.height), \(detections.count) detections")
    for d in detections {
        let name = d.classIndex < detector.names.count ? detector.names[d.classIndex] : "class \(d.classIndex)"
        print("\(name) " + String(format: "%.3f [%.1f, %.1f, %.1f, %.1f]", d.confidence, d.x1, d.y1, d.x2, d.y2))
    }
} catch {
    FileHandle.standardError.write(Data("detect-example: \(error)\n".utf8))
    exit(1)
}
