#!/usr/bin/env python3
"""A second, independent reading of the WireGuard handshake (whitepaper §5.4, protocol page
https://www.wireguard.com/protocol/) with Python's hashlib/hmac and the `cryptography`
package, run once to produce the transcript that Tests/WireGuardTests/HandshakeTranscriptTests
compares against: message 1 and 2 bytes (mac1 included) and the transport keys for the fixed
keys, ephemerals, indices and timestamp of Tests/WireGuardTests/HandshakeFixture.swift.
Usage: python3 Scripts/wireguard-handshake-reference.py [psk-hex]"""
import hashlib
import hmac
import struct
import sys

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305


def HASH(*parts):
    return hashlib.blake2s(b"".join(parts)).digest()


def MAC(key, data):
    return hashlib.blake2s(data, key=key, digest_size=16).digest()


def HMAC(key, data):
    return hmac.new(key, data, hashlib.blake2s).digest()


def KDF(n, key, data):
    t0 = HMAC(key, data)
    out, prev = [], b""
    for i in range(1, n + 1):
        prev = HMAC(t0, prev + bytes([i]))
        out.append(prev)
    return out


def DH(private, public):
    return X25519PrivateKey.from_private_bytes(private).exchange(
        X25519PublicKey.from_public_bytes(public))


def PUB(private):
    return X25519PrivateKey.from_private_bytes(private).public_key().public_bytes_raw()


def AEAD(key, plaintext, ad):
    return ChaCha20Poly1305(key).encrypt(bytes(12), plaintext, ad)


si = bytes.fromhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a")
sr = bytes.fromhex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb")
ei = bytes.fromhex("c0ffee0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d")
er = bytes.fromhex("d00d1e0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d")
psk = bytes.fromhex(sys.argv[1]) if len(sys.argv) > 1 else bytes(32)
index_i, index_r = 0x11223344, 0x55667788
timestamp = struct.pack(">QI", 0x400000000000000A + 1_800_000_000, 0)
Si, Sr, Ei, Er = PUB(si), PUB(sr), PUB(ei), PUB(er)

# Message 1 (initiator).
C = HASH(b"Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s")
H = HASH(C, b"WireGuard v1 zx2c4 Jason@zx2c4.com")
H = HASH(H, Sr)
C = KDF(1, C, Ei)[0]
H = HASH(H, Ei)
C, k = KDF(2, C, DH(ei, Sr))
static = AEAD(k, Si, H)
H = HASH(H, static)
C, k = KDF(2, C, DH(si, Sr))
stamp = AEAD(k, timestamp, H)
H = HASH(H, stamp)
m1 = struct.pack("<II", 1, index_i) + Ei + static + stamp
m1 += MAC(HASH(b"mac1----", Sr), m1) + bytes(16)

# Message 2 (responder), continuing from the state after message 1.
C = KDF(1, C, Er)[0]
H = HASH(H, Er)
C = KDF(1, C, DH(er, Ei))[0]
C = KDF(1, C, DH(er, Si))[0]
C, tau, k = KDF(3, C, psk)
H = HASH(H, tau)
empty = AEAD(k, b"", H)
H = HASH(H, empty)
m2 = struct.pack("<III", 2, index_r, index_i) + Er + empty
m2 += MAC(HASH(b"mac1----", Si), m2) + bytes(16)

initiator_send, initiator_receive = KDF(2, C, b"")
print("initiation", m1.hex())
print("response", m2.hex())
print("initiator-sending", initiator_send.hex())
print("initiator-receiving", initiator_receive.hex())
