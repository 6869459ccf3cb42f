import ConvArguments

/// 3x3 convolution (zero padding 1, no bias) over a zero-framed input, for rows `rows`:
/// output = PReLU(conv(input)) + residual. Direct in the baseline build; by Winograd where it pays
/// in the others: quads of rows by F(4x4, 3x3) (Winograd4x4.swift), the rows and columns left over
/// by F(2x2, 3x3) (Winograd3x3.swift).
///
/// Compiled three times like the DCT kernels: as ConvKernels for baseline x86-64 and, through
/// symbolic links, as ConvKernelsAVX2 (`-target-cpu haswell`, `CONV_FMA`) and ConvKernelsAVX512
/// (`skylake-avx512`, `CONV_FMA`, `CONV_WIDE`); NeuralCore picks one at run time. MPRNet's layers
/// are thin (3 to 176 channels), where a GEMM spends its time packing; here each input vector is
/// loaded once and feeds several output channels: eight channels of one vector (16 zmm registers)
/// in the AVX-512 build, six channels of two vectors (12 of AVX2's 16 ymm) in the AVX2 one, enough
/// accumulators to keep two FMA units busy.
///
/// Only the output rows `rows` are written.
public func conv3x3Rows(_ a: Conv3x3Arguments, rows: Range<Int>) {
    conv3x3Rows(a, rows: rows, quads: true)
}

/// `conv3x3Rows` with F(2x2, 3x3) for all the row pairs (the kernel before F(4x4)): for benchmarks
/// that compare the two.
package func conv3x3RowsPairs(_ a: Conv3x3Arguments, rows: Range<Int>) {
    conv3x3Rows(a, rows: rows, quads: false)
}

func conv3x3Rows(_ a: Conv3x3Arguments, rows: Range<Int>, quads: Bool) {
    #if CONV_FMA
    // Whole blocks of columns go through Winograd: row quads through F(4x4, 3x3), row pairs through
    // F(2x2, 3x3) (the rows after the last quad, and columns past the last whole F(4x4) block); the
    // rest of a row, a last single row, and layers of few input channels (whose tile transforms
    // would cost more than the multiplications they save) through the direct kernel.
    let pairColumns = a.width / winogradBlock * winogradBlock
    // The last F(4x4) block may run past the image, its extra outputs dropped, where the zero frame
    // is wide enough (`conv3x3PaddedWidth`) and most of the block is image.
    let covered = (a.width + winograd4Block - 1) / winograd4Block * winograd4Block
    let quadColumns = !quads || rows.count < 4 ? 0
        : a.paddedWidth >= covered + 4 && 4 * (covered - a.width) <= covered ? covered
        : a.width / winograd4Block * winograd4Block
    if pairColumns + quadColumns > 0 && rows.count >= 2 && a.cin >= winogradMinimumChannels {
        // F(2x2)'s weights and scratch only where row pairs run (scratch is written before it is read).
        // Columns past the last whole F(4x4) block that F(2x2) blocks still cover (AVX-512's F(4x4)
        // blocks are 128 columns wide, its F(2x2) ones 64).
        let pairsAfterQuads = quadColumns < pairColumns ? quadColumns..<pairColumns : pairColumns..<pairColumns
        let needsPairs = quadColumns == 0 || rows.count % 4 >= 2 || !pairsAfterQuads.isEmpty
        let u = needsPairs ? winogradWeights(a) : [], scratch = needsPairs ? winogradScratch(a) : (tiles: 0, products: 0)
        var v = uninitialized(scratch.tiles), m = uninitialized(scratch.products)
        var y = rows.lowerBound
        u.withUnsafeBufferPointer { up in
        v.withUnsafeMutableBufferPointer { vp in
        m.withUnsafeMutableBufferPointer { mp in
            if quadColumns > 0 {
                let u4 = winograd4Weights(a), scratch4 = winograd4Scratch(a)
                var v4 = uninitialized(scratch4.tiles), m4 = uninitialized(scratch4.products)
                u4.withUnsafeBufferPointer { u4p in
                v4.withUnsafeMutableBufferPointer { v4p in
                m4.withUnsafeMutableBufferPointer { m4p in
                    while y + 4 <= rows.upperBound {
                        winograd4RowQuad(a, y, columns: 0..<quadColumns, u: u4p.baseAddress!, v: v4p.baseAddress!,
                                         m: m4p.baseAddress!)
                        for pair in Swift.stride(from: y, to: y + 4, by: 2) where !pairsAfterQuads.isEmpty {
                            winogradRowPair(a, pair, columns: pairsAfterQuads, u: up.baseAddress!, v: vp.baseAddress!,
                                            m: mp.baseAddress!)
                        }
                        for row in y..<(y + 4) { directRow(a, row, from: min(a.width, max(quadColumns, pairColumns))) }
                        y += 4
                    }
                }}}
            }
            while y + 2 <= rows.upperBound {
                winogradRowPair(a, y, columns: 0..<pairColumns, u: up.baseAddress!, v: vp.baseAddress!, m: mp.baseAddress!)
                for row in y...(y + 1) { directRow(a, row, from: pairColumns) }
                y += 2
            }
        }}}
        if y < rows.upperBound { directRow(a, y, from: 0) }
        return
    }
    #endif
    for y in rows { directRow(a, y, from: 0) }
}

@inline(__always) func uninitialized(_ count: Int) -> [Float] {
    // Not for 0: that array is the shared empty one, whose count the initializer would write, from
    // every thread at once (ThreadSanitizer reports it).
    count > 0 ? [Float](unsafeUninitializedCapacity: count) { _, n in n = count } : []
}

/// The direct kernel alone, for rows `rows` (what `conv3x3Rows` runs where Winograd does not):
/// for benchmarks that compare the two.
package func conv3x3RowsDirect(_ a: Conv3x3Arguments, rows: Range<Int>) {
    for y in rows { directRow(a, y, from: 0) }
}

/// Row y from column `x`, directly. AVX2's 16 ymm registers: 6 output channels × 2 vectors (16
/// pixels) in 12 accumulators, so each tap's 2 input loads and 6 weight broadcasts feed 12 FMAs
/// (9 loads for 8 FMAs in `eightAndOne`); a last block of fewer channels runs as six and keeps what
/// it needs. The other builds: eight channels of one vector (16 zmm registers in the AVX-512 one).
@inline(__always) func directRow(_ a: Conv3x3Arguments, _ y: Int, from x: Int) {
    #if CONV_FMA && !CONV_WIDE
    let wide = x + (a.width - x) / (2 * convLanes) * (2 * convLanes)
    for oc in Swift.stride(from: 0, to: a.cout, by: 6) {
        for x0 in Swift.stride(from: x, to: wide, by: 2 * convLanes) { sixByTwo(a, y, oc, x0, valid: min(6, a.cout - oc)) }
    }
    eightAndOne(a, y, channels: 0..<a.cout, columns: wide..<a.width)
    #else
    eightAndOne(a, y, channels: 0..<a.cout, columns: x..<a.width)
    #endif
}

#if CONV_FMA && !CONV_WIDE
/// Output channels oc..<oc+valid (valid ≤ 6; the missing ones computed as the last and dropped),
/// pixels x0..<x0+16 of row y (all inside the row).
@inline(__always) func sixByTwo(_ a: Conv3x3Arguments, _ y: Int, _ oc: Int, _ x0: Int, valid: Int) {
    let cin = a.cin, P = a.paddedWidth, L = convLanes, last = oc + valid - 1
    var acc = SixByTwo<Vector>()
    for ic in 0..<cin {
        let src = a.input + ic * a.planeStride + y * P + x0, k = ic * 9
        for ky in 0..<3 {
            for kx in 0..<3 {
                let at = src + ky * P + kx, t = k + ky * 3 + kx
                acc.add(load(at), load(at + L)) { a.weights[min(oc + $0, last) * cin * 9 + t] }
            }
        }
    }
    let plane = a.height * a.width, at = (oc * a.height + y) * a.width + x0
    acc.forEach(valid: valid) { j, p, q in
        let o = at + j * plane, out = a.output + a.outputOffset(oc + j, y, x0)
        store(p, slope: a.preluSlope, residual: a.residual.map { $0 + o }, out, L)
        store(q, slope: a.preluSlope, residual: a.residual.map { $0 + o + L }, out + L, L)
    }
}
#endif

/// Output channels `channels` × pixels `columns` of row y: eight channels at a time sharing every
/// input load, the rest one at a time.
@inline(__always) func eightAndOne(_ a: Conv3x3Arguments, _ y: Int, channels: Range<Int>, columns: Range<Int>) {
    let (input, cin, width, height, paddedWidth, planeStride) = (a.input, a.cin, a.width, a.height, a.paddedWidth, a.planeStride)
    let (weights, cout, output, residual, preluSlope) = (a.weights, channels.upperBound, a.output, a.residual, a.preluSlope)
    let lanes = convLanes, block = 8
    let plane = height * width, step = cin * 9
    guard !columns.isEmpty else { return }
    var oc = channels.lowerBound
    while oc + block <= cout {
        for x0 in Swift.stride(from: columns.lowerBound, to: columns.upperBound, by: lanes) {
            var a0 = Vector(), a1 = Vector(), a2 = Vector(), a3 = Vector()
            var a4 = Vector(), a5 = Vector(), a6 = Vector(), a7 = Vector()
            for ic in 0..<cin {
                let src = input + ic * planeStride + y * paddedWidth + x0
                let w = weights + (oc * cin + ic) * 9
                for ky in 0..<3 {
                    for kx in 0..<3 {
                        let v = load(src + ky * paddedWidth + kx), t = ky * 3 + kx
                        fma(&a0, w[t], v)
                        fma(&a1, w[step + t], v)
                        fma(&a2, w[2 * step + t], v)
                        fma(&a3, w[3 * step + t], v)
                        fma(&a4, w[4 * step + t], v)
                        fma(&a5, w[5 * step + t], v)
                        fma(&a6, w[6 * step + t], v)
                        fma(&a7, w[7 * step + t], v)
                    }
                }
            }
            let count = min(lanes, columns.upperBound - x0), at = (oc * height + y) * width + x0
            @inline(__always) func put(_ v: Vector, _ j: Int) {
                store(v, slope: preluSlope, residual: residual.map { $0 + at + j * plane },
                      output + a.outputOffset(oc + j, y, x0), count)
            }
            put(a0, 0); put(a1, 1); put(a2, 2); put(a3, 3); put(a4, 4); put(a5, 5); put(a6, 6); put(a7, 7)
        }
        oc += block
    }
    while oc < cout {
        for x0 in Swift.stride(from: columns.lowerBound, to: columns.upperBound, by: lanes) {
            var a0 = Vector()
            for ic in 0..<cin {
                let src = input + ic * planeStride + y * paddedWidth + x0
                let w = weights + (oc * cin + ic) * 9
                for ky in 0..<3 {
                    for kx in 0..<3 { fma(&a0, w[ky * 3 + kx], load(src + ky * paddedWidth + kx)) }
                }
            }
            let at = (oc * height + y) * width + x0
            store(a0, slope: preluSlope, residual: residual.map { $0 + at }, output + a.outputOffset(oc, y, x0),
                  min(lanes, columns.upperBound - x0))
        }
        oc += 1
    }
}
