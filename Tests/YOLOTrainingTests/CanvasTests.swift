// Canvas drawing checked pixel by pixel, the bitmap font, and the PNG/JPEG plot encoders
// round-tripped through libpng / TurboJPEG.
import Foundation
import XCTest
import YOLOData
@testable import YOLOTraining

final class CanvasTests: XCTestCase {
    func testFillAndStrokeRect() {
        var c = Canvas(width: 20, height: 10)
        c.fillRect(x0: 2, y0: 3, x1: 4, y1: 5, color: .blue)
        XCTAssertEqual(c.pixel(2, 3), .blue)
        XCTAssertEqual(c.pixel(4, 5), .blue)  // inclusive corners
        XCTAssertEqual(c.pixel(5, 5), .white)
        XCTAssertEqual(c.pixel(1, 3), .white)
        c.strokeRect(x0: 10, y0: 1, x1: 17, y1: 8, color: .black, thickness: 2)
        XCTAssertEqual(c.pixel(10, 1), .black)
        XCTAssertEqual(c.pixel(11, 4), .black)  // second ring of the 2-px border, inwards
        XCTAssertEqual(c.pixel(12, 4), .white)  // inside
        XCTAssertEqual(c.pixel(17, 8), .black)
        XCTAssertEqual(c.pixel(18, 8), .white)  // outside
        c.fillRect(x0: -5, y0: -5, x1: 100, y1: 0, color: .black)  // clipped, no crash
        XCTAssertEqual(c.pixel(19, 0), .black)
    }

    func testLinesAndDashes() {
        var c = Canvas(width: 10, height: 10)
        c.line(x0: 0, y0: 0, x1: 9, y1: 9, color: .black)
        for i in 0..<10 { XCTAssertEqual(c.pixel(i, i), .black) }
        XCTAssertEqual(c.pixel(1, 0), .white)
        var h = Canvas(width: 12, height: 5)
        h.line(x0: 0, y0: 2, x1: 11, y1: 2, color: .black, dash: (2, 2))
        XCTAssertEqual((0..<12).map { h.pixel($0, 2) == .black }, [true, true, false, false, true, true, false, false,
                                                                    true, true, false, false])
        var t = Canvas(width: 12, height: 5)
        t.line(x0: 2, y0: 2, x1: 9, y1: 2, color: .black, thickness: 3)
        XCTAssertEqual(t.pixel(1, 1), .black)  // 3-px square pen: rows 1…3, one past each end
        XCTAssertEqual(t.pixel(10, 3), .black)
        XCTAssertEqual(t.pixel(5, 4), .white)
        XCTAssertEqual(t.pixel(11, 2), .white)
    }

    func testCircleAlphaBlending() {
        var c = Canvas(width: 11, height: 11, background: .black)
        c.fillCircle(cx: 5, cy: 5, radius: 3, color: .white, alpha: 0.5)
        XCTAssertEqual(c.pixel(5, 5), RGB(128, 128, 128))
        XCTAssertEqual(c.pixel(5, 2), RGB(128, 128, 128))  // on the rim
        XCTAssertEqual(c.pixel(2, 2), .black)  // corner outside the disc
        c.plot(0, 0, RGB(200, 100, 0), alpha: 0.25)
        XCTAssertEqual(c.pixel(0, 0), RGB(50, 25, 0))
    }

    func testTextUsesTheBitmapFont() {
        var c = Canvas(width: 30, height: 10)
        let w = c.text("H", x: 1, y: 1, color: .black, scale: 1)
        XCTAssertEqual(w, 5)
        // 'H' is 0x11 on every row but the middle one (0x1F).
        XCTAssertEqual(c.pixel(1, 1), .black)
        XCTAssertEqual(c.pixel(2, 1), .white)
        XCTAssertEqual(c.pixel(5, 1), .black)
        XCTAssertEqual((1...5).map { c.pixel($0, 4) }, Array(repeating: .black, count: 5))
        var big = Canvas(width: 40, height: 20)
        big.text("I", x: 0, y: 0, color: .black, scale: 2)  // 0x0E top row → columns 1…3 → px 2…7
        XCTAssertEqual((0..<10).map { big.pixel($0, 0) == .black },
                       [false, false, true, true, true, true, true, true, false, false])
        XCTAssertEqual(BitmapFont.size(of: "abc", scale: 3).width, (3 * 6 - 1) * 3)
        XCTAssertEqual(BitmapFont.size(of: "abc", scale: 3).height, 24)
        XCTAssertEqual(BitmapFont.glyphs.count, 95 * 7)
        XCTAssertTrue(BitmapFont.isSet("é", x: 1, y: 0))  // non-ASCII draws as '?' (0x0E top row)
    }

    func testBoxLabelLikeYOLOv5() {
        var c = Canvas(width: 100, height: 60)
        let color = RGB.yoloClass(0)
        XCTAssertEqual(color, RGB(0xFF, 0x38, 0x38))
        XCTAssertEqual(RGB.yoloClass(21), RGB(0xFF, 0x9D, 0x97))
        c.boxLabel(x0: 10, y0: 20, x1: 60, y1: 50, label: "cat", color: color, lineWidth: 2, textScale: 1)
        XCTAssertEqual(c.pixel(10, 35), color)  // left edge
        XCTAssertEqual(c.pixel(11, 35), color)  // 2 px
        XCTAssertEqual(c.pixel(12, 35), .white)
        // Label box above the box (8 px tall, 17 + 2 px wide), text in white.
        XCTAssertEqual(c.pixel(10, 12), color)
        XCTAssertEqual(c.pixel(10 + 17 + 1, 12), color)
        XCTAssertEqual(c.pixel(10 + 17 + 2, 12), .white)  // past the label box: background
        let textPixels = (12..<20).flatMap { y in (11..<28).map { c.pixel($0, y) } }.filter { $0 == .white }
        XCTAssertGreaterThan(textPixels.count, 10)
        // No room above: label goes inside the box top.
        var d = Canvas(width: 100, height: 60)
        d.boxLabel(x0: 10, y0: 2, x1: 60, y1: 50, label: "cat", color: color, lineWidth: 1, textScale: 1)
        XCTAssertEqual(d.pixel(10, 0), .white)
        XCTAssertEqual(d.pixel(12, 9), color)
    }

    func testResize() {
        var c = Canvas(width: 4, height: 2)
        c.fillRect(x0: 0, y0: 0, x1: 1, y1: 1, color: .black)
        let small = c.image.resized(width: 2, height: 1)
        XCTAssertEqual(small.pixels, [0, 0, 0, 255, 255, 255])
        XCTAssertEqual(c.image.resized(width: 3, height: 3).width, 3)
    }

    func testPNGRoundTrip() throws {
        var c = Canvas(width: 7, height: 5)
        c.fillRect(x0: 1, y0: 1, x1: 3, y1: 2, color: RGB(1, 2, 3))
        c.plot(6, 4, RGB(250, 0, 7))
        let data = try PNGEncoder.encode(c.image)
        XCTAssertEqual(Array(data.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        XCTAssertEqual(try PNGEncoder.decodeForTesting(data), c.image)
        XCTAssertThrowsError(try PNGEncoder.encode(Image(width: 0, height: 0, pixels: [])))
    }

    func testJPEGEncodes() throws {
        let c = Canvas(width: 16, height: 8, background: RGB(200, 30, 30))
        let data = try PlotFile.encodeJPEG(c.image)
        XCTAssertEqual(Array(data.prefix(2)), [0xFF, 0xD8])
        let back = try PlotFile.decodeJPEGForTesting(data)
        XCTAssertEqual(back.width, 16)
        XCTAssertEqual(back.height, 8)
        XCTAssertLessThan(abs(Int(back[5, 5, 0]) - 200), 8)
    }
}
