// Dataset YAML variants: folders, .txt lists, lists, names maps, missing path, nc mismatch.
import Foundation
import XCTest
@testable import YOLOData

/// A fresh temporary folder removed when the test ends.
func temporaryFolder(_ test: XCTestCase) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("yolodata-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(at: url) }
    return url
}

func write(_ text: String, to url: URL) throws {
    try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    try text.write(to: url, atomically: true, encoding: .utf8)
}

final class DatasetConfigTests: XCTestCase {
    func testBundledCoco128() throws {
        let config = try DatasetConfig.load(repositoryRoot.appendingPathComponent("datasets/coco128/coco128.yaml"))
        XCTAssertEqual(config.nc, 80)
        XCTAssertEqual(config.names[0], "person")
        XCTAssertEqual(config.names[79], "toothbrush")
        let train = repositoryRoot.appendingPathComponent("datasets/coco128/images/train2017").standardizedFileURL
        XCTAssertEqual(config.train, [train])
        XCTAssertEqual(config.val, [train])
        XCTAssertEqual(config.test, [])
    }

    func testRelativePathIsResolvedAgainstTheYAMLFolder() throws {
        let dir = try temporaryFolder(self)
        try write("path: ../data\ntrain: images/train\nval: [images/val, images/val2]\nnames: [a, b]\n",
                  to: dir.appendingPathComponent("cfg/d.yaml"))
        let config = try DatasetConfig.load(dir.appendingPathComponent("cfg/d.yaml"))
        let root = dir.appendingPathComponent("data").standardizedFileURL
        XCTAssertEqual(config.root, root)
        XCTAssertEqual(config.train, [root.appendingPathComponent("images/train")])
        XCTAssertEqual(config.val, [root.appendingPathComponent("images/val"), root.appendingPathComponent("images/val2")])
        XCTAssertEqual(config.names, ["a", "b"])
    }

    func testAbsolutePathAndNamesMapWithoutNc() throws {
        let dir = try temporaryFolder(self)
        try write("path: \(dir.path)/ds\ntrain: train.txt\nval: /abs/val\ntest:\nnames:\n  1: dog\n  0: cat\n",
                  to: dir.appendingPathComponent("d.yaml"))
        let config = try DatasetConfig.load(dir.appendingPathComponent("d.yaml"))
        XCTAssertEqual(config.names, ["cat", "dog"])
        XCTAssertEqual(config.nc, 2)
        XCTAssertEqual(config.train, [dir.appendingPathComponent("ds/train.txt").standardizedFileURL])
        XCTAssertEqual(config.val, [URL(fileURLWithPath: "/abs/val")])
        XCTAssertEqual(config.test, [])
    }

    func testDotDotFallbackAsUpstream() throws {
        let dir = try temporaryFolder(self)
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("images/train"), withIntermediateDirectories: true)
        try write("train: ../images/train\nval: ../images/train\nnames: [a]\n", to: dir.appendingPathComponent("d.yaml"))
        let config = try DatasetConfig.load(dir.appendingPathComponent("d.yaml"))
        XCTAssertEqual(config.train, [dir.appendingPathComponent("images/train").standardizedFileURL])
    }

    func testNcMismatchAndMissingFields() throws {
        let dir = try temporaryFolder(self)
        let url = dir.appendingPathComponent("d.yaml")
        try write("train: a\nval: b\nnc: 3\nnames: [x, y]\n", to: url)
        XCTAssertThrowsError(try DatasetConfig.load(url)) {
            XCTAssertEqual($0 as? DatasetConfigError, .classCountMismatch(file: url.path, nc: 3, names: 2))
            XCTAssertTrue("\($0)".contains("nc: 3"))
        }
        try write("train: a\nnames: [x]\n", to: url)
        XCTAssertThrowsError(try DatasetConfig.load(url)) {
            XCTAssertEqual($0 as? DatasetConfigError, .missingKey(file: url.path, key: "val"))
        }
        try write("train: a\nval: b\nnc: 2\n", to: url)
        XCTAssertEqual(try DatasetConfig.load(url).names, ["class0", "class1"])
        try write("train: a\nval: b\n", to: url)
        XCTAssertThrowsError(try DatasetConfig.load(url)) {
            XCTAssertEqual($0 as? DatasetConfigError, .missingKey(file: url.path, key: "names"))
        }
        try write("train: a\nval: b\nnames: {car: 1}\n", to: url)
        XCTAssertThrowsError(try DatasetConfig.load(url)) { XCTAssertTrue("\($0)".contains("integers")) }
    }

    /// A config's sources feed discovery: a folder, a .txt list with ./, bare-relative and absolute
    /// entries, and a list of both.
    func testSourcesFeedImageDiscovery() throws {
        let dir = try temporaryFolder(self)
        for name in ["images/a/1.jpg", "images/a/2.PNG", "images/a/.hidden.jpg", "images/a/notes.txt",
                     "images/a/sub/3.jpeg", "images/b/4.jpg", "other/5.jpg"] {
            try write("x", to: dir.appendingPathComponent(name))
        }
        try write("./images/b/4.jpg\nimages/a/1.jpg\n\n\(dir.path)/other/5.jpg\n", to: dir.appendingPathComponent("list.txt"))
        try write("train: images/a\nval: list.txt\ntest: [images/a, list.txt]\nnames: [z]\n", to: dir.appendingPathComponent("d.yaml"))
        let config = try DatasetConfig.load(dir.appendingPathComponent("d.yaml"))
        let root = dir.standardizedFileURL.path
        XCTAssertEqual(try LabelFiles.discoverImages(in: config.train),
                       ["\(root)/images/a/1.jpg", "\(root)/images/a/2.PNG", "\(root)/images/a/sub/3.jpeg"])
        XCTAssertEqual(try LabelFiles.discoverImages(in: config.val),
                       ["\(root)/images/a/1.jpg", "\(root)/images/b/4.jpg", "\(root)/other/5.jpg"])
        XCTAssertEqual(try LabelFiles.discoverImages(in: config.test).count, 6)
        XCTAssertThrowsError(try LabelFiles.discoverImages(in: [dir.appendingPathComponent("nope")])) {
            XCTAssertEqual($0 as? DatasetError, .sourceNotFound(path: dir.appendingPathComponent("nope").path))
        }
    }
}
