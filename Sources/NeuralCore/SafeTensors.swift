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

    public init(bytes: [UInt8], name: String = "weights") throws {
        guard bytes.count >= 8 else { throw Failure.corrupt("\(name): truncated (\(bytes.count) bytes, no header)") }
        let n = (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[$1]) << (8 * UInt64($1)) }
        guard n <= UInt64(bytes.count - 8) else {
            throw Failure.corrupt("\(name): truncated (header of \(n) bytes, file of \(bytes.count))")
        }
        let base = 8 + Int(n)
        guard case .object(let header) = try JSON.parse(Array(bytes[8..<base]), name: name) else {
            throw Failure.corrupt("\(name): header is not a JSON object")
        }
        var tensors: [String: Entry] = [:]
        var metadata: [String: String] = [:]
        for (key, value) in header {
            if key == "__metadata__" {
                guard case .object(let m) = value else { throw Failure.corrupt("\(name): __metadata__ is not an object") }
                for (k, v) in m { if case .string(let s) = v { metadata[k] = s } }
                continue
            }
            guard case .object(let info) = value, case .string(let dtype)? = info["dtype"],
                  case .array(let shapeValues)? = info["shape"], case .array(let offsets)? = info["data_offsets"],
                  offsets.count == 2, case .number(let a) = offsets[0], case .number(let b) = offsets[1] else {
                throw Failure.corrupt("\(name): tensor \(key) lacks dtype, shape or data_offsets")
            }
            let shape = try shapeValues.map { v -> Int in
                guard case .number(let d) = v, d >= 0 else { throw Failure.corrupt("\(name): tensor \(key) has a bad shape") }
                return d
            }
            let count = shape.reduce(1, *)
            let size: Int
            switch dtype {
            case "F32": size = 4
            case "F16": size = 2
            default: throw Failure.corrupt("\(name): tensor \(key) has dtype \(dtype); F32 and F16 are supported")
            }
            guard a <= b, b - a == count * size else {
                throw Failure.corrupt("\(name): tensor \(key) of shape \(shape) \(dtype) spans \(b - a) bytes, not \(count * size)")
            }
            guard base + b <= bytes.count else {
                throw Failure.corrupt("\(name): truncated: tensor \(key) ends at byte \(base + b) of \(bytes.count)")
            }
            let data = bytes.withUnsafeBytes { raw -> [Float] in
                let p = raw.baseAddress! + base + a
                return size == 4
                    ? (0..<count).map { Float(bitPattern: UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) }
                    : (0..<count).map { Float(Float16(bitPattern: UInt16(littleEndian: p.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self)))) }
            }
            if let bad = data.firstIndex(where: { !$0.isFinite }) {
                throw Failure.corrupt("\(name): tensor \(key) holds a non-finite value at index \(bad)")
            }
            tensors[key] = Entry(shape: shape, data: data)
        }
        self.tensors = tensors
        self.metadata = metadata
    }
}

/// The JSON subset safetensors headers use: objects, arrays, strings, integers (and literals).
enum JSON: Equatable {
    case object([String: JSON]), array([JSON]), string(String), number(Int), literal

    static func parse(_ bytes: [UInt8], name: String) throws -> JSON {
        var p = Parser(bytes: bytes, name: name)
        let v = try p.value()
        p.skipSpace()
        guard p.i == bytes.count else { throw p.fail("trailing bytes") }
        return v
    }

    struct Parser {
        let bytes: [UInt8]
        let name: String
        var i = 0

        func fail(_ what: String) -> SafeTensors.Failure { .corrupt("\(name): bad JSON header (\(what) at byte \(i))") }

        mutating func skipSpace() {
            while i < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[i]) { i += 1 }
        }

        mutating func expect(_ c: UInt8) throws {
            skipSpace()
            guard i < bytes.count, bytes[i] == c else { throw fail("expected '\(Character(UnicodeScalar(c)))'") }
            i += 1
        }

        mutating func value() throws -> JSON {
            skipSpace()
            guard i < bytes.count else { throw fail("unexpected end") }
            switch bytes[i] {
            case UInt8(ascii: "{"):
                i += 1
                var out: [String: JSON] = [:]
                skipSpace()
                if i < bytes.count, bytes[i] == UInt8(ascii: "}") { i += 1; return .object(out) }
                while true {
                    guard case .string(let k) = try value() else { throw fail("expected a key") }
                    try expect(UInt8(ascii: ":"))
                    out[k] = try value()
                    skipSpace()
                    guard i < bytes.count else { throw fail("unexpected end") }
                    if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                    try expect(UInt8(ascii: "}"))
                    return .object(out)
                }
            case UInt8(ascii: "["):
                i += 1
                var out: [JSON] = []
                skipSpace()
                if i < bytes.count, bytes[i] == UInt8(ascii: "]") { i += 1; return .array(out) }
                while true {
                    out.append(try value())
                    skipSpace()
                    guard i < bytes.count else { throw fail("unexpected end") }
                    if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                    try expect(UInt8(ascii: "]"))
                    return .array(out)
                }
            case UInt8(ascii: "\""):
                i += 1
                var s: [UInt8] = []
                while i < bytes.count, bytes[i] != UInt8(ascii: "\"") {
                    if bytes[i] == UInt8(ascii: "\\") {
                        i += 1
                        guard i < bytes.count else { break }
                        let map: [UInt8: UInt8] = [UInt8(ascii: "n"): 0x0A, UInt8(ascii: "t"): 0x09, UInt8(ascii: "r"): 0x0D]
                        if bytes[i] == UInt8(ascii: "u") { throw fail("\\u escapes are not supported") }
                        s.append(map[bytes[i]] ?? bytes[i])
                    } else {
                        s.append(bytes[i])
                    }
                    i += 1
                }
                try expect(UInt8(ascii: "\""))
                return .string(String(decoding: s, as: UTF8.self))
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                let neg = bytes[i] == UInt8(ascii: "-")
                if neg { i += 1 }
                var v = 0
                var digits = 0
                while i < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[i]) {
                    let (m, o1) = v.multipliedReportingOverflow(by: 10)
                    let (s, o2) = m.addingReportingOverflow(Int(bytes[i] - UInt8(ascii: "0")))
                    guard !o1, !o2 else { throw fail("number too large") }
                    v = s
                    i += 1
                    digits += 1
                }
                guard digits > 0 else { throw fail("bad number") }
                return .number(neg ? -v : v)
            default:
                for word in ["true", "false", "null"] where bytes[i...].starts(with: Array(word.utf8)) {
                    i += word.utf8.count
                    return .literal
                }
                throw fail("unexpected character")
            }
        }
    }
}
