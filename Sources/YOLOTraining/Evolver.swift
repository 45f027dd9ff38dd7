// `yolo train --evolve N`: train.py's hyperparameter evolution. Each generation mutates the best
// earlier results, trains a short run validating only the final epoch, and appends to evolve.csv;
// the best generation's hyperparameters go to hyp_evolved.yaml, the plot of all to evolve.png.
import Foundation
import TensorCore
import YOLO

public struct Evolver {
    public var options: TrainOptions
    let log: (String) -> Void

    public init(options: TrainOptions, log: @escaping (String) -> Void = { print($0) }) {
        self.options = options
        self.log = log
    }

    public func run() throws {
        let dir = try RunDirectory.make(project: "runs/evolve", name: options.name, existOK: options.existOk)
        let csv = dir.appendingPathComponent("evolve.csv")
        var base = try Hyperparameters.load(options.hyp)
        if base.anchors == nil && !options.noautoanchor { base.anchors = 3 }
        var g = SeededGenerator(seed: UInt64(options.seed))
        for generation in 0..<options.evolve {
            let records = FileManager.default.fileExists(atPath: csv.path) ? try EvolveCSV.read(csv, base: base) : []
            let hyp = Evolution.mutate(parents: records.map { (Evolution.fitness($0.results), $0.hyp) }, base: base, using: &g)
            let hypURL = dir.appendingPathComponent("hyp_generation\(generation).yaml")
            try hyp.yaml().write(to: hypURL, atomically: true, encoding: .utf8)
            var o = options
            o.hyp = hypURL.path
            o.noval = true
            o.nosave = true
            o.project = dir.path
            o.name = "gen\(generation)"
            o.evolve = 0
            log("Evolve generation \(generation + 1)/\(options.evolve)")
            let result = try Trainer(options: o, log: log).run()
            let m = result?.metrics
            let losses = result?.losses.map(Double.init) ?? [0, 0, 0]
            try EvolveCSV.append(EvolveRecord(results: [m?.mp ?? 0, m?.mr ?? 0, m?.map50 ?? 0, m?.map ?? 0] + losses,
                                              hyp: hyp), to: csv)
        }
        let records = try EvolveCSV.read(csv, base: base)
        try EvolveCSV.writeEvolvedHyp(records, to: dir.appendingPathComponent("hyp_evolved.yaml"))
        do { log("Saved \(try Charts.plotEvolve(csv: csv).path)") } catch {
            log("WARNING: evolve.png not written: \(error)")  // the results above are already saved
        }
        log("Hyperparameter evolution finished \(options.evolve) generations\nResults saved to \(dir.path)\n"
            + "Usage example: yolo train --hyp \(dir.appendingPathComponent("hyp_evolved.yaml").path)")
    }
}
