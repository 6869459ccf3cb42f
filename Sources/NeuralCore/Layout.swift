/// Copies that move data between shapes: concatenations, crops, padding.
extension Ops {
    /// Copies rows of `source` into `out`: `count` rows of `width` floats; row r of source starts at
    /// `from(r)`, of out at `to(r)`. Split across the threads.
    func copyRows(_ source: Tensor, into out: inout Tensor, count: Int, width: Int,
                         from: (Int) -> Int, to: (Int) -> Int) {
        source.samples.withUnsafeBufferPointer { sp in
            out.samples.withUnsafeMutableBufferPointer { op in
                let (s, o) = (sp.baseAddress!, op.baseAddress!)
                parallel(count, work: 2 * count * width) { rows in
                    for r in rows { (o + to(r)).update(from: s + from(r), count: width) }
                }
            }
        }
    }

    /// Concatenation along channels (torch.cat dim 1).
    public func concatChannels(_ parts: [Tensor]) -> Tensor {
        precondition(parts.allSatisfy { $0.height == parts[0].height && $0.width == parts[0].width })
        var out = Tensor(uninitializedChannels: parts.reduce(0) { $0 + $1.channels }, height: parts[0].height,
                         width: parts[0].width)
        var offset = 0
        for part in parts {
            let at = offset
            copyRows(part, into: &out, count: part.channels, width: part.plane, from: { $0 * part.plane },
                     to: { at + $0 * part.plane })
            offset += part.samples.count
        }
        return out
    }

    /// Concatenation along height (torch.cat dim 2): `a` on top.
    public func concatHeight(_ a: Tensor, _ b: Tensor) -> Tensor {
        precondition(a.channels == b.channels && a.width == b.width)
        var out = Tensor(uninitializedChannels: a.channels, height: a.height + b.height, width: a.width)
        let P = a.plane + b.plane
        copyRows(a, into: &out, count: a.channels, width: a.plane, from: { $0 * a.plane }, to: { $0 * P })
        copyRows(b, into: &out, count: b.channels, width: b.plane, from: { $0 * b.plane }, to: { $0 * P + a.plane })
        return out
    }

    /// Concatenation along width (torch.cat dim 3): `a` on the left.
    public func concatWidth(_ a: Tensor, _ b: Tensor) -> Tensor {
        precondition(a.channels == b.channels && a.height == b.height)
        let W = a.width + b.width
        var out = Tensor(uninitializedChannels: a.channels, height: a.height, width: W)
        let rows = a.channels * a.height
        copyRows(a, into: &out, count: rows, width: a.width, from: { $0 * a.width }, to: { $0 * W })
        copyRows(b, into: &out, count: rows, width: b.width, from: { $0 * b.width }, to: { $0 * W + a.width })
        return out
    }

    /// The window rows `ys`, columns `xs` of every channel.
    public func crop(_ x: Tensor, rows ys: Range<Int>, columns xs: Range<Int>) -> Tensor {
        precondition(ys.lowerBound >= 0 && ys.upperBound <= x.height && xs.lowerBound >= 0 && xs.upperBound <= x.width,
                     "crop window outside the tensor")
        var out = Tensor(uninitializedChannels: x.channels, height: ys.count, width: xs.count)
        let h = ys.count
        copyRows(x, into: &out, count: x.channels * h, width: xs.count,
                 from: { r in ((r / h) * x.height + ys.lowerBound + r % h) * x.width + xs.lowerBound },
                 to: { $0 * xs.count })
        return out
    }

    /// Reflect padding at the bottom and right (torch F.pad mode "reflect"): edge not repeated.
    /// Padding as large as the image or larger (which torch refuses) reflects again at each edge,
    /// as numpy's "reflect" does; a side of one pixel repeats it.
    public func padReflect(_ x: Tensor, bottom: Int, right: Int) -> Tensor {
        let H = x.height + bottom, W = x.width + right
        var out = Tensor(channels: x.channels, height: H, width: W)
        func reflect(_ i: Int, _ n: Int) -> Int {
            guard n > 1 else { return 0 }
            let j = i % (2 * n - 2)
            return j < n ? j : 2 * n - 2 - j
        }
        for c in 0..<x.channels {
            for y in 0..<H {
                for i in 0..<W { out[i, y, c] = x[reflect(i, x.width), reflect(y, x.height), c] }
            }
        }
        return out
    }
}
