// `yolo train`, `yolo val` and `yolo detect` end to end on the bundled coco8 at 64 px: the run
// folder YOLOv5 leaves, results.csv, the TensorBoard file, val's table and metrics.json, detect's
// annotated images and labels; and the failures a user meets first (missing data, bad files).
import Foundation
import XCTest
import YOLOTraining

final class TrainEndToEndTests: XCTestCase {
    /// The learning rate after warmup runs one schedule step behind, as train.py's LambdaLR does
    /// (`scheduler.last_epoch = start_epoch - 1`). coco8's 4 images at batch 1 make 4 batches per
    /// epoch; warmup lasts max(3·4, 100) = 100 iterations, so epoch 25's first batch (ni = 100) is
    /// the last warmup step (it sets 0.01·lf(25)) and epoch 26 trains at what the scheduler set
    /// after epoch 25: lf(25), not lf(26). Default cosine one-cycle over 27 epochs, lrf 0.01:
    /// lf(25) = (1 − cos(25π/27))/2 · (0.01 − 1) + 1 = 0.0233428 (lr 0.000233428), whereas
    /// lf(26) = 0.0133470 (lr 0.000133470).
    func testLearningRateAfterWarmupTrailsTheScheduleByOneEpoch() throws {
        let tmp = try temporaryFolder(self)
        var args = YOLOBinary.tinyTrain(project: tmp.path, epochs: 27)
        args[args.firstIndex(of: "--batch-size")! + 1] = "1"
        let run = try runYOLO(args + ["--noval", "--nosave"])
        XCTAssertEqual(run.status, 0, run.output)
        let table = try ResultsCSV.read(tmp.appendingPathComponent("exp/results.csv"))
        let lr1 = try XCTUnwrap(table.column("x/lr1"))
        XCTAssertEqual(lr1.count, 27)
        XCTAssertEqual(lr1[25], 0.000233428, accuracy: 1e-8)
        XCTAssertEqual(lr1[26], 0.000233428, accuracy: 1e-8)
    }

    func testTrainThenValThenDetect() throws {
        let tmp = try temporaryFolder(self)
        let project = tmp.appendingPathComponent("runs/train").path
        let train = try runYOLO(YOLOBinary.tinyTrain(project: project, epochs: 1))
        XCTAssertEqual(train.status, 0, train.output)
        let exp = tmp.appendingPathComponent("runs/train/exp")
        for file in ["weights/last.safetensors", "weights/best.safetensors", "hyp.yaml", "opt.yaml", "results.csv",
                     "labels.jpg", "train_batch0.jpg", "results.png", "val_batch0_labels.jpg", "val_batch0_pred.jpg",
                     "confusion_matrix.png"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: exp.appendingPathComponent(file).path), file)
        }

        // results.csv: YOLOv5 7.0's header, one row per epoch.
        let csv = try String(contentsOf: exp.appendingPathComponent("results.csv"), encoding: .utf8)
        let lines = csv.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.first, ResultsCSV.header())
        XCTAssertTrue(lines[0].hasPrefix("               epoch,      train/box_loss,"), lines[0])
        XCTAssertEqual(lines.count, 2, csv)
        let table = try ResultsCSV.read(exp.appendingPathComponent("results.csv"))
        XCTAssertEqual(table.rows.map { $0[0] }, [0])
        // The learning rates of the epoch's last batch, before the scheduler steps (as train.py logs
        // them): coco8's 4 images in batches of 2 make 2 batches, warmup lasts max(3·2, 100) = 100
        // iterations, so at the last batch (ni = 1) hyp.scratch-low's bias group is
        // interp(1, [0, 100], [warmup_bias_lr 0.1, lr0 0.01·lf(0) = 0.01]) = 0.0991 and the two
        // weight groups interp(1, [0, 100], [0, 0.01]) = 0.0001.
        XCTAssertEqual(table.column("x/lr0")?.first ?? 0, 0.0991, accuracy: 1e-6)
        XCTAssertEqual(table.column("x/lr1")?.first ?? 0, 0.0001, accuracy: 1e-8)
        XCTAssertEqual(table.column("x/lr2")?.first ?? 0, 0.0001, accuracy: 1e-8)

        // The TensorBoard file: framed records with valid CRCs, the loss and metric tags at step 0.
        let events = try FileManager.default.contentsOfDirectory(atPath: exp.path).filter {
            $0.hasPrefix("events.out.tfevents.")
        }
        XCTAssertEqual(events.count, 1, "\(events)")
        let reader = try EventFileReader(contentsOf: exp.appendingPathComponent(events[0]))
        XCTAssertFalse(try reader.records().isEmpty)
        let scalars = try reader.events().flatMap { e in e.scalars.map { (e.step, $0.tag) } }
        for tag in ["train/box_loss", "train/obj_loss", "train/cls_loss", "metrics/mAP_0.5", "val/box_loss", "x/lr0"] {
            XCTAssertTrue(scalars.contains { $0.0 == 0 && $0.1 == tag }, tag)
        }

        // yolo val on the best weights.
        let best = exp.appendingPathComponent("weights/best.safetensors").path
        let valProject = tmp.appendingPathComponent("runs/val").path
        let val = try runYOLO(["val", "--weights", best, "--data", YOLOBinary.coco8, "--img", "64",
                               "--project", valProject, "--workers", "1"])
        XCTAssertEqual(val.status, 0, val.output)
        let header = val.stdout.split(separator: "\n").first { $0.contains("Class") }.map(String.init) ?? ""
        XCTAssertEqual(header.split(separator: " ", omittingEmptySubsequences: true),
                       ["Class", "Images", "Labels", "P", "R", "mAP@.5", "mAP@.5:.95"], val.stdout)
        XCTAssertTrue(val.stdout.split(separator: "\n").contains { $0.split(separator: " ").first == "all" }, val.stdout)
        let metrics = try JSONSerialization.jsonObject(
            with: Data(contentsOf: tmp.appendingPathComponent("runs/val/exp/metrics.json"))) as? [String: Any]
        XCTAssertEqual(metrics?["images"] as? Int, 4)
        XCTAssertNotNil(metrics?["map50"] as? Double)

        // yolo detect with --save-txt: an annotated image and a label file per image, a line each.
        let detectProject = tmp.appendingPathComponent("runs/detect").path
        let detect = try runYOLO(["detect", "--weights", best, "--source",
                                  YOLOBinary.root.appendingPathComponent("datasets/images").path,
                                  "--img", "64", "--save-txt", "--project", detectProject])
        XCTAssertEqual(detect.status, 0, detect.output)
        let out = tmp.appendingPathComponent("runs/detect/exp")
        for stem in ["bus", "zidane"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent("\(stem).jpg").path), stem)
            XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent("labels/\(stem).txt").path), stem)
            XCTAssertTrue(detect.stdout.split(separator: "\n").contains {
                $0.hasPrefix("image ") && $0.contains("\(stem).jpg")
            }, detect.stdout)
        }
    }

    func testMissingDataFileFailsNamingIt() throws {
        let tmp = try temporaryFolder(self)
        let data = tmp.appendingPathComponent("no-such-data.yaml").path
        let r = try runYOLO(YOLOBinary.tinyTrain(project: tmp.path, epochs: 1, data: data))
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains(data), r.output)
    }

    /// `--img 32` (a 1x1 map at stride 32) is refused before training, as train.py's
    /// check_img_size(floor=2·gs) does, instead of failing in BatchNorm at the first batch of 1.
    func testImageSizeBelowTwiceTheStrideIsRefused() throws {
        let tmp = try temporaryFolder(self)
        var args = YOLOBinary.tinyTrain(project: tmp.path, epochs: 1)
        args[args.firstIndex(of: "--img")! + 1] = "32"
        let r = try runYOLO(args)
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("--img-size 32 is below 64"), r.output)
        XCTAssertFalse(r.output.contains("crashed"), r.output)
    }

    /// A zero-byte image and a label with class ≥ nc are reported by name and skipped; training goes on.
    func testCorruptFilesAreNamedAndSkipped() throws {
        let tmp = try temporaryFolder(self)
        let fm = FileManager.default
        let dataset = tmp.appendingPathComponent("coco8")
        try fm.copyItem(at: YOLOBinary.root.appendingPathComponent("datasets/coco8"), to: dataset)
        let images = dataset.appendingPathComponent("images/train"), labels = dataset.appendingPathComponent("labels/train")
        let labelRoot = dataset.appendingPathComponent("labels")
        for name in try fm.contentsOfDirectory(atPath: labelRoot.path) where name.hasSuffix(".cache") {
            try fm.removeItem(at: labelRoot.appendingPathComponent(name))
        }
        fm.createFile(atPath: images.appendingPathComponent("empty.jpg").path, contents: Data())
        try "0 0.5 0.5 0.2 0.2\n".write(to: labels.appendingPathComponent("empty.txt"), atomically: true, encoding: .utf8)
        let first = try fm.contentsOfDirectory(atPath: images.path).filter { $0.hasSuffix(".jpg") && $0 != "empty.jpg" }
            .sorted()[0]
        try fm.copyItem(at: images.appendingPathComponent(first), to: images.appendingPathComponent("badclass.jpg"))
        try "80 0.5 0.5 0.2 0.2\n".write(to: labels.appendingPathComponent("badclass.txt"), atomically: true, encoding: .utf8)

        let r = try runYOLO(YOLOBinary.tinyTrain(project: tmp.appendingPathComponent("runs").path, epochs: 1,
                                                 data: dataset.appendingPathComponent("coco8.yaml").path))
        XCTAssertEqual(r.status, 0, r.output)
        XCTAssertTrue(r.output.contains("empty.jpg"), r.output)
        XCTAssertTrue(r.output.contains("badclass.jpg"), r.output)
        XCTAssertTrue(fm.fileExists(atPath: tmp.appendingPathComponent("runs/exp/weights/last.safetensors").path))
        let csv = try ResultsCSV.read(tmp.appendingPathComponent("runs/exp/results.csv"))
        XCTAssertEqual(csv.rows.count, 1)
    }
}
