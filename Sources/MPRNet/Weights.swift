import NeuralCore

/// MPRNet's widths (the official denoising model is 80, 48, 32, 8, 4), and the CABs of an optional
/// fourth, 1/8-resolution level under each decoder's bottom (0: the official three levels).
public struct MPRNetConfig: Sendable, Equatable, CustomStringConvertible {
    public var nFeat: Int, scaleUnetFeats: Int, scaleOrsnetFeats: Int, numCab: Int, reduction: Int
    public var contextCabs: Int

    public init(nFeat: Int, scaleUnetFeats: Int, scaleOrsnetFeats: Int, numCab: Int, reduction: Int, contextCabs: Int = 0) {
        self.nFeat = nFeat
        self.scaleUnetFeats = scaleUnetFeats
        self.scaleOrsnetFeats = scaleOrsnetFeats
        self.numCab = numCab
        self.reduction = reduction
        self.contextCabs = contextCabs
    }

    /// What the input's sides must be a multiple of: stage 1 halves them and each level halves again.
    public var multiple: Int { contextCabs > 0 ? 16 : 8 }

    public static let official = MPRNetConfig(nFeat: 80, scaleUnetFeats: 48, scaleOrsnetFeats: 32, numCab: 8, reduction: 4)

    /// The largest widths and depth a weights file may ask for (the official model: 80 and 8):
    /// they bound what a crafted file can make the loader allocate before its tensors are checked.
    public static let maxWidth = 512, maxCABs = 64

    /// From the safetensors metadata our exporters write (the Python `Config` field names).
    public init(metadata m: [String: String]) throws {
        func field(_ k: String, min: Int = 1, max: Int = Self.maxWidth) throws -> Int {
            guard let s = m[k], let v = Int(s), v >= min, v <= max else {
                throw MPRNetError.badWeights(["metadata field \(k) is missing or not an integer in \(min)...\(max)"])
            }
            return v
        }
        self.init(nFeat: try field("n_feat"), scaleUnetFeats: try field("scale_unetfeats"),
                  scaleOrsnetFeats: try field("scale_orsnetfeats"), numCab: try field("num_cab", max: Self.maxCABs),
                  reduction: try field("reduction"),
                  contextCabs: m["context_cabs"] == nil ? 0 : try field("context_cabs", min: 0, max: Self.maxCABs))
        guard nFeat % reduction == 0, nFeat / reduction > 0 else {
            throw MPRNetError.badWeights(["n_feat \(nFeat) is not divisible by reduction \(reduction)"])
        }
    }

    public var description: String {
        "(\(nFeat), \(scaleUnetFeats), \(scaleOrsnetFeats), \(numCab), \(reduction)" + (contextCabs > 0 ? ", \(contextCabs))" : ")")
    }
}

public enum MPRNetError: Error, Equatable, CustomStringConvertible {
    /// Every problem found in a weights file: missing, extra or mis-shaped tensors.
    case badWeights([String])

    public var description: String {
        switch self {
        case .badWeights(let problems):
            "weights do not fit the model: " + problems.prefix(12).joined(separator: "; ")
                + (problems.count > 12 ? "; and \(problems.count - 12) more" : "")
        }
    }
}

/// Hands out tensors by their PyTorch state_dict name, checking shapes. Problems are collected, not
/// thrown one at a time, so a bad file is reported whole; `finish` throws them with the unused names.
final class WeightReader {
    private let tensors: [String: SafeTensors.Entry]
    private var used: Set<String> = []
    private(set) var problems: [String] = []
    /// Stand-ins for missing or mis-shaped tensors, one per size, so that a bad file costs no more
    /// memory than a good one before `finish` reports it.
    private var zeros: [Int: [Float]] = [:]

    init(_ tensors: [String: SafeTensors.Entry]) { self.tensors = tensors }

    private func take(_ name: String, _ shape: [Int]) -> [Float] {
        used.insert(name)
        guard let t = tensors[name], t.shape == shape else {
            problems.append(tensors[name].map { "\(name) has shape \($0.shape), expected \(shape)" } ?? "missing \(name) \(shape)")
            let count = shape.reduce(1, *)
            if zeros[count] == nil { zeros[count] = [Float](repeating: 0, count: count) }
            return zeros[count]!
        }
        return t.data
    }

    /// `prefix.weight` of a bias-free convolution.
    func conv(_ prefix: String, _ out: Int, _ inp: Int, _ k: Int) -> ConvWeight {
        let data = take(prefix + ".weight", [out, inp, k, k])
        return ConvWeight(outChannels: out, inChannels: inp, kernel: k, data: data, packForAMX: problems.isEmpty)
    }

    /// A single-slope PReLU weight.
    func slope(_ name: String) -> Float { take(name, [1])[0] }

    func finish() throws {
        let extra = tensors.keys.filter { !used.contains($0) }.sorted()
        let all = problems + extra.map { "unexpected tensor \($0)" }
        if !all.isEmpty { throw MPRNetError.badWeights(all) }
    }
}
