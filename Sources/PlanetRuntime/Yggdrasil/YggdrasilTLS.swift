import COpenSSL
import PlanetCore
#if canImport(Glibc)
import Glibc
#endif

/// tls:// as yggdrasil 0.5 does it (src/core/tls.go, link_tls.go): TLS 1.3 only, a self-signed
/// ed25519 certificate, no certificate verification on either side and no client certificate
/// asked for. TLS hides the stream; who the peer is comes from the meta handshake inside it, and
/// the proof that it holds its key from ironwood's SigReq/SigRes. Through the system OpenSSL
/// because libsodium has no TLS (Docs/architecture.md).
///
/// One context per transport, shared by its listeners and dialers (an SSL_CTX serves both roles).
/// Loop-confined, like the transport that owns it.
final class YggdrasilTLSContext {
    let ctx: OpaquePointer

    /// The certificate is made from the node's own ed25519 seed, as yggdrasil makes its from the
    /// node key: the peer learns nothing it will not read in the meta handshake a moment later.
    init(identity: NodeIdentity) throws(StartupError) {
        guard let ctx = SSL_CTX_new(TLS_method()) else { throw StartupError("tls: \(Self.lastError())") }
        self.ctx = ctx
        // SSL_CTX_set_min_proto_version and SSL_CTX_set_mode are macros over SSL_CTX_ctrl.
        guard SSL_CTX_ctrl(ctx, SSL_CTRL_SET_MIN_PROTO_VERSION, Int(TLS1_3_VERSION), nil) == 1 else {
            throw StartupError("tls: cannot require TLS 1.3: \(Self.lastError())")
        }
        // Partial writes and a moving buffer: the transport writes what the socket takes from a
        // buffer that may be reallocated between calls.
        _ = SSL_CTX_ctrl(ctx, SSL_CTRL_MODE, Int(SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER), nil)
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nil)
        let seed = Array(identity.secretKey.prefix(32))
        guard let key = seed.withUnsafeBufferPointer({ EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nil, $0.baseAddress, 32) }) else {
            throw StartupError("tls: cannot load the node key: \(Self.lastError())")
        }
        defer { EVP_PKEY_free(key) }
        guard let cert = X509_new() else { throw StartupError("tls: \(Self.lastError())") }
        defer { X509_free(cert) }
        X509_set_version(cert, 2)
        ASN1_INTEGER_set(X509_get_serialNumber(cert), 1)
        X509_gmtime_adj(X509_getm_notBefore(cert), -3600)
        X509_gmtime_adj(X509_getm_notAfter(cert), 365 * 24 * 3600)
        X509_set_pubkey(cert, key)
        let name = X509_get_subject_name(cert)
        // yggdrasil names its certificate after the key in hex; nobody checks it.
        let cn = identity.publicKey.hex
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, cn, -1, -1, 0)
        X509_set_issuer_name(cert, name)
        // ed25519 signs without a separate digest: the md must be NULL.
        guard X509_sign(cert, key, nil) > 0, SSL_CTX_use_certificate(ctx, cert) == 1,
              SSL_CTX_use_PrivateKey(ctx, key) == 1 else {
            throw StartupError("tls: cannot make the certificate: \(Self.lastError())")
        }
    }

    deinit { SSL_CTX_free(ctx) }

    /// The oldest queued OpenSSL error as text (and the queue cleared), or "unknown".
    static func lastError() -> String {
        let code = ERR_get_error()
        ERR_clear_error()
        guard code != 0 else { return "unknown OpenSSL error" }
        var buffer = [UInt8](repeating: 0, count: 256)
        buffer.withUnsafeMutableBufferPointer { p in
            p.withMemoryRebound(to: CChar.self) { ERR_error_string_n(code, $0.baseAddress, $0.count) }
        }
        return String(decoding: buffer.prefix { $0 != 0 }, as: UTF8.self)
    }
}

/// A connected socket's bytes, plain or through TLS: what a transport connection reads and writes.
protocol YggdrasilStream: AnyObject {
    /// Reads into `buffer`: bytes read, 0 when nothing is available now, nil at the end of the
    /// stream (with `failure` set when it was an error).
    func read(into buffer: UnsafeMutableRawBufferPointer) -> Int?
    /// Writes from `bytes`: how many were taken (0 when the socket is full), nil on an error.
    func write(_ bytes: UnsafeRawBufferPointer) -> Int?
    /// Whether the stream needs the socket writable to make progress (TLS may need to write in
    /// order to read, during the handshake or a key update).
    var wantsWritable: Bool { get }
    /// Bytes already read from the socket and not yet returned (TLS records decrypted ahead):
    /// the socket will not signal them, so the reader must not stop while there are some.
    var hasBuffered: Bool { get }
    var failure: String { get }
    func shutdown()
}

/// A plain tcp:// stream: read(2) and send(2) on the non-blocking socket.
final class PlainStream: YggdrasilStream {
    let fd: Int32
    private(set) var failure = ""
    init(fd: Int32) { self.fd = fd }

    func read(into buffer: UnsafeMutableRawBufferPointer) -> Int? {
        let n = Glibc.read(fd, buffer.baseAddress, buffer.count)
        if n > 0 { return n }
        if n == 0 { failure = "end of stream"; return nil }
        if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR { return 0 }
        failure = SocketSupport.errnoText()
        return nil
    }

    func write(_ bytes: UnsafeRawBufferPointer) -> Int? {
        let n = Glibc.send(fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL))
        if n >= 0 { return n }
        if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR { return 0 }
        failure = SocketSupport.errnoText()
        return nil
    }

    var wantsWritable: Bool { false }
    var hasBuffered: Bool { false }
    func shutdown() {}
}

/// A tls:// stream over the non-blocking socket. The handshake runs inside the first reads and
/// writes (SSL_read/SSL_write drive it), so the meta handshake queued at once simply waits in
/// OpenSSL's hands until TLS is up.
final class TLSStream: YggdrasilStream {
    private let ssl: OpaquePointer
    private(set) var failure = ""
    private(set) var wantsWritable = false

    init?(context: YggdrasilTLSContext, fd: Int32, serverName: String?, accepting: Bool) {
        guard let ssl = SSL_new(context.ctx) else { return nil }
        self.ssl = ssl
        SSL_set_fd(ssl, fd)
        if accepting {
            SSL_set_accept_state(ssl)
        } else {
            SSL_set_connect_state(ssl)
            // SSL_set_tlsext_host_name (a macro): Go sends the host name as SNI when it is one.
            // OpenSSL copies the name, so the pointer need only live for the call.
            if let serverName {
                _ = serverName.withCString { SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, Int(TLSEXT_NAMETYPE_host_name), UnsafeMutableRawPointer(mutating: $0)) }
            }
        }
    }

    deinit { SSL_free(ssl) }

    /// Maps an OpenSSL result: nil to go on (would block), or the error text.
    private func settle(_ result: Int32) -> String? {
        let e = SSL_get_error(ssl, result)
        switch e {
        case SSL_ERROR_WANT_READ: wantsWritable = false; return nil
        case SSL_ERROR_WANT_WRITE: wantsWritable = true; return nil
        case SSL_ERROR_ZERO_RETURN: return "TLS closed by the peer"
        case SSL_ERROR_SYSCALL:
            let queued = ERR_peek_error()
            if queued != 0 { return "TLS: \(YggdrasilTLSContext.lastError())" }
            return errno == 0 ? "end of stream" : "TLS: \(SocketSupport.errnoText())"
        default: return "TLS: \(YggdrasilTLSContext.lastError())"
        }
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) -> Int? {
        var n = 0
        errno = 0
        let r = SSL_read_ex(ssl, buffer.baseAddress, buffer.count, &n)
        if r == 1 { wantsWritable = false; return n }
        if let why = settle(r) { failure = why; return nil }
        return 0
    }

    func write(_ bytes: UnsafeRawBufferPointer) -> Int? {
        guard bytes.count > 0 else { return 0 }
        var n = 0
        errno = 0
        let r = SSL_write_ex(ssl, bytes.baseAddress, bytes.count, &n)
        if r == 1 { wantsWritable = false; return n }
        if let why = settle(r) { failure = why; return nil }
        return 0
    }

    var hasBuffered: Bool { SSL_pending(ssl) > 0 }

    func shutdown() { _ = SSL_shutdown(ssl) }
}
