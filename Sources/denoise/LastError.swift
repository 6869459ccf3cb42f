import CDenoise
import DenoiseCore
import ImageCore
import Glibc

/// The per-thread message behind dn_last_error(): a malloc'ed C string in a pthread key.
enum LastError {
    static let key: pthread_key_t = {
        var k = pthread_key_t()
        pthread_key_create(&k) { free($0) }
        return k
    }()

    static func set(_ message: String) {
        free(pthread_getspecific(key))
        pthread_setspecific(key, strdup(message))
    }

    static var message: UnsafePointer<CChar> {
        if let p = pthread_getspecific(key) { return UnsafePointer(p.assumingMemoryBound(to: CChar.self)) }
        return empty
    }

    // Immutable after creation, never freed: safe to share.
    nonisolated(unsafe) private static let empty = permanentCString("")
}

/// A failure on its way to the C caller: a status code plus its message.
struct APIError: Error {
    let status: dn_status
    let message: String

    init(_ status: dn_status, _ message: String) {
        self.status = status
        self.message = message
    }
}

/// Runs `body`, turning thrown errors into a status and the thread's last-error message.
func reporting(_ body: () throws -> Void) -> dn_status {
    do {
        try body()
        LastError.set("")
        return DN_OK
    } catch let e as APIError {
        LastError.set(e.message)
        return e.status
    } catch let e as DenoiseError {
        LastError.set(e.description)
        return switch e {
        case .cancelled: DN_ERROR_CANCELLED
        case .invalidArgument: DN_ERROR_INVALID_ARGUMENT
        case .invalidSize: DN_ERROR_INVALID_SIZE
        case .nonFinite: DN_ERROR_NONFINITE
        case .outOfMemory: DN_ERROR_OUT_OF_MEMORY
        }
    } catch {
        LastError.set("internal error: \(error)")
        return DN_ERROR_INTERNAL
    }
}

/// A C string that lives as long as the library (for constant strings handed to C).
func permanentCString(_ s: String) -> UnsafePointer<CChar> { UnsafePointer(strdup(s)!) }
