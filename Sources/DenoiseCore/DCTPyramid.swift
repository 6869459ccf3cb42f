import ImageCore
import CFFTW
import Dispatch
import Synchronization

/// The dyadic DCT pyramid of Pierazzo, Morel & Facciolo (IPOL 2017).
///
/// Layer i keeps the (h >> i) × (w >> i) lowest coefficients of the image's orthonormal DCT,
/// scaled so that intensities keep their range; white noise of level σ stays white at level
/// σ · 2^-i. Recomposition ("conservative") replaces only the lowest `factor` part of each finer
/// layer's coefficients by the coarser layer's.
public enum DCTPyramid {
    /// FFTW's planner is not thread-safe; executing plans is.
    private static let planner = Mutex(())

    /// Orthonormal 2-D DCT-II of every plane, in place.
    public static func forward(_ img: inout PlanarImage) {
        transform(&img, inverse: false)
    }

    /// Orthonormal 2-D DCT-III (the inverse of `forward`), in place.
    public static func inverse(_ img: inout PlanarImage) {
        transform(&img, inverse: true)
    }

    public static func decompose(_ img: PlanarImage, levels: Int) -> [PlanarImage] {
        guard levels > 1 else { return [img] }
        var freq = img
        forward(&freq)
        // Layer 0 is the image itself: its full spectrum transformed back.
        return [img] + (1..<levels).map { i in
            let h = img.height >> i, w = img.width >> i
            let scale = (Float(w * h) / Float(img.pixelCount)).squareRoot()
            var layer = PlanarImage(width: w, height: h, channels: img.channels)
            for ch in 0..<img.channels {
                for y in 0..<h {
                    for x in 0..<w { layer[x, y, ch] = freq[x, y, ch] * scale }
                }
            }
            inverse(&layer)
            return layer
        }
    }

    public static func recompose(_ layers: [PlanarImage], factor: Float) -> PlanarImage {
        var out = layers[0]
        forward(&out)
        for var layer in layers.dropFirst() {
            forward(&layer)
            let scale = (Float(out.pixelCount) / Float(layer.pixelCount)).squareRoot()
            let rows = Int((Float(layer.height) * factor).rounded(.up))
            let cols = Int((Float(layer.width) * factor).rounded(.up))
            for ch in 0..<out.channels {
                for y in 0..<min(rows, layer.height) {
                    for x in 0..<min(cols, layer.width) { out[x, y, ch] = layer[x, y, ch] * scale }
                }
            }
        }
        inverse(&out)
        return out
    }

    private static func transform(_ img: inout PlanarImage, inverse: Bool) {
        let w = img.width, h = img.height, n = img.pixelCount
        // FFTW's REDFT10 is 2·Σ x cos(...); these factors make it orthonormal (DC rows/cols apart).
        let ac = (1 / Float(2 * w)).squareRoot() * (1 / Float(2 * h)).squareRoot()
        let dc = Float(0.5).squareRoot()
        let kind = inverse ? FFTW_REDFT01 : FFTW_REDFT10
        // The planes are independent: transform them in place on parallel threads (executing
        // plans is thread-safe; only planning holds the lock).
        img.samples.withUnsafeMutableBufferPointer { buf in
            let base = SendablePointer(pointer: buf.baseAddress!)
            DispatchQueue.concurrentPerform(iterations: img.channels) { ch in
                let p = base.pointer + ch * n
                if inverse { scale(p, w, h, ac, dc, dc, dividing: false) }
                let plan = planner.withLock { _ in
                    Plan(fftwf_plan_r2r_2d(Int32(h), Int32(w), p, p, kind, kind, UInt32(FFTW_ESTIMATE)))
                }
                fftwf_execute(plan.pointer)
                planner.withLock { _ in fftwf_destroy_plan(plan.pointer) }
                if !inverse { scale(p, w, h, ac, dc, dc, dividing: true) }
            }
        }
    }

    /// An FFTW plan handed from the planner's lock to one worker, which alone uses it.
    private struct Plan: @unchecked Sendable {
        let pointer: OpaquePointer?
        init(_ pointer: OpaquePointer?) { self.pointer = pointer }
    }

    /// Forward: multiply all by `ac`, then the first row and column by √½ (dividing: true is the
    /// forward direction). Inverse: the same factors, applied before FFTW's REDFT01, which doubles
    /// every non-DC term — hence DC terms get ×√2 there.
    private static func scale(_ p: UnsafeMutablePointer<Float>, _ w: Int, _ h: Int, _ ac: Float,
                              _ dcx: Float, _ dcy: Float, dividing: Bool) {
        let edge: Float = dividing ? dcx : 1 / dcx
        for y in 0..<h {
            for x in 0..<w { p[y * w + x] *= ac }
            p[y * w] *= edge
        }
        for x in 0..<w { p[x] *= dividing ? dcy : 1 / dcy }
    }
}
