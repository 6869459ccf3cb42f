import ConvArguments
import ConvKernels
import ConvKernelsAVX2
import ConvKernelsAVX512
import CPlatform
import Glibc
import ImageCore

/// One build of the convolution kernels (see `ConvKernels`) and its vector width.
struct ConvKernelSet: Sendable {
    typealias Conv3x3 = @Sendable (Conv3x3Arguments, _ rows: Range<Int>) -> Void
    typealias Conv1x1 = @Sendable (Conv1x1Arguments, _ columns: Range<Int>) -> Void
    let conv3x3: Conv3x3, conv1x1: Conv1x1, lanes: Int, path: KernelPath

    static let baseline = ConvKernelSet(conv3x3: ConvKernels.conv3x3Rows, conv1x1: ConvKernels.conv1x1Columns,
                                        lanes: ConvKernels.convLanes, path: .baseline)
    static let avx2 = ConvKernelSet(conv3x3: ConvKernelsAVX2.conv3x3Rows, conv1x1: ConvKernelsAVX2.conv1x1Columns,
                                    lanes: ConvKernelsAVX2.convLanes, path: .avx2)
    static let avx512 = ConvKernelSet(conv3x3: ConvKernelsAVX512.conv3x3Rows, conv1x1: ConvKernelsAVX512.conv1x1Columns,
                                      lanes: ConvKernelsAVX512.convLanes, path: .avx512)

    /// The builds this CPU runs, slowest first.
    static let supported: [ConvKernelSet] = [baseline] + (denoise_cpu_has_avx2() != 0 ? [avx2] : [])
        + (denoise_cpu_has_avx512() != 0 ? [avx512] : [])
}

extension KernelPath {
    /// The float kernels of the path (AMX: the fastest float build, for float32 precision).
    var floatKernels: ConvKernelSet {
        switch self {
        case .baseline: .baseline
        case .avx2: .avx2
        case .avx512: .avx512
        case .amx: ConvKernelSet.supported.last!
        }
    }
}
