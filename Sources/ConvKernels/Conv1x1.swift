import ConvArguments

/// 1x1 convolution (no bias) for the pixels `columns`: output = conv(input) + residual.
///
/// Built three times like `conv3x3Rows`. A 1x1 convolution is a matrix product of weights
/// [cout][cin] and pixels [cin][plane]; as in the 3x3 kernel each input vector feeds eight output
/// channels, and a block of pixels stays in L1 while every output channel passes over it.
/// Only the pixels `columns` are written.
public func conv1x1Columns(_ a: Conv1x1Arguments, columns: Range<Int>) {
    let (input, cin, plane, weights, cout, output, residual) = (a.input, a.cin, a.plane, a.weights, a.cout, a.output, a.residual)
    let lanes = convLanes, block = 8
    for p in Swift.stride(from: columns.lowerBound, to: columns.upperBound, by: lanes) {
        let count = min(lanes, columns.upperBound - p)
        var oc = 0
        while oc + block <= cout {
            var a0 = Vector(), a1 = Vector(), a2 = Vector(), a3 = Vector()
            var a4 = Vector(), a5 = Vector(), a6 = Vector(), a7 = Vector()
            let w = weights + oc * cin
            for ic in 0..<cin {
                let v = load(input + ic * plane + p, count)
                fma(&a0, w[ic], v)
                fma(&a1, w[cin + ic], v)
                fma(&a2, w[2 * cin + ic], v)
                fma(&a3, w[3 * cin + ic], v)
                fma(&a4, w[4 * cin + ic], v)
                fma(&a5, w[5 * cin + ic], v)
                fma(&a6, w[6 * cin + ic], v)
                fma(&a7, w[7 * cin + ic], v)
            }
            @inline(__always) func put(_ a: Vector, _ j: Int) {
                let at = (oc + j) * plane + p
                store(a, slope: 1, residual: residual.map { $0 + at }, output + at, count)
            }
            put(a0, 0); put(a1, 1); put(a2, 2); put(a3, 3); put(a4, 4); put(a5, 5); put(a6, 6); put(a7, 7)
            oc += block
        }
        while oc < cout {
            var a0 = Vector()
            for ic in 0..<cin { fma(&a0, weights[oc * cin + ic], load(input + ic * plane + p, count)) }
            let at = oc * plane + p
            store(a0, slope: 1, residual: residual.map { $0 + at }, output + at, count)
            oc += 1
        }
    }
}
