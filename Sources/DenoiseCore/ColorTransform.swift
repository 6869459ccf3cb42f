import ImageCore
/// The orthonormal opponent-colour transform of Yu & Sapiro (the 3-point DCT basis):
/// Y = (R+G+B)/√3, U = (R−B)/√2, V = (R−2G+B)/√6.
///
/// Being orthonormal, it keeps white noise white with the same sigma in every output channel,
/// so one threshold serves all three.
public enum ColorTransform {
    static let a = Float(1.0 / 3.0.squareRoot())
    static let b = Float(1.0 / 2.0.squareRoot())
    static let c = Float(1.0 / 6.0.squareRoot())

    /// RGB → YUV in place on the first three planes.
    public static func forward(_ image: inout PlanarImage) {
        apply(&image) { r, g, bl in ((r + g + bl) * a, (r - bl) * b, (r - 2 * g + bl) * c) }
    }

    /// YUV → RGB in place on the first three planes (the transpose of `forward`).
    public static func inverse(_ image: inout PlanarImage) {
        apply(&image) { y, u, v in (y * a + u * b + v * c, y * a - 2 * v * c, y * a - u * b + v * c) }
    }

    private static func apply(_ image: inout PlanarImage,
                              _ f: (Float, Float, Float) -> (Float, Float, Float)) {
        precondition(image.channels >= 3)
        let n = image.pixelCount
        image.samples.withUnsafeMutableBufferPointer { s in
            for i in 0..<n {
                let (p, q, r) = f(s[i], s[n + i], s[2 * n + i])
                s[i] = p
                s[n + i] = q
                s[2 * n + i] = r
            }
        }
    }
}
