import XCTest
@testable import YOLO
final class YOLOSmokeTests: XCTestCase { func testModuleLoads() { XCTAssertTrue(true) } }
