// The per-epoch progress line YOLOv5 prints (epoch, memory, box, obj, cls, total, labels, size,
// rate, ETA): redrawn in place on a terminal, plain lines (every few seconds and at the end)
// when output is a file or a pipe.
import Foundation
import Glibc

public final class ProgressLine {
    let total: Int
    let isTTY = isatty(STDOUT_FILENO) != 0
    let start = Date()
    var lastPrint = Date.distantPast

    public init(total: Int) { self.total = total }

    public static var header: String {
        ["Epoch", "mem", "box", "obj", "cls", "total", "labels", "img_size"].map { rightAligned($0, 10) }.joined()
    }

    /// Peak resident memory of this process (GB), as YOLOv5 shows GPU memory.
    public static var peakMemoryGB: Double {
        var usage = rusage()
        getrusage(Int32(RUSAGE_SELF.rawValue), &usage)
        return Double(usage.ru_maxrss) / 1_048_576
    }

    public func update(done: Int, epoch: String, losses: [Float], labels: Int, imageSize: Int) {
        let elapsed = Date().timeIntervalSince(start)
        let rate = Double(done) / max(elapsed, 1e-9)
        let eta = rate > 0 ? Double(total - done) / rate : 0
        let bar = String(repeating: "█", count: 10 * done / max(total, 1)).padding(toLength: 10, withPad: " ", startingAt: 0)
        let line = rightAligned(epoch, 10) + rightAligned(String(format: "%.2gG", ProgressLine.peakMemoryGB), 10)
            + String(format: "%10.4g%10.4g%10.4g%10.4g%10d%10d", losses[0], losses[1], losses[2], losses.reduce(0, +),
                     labels, imageSize)
            + ": " + rightAligned("\(100 * done / max(total, 1))", 3) + "%|\(bar)| \(done)/\(total) "
            + "[\(clock(elapsed))<\(clock(eta)), \(String(format: "%.2f", rate))it/s]"
        if isTTY {
            print("\r" + line, terminator: done == total ? "\n" : "")
            fflush(nil)
        } else if done == total || Date().timeIntervalSince(lastPrint) > 5 {
            print(line)
            fflush(nil)
            lastPrint = Date()
        }
    }

    func clock(_ s: Double) -> String { String(format: "%02d:%02d", Int(s) / 60, Int(s) % 60) }
}

/// `s` padded on the left to `width` characters (Python's `%10s`).
public func rightAligned(_ s: String, _ width: Int) -> String {
    s.count >= width ? s : String(repeating: " ", count: width - s.count) + s
}
