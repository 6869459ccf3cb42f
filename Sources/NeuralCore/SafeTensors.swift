import Glibc

/// A safetensors file: u64 little-endian header length, a JSON header naming each tensor's dtype,
/// shape and byte range, then the raw little-endian data. F32 and F16 tensors are read (as Float).
public struct SafeTensors: Sendable {
    public struct Entry: Sendable {
        public let shape: [Int]
        public let data: [Float]

        public init(shape: [Int], data: [Float]) {
            self.shape = shape
            self.data = data
        }
    }

    public let tensors: [String: Entry]
    public let metadata: [String: String]

    public enum Failure: Error, Equatable, CustomStringConvertible {
        case io(String)
        case corrupt(String)

        public var description: String {
            switch self {
            case .io(let m), .corrupt(let m): m
            }
        }
    }

    public init(path: String) throws {
        guard let f = fopen(path, "rb") else { throw Failure.io("cannot open \(path)") }
        defer { fclose(f) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = fread(&chunk, 1, chunk.count, f)
            if n > 0 { bytes += chunk[0..<n] }
            if n < chunk.count { break }
        }
        if ferror(f) != 0 { throw Failure.io("cannot read \(path)") }
        try self.init(bytes: bytes, name: path)
    }

    /// Validates everything before reading a byte of data, as gguf loaders do: dtype, shape
    /// (non-negative, product without overflow), offsets (non-negative, ordered, inside the data
    /// section, not overlapping another tensor), span = elements × dtype size, finite values.
    public init(bytes: [UInt8], name: String = "weights") throws {
        func corrupt(_ m: String) -> Failure { .corrupt("\(name): \(m)") }
        guard bytes.count >= 8 else { throw corrupt("truncated (\(bytes.count) bytes, no header)") }
        let n = (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[$1]) << (8 * UInt64($1)) }
        guard n <= UInt64(bytes.count - 8) else { throw corrupt("truncated (header of \(n) bytes, file of \(bytes.count))") }
        let base = 8 + Int(n), dataSize = bytes.count - base
        guard case .object(let header) = try JSON.parse(Array(bytes[8..<base]), name: name) else {
            throw corrupt("header is not a JSON object")
        }
        var metadata: [String: String] = [:]
        var layout: [(key: String, shape: [Int], elementSize: Int, range: Range<Int>)] = []
        for (key, value) in header {
            if key == "__metadata__" {
                guard case .object(let m) = value else { throw corrupt("__metadata__ is not an object") }
                for (k, v) in m { if case .string(let s) = v { metadata[k] = s } }
                continue
            }
            guard case .object(let info) = value, case .string(let dtype)? = info["dtype"],
                  case .array(let shapeValues)? = info["shape"], case .array(let offsets)? = info["data_offsets"],
                  offsets.count == 2, case .number(let a) = offsets[0], case .number(let b) = offsets[1] else {
                throw corrupt("tensor \(key) lacks dtype, shape or data_offsets")
            }
            let elementSize: Int
            switch dtype {
            case "F32": elementSize = 4
            case "F16": elementSize = 2
            default: throw corrupt("tensor \(key) has dtype \(dtype); F32 and F16 are supported")
            }
            var shape: [Int] = [], count = 1
            for v in shapeValues {
                guard case .number(let d) = v, d >= 0 else { throw corrupt("tensor \(key) has a bad shape") }
                let (c, overflow) = count.multipliedReportingOverflow(by: d)
                guard !overflow, c <= dataSize / elementSize else {
                    throw corrupt("tensor \(key) has a shape larger than the file")
                }
                shape.append(d)
                count = c
            }
            guard a >= 0, a <= b, a <= dataSize else {
                throw corrupt("tensor \(key) has data_offsets [\(a), \(b)] outside the data section of \(dataSize) bytes")
            }
            guard b <= dataSize else { throw corrupt("truncated: tensor \(key) ends at byte \(b) of a \(dataSize)-byte data section") }
            guard b - a == count * elementSize else {
                throw corrupt("tensor \(key) of shape \(shape) \(dtype) spans \(b - a) bytes, not \(count * elementSize)")
            }
            layout.append((key, shape, elementSize, a..<b))
        }
        layout.sort { ($0.range.lowerBound, $0.range.upperBound) < ($1.range.lowerBound, $1.range.upperBound) }
        let filled = layout.filter { !$0.range.isEmpty }
        for (prev, next) in zip(filled, filled.dropFirst()) where next.range.lowerBound < prev.range.upperBound {
            throw corrupt("tensors \(prev.key) and \(next.key) overlap")
        }

        var tensors: [String: Entry] = [:]
        for t in layout {
            let count = t.range.count / t.elementSize
            let data = bytes.withUnsafeBytes { raw -> [Float] in
                let p = raw.baseAddress! + base + t.range.lowerBound
                return t.elementSize == 4
                    ? (0..<count).map { Float(bitPattern: UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) }
                    : (0..<count).map { Float(Float16(bitPattern: UInt16(littleEndian: p.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self)))) }
            }
            if let bad = data.firstIndex(where: { !$0.isFinite }) {
                throw corrupt("tensor \(t.key) holds a non-finite value at index \(bad)")
            }
            tensors[t.key] = Entry(shape: t.shape, data: data)
        }
        self.tensors = tensors
        self.metadata = metadata
    }
}
