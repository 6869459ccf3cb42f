/// Bilinear resizing by two, with PyTorch's align_corners=False rules.
extension Ops {
    /// Bilinear resize by 0.5 with align_corners=False: the source point of output pixel i is
    /// 2i + 0.5, so each output is the mean of a 2x2 block (sizes floor(h/2) x floor(w/2)).
    public func downsample2(_ x: Tensor) -> Tensor {
        let h = x.height / 2, w = x.width / 2, W = x.width
        var out = Tensor(uninitializedChannels: x.channels, height: h, width: w)
        x.samples.withUnsafeBufferPointer { xp in
            out.samples.withUnsafeMutableBufferPointer { op in
                let (s, o) = (xp.baseAddress!, op.baseAddress!)
                parallel(x.channels * h, work: x.samples.count) { rows in
                    for r in rows {
                        let top = s + ((r / h) * x.height + 2 * (r % h)) * W, bottom = top + W, dst = o + r * w
                        for i in 0..<w {
                            dst[i] = 0.25 * (top[2 * i] + top[2 * i + 1] + bottom[2 * i] + bottom[2 * i + 1])
                        }
                    }
                }
            }
        }
        return out
    }

    /// Bilinear resize by 2 with align_corners=False: output i samples the source at i/2 − 1/4,
    /// clamped to the edge (PyTorch's rule for negative coordinates and the last pixel); plus
    /// `residual` (same shape as the output) when given, in the same pass.
    public func upsample2(_ x: Tensor, plus residual: Tensor? = nil) -> Tensor {
        let h = x.height, w = x.width, H = 2 * h, W = 2 * w
        precondition(residual == nil || residual!.shape == [x.channels, H, W], "upsample residual has the wrong shape")
        var out = Tensor(uninitializedChannels: x.channels, height: H, width: W)
        x.samples.withUnsafeBufferPointer { xp in
        out.samples.withUnsafeMutableBufferPointer { op in
        withResidual(residual) { rp in
            let (s, o) = (xp.baseAddress!, op.baseAddress!)
            parallel(x.channels * H, work: 2 * op.count) { rows in
                // The output row blended vertically at source resolution, then horizontally, where
                // output 2i samples i − 1/4 (weights 1/4, 3/4) and 2i + 1 samples i + 1/4 (3/4, 1/4).
                var blend = [Float](repeating: 0, count: w + 2)
                blend.withUnsafeMutableBufferPointer { bp in
                    let b = bp.baseAddress! + 1  // b[-1] and b[w] repeat the edges
                    for r in rows {
                        let c = r / H, y = r % H
                        let src = max(0, Float(y) * 0.5 - 0.25), y0 = min(Int(src), h - 1), y1 = min(y0 + 1, h - 1)
                        let fy = src - Float(y0)
                        let top = s + (c * h + y0) * w, bottom = s + (c * h + y1) * w
                        for i in 0..<w { b[i] = top[i] * (1 - fy) + bottom[i] * fy }
                        b[-1] = b[0]
                        b[w] = b[w - 1]
                        let (dst, add) = (o + r * W, rp.map { $0 + r * W })
                        var i = 0
                        while i + 4 <= w {  // 4 source pixels to 8 outputs, interleaved
                            let left = UnsafeRawPointer(b + i - 1).loadUnaligned(as: SIMD4<Float>.self)
                            let mid = UnsafeRawPointer(b + i).loadUnaligned(as: SIMD4<Float>.self)
                            let right = UnsafeRawPointer(b + i + 1).loadUnaligned(as: SIMD4<Float>.self)
                            let even = left * 0.25 + mid * 0.75, odd = mid * 0.75 + right * 0.25
                            var v = SIMD8(even[0], odd[0], even[1], odd[1], even[2], odd[2], even[3], odd[3])
                            if let add { v += UnsafeRawPointer(add + 2 * i).loadUnaligned(as: SIMD8<Float>.self) }
                            UnsafeMutableRawPointer(dst + 2 * i).storeBytes(of: v, as: SIMD8<Float>.self)
                            i += 4
                        }
                        for i in i..<w {
                            dst[2 * i] = b[i - 1] * 0.25 + b[i] * 0.75 + (add?[2 * i] ?? 0)
                            dst[2 * i + 1] = b[i] * 0.75 + b[i + 1] * 0.25 + (add?[2 * i + 1] ?? 0)
                        }
                    }
                }
            }
        }}}
        return out
    }
}
