import CImageCodecs
import DenoiseCore

/// An image file read into the working scale, remembering how to write it back the same way.
struct ImageFile {
    var image: PlanarImage
    var bits: Int

    init(path: String) throws {
        var raw = ic_image()
        var err = [CChar](repeating: 0, count: 512)
        guard ic_read(path, &raw, &err, err.count) == 0 else { throw CLIError(message(err)) }
        defer { ic_free(&raw) }
        let layout = PixelLayout(width: Int(raw.width), height: Int(raw.height), channels: Int(raw.channels),
                                 type: raw.bits == 16 ? .u16 : .u8)
        image = try PlanarImage(interleaved: raw.data, layout: layout)
        bits = Int(raw.bits)
    }

    init(image: PlanarImage, bits: Int) {
        self.image = image
        self.bits = bits
    }

    func write(to path: String, jpegQuality: Int = 95) throws {
        let layout = PixelLayout(width: image.width, height: image.height, channels: image.channels,
                                 type: bits == 16 ? .u16 : .u8)
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: layout.rowBytes * layout.height, alignment: 16)
        defer { buffer.deallocate() }
        image.write(interleaved: buffer, layout: layout)
        var raw = ic_image(width: Int32(image.width), height: Int32(image.height), channels: Int32(image.channels),
                           bits: Int32(bits), data: buffer)
        var err = [CChar](repeating: 0, count: 512)
        guard ic_write(path, &raw, Int32(jpegQuality), &err, err.count) == 0 else {
            throw CLIError(message(err))
        }
    }
}

struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}

private func message(_ buffer: [CChar]) -> String {
    String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
