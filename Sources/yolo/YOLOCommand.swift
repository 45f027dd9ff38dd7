// The `yolo` tool: the one place a backend is chosen.
import ArgumentParser
import TensorCore
import TensorDNNL

@main
struct YOLOCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "yolo",
        abstract: "Train, validate and run YOLOv5 object detectors.",
        subcommands: [TrainCommand.self, ValCommand.self, DetectCommand.self, BenchmarkCommand.self])

    static func main() {
        main(normalizedArguments(Array(CommandLine.arguments.dropFirst())))
    }

    /// train.py's optional-value flags: `--resume` alone means `--resume latest` and `--evolve`
    /// alone means `--evolve 300` (argparse's `nargs='?', const=…`). ArgumentParser options need a
    /// value, so the default is inserted when the flag is last or followed by another option.
    static func normalizedArguments(_ args: [String]) -> [String] {
        guard args.first == "train" else { return args }
        var out: [String] = []
        for (k, a) in args.enumerated() {
            out.append(a)
            let next = k + 1 < args.count ? args[k + 1] : nil
            if a == "--resume", next == nil || next!.hasPrefix("-") {
                out.append("latest")
            } else if a == "--evolve", next == nil || Int(next!) == nil {
                out.append("300")
            }
        }
        return out
    }
}
