/// A filter's parameter as every host presents it: name, meaning, default and range, declared
/// once beside the filter. The library validates against it, the command line prints it in its
/// help, and the C API hands it to the GIMP dialogs (`dn_dct_parameter`, `dn_mprnet_parameter`).
public struct Parameter: Sendable {
    /// The field's name in the C parameter struct (`patch_size`).
    public let name: String
    /// What it does, one sentence, for help texts and tooltips.
    public let summary: String
    public let defaultValue: Double
    /// Values a caller may give; `range` holds them all (`extra` aside).
    public let range: ClosedRange<Double>
    /// When set, the only values allowed inside `range` (patch size: 8, 16).
    public let choices: [Double]?
    /// Values allowed outside `range` with a meaning of their own (tile 0: the whole image).
    public let extra: [Double]
    public let isInteger: Bool

    public init(_ name: String, _ summary: String, default defaultValue: Double, range: ClosedRange<Double>,
                choices: [Double]? = nil, extra: [Double] = [], integer: Bool = false) {
        precondition(range.contains(defaultValue) || extra.contains(defaultValue))
        self.name = name
        self.summary = summary
        self.defaultValue = defaultValue
        self.range = range
        self.choices = choices
        self.extra = extra
        self.isInteger = integer
    }

    public func allows(_ v: Double) -> Bool {
        guard v.isFinite else { return false }
        if extra.contains(v) { return true }
        if isInteger && v != v.rounded() { return false }
        if let choices { return choices.contains(v) }
        return range.contains(v)
    }

    /// Throws `invalidArgument` ("scales must be 1-6, got 9") unless `v` is allowed.
    public func check(_ v: Double) throws {
        guard allows(v) else { throw DenoiseError.invalidArgument("\(words) must be \(allowed), got \(Self.text(v))") }
    }

    public func check(_ v: Float) throws { try check(Double(v)) }
    public func check(_ v: Int) throws { try check(Double(v)) }

    /// "1-6", "8 or 16", "0 or 64-16384".
    public var allowed: String {
        let inRange = choices.map { $0.map(Self.text).joined(separator: " or ") }
            ?? "\(Self.text(range.lowerBound))-\(Self.text(range.upperBound))"
        return (extra.map(Self.text) + [inRange]).joined(separator: " or ")
    }

    /// The summary with the allowed values, for help texts (which show the default themselves).
    public var help: String { "\(summary) (\(allowed))." }

    /// The name as words, for messages ("patch size").
    public var words: String { name.split(separator: "_").joined(separator: " ") }

    /// A value as the messages print it: integers without a decimal point.
    public static func text(_ v: Double) -> String {
        guard v.isFinite else { return "\(v)" }
        if v == v.rounded(), abs(v) < 1e15 { return String(Int64(v)) }
        return "\(v)"
    }
}
