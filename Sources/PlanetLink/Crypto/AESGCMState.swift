import CSodium
import PlanetCore

/// libsodium's precomputed AES-256-GCM key (round keys and GHASH powers): 16-byte aligned
/// memory it insists on, wiped when the keypair goes away.
final class AESGCMState {
    let pointer: UnsafeMutablePointer<crypto_aead_aes256gcm_state>

    init(key: [UInt8]) {
        precondition(key.count == Int(crypto_aead_aes256gcm_keybytes()) && Sodium.ready)
        let raw = UnsafeMutableRawPointer.allocate(byteCount: MemoryLayout<crypto_aead_aes256gcm_state>.size, alignment: 16)
        pointer = raw.bindMemory(to: crypto_aead_aes256gcm_state.self, capacity: 1)
        _ = key.withUnsafeBufferPointer { crypto_aead_aes256gcm_beforenm(pointer, $0.baseAddress!) }
    }

    deinit {
        sodium_memzero(pointer, MemoryLayout<crypto_aead_aes256gcm_state>.size)
        pointer.deallocate()
    }
}
