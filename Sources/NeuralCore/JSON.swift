/// The JSON subset safetensors headers use: objects, arrays, strings, integers (and literals).
/// Untrusted input: nesting is bounded (no stack overflow) and a repeated key is an error (a
/// second definition of a tensor must not silently replace the first).
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
        var depth = 0
        static let maxDepth = 32

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
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                guard depth < Self.maxDepth else { throw fail("nested deeper than \(Self.maxDepth)") }
                depth += 1
                defer { depth -= 1 }
                return bytes[i] == UInt8(ascii: "{") ? try object() : try array()
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

        private mutating func object() throws -> JSON {
            i += 1
            var out: [String: JSON] = [:]
            skipSpace()
            if i < bytes.count, bytes[i] == UInt8(ascii: "}") { i += 1; return .object(out) }
            while true {
                skipSpace()
                let keyAt = i
                guard case .string(let k) = try value() else { throw fail("expected a key") }
                try expect(UInt8(ascii: ":"))
                guard out.updateValue(try value(), forKey: k) == nil else {
                    i = keyAt
                    throw fail("key \"\(k)\" repeated")
                }
                skipSpace()
                guard i < bytes.count else { throw fail("unexpected end") }
                if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                try expect(UInt8(ascii: "}"))
                return .object(out)
            }
        }

        private mutating func array() throws -> JSON {
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
        }
    }
}
