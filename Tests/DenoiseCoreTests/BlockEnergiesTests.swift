import Testing
import Foundation
import CPlatform
import DCTKernels
import DCTKernelsAVX2

@Suite struct BlockEnergiesTests {
    /// Both builds of the white-noise estimator's kernel against the 2-D DCT summed directly in
    /// double precision from its cosine definition.
    @Test func everyBuildMatchesDirectSums() {
        let w = 37, h = 29, step = 3
        var state: UInt64 = 12345
        let plane: [Float] = (0..<(w * h)).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(state >> 40) / Float(1 << 24) * 255
        }
        let columns = (w - 8) / step + 1, rows = (h - 8) / step + 1, count = columns * rows
        func alpha(_ k: Int) -> Double { k == 0 ? (1.0 / 8).squareRoot() : (2.0 / 8).squareRoot() }
        var expected: [(mean: Double, low: Double, high: Double)] = []
        for i in 0..<rows {
            for j in 0..<columns {
                var low = 0.0, high = 0.0, dc = 0.0
                for u in 0..<8 {
                    for v in 0..<8 {
                        var c = 0.0
                        for y in 0..<8 {
                            for x in 0..<8 {
                                c += Double(plane[(i * step + y) * w + j * step + x])
                                    * cos(Double((2 * x + 1) * u) * .pi / 16) * cos(Double((2 * y + 1) * v) * .pi / 16)
                            }
                        }
                        c *= alpha(u) * alpha(v)
                        if u + v == 0 { dc = c } else if u + v <= 3 { low += c * c } else if u + v >= 8 { high += c * c }
                    }
                }
                expected.append((dc / 8, low, high))
            }
        }
        var builds = [("baseline", DCTKernels.blockEnergies)]
        if denoise_cpu_has_avx2() != 0 { builds.append(("avx2", DCTKernelsAVX2.blockEnergies)) }
        for (name, kernel) in builds {
            var mean = [Float](repeating: 0, count: count), low = mean, high = mean
            plane.withUnsafeBufferPointer {
                kernel($0.baseAddress!, w, h, step, columns, rows, 3, 8, &mean, &low, &high)
            }
            for k in 0..<count {
                #expect(abs(Double(mean[k]) - expected[k].mean) < 1e-3, "\(name) mean of block \(k)")
                #expect(abs(Double(low[k]) - expected[k].low) <= 1e-4 * expected[k].low + 1e-2, "\(name) low band of block \(k)")
                #expect(abs(Double(high[k]) - expected[k].high) <= 1e-4 * expected[k].high + 1e-2, "\(name) high band of block \(k)")
            }
        }
    }
}
