import ConvKernels
import ConvKernelsAVX2
import ConvKernelsAVX512
import CPlatform

/// One build of the convolution kernels (see `ConvKernels`) and its vector width.
struct ConvKernelSet: Sendable {
    typealias Conv3x3 = @Sendable (UnsafePointer<Float>, Int, Int, Int, Int, UnsafePointer<Float>, Int,
                                   UnsafeMutablePointer<Float>, UnsafePointer<Float>?, Int, Range<Int>, Float) -> Void
    typealias Conv1x1 = @Sendable (UnsafePointer<Float>, Int, Int, UnsafePointer<Float>, Int,
                                   UnsafeMutablePointer<Float>, UnsafePointer<Float>?, Range<Int>) -> Void
    let conv3x3: Conv3x3, conv1x1: Conv1x1, lanes: Int

    static let baseline = ConvKernelSet(conv3x3: ConvKernels.conv3x3Rows, conv1x1: ConvKernels.conv1x1Columns,
                                        lanes: ConvKernels.convLanes)
    static let avx2 = ConvKernelSet(conv3x3: ConvKernelsAVX2.conv3x3Rows, conv1x1: ConvKernelsAVX2.conv1x1Columns,
                                    lanes: ConvKernelsAVX2.convLanes)
    static let avx512 = ConvKernelSet(conv3x3: ConvKernelsAVX512.conv3x3Rows, conv1x1: ConvKernelsAVX512.conv1x1Columns,
                                      lanes: ConvKernelsAVX512.convLanes)

    /// The builds this CPU runs, slowest first.
    static let supported: [ConvKernelSet] = [baseline] + (denoise_cpu_has_avx2() != 0 ? [avx2] : [])
        + (denoise_cpu_has_avx512() != 0 ? [avx512] : [])
}
