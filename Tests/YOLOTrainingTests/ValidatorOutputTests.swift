// The validator's pieces behind --save-hybrid and the native-space boxes of --save-txt and
// --save-json: the hybrid label rows and the rescaling gain, hand-worked.
import Foundation
import TensorCore
import XCTest
import YOLO
@testable import YOLOData
@testable import YOLOTraining

final class ValidatorOutputTests: XCTestCase {
    /// val.py: `targets[:, 2:] *= (width, height, width, height)`, then NMS's xywh2xyxy.
    func testHybridLabelsArePixelBoxesPerImage() {
        // Two 96×64 (H×W) images; one label on image 1: centre (0.5·64, 0.25·96) = (32, 24),
        // size (0.5·64, 0.25·96) = (32, 24) → corners (16, 12)–(48, 36).
        let images = Tensor(shape: [2, 96, 64, 3], scalars: [Float](repeating: 0, count: 2 * 96 * 64 * 3))
        let batch = Batch(images: images, targets: [[1, 3, 0.5, 0.25, 0.5, 0.25]], indices: [0, 1],
                          paths: ["a.jpg", "b.jpg"], shapes: [nil, nil])
        let labels = Validator.hybridLabels(batch)
        XCTAssertEqual(labels.count, 2)
        XCTAssertEqual(labels[0], [])
        XCTAssertEqual(labels[1], [Detection(x1: 16, y1: 12, x2: 48, y2: 36, confidence: 1, classIndex: 3)])
    }

    /// `scale_boxes(..., ratio_pad=shapes[si][1])` divides both axes by `ratio_pad[0][0]` = h / h0.
    /// 481×640 (W×H) at 64 px: resized to ceil(48.1)×64 = 49×64, ratios (64/640, 49/481).
    func testRescalingUsesTheHeightRatioAsUpstream() {
        let shape = SampleShape(originalHeight: 640, originalWidth: 481, ratio: (64.0 / 640, 49.0 / 481),
                                padding: (23.5, 16))
        let rp = Validator.ratioPad(shape)
        XCTAssertEqual(rp.gain, 0.1)
        XCTAssertEqual(rp.pad.x, 23.5)
        XCTAssertEqual(rp.pad.y, 16)
        // A box at x 33.5…43.5, y 26…36 on the 96×96 batch image → (33.5 − 23.5)/0.1 = 100 …
        let native = scaleBoxes([Detection(x1: 33.5, y1: 26, x2: 43.5, y2: 36, confidence: 0.5, classIndex: 0)],
                                from: (96, 96), to: (640, 481), ratioPad: rp)[0]
        XCTAssertEqual(native.x1, 100, accuracy: 1e-4)
        XCTAssertEqual(native.x2, 200, accuracy: 1e-4)
        XCTAssertEqual(native.y1, 100, accuracy: 1e-4)
        XCTAssertEqual(native.y2, 200, accuracy: 1e-4)
    }
}
