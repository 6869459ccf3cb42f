import CImageCodecs
import DenoiseCore
import ImageCore

/// The evaluation images: $DENOISE_DATA/eval, else ../shared/data/eval beside the repository.
let evalData: String = {
    if let data = getenv("DENOISE_DATA"), data.pointee != 0 { return String(cString: data) + "/eval" }
    let parts = #filePath.split(separator: "/", omittingEmptySubsequences: false).dropLast(3)  // the repo root
    return parts.joined(separator: "/") + "/../shared/data/eval"
}()

func readImage(_ path: String) throws -> PlanarImage {
    var raw = ic_image()
    var err = [CChar](repeating: 0, count: 256)
    guard ic_read(path, &raw, &err, err.count) == 0 else {
        if path.hasPrefix(evalData), access(evalData, F_OK) != 0 {
            throw TestError.missingData("the evaluation images are missing (no \(evalData)): put the project's "
                + "shared/ folder beside the repository or point DENOISE_DATA at its data/ folder")
        }
        throw TestError.io(path + ": " + String(decoding: err.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }
    defer { ic_free(&raw) }
    return try PlanarImage(interleaved: raw.data, layout: PixelLayout(
        width: Int(raw.width), height: Int(raw.height), channels: Int(raw.channels), type: raw.bits == 16 ? .u16 : .u8))
}

enum TestError: Error { case io(String), missingData(String) }

/// SplitMix64 and Box-Muller: reproducible Gaussian noise without Foundation.
struct Noise {
    var state: UInt64
    mutating func uniform() -> Double {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return (Double((z ^ (z >> 31)) >> 11) + 0.5) / 9_007_199_254_740_992
    }
    mutating func gaussian() -> Double {
        (-2 * log(uniform())).squareRoot() * cos(2 * Double.pi * uniform())
    }
}

/// The project's protocol: 8-bit noisy values round(clip(clean + sigma N)).
func addNoise(_ img: PlanarImage, sigma: Double, seed: UInt64) -> PlanarImage {
    var rng = Noise(state: seed)
    var out = img
    for i in out.samples.indices {
        out.samples[i] = Float(min(255, max(0, (Double(img.samples[i]) + sigma * rng.gaussian()).rounded())))
    }
    return out
}

func psnr8(_ a: PlanarImage, _ b: PlanarImage) -> Double {
    var se = 0.0
    for i in a.samples.indices {
        let d = Double(min(255, max(0, a.samples[i].rounded()))) - Double(b.samples[i])
        se += d * d
    }
    return 10 * log10(255 * 255 / (se / Double(a.samples.count)))
}

#if canImport(Glibc)
import Glibc
#endif
