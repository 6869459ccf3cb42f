import Testing
import MPRNet
import NeuralCore

let fixtures: String = {
    let parts = #filePath.split(separator: "/", omittingEmptySubsequences: false).dropLast(2)  // Tests/
    return parts.joined(separator: "/") + "/Fixtures/mprnet"
}()

func tensor(_ e: SafeTensors.Entry) -> Tensor {
    Tensor(channels: e.shape[0], height: e.shape[1], width: e.shape[2], data: e.data)
}

/// ||a − b|| / ||b||
func relativeL2(_ a: Tensor, _ b: Tensor) -> Double {
    #expect(a.shape == b.shape)
    var num = 0.0, den = 0.0
    for i in a.data.indices {
        let d = Double(a.data[i]) - Double(b.data[i])
        num += d * d
        den += Double(b.data[i]) * Double(b.data[i])
    }
    return (num / den).squareRoot()
}

/// Stage outputs against PyTorch's (Training/export_parity_fixtures.py), within relative L2 1e-5.
@Suite struct ParityTests {
    let model: MPRNet
    let io: SafeTensors

    init() throws {
        model = try MPRNet(weights: try SafeTensors(path: fixtures + "/weights.safetensors"))
        io = try SafeTensors(path: fixtures + "/io.safetensors")
    }

    @Test(arguments: ["even", "odd"]) func stages(kind: String) throws {
        let input = tensor(io.tensors[kind == "even" ? "even_input" : "odd_padded"]!)
        let out = model.forward(input)
        for (name, mine) in [("stage1", out.stage1), ("stage2", out.stage2), ("stage3", out.stage3)] {
            let err = relativeL2(mine, tensor(io.tensors["\(kind)_\(name)"]!))
            #expect(err < 1e-5, "\(kind) \(name): relative L2 \(err)")
        }
    }

    @Test func oddSizeIsPaddedAndCroppedBack() {
        let y = model.denoise(tensor(io.tensors["odd_input"]!))
        #expect(y.height == 37 && y.width == 45)
        #expect(relativeL2(y, tensor(io.tensors["odd_output"]!)) < 1e-5)
    }

    @Test func configComesFromMetadata() {
        #expect(model.config == MPRNetConfig(nFeat: 8, scaleUnetFeats: 4, scaleOrsnetFeats: 4, numCab: 2, reduction: 4))
    }
}

@Suite struct OpsTests {
    @Test func conv3x3MatchesDirectSum() {
        let x = Tensor(channels: 2, height: 5, width: 7, data: (0..<70).map { Float(($0 * 37) % 11) - 5 })
        let w = ConvWeight(outChannels: 3, inChannels: 2, kernel: 3, data: (0..<54).map { Float(($0 * 13) % 7) - 3 })
        let y = Ops.conv2d(x, w)
        for o in 0..<3 {
            for yy in 0..<5 {
                for xx in 0..<7 {
                    var s: Float = 0
                    for c in 0..<2 {
                        for ky in 0..<3 {
                            for kx in 0..<3 {
                                let sy = yy + ky - 1, sx = xx + kx - 1
                                if sy >= 0 && sy < 5 && sx >= 0 && sx < 7 {
                                    s += w.data[((o * 2 + c) * 3 + ky) * 3 + kx] * x[c, sy, sx]
                                }
                            }
                        }
                    }
                    #expect(abs(y[o, yy, xx] - s) < 1e-4)
                }
            }
        }
    }

    @Test func bilinearClosedForms() {
        let x = Tensor(channels: 1, height: 2, width: 4, data: [0, 4, 8, 12, 2, 6, 10, 14])
        #expect(Ops.downsample2(x).data == [3, 11])  // means of 2x2 blocks
        let up = Ops.upsample2(Tensor(channels: 1, height: 1, width: 2, data: [0, 8]))
        // Output i samples i/2 - 1/4: 0 → clamped 0, 1 → 0.25, 2 → 0.75, 3 → 1.25 clamped to the edge.
        #expect(up.width == 4 && up.height == 2)
        #expect(up.data[0..<4] == [0, 2, 6, 8])
        #expect(up.data[4..<8] == [0, 2, 6, 8])
    }

    @Test func channelAttentionAndActivations() {
        var x = Tensor(channels: 1, height: 1, width: 3, data: [-2, 0, 3])
        Ops.prelu(&x, slope: 0.25)
        #expect(x.data == [-0.5, 0, 3])
        Ops.relu(&x)
        #expect(x.data == [0, 0, 3])
        // Mean 1; down weight 2 → relu 2; up weight 0 → sigmoid(0) = 0.5: output halves.
        let a = Ops.channelAttention(x, down: ConvWeight(outChannels: 1, inChannels: 1, kernel: 1, data: [2]),
                                     up: ConvWeight(outChannels: 1, inChannels: 1, kernel: 1, data: [0]))
        #expect(a.data == [0, 0, 1.5])
    }

    @Test func reflectPadding() {
        let x = Tensor(channels: 1, height: 1 + 2, width: 3, data: [1, 2, 3, 4, 5, 6, 7, 8, 9])
        let p = Ops.padReflect(x, bottom: 2, right: 1)
        #expect(p.width == 4 && p.height == 5)
        #expect(p.data[0..<4] == [1, 2, 3, 2])
        #expect(p.data[12..<16] == [4, 5, 6, 5])  // row 3 reflects row 1
    }
}

@Suite struct LoaderTests {
    func bytes() throws -> [UInt8] {
        var out: [UInt8] = []
        let f = fopen(fixtures + "/weights.safetensors", "rb")!
        defer { fclose(f) }
        var buf = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = fread(&buf, 1, buf.count, f)
            out += buf[0..<n]
            if n < buf.count { break }
        }
        return out
    }

    @Test func truncatedFileIsReported() throws {
        let b = try bytes()
        for cut in [4, 100, b.count - 10] {
            #expect(throws: SafeTensors.Failure.self) { _ = try SafeTensors(bytes: Array(b[0..<cut])) }
        }
    }

    @Test func corruptHeaderIsReported() throws {
        var b = try bytes()
        b[8] = UInt8(ascii: "#")  // the header's opening brace
        #expect(throws: SafeTensors.Failure.self) { _ = try SafeTensors(bytes: b) }
    }

    @Test func missingExtraAndMisshapedTensorsAreAllListed() throws {
        let file = try SafeTensors(bytes: try bytes())
        var t = file.tensors
        t.removeValue(forKey: "tail.weight")
        t["bogus.weight"] = SafeTensors.Entry(shape: [1], data: [0])
        t["concat12.weight"] = SafeTensors.Entry(shape: [1, 1, 1, 1], data: [0])
        let cfg = try MPRNetConfig(metadata: file.metadata)
        do {
            _ = try MPRNet(config: cfg, tensors: t)
            Issue.record("loaded bad weights")
        } catch let MPRNetError.badWeights(problems) {
            #expect(problems.contains { $0.hasPrefix("missing tail.weight") })
            #expect(problems.contains("unexpected tensor bogus.weight"))
            #expect(problems.contains { $0.hasPrefix("concat12.weight has shape [1, 1, 1, 1]") })
        }
        // The same tensors under another config do not fit either.
        #expect(throws: MPRNetError.self) {
            _ = try MPRNet(config: MPRNetConfig(nFeat: 16, scaleUnetFeats: 4, scaleOrsnetFeats: 4, numCab: 2, reduction: 4),
                           tensors: file.tensors)
        }
    }
}

import Glibc
