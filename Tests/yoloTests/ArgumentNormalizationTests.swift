// train.py's optional-value flags: `--resume` alone is `--resume latest`, `--evolve` alone is
// `--evolve 300`; explicit values and other subcommands are left alone.
import XCTest
@testable import yolo

final class ArgumentNormalizationTests: XCTestCase {
    func testOptionalValueFlags() {
        let n = YOLOCommand.normalizedArguments
        XCTAssertEqual(n(["train", "--resume"]), ["train", "--resume", "latest"])
        XCTAssertEqual(n(["train", "--resume", "--epochs", "3"]), ["train", "--resume", "latest", "--epochs", "3"])
        XCTAssertEqual(n(["train", "--resume", "runs/train/exp/weights/last.safetensors"]),
                       ["train", "--resume", "runs/train/exp/weights/last.safetensors"])
        XCTAssertEqual(n(["train", "--evolve"]), ["train", "--evolve", "300"])
        XCTAssertEqual(n(["train", "--evolve", "--epochs", "10"]), ["train", "--evolve", "300", "--epochs", "10"])
        XCTAssertEqual(n(["train", "--evolve", "5"]), ["train", "--evolve", "5"])
        XCTAssertEqual(n(["val", "--resume"]), ["val", "--resume"])
    }
}
