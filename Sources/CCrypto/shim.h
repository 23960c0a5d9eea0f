// OpenSSL's libcrypto (3.0): ChaCha20-Poly1305, X25519, BLAKE2s and the MACs over it,
// reached through EVP for the WireGuard backend.
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>
