// swift-tools-version:6.0
// A Swift-native YOLOv5: the `yolo` tool and the libraries it is built from.
import PackageDescription

// Numeric targets drop Swift's overflow and bounds checks in release builds. Targets that parse
// untrusted files (NN: safetensors, .pt; YOLOData: images, labels) keep them (plain -O).
// Release builds target Haswell (x86-64-v3: AVX2, FMA; every x86 server CPU since 2013-2015); set
// YOLO_PORTABLE=1 when building for an older CPU.
import Foundation
let portable = ProcessInfo.processInfo.environment["YOLO_PORTABLE"] != nil
#if arch(x86_64)
let cpu: [String] = portable ? [] : ["-target-cpu", "haswell"]
#else
let cpu: [String] = []
#endif
// FMA3: the compiler may use hardware fused multiply-add (fusedMultiplyAdd in YOLOData).
let cpuSettings: [SwiftSetting] = cpu.isEmpty ? [] : [
    .unsafeFlags(cpu, .when(configuration: .release)), .define("FMA3", .when(configuration: .release)),
]
let release: [SwiftSetting] = [.unsafeFlags(["-Ounchecked", "-wmo"], .when(configuration: .release))] + cpuSettings

let package = Package(
    name: "YOLOSwift",
    products: [
        .executable(name: "yolo", targets: ["yolo"]),
        .library(name: "TensorCore", targets: ["TensorCore"]),
        .library(name: "TensorDNNL", targets: ["TensorDNNL"]),
        .library(name: "NN", targets: ["NN"]),
        .library(name: "YOLO", targets: ["YOLO"]),
        .library(name: "YOLOData", targets: ["YOLOData"]),
        .library(name: "YOLOMetrics", targets: ["YOLOMetrics"]),
        .library(name: "YOLOTraining", targets: ["YOLOTraining"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-numerics", from: "1.0.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.0"),
    ],
    targets: [
        .systemLibrary(name: "CDNNL", path: "Sources/CDNNL"),
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS"),
        .systemLibrary(name: "CImageCodecs", path: "Sources/CImageCodecs"),
        // Partial JPEG decoding through libjpeg's API (errors arrive by longjmp, hence C).
        .target(name: "CJPEGRegion", path: "Sources/CJPEGRegion", linkerSettings: [.linkedLibrary("jpeg")]),
        .target(
            name: "TensorCore",
            dependencies: [.product(name: "Numerics", package: "swift-numerics")],
            swiftSettings: release),
        .target(name: "TensorDNNL", dependencies: ["TensorCore", "CDNNL", "CBLAS"], swiftSettings: release),
        .target(name: "NN", dependencies: ["TensorCore"], swiftSettings: cpuSettings),
        .target(
            name: "YOLO", dependencies: ["TensorCore", "NN", .product(name: "Yams", package: "Yams")],
            resources: [.copy("Resources")], swiftSettings: release),
        .target(
            name: "YOLOData", dependencies: ["TensorCore", "CImageCodecs", "CJPEGRegion", .product(name: "Yams", package: "Yams")],
            swiftSettings: cpuSettings),
        .target(name: "YOLOMetrics", swiftSettings: release),
        .target(
            name: "YOLOTraining",
            dependencies: [
                "TensorCore", "TensorDNNL", "NN", "YOLO", "YOLOData", "YOLOMetrics",
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: release),
        .target(name: "TestSupport", dependencies: ["TensorCore"], path: "Sources/TestSupport"),
        .executableTarget(
            name: "yolo",
            dependencies: [
                "TensorCore", "TensorDNNL", "NN", "YOLO", "YOLOData", "YOLOMetrics", "YOLOTraining",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: release),
        // The library API in a few lines: `swift run detect-example <weights> <image>`.
        .executableTarget(name: "detect-example", dependencies: ["YOLOTraining", "YOLOData"], path: "Examples/DetectExample"),
        .testTarget(
            name: "TensorCoreTests", dependencies: ["TensorCore", "TestSupport"],
            resources: [.copy("Fixtures")]),
        .testTarget(name: "yoloTests", dependencies: ["yolo", "YOLOTraining", "YOLOData", "NN", "TensorCore"]),
        .testTarget(
            name: "YOLOTrainingTests", dependencies: ["YOLOTraining", "YOLOData", "TestSupport"],
            resources: [.copy("Fixtures")]),
        .testTarget(
            name: "YOLOTests", dependencies: ["YOLO", "NN", "TensorCore", "TensorDNNL", "TestSupport"],
            resources: [.copy("Fixtures")]),
        .testTarget(
            name: "YOLODataTests", dependencies: ["YOLOData", "TensorCore", "TestSupport"],
            resources: [.copy("Fixtures")]),
        .testTarget(
            name: "YOLOMetricsTests", dependencies: ["YOLOMetrics", "TestSupport"], resources: [.copy("Fixtures")]),
        .testTarget(name: "TensorDNNLTests", dependencies: ["TensorCore", "TensorDNNL", "TestSupport"]),
        .testTarget(
            name: "NNTests", dependencies: ["NN", "TensorCore", "TestSupport"],
            resources: [.copy("Fixtures")]),
    ],
    swiftLanguageModes: [.v6]
)
