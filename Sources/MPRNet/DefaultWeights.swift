import CPlatform
import Glibc

extension MPRNet {
    /// The weights to use when none are named: $DENOISE_MPRNET_MODEL; else the shipped model that
    /// install.sh put beside the binary holding this code (`mprnet.safetensors`, the GIMP plug-in's
    /// copy) or in PREFIX/share/denoise for a binary in PREFIX/lib or PREFIX/bin; nil when there is none.
    public static func defaultWeightsPath() -> String? {
        if let env = getenv("DENOISE_MPRNET_MODEL") { return String(cString: env) }
        guard let binary = denoise_library_path() else { return nil }
        let dir = String(cString: binary).split(separator: "/", omittingEmptySubsequences: false).dropLast()
        let candidates = [dir.joined(separator: "/") + "/mprnet.safetensors",
                          dir.dropLast().joined(separator: "/") + "/share/denoise/mprnet.safetensors"]
        return candidates.first { access($0, R_OK) == 0 }
    }
}
