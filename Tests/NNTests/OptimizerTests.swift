// SGD, Adam and AdamW against torch.optim (Tests/NNTests/Fixtures/optim.json, made by
// Tools/fixtures/make_nn_fixtures.py), plus state export/import round trips.
import Foundation
import NN
import TensorCore
import TestSupport
import XCTest

// MARK: - Fixture

/// The decoded optim.json, shared by the NN test files.
struct NNFixture: Decodable {
    struct Config: Decodable {
        let momentum: Double?
        let nesterov: Bool?
        let betas: [Double]?
        let eps: Double?
    }
    struct Param: Decodable {
        let name: String
        let shape: [Int]
        let initial: [Double]
    }
    struct Group: Decodable {
        let weight_decay: Double
        let params: [Param]
    }
    struct Step: Decodable {
        let lr: [Double]
        let momentum: Double?
        let grads: [String: [Double]]
        let expected: [String: [Double]]
    }
    struct OptimizerCase: Decodable {
        let kind: String
        let config: Config
        let groups: [Group]
        let steps: [Step]
    }
    struct ScheduleCase: Decodable {
        let epochs: Int
        let lrf: Double?
        let one_cycle: [Double]?
        let linear: [Double]?
        let y1: Double?
        let y2: Double?
        let one_cycle_generic: [Double]?
    }
    struct WarmupIterations: Decodable {
        let warmup_epochs: Double
        let nb: Int
        let nw: Int
    }
    struct WarmupRow: Decodable {
        let ni: Int
        let epoch: Int
        let lf: Double
        let lr: [Double]
        let momentum: [Double]
        let accumulate: Int
    }
    struct WarmupCase: Decodable {
        let schedule: String
        let epochs: Int
        let nb: Int
        let batch_size: Int
        let nbs: Int
        let nw: Int
        let hyp: [String: Double]
        let rows: [WarmupRow]
    }
    struct Warmup: Decodable {
        let nw: [WarmupIterations]
        let cases: [WarmupCase]
    }
    struct Entry: Decodable {
        let shape: [Int]
        let values: [Double]
        var tensor: Tensor { Tensor(shape: shape, scalars: values.map { Float($0) }) }
    }
    struct EMAUpdate: Decodable {
        let model: [String: Entry]
        let d: Double
        let expected: [String: Entry]
    }
    struct EMACase: Decodable {
        let decay: Double
        let tau: Double
        let initial_updates: Int
        let initial: [String: Entry]
        let updates: [EMAUpdate]
    }

    let optimizers: [OptimizerCase]
    let schedules: [ScheduleCase]
    let warmup: Warmup
    let ema: [EMACase]

    static func load() throws -> NNFixture {
        guard let url = Bundle.module.url(forResource: "optim", withExtension: "json", subdirectory: "Fixtures") else {
            throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: "Fixtures/optim.json (missing from the test bundle)"])
        }
        return try JSONDecoder().decode(NNFixture.self, from: Data(contentsOf: url))
    }
}

func tensor(_ values: [Double], _ shape: [Int]) -> Tensor {
    Tensor(shape: shape, scalars: values.map { Float($0) })
}

/// |a − b| ≤ atol + rtol·|b| for Doubles.
func assertCloseDouble(_ a: Double, _ b: Double, rtol: Double = 1e-12, atol: Double = 1e-15,
                       _ message: String = "", file: StaticString = #filePath, line: UInt = #line) {
    if !(abs(a - b) <= atol + rtol * abs(b)) {
        XCTFail("\(a) vs \(b) \(message)", file: file, line: line)
    }
}

// MARK: - Tests

final class OptimizerTests: XCTestCase {
    /// Parameters and an optimizer for a fixture case, groups as in the fixture.
    private func build(_ c: NNFixture.OptimizerCase) -> (any Optimizer, [String: Parameter]) {
        var byName: [String: Parameter] = [:]
        let groups = c.groups.map { g -> ParameterGroup in
            let params = g.params.map { p -> Parameter in
                let param = Parameter(p.name, tensor(p.initial, p.shape))
                byName[p.name] = param
                return param
            }
            return ParameterGroup(parameters: params, lr: c.steps[0].lr[0], momentum: c.config.momentum ?? 0,
                                  weightDecay: g.weight_decay)
        }
        let optimizer: any Optimizer
        switch c.kind {
        case "sgd": optimizer = SGD(groups: groups, nesterov: c.config.nesterov ?? false)
        case "adam": optimizer = Adam(groups: groups, betas: (c.config.betas![0], c.config.betas![1]), eps: c.config.eps!)
        case "adamw": optimizer = AdamW(groups: groups, betas: (c.config.betas![0], c.config.betas![1]), eps: c.config.eps!)
        default: fatalError("unknown optimizer kind \(c.kind)")
        }
        return (optimizer, byName)
    }

    /// Sets the step's hyperparameters and gradients, then steps.
    private func apply(_ step: NNFixture.Step, _ optimizer: any Optimizer, _ byName: [String: Parameter]) {
        for j in optimizer.groups.indices {
            optimizer.groups[j].lr = step.lr[j]
            if let m = step.momentum { optimizer.groups[j].momentum = m }
        }
        var grads = Gradients()
        for (name, g) in step.grads {
            let p = byName[name]!
            grads[p.id] = tensor(g, p.value.shape)
        }
        optimizer.step(grads)
    }

    private func check(_ step: NNFixture.Step, _ byName: [String: Parameter], _ label: String,
                       file: StaticString = #filePath, line: UInt = #line) {
        for (name, expected) in step.expected {
            let p = byName[name]!
            assertClose(p.value, tensor(expected, p.value.shape), rtol: 1e-5, atol: 1e-6,
                        "\(label) \(name)", file: file, line: line)
        }
    }

    private func runFixtureCases(kind: String) throws {
        let fixture = try NNFixture.load()
        let cases = fixture.optimizers.filter { $0.kind == kind }
        XCTAssertFalse(cases.isEmpty)
        for (k, c) in cases.enumerated() {
            let (optimizer, byName) = build(c)
            for (s, step) in c.steps.enumerated() {
                apply(step, optimizer, byName)
                check(step, byName, "\(kind) case \(k) step \(s)")
            }
        }
    }

    func testSGDMatchesTorch() throws { try runFixtureCases(kind: "sgd") }
    func testAdamMatchesTorch() throws { try runFixtureCases(kind: "adam") }
    func testAdamWMatchesTorch() throws { try runFixtureCases(kind: "adamw") }

    /// Exporting after some steps and importing into a fresh optimizer over fresh parameters
    /// continues exactly as the original does.
    func testStateRoundTripResumesIdentically() throws {
        let fixture = try NNFixture.load()
        for (k, c) in fixture.optimizers.enumerated() {
            let (original, originalParams) = build(c)
            let split = 2
            for step in c.steps[..<split] { apply(step, original, originalParams) }
            let state = original.exportState()
            XCTAssertFalse(state.isEmpty)
            XCTAssertTrue(state.keys.allSatisfy { $0.hasPrefix("optimizer.") })

            // A fresh optimizer, with other lrs, over parameters holding the saved values.
            let (resumed, resumedParams) = build(c)
            for (name, p) in resumedParams { p.value = Tensor(shape: p.value.shape, scalars: originalParams[name]!.value.scalars) }
            for j in resumed.groups.indices { resumed.groups[j].lr = 123; resumed.groups[j].initialLR = 7 }
            try resumed.importState(state)
            for j in resumed.groups.indices {
                XCTAssertEqual(resumed.groups[j].lr, original.groups[j].lr, "case \(k) group \(j) lr")
                XCTAssertEqual(resumed.groups[j].initialLR, original.groups[j].initialLR)
                XCTAssertEqual(resumed.groups[j].momentum, original.groups[j].momentum)
                XCTAssertEqual(resumed.groups[j].weightDecay, original.groups[j].weightDecay)
            }
            for (s, step) in c.steps[split...].enumerated() {
                apply(step, original, originalParams)
                apply(step, resumed, resumedParams)
                for (name, p) in originalParams {
                    XCTAssertEqual(resumedParams[name]!.value.scalars, p.value.scalars,
                                   "\(c.kind) case \(k) step \(split + s) \(name)")
                }
                check(step, resumedParams, "resumed \(c.kind) case \(k) step \(split + s)")
            }
            // The state names carry the parameter names.
            let first = c.groups[1].params[0].name
            if c.kind == "sgd" {
                XCTAssertNotNil(state["optimizer.state.\(first).momentum_buffer"])
            } else {
                XCTAssertEqual(state["optimizer.state.\(first).step"]?.scalar, Float(split))
                XCTAssertNotNil(state["optimizer.state.\(first).exp_avg"])
                XCTAssertNotNil(state["optimizer.state.\(first).exp_avg_sq"])
            }
        }
    }

    /// Without imported state a fresh optimizer diverges from the resumed one (the test above
    /// would not be vacuous).
    func testFreshOptimizerDiffersFromResumed() throws {
        let fixture = try NNFixture.load()
        let c = fixture.optimizers.first { $0.kind == "sgd" }!
        let (a, pa) = build(c)
        for step in c.steps[..<2] { apply(step, a, pa) }
        let (b, pb) = build(c)
        for (name, p) in pb { p.value = pa[name]!.value }
        apply(c.steps[2], a, pa)
        apply(c.steps[2], b, pb)
        let name = c.groups[1].params[0].name
        XCTAssertNotEqual(pa[name]!.value.scalars, pb[name]!.value.scalars)
    }

    func testFrozenAndGradientlessParametersAreSkipped() {
        let frozen = Parameter("a.weight", Tensor(shape: [3], scalars: [1, 2, 3]))
        frozen.requiresGradient = false
        let idle = Parameter("b.weight", Tensor(shape: [2], scalars: [4, 5]))
        let live = Parameter("c.weight", Tensor(shape: [2], scalars: [1, 1]))
        let optimizers: [any Optimizer] = [
            SGD([frozen, idle, live], lr: 0.1, momentum: 0.9, weightDecay: 0.1, nesterov: true),
            Adam(groups: [ParameterGroup(parameters: [frozen, idle, live], lr: 0.1, weightDecay: 0.1)]),
            AdamW(groups: [ParameterGroup(parameters: [frozen, idle, live], lr: 0.1, weightDecay: 0.1)]),
        ]
        for opt in optimizers {
            var g = Gradients()
            g[frozen.id] = Tensor(shape: [3], scalars: [1, 1, 1])
            g[live.id] = Tensor(shape: [2], scalars: [1, -1])
            let before = live.value.scalars
            opt.step(g)
            XCTAssertEqual(frozen.value.scalars, [1, 2, 3])
            XCTAssertEqual(idle.value.scalars, [4, 5])
            XCTAssertNotEqual(live.value.scalars, before)
            let state = opt.exportState()
            XCTAssertFalse(state.keys.contains { $0.contains("a.weight") || $0.contains("b.weight") })
            XCTAssertTrue(state.keys.contains { $0.contains("c.weight") })
        }
    }

    func testPlainSGDWithoutMomentum() {
        let p = Parameter("w", Tensor(shape: [2], scalars: [1, -2]))
        let opt = SGD([p], lr: 0.5, weightDecay: 0.1)
        var g = Gradients()
        g[p.id] = Tensor(shape: [2], scalars: [0.2, 0.4])
        opt.step(g)
        // p − lr·(g + wd·p)
        assertClose(p.value.scalars, [1 - 0.5 * (0.2 + 0.1), -2 - 0.5 * (0.4 - 0.2)])
        XCTAssertNil(opt.momentumBuffer(p))
    }

    func testYOLOGroupsLayout() {
        let names = ["model.0.conv.weight", "model.0.bn.weight", "model.0.bn.bias", "model.24.m.0.weight",
                     "model.24.m.0.bias"]
        let params = names.map { Parameter($0, Tensor(zeros: [1])) }
        let groups = ParameterGroup.yoloGroups(params, lr: 0.01, momentum: 0.937, weightDecay: 5e-4)
        XCTAssertEqual(groups.count, 3)
        XCTAssertEqual(groups[ParameterGroup.yoloBiasGroupIndex].parameters.map(\.name),
                       ["model.0.bn.bias", "model.24.m.0.bias"])
        XCTAssertEqual(groups[1].parameters.map(\.name), ["model.0.conv.weight", "model.24.m.0.weight"])
        XCTAssertEqual(groups[2].parameters.map(\.name), ["model.0.bn.weight"])
        XCTAssertEqual(groups.map(\.weightDecay), [0, 5e-4, 0])
        XCTAssertEqual(groups.map(\.initialLR), [0.01, 0.01, 0.01])
    }

    func testImportRejectsWrongShape() {
        let p = Parameter("w", Tensor(zeros: [3]))
        let opt = SGD([p], lr: 0.1, momentum: 0.9)
        XCTAssertThrowsError(try opt.importState(["optimizer.state.w.momentum_buffer": Tensor(zeros: [4])]))
    }
}
