// The `yolo` tool: the one place a backend is chosen.
import ArgumentParser
import TensorCore
import TensorDNNL

@main
struct YOLOCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "yolo",
        abstract: "Train, validate, run and export YOLOv5 object detectors.",
        subcommands: [TrainCommand.self, ValCommand.self, DetectCommand.self, BenchmarkCommand.self])
}
