// swift-tools-version: 6.0
import PackageDescription

// Release builds of libdenoise.so carry the Swift runtime inside (no /opt/swift needed at run
// time), export only the dn_* symbols, and get a SONAME. Debug builds (swift test) stay plain.
let exportMap = Context.packageDirectory + "/Sources/denoise/exports.map"
// DENOISE_CHECKED=1 (the sanitizer runs, see below) links the Swift runtime and Dispatch
// dynamically instead, where ThreadSanitizer's interceptors see Dispatch's joins.
let checked = Context.environment["DENOISE_CHECKED"] != nil
let releaseLibraryFlags: [LinkerSetting] = [
    .unsafeFlags((checked ? [] : ["-static-stdlib"]) + [
                  "-Xlinker", "--version-script=\(exportMap)",
                  "-Xlinker", "-soname=libdenoise.so.1"],
                 .when(configuration: .release)),
]
// Release code runs unchecked (no bounds, overflow or precondition traps); DENOISE_CHECKED=1 keeps
// the checks at full optimisation, for the sanitizer runs (Tests/sanitizers.sh): Swift's answer to
// UndefinedBehaviorSanitizer, which it lacks on Linux.
let optimize: [SwiftSetting] = [.unsafeFlags([checked ? "-O" : "-Ounchecked", "-wmo"], .when(configuration: .release))]

let package = Package(
    name: "Denoise",
    products: [
        .library(name: "denoise", type: .dynamic, targets: ["denoise"]),
        .executable(name: "denoise-cli", targets: ["denoise-cli"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .systemLibrary(name: "CFFTW", path: "Sources/CFFTW"),
        .systemLibrary(name: "CDenoise", path: "CHeaders"),
        .target(name: "CImageCodecs", linkerSettings: [
            .linkedLibrary("png"), .linkedLibrary("jpeg"), .linkedLibrary("tiff"),
        ]),
        // The direct convolution kernel, built like the DCT kernels: baseline, AVX2 + FMA, AVX-512.
        // The kernels' argument types, shared by the three builds.
        .target(name: "ConvArguments", swiftSettings: optimize),
        .target(name: "ConvKernels", dependencies: ["ConvArguments", "CPlatform"], swiftSettings: optimize),
        .target(name: "ConvKernelsAVX2", dependencies: ["ConvArguments", "CPlatform"], swiftSettings: optimize + [
            .define("CONV_FMA"), .unsafeFlags(["-target-cpu", "haswell"]),
        ]),
        .target(name: "ConvKernelsAVX512", dependencies: ["ConvArguments", "CPlatform"], swiftSettings: optimize + [
            .define("CONV_FMA"), .define("CONV_WIDE"), .unsafeFlags(["-target-cpu", "skylake-avx512"]),
        ]),
        // The AMX bfloat16 3x3 kernel: C, because Swift cannot reach the tile instructions.
        .target(name: "ConvKernelsAMX", cSettings: [.unsafeFlags(["-O2"])]),
        // The int8 3x3 kernels on AVX-512 VNNI and AVX-VNNI: C, for VPDPBUSD.
        .target(name: "ConvKernelsVNNI", cSettings: [.unsafeFlags(["-O2"])]),
        // Planar images, pixel conversions, jobs (threads, progress, cancel), errors, memory, metrics.
        .target(name: "ImageCore", dependencies: ["CPlatform"], swiftSettings: optimize),
        .target(name: "NeuralCore", dependencies: ["ImageCore", "CPlatform", "ConvArguments", "ConvKernels", "ConvKernelsAVX2",
                                                   "ConvKernelsAVX512", "ConvKernelsAMX", "ConvKernelsVNNI"],
                swiftSettings: optimize),
        .target(name: "MPRNet", dependencies: ["NeuralCore", "ImageCore", "CPlatform"], swiftSettings: optimize),
        .target(name: "CPlatform"),
        // The patch kernels, built for baseline x86-64 and (the same file, linked) for AVX2 + FMA.
        .target(name: "DCTKernels", swiftSettings: optimize),
        .target(name: "DCTKernelsAVX2", swiftSettings: optimize + [
            .define("DENOISE_FMA"), .unsafeFlags(["-target-cpu", "haswell"]),
        ]),
        .target(name: "DenoiseCore", dependencies: ["ImageCore", "CFFTW", "CPlatform", "DCTKernels", "DCTKernelsAVX2"],
                swiftSettings: optimize),
        .target(name: "denoise", dependencies: ["ImageCore", "DenoiseCore", "MPRNet", "NeuralCore", "CDenoise", "CPlatform"], exclude: ["exports.map"],
                swiftSettings: optimize,
                linkerSettings: releaseLibraryFlags),
        .executableTarget(name: "denoise-cli", dependencies: [
            "ImageCore", "DenoiseCore", "CImageCodecs", "CPlatform", "MPRNet", "NeuralCore",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], swiftSettings: optimize),
        // bench/conv-speed: the 3x3 kernels alone, per build and layer shape (GMAC/s, share of peak).
        .executableTarget(name: "conv-speed", dependencies: ["ConvArguments", "ConvKernels", "ConvKernelsAVX2",
                                                             "ConvKernelsAVX512", "ConvKernelsVNNI", "CPlatform"],
                          path: "bench/conv-speed", swiftSettings: optimize),
        .testTarget(name: "DenoiseCoreTests", dependencies: ["ImageCore", "DenoiseCore", "DCTKernels", "DCTKernelsAVX2", "CPlatform", "CImageCodecs"]),
        .testTarget(name: "MPRNetTests", dependencies: ["MPRNet", "NeuralCore", "ImageCore", "ConvArguments", "ConvKernelsVNNI"]),
    ]
)
