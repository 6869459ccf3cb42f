import ConvArguments
import CPlatform

/// 1x1 convolution (no bias) for the pixels `columns`: output = conv(input) + residual, the input
/// one tensor or two read as concatenated.
///
/// Built three times like `conv3x3Rows`. A 1x1 convolution is a matrix product of weights
/// [cout][cin] and pixels [cin][plane]. The pixels go in chunks of 128: a chunk's inputs are
/// copied into cin consecutive rows, every block of eight output channels passes over them while
/// they stay in L1, and each input vector feeds the block's eight channels. A chunk reads every
/// input plane and writes every output plane in runs of 512 bytes, and the next chunk's inputs are
/// prefetched: full-size layers are bound by memory, and a vector at a time across 24-56 planes
/// makes streams too short for the hardware prefetchers. Only the pixels `columns` are written.
public func conv1x1Columns(_ a: Conv1x1Arguments, columns: Range<Int>) {
    let (input, cin, plane, weights, cout) = (a.input, a.cin, a.plane, a.weights, a.cout)
    let lanes = convLanes, chunk = 128
    // With more than 8 input planes, a chunk's inputs are first copied into consecutive rows:
    // planes of power-of-two sizes lie a multiple of 4 KB apart, so the same pixel of every plane
    // falls in one L1 set, and more planes than its 8 ways evict each other. (Storing the outputs
    // through such rows was slower; copying 8 planes or fewer costs more than it saves.)
    let copies = cin > 8 || a.secondInput != nil
    withUnsafeTemporaryAllocation(of: Float.self, capacity: copies ? cin * chunk : 0) { buffer in
        for start in Swift.stride(from: columns.lowerBound, to: columns.upperBound, by: chunk) {
            let end = min(start + chunk, columns.upperBound)
            if end < columns.upperBound {
                let next = min(chunk, columns.upperBound - end)
                for ic in 0..<cin {
                    for line in Swift.stride(from: 0, to: next, by: 16) { denoise_prefetch(a.inputPlane(ic) + end + line) }
                }
            }
            // The chunk's blocks reading input channel ic's pixels at `chunkInput + ic * rowStride`.
            @inline(__always) func blocks(_ chunkInput: UnsafePointer<Float>, _ rowStride: Int) {
                for oc in Swift.stride(from: 0, to: cout, by: 8) {
                    // A last block of fewer than eight channels repeats its last row rather than run one
                    // accumulator at a time (a chain of dependent FMAs): only its own rows are stored.
                    let used = min(8, cout - oc)
                    @inline(__always) func row(_ j: Int) -> UnsafePointer<Float> { weights + (oc + min(j, used - 1)) * cin }
                    let (w0, w1, w2, w3, w4, w5, w6, w7) = (row(0), row(1), row(2), row(3), row(4), row(5), row(6), row(7))
                    for p in Swift.stride(from: start, to: end, by: lanes) {
                        let count = min(lanes, end - p)
                        var a0 = Vector(), a1 = Vector(), a2 = Vector(), a3 = Vector()
                        var a4 = Vector(), a5 = Vector(), a6 = Vector(), a7 = Vector()
                        let column = chunkInput + (p - start)
                        for ic in 0..<cin {
                            let v = load(column + ic * rowStride, count)
                            fma(&a0, w0[ic], v)
                            fma(&a1, w1[ic], v)
                            fma(&a2, w2[ic], v)
                            fma(&a3, w3[ic], v)
                            fma(&a4, w4[ic], v)
                            fma(&a5, w5[ic], v)
                            fma(&a6, w6[ic], v)
                            fma(&a7, w7[ic], v)
                        }
                        @inline(__always) func put(_ v: Vector, _ j: Int) {
                            guard j < used else { return }
                            let at = (oc + j) * plane + p
                            store(v, slope: 1, residual: a.residual.map { $0 + at }, a.output + at, count)
                        }
                        put(a0, 0); put(a1, 1); put(a2, 2); put(a3, 3); put(a4, 4); put(a5, 5); put(a6, 6); put(a7, 7)
                    }
                }
            }
            if copies {
                let rows = buffer.baseAddress!
                for ic in 0..<cin { (rows + ic * chunk).update(from: a.inputPlane(ic) + start, count: end - start) }
                blocks(rows, chunk)
            } else {
                blocks(input + start, plane)
            }
        }
    }
}
