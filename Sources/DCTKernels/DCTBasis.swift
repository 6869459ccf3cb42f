import Glibc

/// The orthonormal DCT-II of size n as a row-major matrix: `c[u * n + i]` is basis function u at
/// sample i, so the forward transform is `X[u] = Σ_i c[u,i] x[i]` and the inverse is its transpose.
public struct DCTBasis: Sendable {
    public let n: Int
    public let c: [Float]

    public init(n: Int) {
        precondition(n > 0)
        self.n = n
        var c = [Float](repeating: 0, count: n * n)
        for u in 0..<n {
            let s = u == 0 ? (1.0 / Double(n)).squareRoot() : (2.0 / Double(n)).squareRoot()
            for i in 0..<n {
                c[u * n + i] = Float(s * cos(Double.pi * Double(2 * i + 1) * Double(u) / Double(2 * n)))
            }
        }
        self.c = c
    }

    /// 1-D forward transform of `x` (length n), for tests and small uses.
    public func forward(_ x: [Float]) -> [Float] {
        (0..<n).map { u in (0..<n).reduce(Float(0)) { $0 + c[u * n + $1] * x[$1] } }
    }

    /// 1-D inverse transform.
    public func inverse(_ y: [Float]) -> [Float] {
        (0..<n).map { i in (0..<n).reduce(Float(0)) { $0 + c[$1 * n + i] * y[$1] } }
    }
}
