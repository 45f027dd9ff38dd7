// Materialising the tensors of a PyTorch checkpoint: each `TorchTensorRef` is a view
// (offset, sizes, strides in elements) into a storage member `<prefix>/data/<key>`. Every
// index the view can reach is checked against the storage before a byte is read; elements
// are converted to Float32 (F16/BF16 exactly, F64 rounded, integers as values).
import TensorCore

struct TensorReader {
    let zip: ZipArchive
    /// "archive/data/"
    let prefix: String
    private var storages: [String: ArraySlice<UInt8>] = [:]
    /// Elements still allowed: views may share storages, but a file cannot make this reader
    /// allocate much more than its own size (zero-stride views of one element, repeated).
    private var budget: Int

    init(zip: ZipArchive, prefix: String) {
        self.zip = zip
        self.prefix = prefix
        self.budget = 4 * zip.bytes.count + (1 << 24)
    }

    /// The Float32 tensor `ref` describes; `name` is its state-dict key, for errors.
    mutating func tensor(_ ref: TorchTensorRef, name: String) throws -> Tensor {
        let f = zip.fileName
        func invalid(_ reason: String) -> TorchCheckpointError { .invalidTensor(file: f, tensor: name, reason: reason) }
        guard let dtype = ref.storage.dtype else {
            throw TorchCheckpointError.unsupportedStorageType(file: f, type: ref.storage.typeName)
        }
        guard ref.shape.count == ref.stride.count else {
            throw invalid("it has \(ref.shape.count) sizes but \(ref.stride.count) strides")
        }
        guard ref.shape.allSatisfy({ $0 >= 0 }), ref.stride.allSatisfy({ $0 >= 0 }), ref.storageOffset >= 0 else {
            throw invalid("negative size, stride or offset (sizes \(ref.shape), strides \(ref.stride), offset \(ref.storageOffset))")
        }
        var count = 1, last = ref.storageOffset  // last = highest element index the view reaches
        for (size, stride) in Swift.zip(ref.shape, ref.stride) {
            let (c, o1) = count.multipliedReportingOverflow(by: size)
            let (span, o2) = max(size - 1, 0).multipliedReportingOverflow(by: stride)
            let (l, o3) = last.addingReportingOverflow(span)
            guard !(o1 || o2 || o3) else { throw invalid("sizes \(ref.shape) with strides \(ref.stride) overflow") }
            (count, last) = (c, l)
        }
        let bytes = try storage(ref.storage.key)
        let available = min(bytes.count / dtype.byteSize, ref.storage.count)
        // Zero strides (expanded views) may repeat elements, but not without bound.
        guard count <= budget else {
            throw invalid("its \(count) elements are far more than the \(zip.bytes.count)-byte file holds")
        }
        budget -= count
        guard count == 0 || last < available else {
            throw invalid("sizes \(ref.shape), strides \(ref.stride) and offset \(ref.storageOffset) reach element \(last), but storage '\(ref.storage.key)' holds \(available) \(ref.storage.typeName) elements")
        }
        var t = Tensor(uninitializedShape: ref.shape)
        t.withUnsafeMutableBufferPointer { out in
            bytes.withUnsafeBytes { raw in
                Self.gather(raw, dtype: dtype, offset: ref.storageOffset, shape: ref.shape, stride: ref.stride, into: out)
            }
        }
        return t
    }

    private mutating func storage(_ key: String) throws -> ArraySlice<UInt8> {
        if let s = storages[key] { return s }
        guard let entry = zip.entry(named: prefix + key) else {
            throw TorchCheckpointError.missingEntry(file: zip.fileName, entry: prefix + key)
        }
        let s = try zip.contents(of: entry)
        storages[key] = s
        return s
    }

    /// Copies the strided view into `out` in row-major order. The caller has proved that
    /// every index reached is inside `raw`.
    private static func gather(_ raw: UnsafeRawBufferPointer, dtype: SafeTensorsDType, offset: Int,
                               shape: [Int], stride: [Int], into out: UnsafeMutableBufferPointer<Float>) {
        guard out.count > 0 else { return }
        if stride == Tensor.contiguousStrides(shape) || out.count == 1 {
            SafeTensors.convert(raw, from: offset * dtype.byteSize, dtype: dtype, into: out)
            return
        }
        // Odometer over the indices; `src` is the element index of the current position.
        let rank = shape.count
        var index = [Int](repeating: 0, count: rank)
        var src = offset
        for i in 0..<out.count {
            out[i] = load(raw, element: src, dtype: dtype)
            var d = rank - 1
            while d >= 0 {
                index[d] += 1
                src += stride[d]
                if index[d] < shape[d] { break }
                src -= stride[d] * shape[d]
                index[d] = 0
                d -= 1
            }
        }
    }

    private static func load(_ raw: UnsafeRawBufferPointer, element i: Int, dtype: SafeTensorsDType) -> Float {
        var one: Float = 0
        withUnsafeMutablePointer(to: &one) { p in
            SafeTensors.convert(raw, from: i * dtype.byteSize, dtype: dtype, into: UnsafeMutableBufferPointer(start: p, count: 1))
        }
        return one
    }
}
