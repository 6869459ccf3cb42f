import ArgumentParser
import CImageCodecs
import DenoiseCore
import ImageCore
import Glibc

/// An image file read into the working scale, remembering how to write it back the same way:
/// bit depth and the photo's metadata (ICC profile, EXIF, XMP, IPTC), kept byte for byte.
struct ImageFile {
    var image: PlanarImage
    var bits: Int
    var metadata = Metadata()

    struct Metadata {
        var icc: [UInt8] = [], exif: [UInt8] = [], xmp: [UInt8] = [], iptc: [UInt8] = []
    }

    init(path: String) throws {
        var raw = ic_image()
        var err = [CChar](repeating: 0, count: 512)
        guard ic_read(path, &raw, &err, err.count) == 0 else { throw CLIError(message(err)) }
        defer { ic_free(&raw) }
        let layout = PixelLayout(width: Int(raw.width), height: Int(raw.height), channels: Int(raw.channels),
                                 type: raw.bits == 16 ? .u16 : .u8)
        image = try PlanarImage(interleaved: raw.data, layout: layout)
        bits = Int(raw.bits)
        func bytes(_ b: ic_blob) -> [UInt8] { b.data.map { Array(UnsafeBufferPointer(start: $0, count: b.size)) } ?? [] }
        metadata = Metadata(icc: bytes(raw.meta.icc), exif: bytes(raw.meta.exif), xmp: bytes(raw.meta.xmp),
                            iptc: bytes(raw.meta.iptc))
    }

    init(image: PlanarImage, bits: Int, metadata: Metadata = Metadata()) {
        self.image = image
        self.bits = bits
        self.metadata = metadata
    }

    /// Writes through a temporary file beside `path` and a rename, so that `path` is either left as
    /// it was or holds the whole new image: never a half-written file, whatever stops the write.
    func write(to path: String, _ output: OutputOptions) throws {
        try output.check(path)
        let layout = PixelLayout(width: image.width, height: image.height, channels: image.channels,
                                 type: bits == 16 ? .u16 : .u8)
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: layout.rowBytes * layout.height, alignment: 16)
        defer { buffer.deallocate() }
        image.write(interleaved: buffer, layout: layout)
        var raw = ic_image(width: Int32(image.width), height: Int32(image.height), channels: Int32(image.channels),
                           bits: Int32(bits), data: buffer, meta: ic_metadata())
        // The temporary name keeps the extension, which picks the format.
        let slash = path.lastIndex(of: "/").map { path.index(after: $0) } ?? path.startIndex
        let name = path[slash...], ext = name.lastIndex(of: ".").map { String(name[$0...]) } ?? ""
        var template = Array((path[..<slash] + "." + name + ".denoise-XXXXXX" + ext).utf8CString)
        let fd = mkstemps(&template, Int32(ext.utf8.count))
        guard fd >= 0 else { throw CLIError("cannot create a file beside \(path)") }
        close(fd)
        let temporary = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
        var err = [CChar](repeating: 0, count: 512)
        var m = metadata
        let status = m.icc.withUnsafeMutableBufferPointer { icc in
            m.exif.withUnsafeMutableBufferPointer { exif in
                m.xmp.withUnsafeMutableBufferPointer { xmp in
                    m.iptc.withUnsafeMutableBufferPointer { iptc in
                        func blob(_ b: UnsafeMutableBufferPointer<UInt8>) -> ic_blob {
                            ic_blob(data: b.isEmpty ? nil : b.baseAddress, size: b.count)
                        }
                        raw.meta = ic_metadata(icc: blob(icc), exif: blob(exif), xmp: blob(xmp), iptc: blob(iptc))
                        return ic_write(temporary, &raw, Int32(output.quality), &err, err.count)
                    }
                }
            }
        }
        guard status == 0 else {
            unlink(temporary)
            throw CLIError(message(err).replacing(temporary, with: path))
        }
        // mkstemps made it 0600: give the output the permissions a new file would have.
        let mask = umask(0)
        umask(mask)
        chmod(temporary, 0o666 & ~mask)
        guard rename(temporary, path) == 0 else {
            unlink(temporary)
            throw CLIError("cannot write \(path)")
        }
    }
}

/// How outputs are written: the options every command that writes images shares.
struct OutputOptions: ParsableArguments {
    @Flag(help: "Replace output files that exist (never half-written: each is written beside and renamed).")
    var overwrite = false
    @Option(help: "JPEG quality, 1-100 (4:4:4 chroma from 90).") var quality: Int = 95

    func validate() throws {
        guard (1...100).contains(quality) else { throw ValidationError("quality must be in 1...100, got \(quality)") }
    }

    /// Whether `path` can be written: a known extension, and not an existing file unless
    /// --overwrite. Commands ask before their work, so that a long run is not wasted.
    func check(_ path: String) throws {
        let lower = path.lowercased()
        guard [".png", ".jpg", ".jpeg", ".tif", ".tiff"].contains(where: { lower.hasSuffix($0) }) else {
            throw CLIError("unknown output format for \(path) (use .png, .jpg or .tif)")
        }
        if !overwrite, access(path, F_OK) == 0 { throw CLIError("\(path) exists: pass --overwrite to replace it") }
    }
}

struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}

private func message(_ buffer: [CChar]) -> String {
    String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
