// YOLOv5 7.0 train.py's lr schedules and warmup against values computed with numpy
// (Tests/NNTests/Fixtures/optim.json).
import NN
import TensorCore
import TestSupport
import XCTest

final class ScheduleTests: XCTestCase {
    func testOneCycleAndLinearFactors() throws {
        let fixture = try NNFixture.load()
        var checked = 0
        for c in fixture.schedules {
            if let lrf = c.lrf, let oneCycle = c.one_cycle, let linear = c.linear {
                for (e, expected) in oneCycle.enumerated() {
                    assertCloseDouble(LRSchedule.cosineFactor(epoch: Double(e), epochs: c.epochs, lrf: lrf), expected,
                                      "one_cycle epoch \(e)/\(c.epochs)")
                    assertCloseDouble(LRSchedule.factor(epoch: Double(e), epochs: c.epochs, lrf: lrf, cosine: true),
                                      expected)
                    checked += 1
                }
                for (e, expected) in linear.enumerated() {
                    assertCloseDouble(LRSchedule.linearFactor(epoch: Double(e), epochs: c.epochs, lrf: lrf), expected,
                                      "linear epoch \(e)/\(c.epochs)")
                    assertCloseDouble(LRSchedule.factor(epoch: Double(e), epochs: c.epochs, lrf: lrf, cosine: false),
                                      expected)
                    checked += 1
                }
                // Ends: 1 at epoch 0, lrf at epoch == epochs.
                assertCloseDouble(LRSchedule.linearFactor(epoch: 0, epochs: c.epochs, lrf: lrf), 1)
                assertCloseDouble(LRSchedule.cosineFactor(epoch: Double(c.epochs), epochs: c.epochs, lrf: lrf), lrf)
            }
            if let generic = c.one_cycle_generic, let y1 = c.y1, let y2 = c.y2 {
                for (k, expected) in generic.enumerated() {
                    assertCloseDouble(LRSchedule.oneCycle(Double(k * 5), y1: y1, y2: y2, steps: Double(c.epochs)),
                                      expected, "generic one_cycle x=\(k * 5)")
                    checked += 1
                }
            }
        }
        XCTAssertGreaterThan(checked, 300)
    }

    func testWarmupIterations() throws {
        let fixture = try NNFixture.load()
        for c in fixture.warmup.nw {
            XCTAssertEqual(LRSchedule.warmupIterations(warmupEpochs: c.warmup_epochs, batchesPerEpoch: c.nb), c.nw,
                           "warmup_epochs \(c.warmup_epochs) nb \(c.nb)")
        }
        // Python's round is half-to-even: round(2.5 · 401) = round(1002.5) = 1002.
        XCTAssertEqual(LRSchedule.warmupIterations(warmupEpochs: 2.5, batchesPerEpoch: 401), 1002)
    }

    func testWarmupLRMomentumAndAccumulate() throws {
        let fixture = try NNFixture.load()
        var rows = 0
        for c in fixture.warmup.cases {
            let hyp = ScheduleHyperparameters(
                lr0: c.hyp["lr0"]!, lrf: c.hyp["lrf"]!, momentum: c.hyp["momentum"]!,
                warmupEpochs: c.hyp["warmup_epochs"]!, warmupMomentum: c.hyp["warmup_momentum"]!,
                warmupBiasLR: c.hyp["warmup_bias_lr"]!)
            let nw = LRSchedule.warmupIterations(warmupEpochs: hyp.warmupEpochs, batchesPerEpoch: c.nb)
            XCTAssertEqual(nw, c.nw)
            for row in c.rows {
                XCTAssertEqual(row.ni / c.nb, row.epoch)
                let lf = LRSchedule.factor(epoch: Double(row.epoch), epochs: c.epochs, lrf: hyp.lrf,
                                           cosine: c.schedule == "one_cycle")
                assertCloseDouble(lf, row.lf, "lf epoch \(row.epoch)")
                for j in 0..<3 {
                    let (lr, momentum) = LRSchedule.warmup(iteration: row.ni, warmupIterations: nw, groupIndex: j,
                                                           initialLR: hyp.lr0, lrFactor: lf, hyp: hyp)
                    assertCloseDouble(lr, row.lr[j], "\(c.schedule) ni \(row.ni) group \(j) lr")
                    assertCloseDouble(momentum, row.momentum[j], "\(c.schedule) ni \(row.ni) group \(j) momentum")
                }
                XCTAssertEqual(LRSchedule.warmupAccumulate(iteration: row.ni, warmupIterations: nw,
                                                           batchSize: c.batch_size, nominalBatchSize: c.nbs),
                               row.accumulate, "ni \(row.ni) accumulate")
                rows += 1
            }
        }
        XCTAssertGreaterThan(rows, 30)
    }

    /// applyWarmup sets every group; momentum only where the optimizer has it (SGD).
    func testApplyWarmupToOptimizers() throws {
        let fixture = try NNFixture.load()
        let c = fixture.warmup.cases[0]
        let hyp = ScheduleHyperparameters(lr0: 0.01, lrf: 0.01, momentum: 0.937, warmupEpochs: 3,
                                          warmupMomentum: 0.8, warmupBiasLR: 0.1)
        let params = ["model.0.conv.weight", "model.0.bn.weight", "model.0.bn.bias"].map {
            Parameter($0, Tensor(zeros: [1]))
        }
        let sgd = SGD(groups: ParameterGroup.yoloGroups(params, lr: 0.01, momentum: 0.937, weightDecay: 5e-4),
                      nesterov: true)
        let adam = Adam(groups: ParameterGroup.yoloGroups(params, lr: 0.01, momentum: 0.937, weightDecay: 5e-4),
                        betas: (0.937, 0.999))
        let row = c.rows[3]
        let lf = LRSchedule.linearFactor(epoch: Double(row.epoch), epochs: c.epochs, lrf: hyp.lrf)
        for opt in [sgd, adam] as [any Optimizer] {
            LRSchedule.applyWarmup(to: opt, iteration: row.ni, warmupIterations: c.nw, lrFactor: lf, hyp: hyp)
            for j in 0..<3 { assertCloseDouble(opt.groups[j].lr, row.lr[j]) }
        }
        for j in 0..<3 {
            assertCloseDouble(sgd.groups[j].momentum, row.momentum[j])
            XCTAssertEqual(adam.groups[j].momentum, 0.937)  // Adam's groups have no warmed-up momentum
        }
        LRSchedule.applyEpoch(to: sgd, lrFactor: 0.5)
        XCTAssertEqual(sgd.groups.map(\.lr), [0.005, 0.005, 0.005])
    }

    func testInterpMatchesNumpyEdges() {
        XCTAssertEqual(LRSchedule.interp(-1, 0, 10, 2, 4), 2)
        XCTAssertEqual(LRSchedule.interp(0, 0, 10, 2, 4), 2)
        XCTAssertEqual(LRSchedule.interp(5, 0, 10, 2, 4), 3)
        XCTAssertEqual(LRSchedule.interp(10, 0, 10, 2, 4), 4)
        XCTAssertEqual(LRSchedule.interp(11, 0, 10, 2, 4), 4)
    }
}
