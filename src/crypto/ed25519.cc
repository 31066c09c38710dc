#include "crypto/ed25519.h"

#include <fmt/format.h>
#include <sodium.h>
#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <system_error>

#include "crypto/crypto.h"

namespace zengen::crypto::ed25519 {
namespace {

static_assert(crypto_sign_SEEDBYTES == kSeedBytes);
static_assert(crypto_sign_PUBLICKEYBYTES == kPublicKeyBytes);
static_assert(crypto_sign_BYTES == kSignatureBytes);

void EnsureSodium() {
  // why: a function-local static runs sodium_init() exactly once, even from several threads.
  static const bool ok = sodium_init() >= 0;
  if (!ok) std::abort();  // libsodium cannot run safely on this machine
}

const unsigned char* U(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

// The 64-byte libsodium secret key (seed || public key) of a seed.
std::string ExpandedSecret(std::string_view seed, std::string* public_key) {
  std::string pk(crypto_sign_PUBLICKEYBYTES, '\0');
  std::string sk(crypto_sign_SECRETKEYBYTES, '\0');
  crypto_sign_seed_keypair(reinterpret_cast<unsigned char*>(pk.data()),
                           reinterpret_cast<unsigned char*>(sk.data()), U(seed));
  if (public_key != nullptr) *public_key = std::move(pk);
  return sk;
}

}  // namespace

KeyPair Generate() {
  EnsureSodium();
  auto key = FromSeed(RandomBytes(kSeedBytes));
  return std::move(key).value();
}

Result<KeyPair> FromSeed(std::string_view seed) {
  EnsureSodium();
  if (seed.size() != kSeedBytes) {
    return InvalidArgument("key_malformed", fmt::format("an Ed25519 seed has {} bytes", kSeedBytes));
  }
  KeyPair key{.seed = std::string(seed)};
  std::string sk = ExpandedSecret(seed, &key.public_key);
  sodium_memzero(sk.data(), sk.size());
  return key;
}

std::string Sign(const KeyPair& key, std::string_view message) {
  EnsureSodium();
  std::string sk = ExpandedSecret(key.seed, nullptr);
  std::string sig(crypto_sign_BYTES, '\0');
  crypto_sign_detached(reinterpret_cast<unsigned char*>(sig.data()), nullptr, U(message),
                       message.size(), U(sk));
  sodium_memzero(sk.data(), sk.size());
  return sig;
}

bool Verify(std::string_view public_key, std::string_view message, std::string_view signature) {
  EnsureSodium();
  if (public_key.size() != kPublicKeyBytes || signature.size() != kSignatureBytes) return false;
  return crypto_sign_verify_detached(U(signature), U(message), message.size(), U(public_key)) == 0;
}

Result<KeyPair> LoadOrCreateKeyFile(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    const auto dir = path.parent_path();
    if (!dir.empty() && !std::filesystem::exists(dir, ec)) {
      std::filesystem::create_directories(dir, ec);
      if (ec) {
        return Internal("key_create_failed",
                        fmt::format("cannot create {}: {}", dir.string(), ec.message()));
      }
      // why: set explicitly, not left to the umask; the directory holds secrets.
      ::chmod(dir.c_str(), 0700);
    }
    KeyPair key = Generate();
    ZG_RETURN_IF_ERROR(WriteSecretFile(path, ToHex(key.seed) + "\n"));
    return key;
  }
  return LoadKeyFile(path);
}

Result<KeyPair> LoadKeyFile(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    return NotFound("key_missing", fmt::format("the key file {} does not exist", path.string()));
  }
  std::ifstream f(path);
  std::string hex;
  if (!(f >> hex)) {
    return Internal("key_unreadable", fmt::format("cannot read the key file {}", path.string()));
  }
  auto seed = FromHex(hex);
  if (!seed.ok() || seed->size() != kSeedBytes) {
    return InvalidArgument("key_malformed", fmt::format("{} does not hold a {}-byte Ed25519 seed "
                                                        "in hex",
                                                        path.string(), kSeedBytes));
  }
  return FromSeed(*seed);
}

}  // namespace zengen::crypto::ed25519
