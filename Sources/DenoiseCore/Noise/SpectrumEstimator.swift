import ImageCore
import DCTKernels
import Dispatch

/// Blind estimation of an image's `NoiseSpectrum`: the noise of every patch DCT coefficient at every
/// scale and in every colour channel, after Colom, Lebrun, Buades & Morel ("A non-parametric
/// approach for the estimation of intensity-frequency dependent noise", ICIP 2014) and Lebrun, Colom
/// & Morel ("The Noise Clinic", IPOL 2015; "Multiscale image blind denoising", IEEE TIP 2015).
///
/// In each pyramid layer and channel, the blocks with the least low-frequency energy are the flat
/// ones, chosen within each intensity bin (noise depends on intensity, and the flattest blocks
/// overall would be those of the least noisy intensity); the spread of each of their other
/// coefficients is that coefficient's noise (for Gaussian noise the DCT coefficients are close to
/// independent, so choosing blocks by some of them leaves the others unbiased). The low
/// frequencies used for the choice are measured one or two layers down, where they are middle
/// frequencies: coefficient (u, v) of layer i sees the noise of (2u, 2v) of layer i + 1 at twice
/// its level.
public enum SpectrumEstimator {
    /// Share of the blocks, the flattest of each intensity bin, that measure the noise.
    static let flatFraction = 0.02
    static let intensityBins = 6
    static let minimumBlocks = 120
    /// Blocks examined per layer and channel (a sparser grid on large layers).
    static let maximumBlocks = 32768
    /// Layers below the denoiser's coarsest, measured for its low frequencies.
    static let extraLayers = 2
    /// Blocks whose mean is this close to black or white are left out: clipping hides their noise.
    static let clipMargin: Float = 4

    /// Measures `image`'s noise (colour planes in the decorrelated space of `ColorTransform`, or one
    /// gray plane; 0...255 scale) for `layers` pyramid layers and patch side `n`. Nil when the image
    /// is too small to measure even its finest layer.
    public static func estimate(decorrelated image: PlanarImage, patchSize n: Int, layers: Int) -> NoiseSpectrum? {
        let channels = image.channels
        var depth = layers + extraLayers
        while depth > 1 && min(image.width, image.height) >> (depth - 1) < 2 * n { depth -= 1 }
        let pyramid = DCTPyramid.decompose(image, levels: depth)
        // measured[i][c]: variances of the coefficients, nil where not measurable.
        let tasks = depth * channels
        let results = ResultSlots<[Float?]?>(count: tasks)
        DispatchQueue.concurrentPerform(iterations: tasks) { t in
            results[t] = .some(measure(pyramid[t / channels], channel: t % channels, n: n))
        }
        let measured = results.values
        guard (0..<channels).allSatisfy({ measured[$0] != nil }) else { return nil }

        var spectra: [[Float]] = []
        for i in 0..<layers {
            var layer = [Float](repeating: 0, count: channels * n * n)
            for c in 0..<channels {
                guard let own = i < depth ? measured[i * channels + c] : nil else {
                    // Too small to measure: the finer layer's spectrum, at this layer's resolution.
                    for u in 0..<n {
                        for v in 0..<n { layer[(c * n + u) * n + v] = spectra[i - 1][(c * n + u / 2) * n + v / 2] / 2 }
                    }
                    continue
                }
                let deeper = [1, 2].map { d in i + d < depth ? measured[(i + d) * channels + c] : nil }
                for (k, s) in fill(own, deeper: deeper, n: n).enumerated() { layer[c * n * n + k] = s }
            }
            spectra.append(layer)
        }
        return NoiseSpectrum(patchSize: n, channels: channels, layers: spectra)
    }

    /// Low frequencies (u + v ≤ `lowLimit`) from the deeper layers' measurements: (2u, 2v) one
    /// layer down at twice the level, else (4u, 4v) two down at four times; else the mean of the
    /// nearest measured band of this layer. Returns standard deviations.
    static func fill(_ own: [Float?], deeper: [[Float?]?], n: Int) -> [Float] {
        let low = lowLimit(n)
        var ring: Float = 0, count: Float = 0
        for u in 0..<n {
            for v in 0..<n where u + v > low && u + v <= low + 2 {
                if let s = own[u * n + v] { ring += s; count += 1 }
            }
        }
        let ringVariance = count > 0 ? ring / count : 0
        var out = [Float](repeating: 0, count: n * n)
        for u in 0..<n {
            for v in 0..<n {
                var variance = own[u * n + v]
                for (d, scale) in [(1, 2), (2, 4)] where variance == nil && u + v > 0 {
                    let du = u * scale, dv = v * scale
                    if du < n, dv < n, let layer = deeper[d - 1], let s = layer[du * n + dv] {
                        variance = s * Float(scale * scale)
                    }
                }
                out[u * n + v] = (variance ?? ringVariance).squareRoot()
            }
        }
        return out
    }

    /// Coefficients with 0 < u + v ≤ this measure a block's structure.
    static func lowLimit(_ n: Int) -> Int { 3 * n / 8 }

    /// The variances of `channel`'s coefficients in `layer` (nil for the low ones used to choose
    /// the blocks), or nil if the layer has too few blocks to measure.
    static func measure(_ layer: PlanarImage, channel: Int, n: Int) -> [Float?]? {
        let w = layer.width, h = layer.height
        guard w >= n, h >= n else { return nil }
        let positions = (w - n + 1) * (h - n + 1)
        let stride = max(1, Int((Double(positions) / Double(maximumBlocks)).squareRoot().rounded(.up)))
        let bx = (w - n) / stride + 1, by = (h - n) / stride + 1
        guard Double(bx * by) * flatFraction >= Double(minimumBlocks) else { return nil }
        let low = lowLimit(n)
        let basis = DCTBasis(n: n).c
        let plane = channel * layer.pixelCount
        let intensity = blockMeans(layer, n: n, stride: stride, bx: bx, by: by)

        // Row transforms (horizontal frequencies 0...low) of every block's rows, shared by the
        // blocks that overlap vertically.
        var rows = [Float](repeating: 0, count: h * bx * (low + 1))
        layer.samples.withUnsafeBufferPointer { s in
            for y in 0..<h {
                for j in 0..<bx {
                    let src = plane + y * w + j * stride
                    for v in 0...low {
                        var acc: Float = 0
                        for x in 0..<n { acc += basis[v * n + x] * s[src + x] }
                        rows[(y * bx + j) * (low + 1) + v] = acc
                    }
                }
            }
        }
        var candidates: [(energy: Float, index: Int)] = []
        candidates.reserveCapacity(bx * by)
        for i in 0..<by {
            for j in 0..<bx {
                let m = intensity[i * bx + j]
                guard m > clipMargin && m < 255 - clipMargin else { continue }
                var energy: Float = 0
                for u in 0...low {
                    for v in 0...(low - u) where u + v > 0 {
                        var acc: Float = 0
                        for y in 0..<n { acc += basis[u * n + y] * rows[((i * stride + y) * bx + j) * (low + 1) + v] }
                        energy += acc * acc
                    }
                }
                candidates.append((energy, i * bx + j))
            }
        }
        // Noise depends on intensity, and the flattest blocks overall would be those of the least
        // noisy intensity: choose the flattest within each intensity bin (equal block counts), and
        // average the bins.
        let bins = intensityBins
        let perBin = Int(Double(candidates.count / bins) * flatFraction)
        guard perBin >= minimumBlocks / bins else { return nil }
        candidates.sort { intensity[$0.index] < intensity[$1.index] }
        var block = [Float](repeating: 0, count: n * n), tmp = [Float](repeating: 0, count: n * n)
        var chosen: [Float] = []
        chosen.reserveCapacity(perBin * bins * n * n)
        for b in 0..<bins {
            let range = candidates.count * b / bins ..< candidates.count * (b + 1) / bins
            NoiseEstimator.partition(&candidates, range, kth: range.lowerBound + perBin - 1) { $0.energy < $1.energy }
            layer.samples.withUnsafeBufferPointer { s in
                for (_, index) in candidates[range.lowerBound ..< range.lowerBound + perBin] {
                    let x0 = (index % bx) * stride, y0 = (index / bx) * stride
                    for y in 0..<n {
                        for v in 0..<n {
                            var acc: Float = 0
                            for x in 0..<n { acc += basis[v * n + x] * s[plane + (y0 + y) * w + x0 + x] }
                            tmp[y * n + v] = acc
                        }
                    }
                    for u in 0..<n {
                        for v in 0..<n {
                            var acc: Float = 0
                            for y in 0..<n { acc += basis[u * n + y] * tmp[y * n + v] }
                            block[u * n + v] = acc
                        }
                    }
                    chosen += block
                }
            }
        }
        // The median of each coefficient's squares, over 0.4549 (the median of a χ² with one
        // degree of freedom): a variance that the odd textured block among the chosen cannot inflate.
        let m = perBin * bins
        var squares = [Float](repeating: 0, count: m)
        return (0..<n * n).map { i -> Float? in
            guard i / n + i % n > low else { return nil }
            for b in 0..<m { squares[b] = chosen[b * n * n + i] * chosen[b * n * n + i] }
            NoiseEstimator.partition(&squares, 0..<m, kth: m / 2) { $0 < $1 }
            return squares[m / 2] / 0.4549
        }
    }

    /// The mean intensity (0...255, as the RGB mean) of every block on the grid: the Y plane over
    /// √3 for colour, the plane itself for gray.
    static func blockMeans(_ layer: PlanarImage, n: Int, stride: Int, bx: Int, by: Int) -> [Float] {
        let w = layer.width, h = layer.height
        let scale: Float = layer.channels >= 3 ? 1 / Float(3).squareRoot() : 1
        // Summed-area table of plane 0.
        var sat = [Double](repeating: 0, count: (w + 1) * (h + 1))
        for y in 0..<h {
            var row = 0.0
            for x in 0..<w {
                row += Double(layer.samples[y * w + x])
                sat[(y + 1) * (w + 1) + x + 1] = sat[y * (w + 1) + x + 1] + row
            }
        }
        var out = [Float](repeating: 0, count: bx * by)
        for i in 0..<by {
            for j in 0..<bx {
                let x0 = j * stride, y0 = i * stride, x1 = x0 + n, y1 = y0 + n
                let sum = sat[y1 * (w + 1) + x1] - sat[y0 * (w + 1) + x1] - sat[y1 * (w + 1) + x0] + sat[y0 * (w + 1) + x0]
                out[i * bx + j] = Float(sum / Double(n * n)) * scale
            }
        }
        return out
    }
}
