import Glibc

/// Image quality against a clean reference, on the 0...255 working scale.
public enum Metrics {
    /// The hosts' entry point: PSNR of the colour channels (alpha ignored) of `test` against
    /// `reference`. Throws `invalidSize` unless the two have one size and channel count.
    public static func psnr(reference: PlanarImage, test: PlanarImage) throws -> Double {
        try checkComparable(reference, test)
        return psnr(reference, test, channels: reference.channels >= 3 ? 3 : 1)
    }

    /// The hosts' entry point for SSIM, as `psnr(reference:test:)`; also `invalidSize` under
    /// SSIM's 11x11 window.
    public static func ssim(reference: PlanarImage, test: PlanarImage) throws -> Double {
        try checkComparable(reference, test)
        guard min(reference.width, reference.height) >= 11 else {
            throw DenoiseError.invalidSize("SSIM needs images of at least 11x11 pixels")
        }
        return ssim(reference, test, channels: reference.channels >= 3 ? 3 : 1)
    }

    static func checkComparable(_ a: PlanarImage, _ b: PlanarImage) throws {
        guard sameShape(a, b) else {
            throw DenoiseError.invalidSize("the images differ in size or channels: \(a.width)x\(a.height)x\(a.channels) "
                                           + "and \(b.width)x\(b.height)x\(b.channels)")
        }
    }

    /// Peak signal-to-noise ratio in dB with peak 255 over every sample of the first `channels`
    /// planes (all of them by default); +infinity for identical images.
    public static func psnr(_ reference: PlanarImage, _ test: PlanarImage, channels: Int? = nil) -> Double {
        precondition(sameShape(reference, test))
        let n = (channels ?? reference.channels) * reference.pixelCount
        var se = 0.0
        for i in 0..<n {
            let d = Double(reference.samples[i]) - Double(test.samples[i])
            se += d * d
        }
        return se == 0 ? .infinity : 10 * log10(255 * 255 / (se / Double(n)))
    }

    /// Structural similarity (Wang, Bovik, Sheikh & Simoncelli 2004) with the paper's constants:
    /// Gaussian window of sigma 1.5 truncated to 11 taps, K1 0.01, K2 0.03, dynamic range 255,
    /// population covariances. Borders are mirrored for the local statistics and the 5 pixels
    /// nearest each edge are left out of the mean, as scikit-image's `structural_similarity` does.
    /// Colour: the mean over the first `channels` planes. Images need at least 11 pixels per side.
    public static func ssim(_ reference: PlanarImage, _ test: PlanarImage, channels: Int? = nil) -> Double {
        precondition(sameShape(reference, test) && min(reference.width, reference.height) >= 11)
        let planes = channels ?? reference.channels
        var total = 0.0
        for c in 0..<planes {
            total += ssimPlane(reference, test, c)
        }
        return total / Double(planes)
    }

    static func sameShape(_ a: PlanarImage, _ b: PlanarImage) -> Bool {
        a.width == b.width && a.height == b.height && a.channels == b.channels
    }

    static let radius = 5
    static let window: [Double] = {
        let w = (-radius...radius).map { exp(-Double($0 * $0) / (2 * 1.5 * 1.5)) }
        let s = w.reduce(0, +)
        return w.map { $0 / s }
    }()

    private static func ssimPlane(_ a: PlanarImage, _ b: PlanarImage, _ c: Int) -> Double {
        let w = a.width, h = a.height, n = w * h, base = c * n
        var x = [Double](repeating: 0, count: n), y = x
        for i in 0..<n {
            x[i] = Double(a.samples[base + i])
            y[i] = Double(b.samples[base + i])
        }
        let mx = blur(x, w, h), my = blur(y, w, h)
        let mxx = blur(zip(x, x).map(*), w, h), myy = blur(zip(y, y).map(*), w, h)
        let mxy = blur(zip(x, y).map(*), w, h)
        let c1 = (0.01 * 255) * (0.01 * 255), c2 = (0.03 * 255) * (0.03 * 255)
        var sum = 0.0
        for yy in radius..<(h - radius) {
            for xx in radius..<(w - radius) {
                let i = yy * w + xx
                let vx = mxx[i] - mx[i] * mx[i], vy = myy[i] - my[i] * my[i], cxy = mxy[i] - mx[i] * my[i]
                sum += (2 * mx[i] * my[i] + c1) * (2 * cxy + c2)
                    / ((mx[i] * mx[i] + my[i] * my[i] + c1) * (vx + vy + c2))
            }
        }
        return sum / Double((w - 2 * radius) * (h - 2 * radius))
    }

    /// Separable Gaussian filter with half-sample symmetric borders (d c b a | a b c d).
    private static func blur(_ src: [Double], _ w: Int, _ h: Int) -> [Double] {
        func mirror(_ i: Int, _ n: Int) -> Int {
            var i = i
            while i < 0 || i >= n { i = i < 0 ? -1 - i : 2 * n - 1 - i }
            return i
        }
        var tmp = [Double](repeating: 0, count: src.count), out = tmp
        for y in 0..<h {
            for x in 0..<w {
                var s = 0.0
                for k in -radius...radius { s += window[k + radius] * src[y * w + mirror(x + k, w)] }
                tmp[y * w + x] = s
            }
        }
        for y in 0..<h {
            for x in 0..<w {
                var s = 0.0
                for k in -radius...radius { s += window[k + radius] * tmp[mirror(y + k, h) * w + x] }
                out[y * w + x] = s
            }
        }
        return out
    }
}
