// Whole-model gradients against PyTorch YOLOv5 7.0: yolov5n (hyp.scratch-low) and the v5.0
// yolov5s (v5.0 hyp.scratch) with the formula weights of ModelParityTests, one train-mode
// forward of the two letterboxed coco128 images of Fixtures/model_parity_*.safetensors,
// ComputeLoss on their real labels and the backward pass. References come from
// Tools/fixtures/make_model_grad_fixtures.py (Fixtures/model_grad_*.safetensors).
//
// Tensors with at most 4096 elements are stored in full; larger gradients as their L2 norm and
// a 64-row random ±1 projection ("sketch", r_jk = sign(sin(k·12.9898 + j·78.233)) / √64, over
// the flat PyTorch-layout index k). The projection is linear, so ‖S a − S b‖ / ‖S b‖ =
// ‖S(a − b)‖ / ‖S b‖, which by Johnson–Lindenstrauss estimates the relative error ‖a − b‖ / ‖b‖
// (to within about ±10% of itself with 64 rows).
//
// Tolerance per parameter: 1e-3 relative, or twice PyTorch's own float32 summation-order noise
// for that gradient (`noise.<param>`: its NCHW vs channels_last runs, by norm) where that is
// larger. yolov5n never needs the allowance (its largest noise is 1.4e-4). yolov5s-v5.0's first
// layers do: PyTorch's own NCHW and channels_last gradients differ by up to 1.56e-3
// (model.4.m.0.cv1.conv.weight; PyTorch channels_last vs float64: 1.9e-3), and ours differ from
// NCHW PyTorch by up to 1.46e-3 on the same parameters. The test prints which parameters used it.
import Foundation
import NN
import TensorCore
import TensorDNNL
import TestSupport
import XCTest
@testable import YOLO

/// The fixture script's projection of `g` (flat index order), in Double.
func gradientSketch(_ g: Tensor, rows: Int = 64) -> [Double] {
    let v = g.scalars
    var out = [Double](repeating: 0, count: rows)
    v.withUnsafeBufferPointer { p in
        for j in 0..<rows {
            var s = 0.0
            let offset = Double(j) * 78.233
            for k in 0..<p.count {
                let r = sin(Double(k) * 12.9898 + offset)
                s += r >= 0 ? Double(p[k]) : -Double(p[k])
            }
            out[j] = s / Double(rows).squareRoot()
        }
    }
    return out
}

final class ModelGradientParityTests: XCTestCase {
    override func setUp() { Engine.backend = DNNLBackend() }
    override func tearDown() { Engine.backend = ReferenceBackend() }

    func tensors(_ resource: String) throws -> [String: Tensor] {
        let url = try XCTUnwrap(Bundle.module.url(forResource: resource, withExtension: "safetensors",
                                                  subdirectory: "Fixtures"), resource)
        return try SafeTensors.read(url).tensors
    }

    func testYOLOv5nGradientsMatchPyTorch() throws { try check("yolov5n", hyp: "hyp.scratch-low") }
    func testYOLOv5sV50GradientsMatchPyTorch() throws { try check("yolov5s-v5.0", hyp: "hyp.scratch") }

    func check(_ name: String, hyp hypName: String) throws {
        let ref = try tensors("model_grad_\(name)")
        let x = try XCTUnwrap(try tensors("model_parity_\(name)")["input"])
        let targets = try XCTUnwrap(ref["targets"])
        var g = SeededGenerator(seed: 7)
        let model = YOLOModel(spec: try ModelSpec.load(cfg: name), nc: 80, using: &g)
        setFormulaWeights(model)
        let hyp = try Hyperparameters.load(hypName).scaledForTraining(layers: model.nl, classes: 80, imageSize: 128)
        let loss = ComputeLoss(nc: 80, anchors: (0..<model.nl).map { model.levelAnchors($0).map { SIMD2($0[0], $0[1]) } },
                               strides: model.strides.map(Float.init), hyp: hyp)
        var items: [Float] = []
        let (value, grads) = valueWithGradients { _ in
            let r = loss(model(x, training: true), targets: targets)
            items = r.items
            return r.loss
        }
        let wantLoss = try XCTUnwrap(ref["loss"]).scalars[0]
        let wantItems = try XCTUnwrap(ref["items"]).scalars
        let lossErr = abs(value.scalar - wantLoss) / abs(wantLoss)
        XCTAssertLessThanOrEqual(lossErr, 1e-4, "\(name) loss \(value.scalar) vs \(wantLoss)")
        for k in 0..<3 {
            let e = abs(items[k] - wantItems[k]) / abs(wantItems[k])
            XCTAssertLessThanOrEqual(e, 1e-4, "\(name) item \(k) \(items[k]) vs \(wantItems[k])")
        }
        var worstFull: (Double, String) = (0, ""), worstNorm: (Double, String) = (0, "")
        var worstSketch: (Double, String) = (0, "")
        var checked = 0
        var allowance: [String] = []
        for p in model.parameters {
            let noise = Double(try XCTUnwrap(ref["noise.\(p.name)"], p.name).scalars[0])
            let tol = max(1e-3, 2 * noise)
            let got = try XCTUnwrap(grads[p.id], "\(name): no gradient for \(p.name)")
            if let want = ref["grad.\(p.name)"] {
                XCTAssertEqual(got.shape, want.shape, p.name)
                let e = Double(relativeError(got.scalars, want.scalars))
                if e > worstFull.0 { worstFull = (e, p.name) }
                if e > 1e-3 { allowance.append(String(format: "%@ %.2e (PyTorch noise %.2e)", p.name, e, noise)) }
                XCTAssertLessThanOrEqual(e, tol, "\(name) \(p.name) gradient relative error")
            } else {
                let wantNorm = Double(try XCTUnwrap(ref["norm.\(p.name)"], p.name).scalars[0])
                let wantSketch = try XCTUnwrap(ref["sketch.\(p.name)"], p.name).scalars.map(Double.init)
                let norm = got.scalars.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
                let ne = abs(norm - wantNorm) / wantNorm
                if ne > worstNorm.0 { worstNorm = (ne, p.name) }
                if ne > 1e-3 { allowance.append(String(format: "%@ norm %.2e (PyTorch noise %.2e)", p.name, ne, noise)) }
                XCTAssertLessThanOrEqual(ne, tol, "\(name) \(p.name) gradient norm \(norm) vs \(wantNorm)")
                let s = gradientSketch(got)
                let diff = zip(s, wantSketch).reduce(0.0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }.squareRoot()
                let base = wantSketch.reduce(0.0) { $0 + $1 * $1 }.squareRoot()
                let se = diff / base
                if se > worstSketch.0 { worstSketch = (se, p.name) }
                if se > 1e-3 { allowance.append(String(format: "%@ sketch %.2e (PyTorch noise %.2e)", p.name, se, noise)) }
                XCTAssertLessThanOrEqual(se, tol, "\(name) \(p.name) gradient sketch relative error")
            }
            checked += 1
        }
        XCTAssertEqual(checked, ref.keys.filter { $0.hasPrefix("grad.") || $0.hasPrefix("norm.") }.count, name)
        print(String(format: "%@: loss rel %.2e; full grads worst %.2e (%@); norms worst %.2e (%@); sketches worst %.2e (%@)",
                     name, lossErr, worstFull.0, worstFull.1, worstNorm.0, worstNorm.1, worstSketch.0, worstSketch.1))
        print("\(name): \(allowance.count) of \(checked) gradients beyond 1e-3 (within 2× PyTorch's own noise): "
              + allowance.joined(separator: "; "))
        if name == "yolov5n" { XCTAssertEqual(allowance, [], "yolov5n needs no noise allowance") }
    }
}
