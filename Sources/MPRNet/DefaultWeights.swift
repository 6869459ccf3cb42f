import CPlatform
import Glibc

extension MPRNet {
    /// The models install.sh puts beside the library: the name callers use, the file, and the
    /// environment variable that overrides it.
    public static let installedModels: [(name: String, file: String, environment: String)] = [
        ("default", "mprnet.safetensors", "DENOISE_MPRNET_MODEL"),
        ("camera", "mprnet-camera.safetensors", "DENOISE_MPRNET_CAMERA_MODEL"),
    ]

    /// Why an installed model cannot be had, in words a user can act on.
    public struct InstalledModelError: Error, CustomStringConvertible {
        public let description: String
    }

    /// The file of the installed model `name`, or an error naming the models there are (an unknown
    /// name) or the file and variable that would provide it (a model not installed).
    public static func installedWeightsFile(_ name: String) throws -> String {
        guard let entry = installedModels.first(where: { $0.name == name }) else {
            let names = installedModels.map { "\"\($0.name)\"" }.joined(separator: ", ")
            throw InstalledModelError(description: "no model named \"\(name)\": the installed ones are \(names)")
        }
        guard let file = installedWeightsPath(name) else {
            throw InstalledModelError(description: "the \(name) model is not installed (\(entry.file); or set \(entry.environment))")
        }
        return file
    }

    /// The weights to use when none are named: `installedWeightsPath("default")`.
    public static func defaultWeightsPath() -> String? { installedWeightsPath("default") }

    /// The file of the installed model `name` ("default" or "camera"): its environment variable
    /// when set; else the file install.sh put beside the binary holding this code (the GIMP
    /// plug-in's copy) or in PREFIX/share/denoise for a binary in PREFIX/lib or PREFIX/bin; nil when
    /// the name is unknown or the model is not installed.
    public static func installedWeightsPath(_ name: String) -> String? {
        guard let model = installedModels.first(where: { $0.name == name }) else { return nil }
        if let env = getenv(model.environment) { return String(cString: env) }
        guard let binary = denoise_library_path() else { return nil }
        let dir = String(cString: binary).split(separator: "/", omittingEmptySubsequences: false).dropLast()
        let candidates = [dir.joined(separator: "/") + "/" + model.file,
                          dir.dropLast().joined(separator: "/") + "/share/denoise/" + model.file]
        return candidates.first { access($0, R_OK) == 0 }
    }
}
