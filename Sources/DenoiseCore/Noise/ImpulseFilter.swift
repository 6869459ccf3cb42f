import ImageCore
import Dispatch
/// Salt-and-pepper removal that changes only the impulses.
///
/// A sample is a candidate when it sits at an end of the range (0 or 255); when the image's
/// extreme samples come as whole pixels (every colour channel at the same end, as salt and pepper
/// usually strikes), only such pixels are candidates, so a dark red with no blue is left alone. A
/// candidate in a solid region at the same end is a genuine highlight or shadow and is kept; any
/// other is an impulse when the median of the nearest ordinary samples lies more than `threshold`
/// away. Each impulse becomes the median of the ordinary samples in the smallest window holding a
/// few of them, as decision-based median filters do; every other sample is left exactly as it was.
public enum ImpulseFilter {
    public struct Parameters: Sendable, Equatable {
        /// How far (0...255 scale) from its ordinary neighbours an extreme sample must be to count as an impulse.
        public var threshold: Float = 25
        /// Widest search radius for ordinary neighbours.
        public var maxRadius: Int = 6
        public init() {}
    }

    public struct Result: Sendable {
        public var image: PlanarImage
        /// The restored samples, plane by plane over the colour planes (true = was an impulse).
        public var mask: [Bool]
        public var impulses: Int { mask.reduce(0) { $0 + ($1 ? 1 : 0) } }
    }

    static func isExtreme(_ v: Float) -> Bool { v <= 0.5 || v >= 254.5 }

    /// Restores the impulses of the colour planes (alpha is left as it was).
    public static func restore(_ image: PlanarImage, _ p: Parameters = Parameters(), job: Job) throws -> Result {
        let color = image.channels >= 3 ? 3 : 1, n = image.pixelCount
        let mask = detect(image, p)
        let planes = try job.run(tasks: color) { c in
            let restored = restorePlane(image, c, mask[c * n ..< (c + 1) * n])
            job.advance(image.height)
            return restored
        }
        var out = image
        for (c, plane) in planes.enumerated() { out.samples.replaceSubrange(c * n ..< (c + 1) * n, with: plane) }
        return Result(image: out, mask: mask)
    }

    /// The impulses among the colour planes' samples (plane by plane).
    public static func detect(_ image: PlanarImage, _ p: Parameters = Parameters()) -> [Bool] {
        detect(image, candidates: candidates(image), p)
    }

    static func detect(_ image: PlanarImage, candidates cand: [Bool], _ p: Parameters) -> [Bool] {
        let color = image.channels >= 3 ? 3 : 1
        let planes = ResultSlots<[Bool]>(count: color)
        DispatchQueue.concurrentPerform(iterations: color) { planes[$0] = detect(image, plane: $0, candidates: cand, p) }
        return planes.values.flatMap { $0 }
    }

    /// The detected impulses of an image, counted at each end of the range.
    struct Survey {
        let image: PlanarImage
        let candidates: [Bool], mask: [Bool]
        var salt = 0, pepper = 0

        /// How many impulses lie more than half the range from the median of their ordinary 5x5
        /// neighbours. Clipped Gaussian noise reaches an end only near it; salt and pepper strike
        /// any tone.
        func far() -> Int {
            let w = image.width, h = image.height, n = image.pixelCount
            var count = 0
            var others: [Float] = []
            for (i, hit) in mask.enumerated() where hit {
                let v = image.samples[i]
                let base = (i / n) * n, x = (i % n) % w, y = (i % n) / w
                others.removeAll(keepingCapacity: true)
                for yy in max(0, y - 2)...min(h - 1, y + 2) {
                    for xx in max(0, x - 2)...min(w - 1, x + 2) where !candidates[base + yy * w + xx] {
                        others.append(image.samples[base + yy * w + xx])
                    }
                }
                if !others.isEmpty && abs(median(&others) - v) > 128 { count += 1 }
            }
            return count
        }
    }

    static func survey(_ image: PlanarImage, _ p: Parameters = Parameters()) -> Survey {
        let cand = candidates(image)
        var s = Survey(image: image, candidates: cand, mask: detect(image, candidates: cand, p))
        for (i, hit) in s.mask.enumerated() where hit {
            if image.samples[i] > 128 { s.salt += 1 } else { s.pepper += 1 }
        }
        return s
    }

    /// Extreme samples; only whole extreme pixels when at least 80% of the extreme samples lie in them.
    static func candidates(_ image: PlanarImage) -> [Bool] {
        let color = image.channels >= 3 ? 3 : 1, n = image.pixelCount, s = image.samples
        var cand = (0..<(color * n)).map { isExtreme(s[$0]) }
        guard color == 3 else { return cand }
        var whole = [Bool](repeating: false, count: n)
        var extreme = 0, inWhole = 0
        for i in 0..<n {
            let r = s[i], g = s[n + i], b = s[2 * n + i]
            whole[i] = (r <= 0.5 && g <= 0.5 && b <= 0.5) || (r >= 254.5 && g >= 254.5 && b >= 254.5)
            for c in 0..<3 where cand[c * n + i] { extreme += 1 }
            if whole[i] { inWhole += 3 }
        }
        if inWhole * 5 >= extreme * 4 {
            for c in 0..<3 { for i in 0..<n { cand[c * n + i] = whole[i] } }
        }
        return cand
    }

    static func detect(_ image: PlanarImage, plane c: Int, candidates: [Bool], _ p: Parameters) -> [Bool] {
        let w = image.width, h = image.height, base = c * image.pixelCount
        let plane = image.samples[base ..< base + w * h], cand = candidates[base ..< base + w * h]
        let saturated = solidRegions(plane, cand, w, h)
        var mask = [Bool](repeating: false, count: w * h)
        var others: [Float] = []
        for y in 0..<h {
            for x in 0..<w where cand[base + y * w + x] && !saturated[y * w + x] {
                let v = plane[base + y * w + x]
                for r in 1...p.maxRadius {
                    others.removeAll(keepingCapacity: true)
                    for yy in max(0, y - r)...min(h - 1, y + r) {
                        for xx in max(0, x - r)...min(w - 1, x + r) where !cand[base + yy * w + xx] {
                            others.append(plane[base + yy * w + xx])
                        }
                    }
                    if others.count >= 3 { break }
                }
                mask[y * w + x] = others.isEmpty || abs(median(&others) - v) > p.threshold
            }
        }
        return mask
    }

    /// Candidates in solid 8-connected regions at one end of the range: at least 3 samples, and a
    /// tenth of the region, with 6 or more of their 8 neighbours at that end too. Random impulses
    /// at either end form sparse clusters where such samples are rare (under 1% at density 25%),
    /// while a highlight or shadow is solid even under heavy salt and pepper.
    static func solidRegions(_ plane: ArraySlice<Float>, _ cand: ArraySlice<Bool>, _ w: Int, _ h: Int) -> [Bool] {
        let base = plane.startIndex
        var seen = [Bool](repeating: false, count: w * h), solid = seen
        var stack: [Int] = [], region: [Int] = []
        for start in 0..<(w * h) where !seen[start] && cand[base + start] {
            let bright = plane[base + start] > 128
            seen[start] = true
            stack.append(start)
            region.removeAll(keepingCapacity: true)
            var core = 0
            while let i = stack.popLast() {
                region.append(i)
                let x = i % w, y = i / w
                var alike = 0
                for yy in max(0, y - 1)...min(h - 1, y + 1) {
                    for xx in max(0, x - 1)...min(w - 1, x + 1) {
                        let j = yy * w + xx
                        guard cand[base + j] && (plane[base + j] > 128) == bright else { continue }
                        alike += 1
                        if !seen[j] {
                            seen[j] = true
                            stack.append(j)
                        }
                    }
                }
                if alike > 6 { core += 1 }  // itself and 6 of its 8 neighbours
            }
            if core >= 3 && core * 10 >= region.count { for i in region { solid[i] = true } }
        }
        return solid
    }

    /// Plane `c` with each impulse replaced by the median of the ordinary samples in the smallest
    /// window around it that holds three (or all there are).
    private static func restorePlane(_ image: PlanarImage, _ c: Int, _ mask: ArraySlice<Bool>) -> [Float] {
        let w = image.width, h = image.height, base = c * image.pixelCount
        var out = Array(image.samples[base ..< base + w * h])
        var good: [Float] = []
        for y in 0..<h {
            for x in 0..<w where mask[base + y * w + x] {
                var r = 1
                while true {
                    good.removeAll(keepingCapacity: true)
                    for yy in max(0, y - r)...min(h - 1, y + r) {
                        for xx in max(0, x - r)...min(w - 1, x + r) where !mask[base + yy * w + xx] {
                            good.append(image.samples[base + yy * w + xx])
                        }
                    }
                    if good.count >= 3 || r >= max(w, h) { break }
                    r += 1
                }
                if !good.isEmpty { out[y * w + x] = median(&good) }
            }
        }
        return out
    }

    /// The median (upper middle for even counts), reordering `v`.
    static func median(_ v: inout [Float]) -> Float {
        NoiseEstimator.partition(&v, 0..<v.count, kth: v.count / 2, by: <)
        return v[v.count / 2]
    }
}
