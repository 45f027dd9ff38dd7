import Foundation
import XCTest
import YOLO
import YOLOData
@testable import YOLOTraining

final class TmpAugStatsTests: XCTestCase {
    func testAugStats() throws {
        let root = URL(fileURLWithPath: "/work/main/datasets/raccoon/images/train")
        let index = try DatasetIndex.scan(images: [root], nc: 1, useCache: false, requireLabels: true)
        let hyp = AugmentationHyperparameters(try Hyperparameters.load("hyp.scratch-low"))
        let loader = try DataLoader(source: DatasetSource(index), imageSize: 320, batchSize: 16, augment: true,
                                    hyp: hyp, rect: false, stride: 32, pad: 0, workers: 2, seed: 0, shuffle: true)
        var n = 0, labels = 0, sw = 0.0, sh = 0.0, pix = 0.0, gray = 0.0, px = 0, sx = 0.0, sy = 0.0
        var hist = [Int](repeating: 0, count: 8)
        for epoch in 0..<3 {
            let it = loader.epoch(epoch)
            while let b = try it.nextBatch() {
                let img = b.images.scalars
                n += b.images.shape[0]
                for v in img { pix += Double(v); if abs(v - 114.0 / 255) < 1e-6 { gray += 1 } }
                px += img.count
                var per = [Int](repeating: 0, count: b.images.shape[0])
                for t in b.targets { labels += 1; sw += Double(t[4]); sh += Double(t[5]); sx += Double(t[2]); sy += Double(t[3]); per[Int(t[0])] += 1 }
                for c in per { hist[min(c, 7)] += 1 }
            }
        }
        print(String(format: "OURS samples %d labels/sample %.3f mean w %.4f h %.4f x %.4f y %.4f pixel %.4f gray %.4f", n, Double(labels) / Double(n), sw / Double(labels), sh / Double(labels), sx / Double(labels), sy / Double(labels), pix / Double(px), gray / Double(px)))
        print("OURS hist \(hist)")
    }
}
