// A thin Swift wrapper over oneDNN's C API (2.x): engine and stream, memory descriptors,
// primitives and execution. Every oneDNN call of the project goes through this file or
// DNNLBackend.swift, so a move to oneDNN 3.x touches only these two files.
import CDNNL

/// A failed oneDNN call: a programmer error (unsupported shape or bad descriptor).
func dnnlCheck(_ status: dnnl_status_t, _ what: @autoclosure () -> String) {
    precondition(status == dnnl_success, "oneDNN \(what()) failed with status \(status.rawValue)")
}

/// The CPU engine and its stream; one per process.
final class DNNLContext: @unchecked Sendable {
    static let shared = DNNLContext()
    let engine: dnnl_engine_t
    let stream: dnnl_stream_t

    private init() {
        var e: dnnl_engine_t?
        dnnlCheck(dnnl_engine_create(&e, dnnl_cpu, 0), "engine create")
        engine = e!
        var s: dnnl_stream_t?
        dnnlCheck(dnnl_stream_create(&s, engine, dnnl_stream_default_flags.rawValue), "stream create")
        stream = s!
    }
}

/// A plain memory descriptor with `dims` in oneDNN's logical order (N, C, H, W for
/// activations) and the physical layout `tag`.
func memoryDesc(_ dims: [Int], _ tag: dnnl_format_tag_t) -> dnnl_memory_desc_t {
    var md = dnnl_memory_desc_t()
    let d = dims.map { Int64($0) }
    dnnlCheck(dnnl_memory_desc_init_by_tag(&md, Int32(d.count), d, dnnl_f32, tag), "memory desc \(dims)")
    return md
}

/// A memory descriptor letting the primitive choose the layout.
func anyDesc(_ dims: [Int]) -> dnnl_memory_desc_t { memoryDesc(dims, dnnl_format_tag_any) }

func descEqual(_ a: dnnl_memory_desc_t, _ b: dnnl_memory_desc_t) -> Bool {
    var a = a, b = b
    return dnnl_memory_desc_equal(&a, &b) != 0
}

func descBytes(_ md: dnnl_memory_desc_t) -> Int {
    var md = md
    return dnnl_memory_desc_get_size(&md)
}

/// A primitive and its descriptor, created once per shape and cached by the backend.
final class DNNLPrimitive: @unchecked Sendable {
    let pd: dnnl_primitive_desc_t
    let primitive: dnnl_primitive_t

    /// Creates from an op descriptor (`dnnl_convolution_desc_t`, …).
    init<Desc>(_ desc: Desc, hint: DNNLPrimitive? = nil, attr: dnnl_primitive_attr_t? = nil, _ what: String) {
        var desc = desc
        var pd: dnnl_primitive_desc_t?
        let status = withUnsafePointer(to: &desc) {
            dnnl_primitive_desc_create(&pd, UnsafeRawPointer($0), attr, DNNLContext.shared.engine, hint?.pd)
        }
        dnnlCheck(status, "\(what) primitive descriptor")
        self.pd = pd!
        var p: dnnl_primitive_t?
        dnnlCheck(dnnl_primitive_create(&p, pd), "\(what) primitive")
        primitive = p!
    }

    /// A reorder from one layout to another.
    init(reorderFrom src: dnnl_memory_desc_t, to dst: dnnl_memory_desc_t) {
        var src = src, dst = dst
        var pd: dnnl_primitive_desc_t?
        let engine = DNNLContext.shared.engine
        dnnlCheck(dnnl_reorder_primitive_desc_create(&pd, &src, engine, &dst, engine, nil), "reorder desc")
        self.pd = pd!
        var p: dnnl_primitive_t?
        dnnlCheck(dnnl_primitive_create(&p, pd), "reorder primitive")
        primitive = p!
    }

    deinit {
        dnnl_primitive_destroy(primitive)
        dnnl_primitive_desc_destroy(pd)
    }

    /// The memory descriptor the primitive wants for `what` (e.g. `dnnl_query_weights_md`).
    func md(_ what: dnnl_query_t, _ index: Int32 = 0) -> dnnl_memory_desc_t {
        dnnl_primitive_desc_query_md(pd, what, index).pointee
    }

    /// Runs on the shared stream and waits. `args` pairs a `DNNL_ARG_*` with memory.
    func execute(_ args: [(Int32, DNNLMemory)]) {
        let list = args.map { dnnl_exec_arg_t(arg: $0.0, memory: $0.1.memory) }
        let ctx = DNNLContext.shared
        dnnlCheck(dnnl_primitive_execute(primitive, ctx.stream, Int32(list.count), list), "execute")
        dnnlCheck(dnnl_stream_wait(ctx.stream), "stream wait")
        withExtendedLifetime(args) {}
    }
}

/// oneDNN memory over a buffer we own (oneDNN never allocates for us).
final class DNNLMemory {
    let memory: dnnl_memory_t

    init(_ md: dnnl_memory_desc_t, _ pointer: UnsafeMutableRawPointer) {
        var md = md
        var m: dnnl_memory_t?
        dnnlCheck(dnnl_memory_create(&m, &md, DNNLContext.shared.engine, pointer), "memory create")
        memory = m!
    }

    deinit { dnnl_memory_destroy(memory) }
}

/// A 64-byte aligned buffer for oneDNN's blocked layouts (reordered weights, workspaces).
final class AlignedBuffer: @unchecked Sendable {
    let pointer: UnsafeMutableRawPointer
    let bytes: Int
    init(bytes: Int) {
        self.bytes = bytes
        pointer = UnsafeMutableRawPointer.allocate(byteCount: max(bytes, 64), alignment: 64)
    }
    deinit { pointer.deallocate() }
}

/// Passes `&value` when `present`, else nil (for optional descriptors such as a conv bias).
func withOptionalPointer<T, R>(to value: inout T, _ present: Bool, _ body: (UnsafePointer<T>?) -> R) -> R {
    present ? withUnsafePointer(to: &value) { body($0) } : body(nil)
}
