#include "crypto/crypt4gh.h"

#include <fmt/format.h>
#include <openssl/evp.h>
#include <sodium.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "crypto/crypto.h"

namespace zengen::crypto::crypt4gh {
namespace {

constexpr std::string_view kMagic = "crypt4gh";
constexpr uint32_t kVersion = 1;
constexpr size_t kPreambleSize = 16;  // magic, version, packet count
// length, method, writer public key, nonce, MAC: the smallest possible packet.
constexpr size_t kPacketOverhead = 4 + 4 + kKeySize + kNonceSize + kMacSize;
constexpr uint32_t kMaxPacketLength = 1u << 20;
constexpr uint32_t kMaxPackets = 1024;
constexpr uint32_t kPacketDataEncryptionParameters = 0;
constexpr uint32_t kPacketDataEditList = 1;
constexpr size_t kMaxEditListEntries = 1u << 16;

constexpr std::string_view kKeyMagic = "c4gh-v1";
constexpr std::string_view kPublicArmour = "CRYPT4GH PUBLIC KEY";
constexpr std::string_view kPrivateArmour = "CRYPT4GH PRIVATE KEY";
constexpr std::string_view kEncryptedArmour = "ENCRYPTED PRIVATE KEY";
constexpr uint64_t kScryptN = 1u << 14;
constexpr uint64_t kScryptR = 8;
constexpr uint64_t kScryptP = 1;
constexpr size_t kSaltSize = 16;

void EnsureSodium() {
  static const bool ok = sodium_init() >= 0;
  if (!ok) std::abort();  // libsodium cannot run safely on this machine
}

const unsigned char* U(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}
unsigned char* U(std::string& s) { return reinterpret_cast<unsigned char*>(s.data()); }

void PutLe32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void PutLe64(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
uint32_t GetLe32(std::string_view s, size_t at) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(s[at + i]);
  return v;
}
uint64_t GetLe64(std::string_view s, size_t at) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(s[at + i]);
  return v;
}

Error BadKey(std::string message) { return InvalidArgument("invalid_key", std::move(message)); }
Error BadKeyFile(std::string message) {
  return InvalidArgument("invalid_key_file", std::move(message));
}
Error BadHeader(std::string message) {
  return InvalidArgument("invalid_crypt4gh_header", std::move(message));
}
Error Truncated(std::string message) {
  return InvalidArgument("crypt4gh_truncated", std::move(message));
}

std::string RandomSodiumBytes(size_t n) {
  EnsureSodium();
  std::string out(n, '\0');
  randombytes_buf(out.data(), n);
  return out;
}

// ChaCha20-Poly1305 IETF without associated data: nonce is not included in the output.
std::string Seal(std::string_view plain, std::string_view nonce, std::string_view key) {
  std::string out(plain.size() + kMacSize, '\0');
  unsigned long long len = 0;
  crypto_aead_chacha20poly1305_ietf_encrypt(U(out), &len, U(plain), plain.size(), nullptr, 0,
                                            nullptr, U(nonce), U(key));
  out.resize(len);
  return out;
}

std::optional<std::string> Open(std::string_view sealed, std::string_view nonce,
                                std::string_view key) {
  if (sealed.size() < kMacSize) return std::nullopt;
  std::string out(sealed.size() - kMacSize, '\0');
  unsigned long long len = 0;
  if (crypto_aead_chacha20poly1305_ietf_decrypt(U(out), &len, nullptr, U(sealed), sealed.size(),
                                                nullptr, 0, U(nonce), U(key)) != 0) {
    return std::nullopt;
  }
  out.resize(len);
  return out;
}

// ----- header packets ------------------------------------------------------------------------

// The writer's packet key for a recipient: crypto_kx server tx = BLAKE2b-512(dh ‖ reader ‖
// writer)[0..32].
std::optional<std::string> WriterPacketKey(const KeyPair& writer, std::string_view reader_pk) {
  std::string rx(kKeySize, '\0'), tx(kKeySize, '\0');
  if (crypto_kx_server_session_keys(U(rx), U(tx), U(writer.public_key), U(writer.secret_key),
                                    U(reader_pk)) != 0) {
    return std::nullopt;
  }
  sodium_memzero(rx.data(), rx.size());
  return tx;
}

// The reader's packet key: crypto_kx client rx, the same bytes as the writer's tx.
std::optional<std::string> ReaderPacketKey(const KeyPair& reader, std::string_view writer_pk) {
  std::string rx(kKeySize, '\0'), tx(kKeySize, '\0');
  if (crypto_kx_client_session_keys(U(rx), U(tx), U(reader.public_key), U(reader.secret_key),
                                    U(writer_pk)) != 0) {
    return std::nullopt;
  }
  sodium_memzero(tx.data(), tx.size());
  return rx;
}

Result<KeyPair> KeyPairFromSecret(std::string_view secret) {
  ZG_ASSIGN_OR_RETURN(std::string pk, PublicKeyFromSecret(secret));
  return KeyPair{std::move(pk), std::string(secret)};
}

Result<std::string> BuildHeader(const KeyPair& writer, const std::vector<std::string>& recipients,
                                const std::vector<std::string>& payloads) {
  if (recipients.empty()) return BadKey("at least one recipient public key is required");
  std::string out(kMagic);
  PutLe32(out, kVersion);
  PutLe32(out, static_cast<uint32_t>(recipients.size() * payloads.size()));
  for (const std::string& recipient : recipients) {
    if (recipient.size() != kKeySize) return BadKey("recipient public keys must be 32 bytes");
    std::optional<std::string> key = WriterPacketKey(writer, recipient);
    if (!key) return BadKey("recipient public key is not a usable X25519 point");
    for (const std::string& payload : payloads) {
      const std::string nonce = RandomSodiumBytes(kNonceSize);
      const std::string sealed = Seal(payload, nonce, *key);
      PutLe32(out, static_cast<uint32_t>(4 + 4 + kKeySize + kNonceSize + sealed.size()));
      PutLe32(out, 0);  // X25519_chacha20_ietf_poly1305
      out += writer.public_key;
      out += nonce;
      out += sealed;
    }
    sodium_memzero(key->data(), key->size());
  }
  return out;
}

struct OpenedHeader {
  std::vector<std::string> payloads;  // every packet that opened, in order
  std::vector<std::string> session_keys;
  std::optional<std::vector<uint64_t>> edit_list;
  std::string writer_public_key;
};

// REQUIRES: header is exactly one complete header (HeaderLength(header) == header.size()).
Result<OpenedHeader> OpenHeader(std::string_view header, const KeyPair& reader) {
  OpenedHeader opened;
  const uint32_t count = GetLe32(header, 12);
  size_t at = kPreambleSize;
  for (uint32_t i = 0; i < count; ++i) {
    const uint32_t length = GetLe32(header, at);
    const std::string_view packet = header.substr(at, length);
    at += length;
    if (GetLe32(packet, 4) != 0) continue;  // an encryption method we do not know
    const std::string_view writer_pk = packet.substr(8, kKeySize);
    const std::string_view nonce = packet.substr(8 + kKeySize, kNonceSize);
    const std::string_view sealed = packet.substr(8 + kKeySize + kNonceSize);
    std::optional<std::string> key = ReaderPacketKey(reader, writer_pk);
    if (!key) continue;
    std::optional<std::string> payload = Open(sealed, nonce, *key);
    sodium_memzero(key->data(), key->size());
    if (!payload) continue;  // meant for another reader
    if (payload->size() < 4) return BadHeader(fmt::format("header packet {} is too short", i));
    const uint32_t type = GetLe32(*payload, 0);
    if (type == kPacketDataEncryptionParameters) {
      if (payload->size() != 8 + kKeySize) {
        return BadHeader(fmt::format("data encryption packet {} has the wrong size", i));
      }
      if (GetLe32(*payload, 4) != 0) {
        return BadHeader(fmt::format("data encryption packet {} uses an unknown method", i));
      }
      opened.session_keys.emplace_back(payload->substr(8));
      if (opened.writer_public_key.empty()) opened.writer_public_key = std::string(writer_pk);
    } else if (type == kPacketDataEditList) {
      if (opened.edit_list) return BadHeader("the header has more than one edit list");
      if (payload->size() < 8) return BadHeader(fmt::format("edit list packet {} is short", i));
      const uint32_t n = GetLe32(*payload, 4);
      if (n > kMaxEditListEntries || payload->size() != 8 + 8 * static_cast<size_t>(n)) {
        return BadHeader(fmt::format("edit list packet {} has the wrong size", i));
      }
      std::vector<uint64_t> lengths(n);
      for (uint32_t j = 0; j < n; ++j) lengths[j] = GetLe64(*payload, 8 + 8 * j);
      opened.edit_list = std::move(lengths);
    }  // other packet types are ignored, as the specification allows
    opened.payloads.push_back(std::move(*payload));
  }
  if (opened.session_keys.empty()) {
    return PermissionDenied("no_crypt4gh_packet_for_key",
                            "no header packet carries a data key for this reader's key");
  }
  return opened;
}

// ----- key files -----------------------------------------------------------------------------

std::string Base64(std::string_view bytes) {
  EnsureSodium();
  std::string out(sodium_base64_encoded_len(bytes.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), U(bytes), bytes.size(), sodium_base64_VARIANT_ORIGINAL);
  out.resize(out.size() - 1);  // terminating NUL
  return out;
}

std::optional<std::string> Unbase64(std::string_view text) {
  EnsureSodium();
  std::string out(text.size(), '\0');
  size_t len = 0;
  const char* end = nullptr;
  if (sodium_base642bin(U(out), out.size(), text.data(), text.size(), " \t\r\n", &len, &end,
                        sodium_base64_VARIANT_ORIGINAL) != 0 ||
      end != text.data() + text.size()) {
    return std::nullopt;
  }
  out.resize(len);
  return out;
}

std::string Armour(std::string_view label, std::string_view bytes) {
  return fmt::format("-----BEGIN {0}-----\n{1}\n-----END {0}-----\n", label, Base64(bytes));
}

// Returns the label and decoded body of the first armoured block.
Result<std::pair<std::string, std::string>> Unarmour(std::string_view text) {
  constexpr std::string_view kBegin = "-----BEGIN ";
  const size_t begin = text.find(kBegin);
  if (begin == std::string_view::npos) return BadKeyFile("no -----BEGIN line");
  const size_t label_start = begin + kBegin.size();
  const size_t label_end = text.find("-----", label_start);
  if (label_end == std::string_view::npos) return BadKeyFile("malformed -----BEGIN line");
  std::string label(text.substr(label_start, label_end - label_start));
  const size_t body = label_end + 5;
  const std::string end_line = fmt::format("-----END {}-----", label);
  const size_t end = text.find(end_line, body);
  if (end == std::string_view::npos) return BadKeyFile(fmt::format("no {} line", end_line));
  std::optional<std::string> bytes = Unbase64(text.substr(body, end - body));
  if (!bytes) return BadKeyFile("the key is not valid base64");
  return std::make_pair(std::move(label), std::move(*bytes));
}

void PutString(std::string& out, std::string_view s) {
  out.push_back(static_cast<char>((s.size() >> 8) & 0xff));
  out.push_back(static_cast<char>(s.size() & 0xff));
  out += s;
}

// Reads a 2-byte big-endian length-prefixed string at `at`, advancing it.
std::optional<std::string_view> GetString(std::string_view s, size_t& at) {
  if (s.size() - at < 2) return std::nullopt;
  const size_t n = (static_cast<unsigned char>(s[at]) << 8) | static_cast<unsigned char>(s[at + 1]);
  if (s.size() - at - 2 < n) return std::nullopt;
  std::string_view v = s.substr(at + 2, n);
  at += 2 + n;
  return v;
}

Result<std::string> Scrypt(std::string_view passphrase, std::string_view salt) {
  std::string key(kKeySize, '\0');
  if (EVP_PBE_scrypt(passphrase.data(), passphrase.size(), U(salt), salt.size(), kScryptN, kScryptR,
                     kScryptP, 64ull << 20, U(key), key.size()) != 1) {
    return Internal("kdf_failed", "scrypt failed");
  }
  return key;
}

Result<std::string> Pbkdf2(std::string_view passphrase, std::string_view salt, uint32_t rounds) {
  std::string key(kKeySize, '\0');
  if (rounds == 0 ||
      PKCS5_PBKDF2_HMAC(passphrase.data(), static_cast<int>(passphrase.size()), U(salt),
                        static_cast<int>(salt.size()), static_cast<int>(rounds), EVP_sha256(),
                        static_cast<int>(key.size()), U(key)) != 1) {
    return BadKeyFile("pbkdf2_hmac_sha256 failed");
  }
  return key;
}

Result<std::string> ReadSmallFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("key_file_unreadable", fmt::format("cannot read {}", path.string()));
  std::ostringstream ss;
  ss << in.rdbuf();
  if (ss.str().size() > (1u << 16))
    return BadKeyFile(fmt::format("{} is too large", path.string()));
  return ss.str();
}

}  // namespace

// ----- keys ----------------------------------------------------------------------------------

KeyPair GenerateKeyPair() {
  EnsureSodium();
  KeyPair kp{std::string(kKeySize, '\0'), std::string(kKeySize, '\0')};
  crypto_box_keypair(U(kp.public_key), U(kp.secret_key));
  return kp;
}

Result<std::string> PublicKeyFromSecret(std::string_view secret_key) {
  EnsureSodium();
  if (secret_key.size() != kKeySize) return BadKey("secret keys must be 32 bytes");
  std::string pk(kKeySize, '\0');
  crypto_scalarmult_base(U(pk), U(secret_key));
  return pk;
}

std::string FormatPublicKey(std::string_view public_key) {
  return Armour(kPublicArmour, public_key);
}

Result<std::string> ParsePublicKey(std::string_view text) {
  ZG_ASSIGN_OR_RETURN(auto block, Unarmour(text));
  if (block.first != kPublicArmour) {
    return BadKeyFile(fmt::format("expected a {}, found {}", kPublicArmour, block.first));
  }
  if (block.second.size() != kKeySize) return BadKeyFile("a public key must be 32 bytes");
  return std::move(block.second);
}

Result<std::string> FormatPrivateKey(std::string_view secret_key, std::string_view passphrase,
                                     std::string_view comment) {
  EnsureSodium();
  if (secret_key.size() != kKeySize) return BadKey("secret keys must be 32 bytes");
  std::string body(kKeyMagic);
  if (passphrase.empty()) {
    PutString(body, "none");
    PutString(body, "none");
    PutString(body, secret_key);
  } else {
    const std::string salt = RandomSodiumBytes(kSaltSize);
    ZG_ASSIGN_OR_RETURN(std::string key, Scrypt(passphrase, salt));
    std::string options;
    options.append(4, '\0');  // rounds: unused by scrypt, written as 0 like the reference tool
    options += salt;
    PutString(body, "scrypt");
    PutString(body, options);
    PutString(body, "chacha20_poly1305");
    const std::string nonce = RandomSodiumBytes(kNonceSize);
    PutString(body, nonce + Seal(secret_key, nonce, key));
    sodium_memzero(key.data(), key.size());
  }
  if (!comment.empty()) PutString(body, comment);
  std::string text = Armour(passphrase.empty() ? kPrivateArmour : kEncryptedArmour, body);
  sodium_memzero(body.data(), body.size());
  return text;
}

Result<std::string> ParsePrivateKey(std::string_view text, std::string_view passphrase) {
  ZG_ASSIGN_OR_RETURN(auto block, Unarmour(text));
  if (block.first != kPrivateArmour && block.first != kEncryptedArmour) {
    return BadKeyFile(fmt::format("expected a {}, found {}", kPrivateArmour, block.first));
  }
  const std::string_view body = block.second;
  if (body.substr(0, kKeyMagic.size()) != kKeyMagic) {
    return BadKeyFile("not a Crypt4GH private key (no c4gh-v1 magic)");
  }
  size_t at = kKeyMagic.size();
  const auto kdf = GetString(body, at);
  if (!kdf) return BadKeyFile("truncated key (kdf name)");
  std::string_view salt;
  uint32_t rounds = 0;
  if (*kdf != "none") {
    if (*kdf != "scrypt" && *kdf != "pbkdf2_hmac_sha256") {
      return InvalidArgument("unsupported_kdf", fmt::format("unsupported_kdf: {}", *kdf));
    }
    const auto options = GetString(body, at);
    if (!options || options->size() < 4 + 1) return BadKeyFile("truncated key (kdf options)");
    rounds = (static_cast<uint32_t>(static_cast<unsigned char>((*options)[0])) << 24) |
             (static_cast<uint32_t>(static_cast<unsigned char>((*options)[1])) << 16) |
             (static_cast<uint32_t>(static_cast<unsigned char>((*options)[2])) << 8) |
             static_cast<uint32_t>(static_cast<unsigned char>((*options)[3]));
    salt = options->substr(4);
  }
  const auto cipher = GetString(body, at);
  const auto blob = cipher ? GetString(body, at) : std::nullopt;
  if (!blob) return BadKeyFile("truncated key (cipher or key blob)");
  if (*cipher == "none") {
    if (*kdf != "none") return BadKeyFile("a key derivation without a cipher");
    if (blob->size() != kKeySize) return BadKeyFile("the secret key must be 32 bytes");
    return std::string(*blob);
  }
  if (*cipher != "chacha20_poly1305") {
    return InvalidArgument("unsupported_cipher", fmt::format("unsupported cipher {}", *cipher));
  }
  if (*kdf == "none") return BadKeyFile("an encrypted key without a key derivation");
  if (passphrase.empty()) {
    return InvalidArgument("passphrase_required", "this private key is passphrase-protected");
  }
  if (blob->size() != kNonceSize + kKeySize + kMacSize) {
    return BadKeyFile("the encrypted key blob has the wrong size");
  }
  std::string key;
  if (*kdf == "scrypt") {
    ZG_ASSIGN_OR_RETURN(key, Scrypt(passphrase, salt));
  } else {
    ZG_ASSIGN_OR_RETURN(key, Pbkdf2(passphrase, salt, rounds));
  }
  std::optional<std::string> secret =
      Open(blob->substr(kNonceSize), blob->substr(0, kNonceSize), key);
  sodium_memzero(key.data(), key.size());
  if (!secret) {
    return Unauthenticated("wrong_passphrase", "the passphrase does not unlock this private key");
  }
  return std::move(*secret);
}

Result<std::string> ReadPublicKeyFile(const std::filesystem::path& path) {
  ZG_ASSIGN_OR_RETURN(std::string text, ReadSmallFile(path));
  return ParsePublicKey(text);
}

Result<std::string> ReadPrivateKeyFile(const std::filesystem::path& path,
                                       std::string_view passphrase) {
  ZG_ASSIGN_OR_RETURN(std::string text, ReadSmallFile(path));
  return ParsePrivateKey(text, passphrase);
}

Status WritePublicKeyFile(const std::filesystem::path& path, std::string_view public_key) {
  if (public_key.size() != kKeySize) return BadKey("public keys must be 32 bytes");
  std::error_code ec;
  if (std::filesystem::exists(path, ec)) {
    return Conflict("file_exists", fmt::format("{} already exists", path.string()));
  }
  std::ofstream out(path, std::ios::binary);
  out << FormatPublicKey(public_key);
  out.close();
  if (!out) return Internal("file_write_failed", fmt::format("cannot write {}", path.string()));
  return Status::Ok();
}

Status WritePrivateKeyFile(const std::filesystem::path& path, std::string_view secret_key,
                           std::string_view passphrase, std::string_view comment) {
  ZG_ASSIGN_OR_RETURN(std::string text, FormatPrivateKey(secret_key, passphrase, comment));
  return WriteSecretFile(path, text);
}

// ----- layout --------------------------------------------------------------------------------

Result<size_t> HeaderLength(std::string_view prefix) {
  const size_t magic = std::min(prefix.size(), kMagic.size());
  if (prefix.substr(0, magic) != kMagic.substr(0, magic)) {
    return InvalidArgument("not_crypt4gh", "the stream does not start with \"crypt4gh\"");
  }
  if (prefix.size() < kPreambleSize) return size_t{0};
  const uint32_t version = GetLe32(prefix, 8);
  if (version != kVersion) {
    return InvalidArgument("unsupported_crypt4gh_version",
                           fmt::format("Crypt4GH version {} is not supported (only 1)", version));
  }
  const uint32_t count = GetLe32(prefix, 12);
  if (count > kMaxPackets) return BadHeader(fmt::format("{} header packets is too many", count));
  size_t at = kPreambleSize;
  for (uint32_t i = 0; i < count; ++i) {
    if (prefix.size() - at < 4) return size_t{0};
    const uint32_t length = GetLe32(prefix, at);
    if (length < kPacketOverhead || length > kMaxPacketLength) {
      return BadHeader(fmt::format("header packet {} has an invalid length {}", i, length));
    }
    at += length;
    if (at > prefix.size()) return size_t{0};
  }
  return at;
}

Result<SplitStream> SplitHeader(std::string_view stream) {
  ZG_ASSIGN_OR_RETURN(size_t length, HeaderLength(stream));
  if (length == 0) return Truncated("the stream ends inside the Crypt4GH header");
  return SplitStream{stream.substr(0, length), stream.substr(length), length};
}

DataSpan DataSpanForRange(uint64_t start, std::optional<uint64_t> end) {
  DataSpan span;
  const uint64_t first = start / kSegmentSize;
  span.offset = first * kCipherSegmentSize;
  if (end) {
    const uint64_t last = *end <= start ? first : (*end + kSegmentSize - 1) / kSegmentSize;
    span.length = (last - first) * kCipherSegmentSize;
  }
  return span;
}

// ----- encryption ----------------------------------------------------------------------------

Result<Encryptor> Encryptor::Create(std::string_view writer_secret,
                                    const std::vector<std::string>& recipient_public_keys,
                                    const std::optional<std::vector<uint64_t>>& edit_list) {
  if (edit_list && edit_list->size() > kMaxEditListEntries) {
    return InvalidArgument("invalid_edit_list", "an edit list holds at most 65536 lengths");
  }
  ZG_ASSIGN_OR_RETURN(KeyPair writer, KeyPairFromSecret(writer_secret));
  Encryptor enc;
  enc.session_key_ = RandomSodiumBytes(kKeySize);
  std::string payload;
  PutLe32(payload, kPacketDataEncryptionParameters);
  PutLe32(payload, 0);  // chacha20_ietf_poly1305
  payload += enc.session_key_;
  std::vector<std::string> payloads{payload};
  if (edit_list) {
    std::string edits;
    PutLe32(edits, kPacketDataEditList);
    PutLe32(edits, static_cast<uint32_t>(edit_list->size()));
    for (uint64_t length : *edit_list) PutLe64(edits, length);
    payloads.push_back(std::move(edits));
  }
  auto header = BuildHeader(writer, recipient_public_keys, payloads);
  sodium_memzero(payloads[0].data(), payloads[0].size());
  sodium_memzero(payload.data(), payload.size());
  sodium_memzero(writer.secret_key.data(), writer.secret_key.size());
  if (!header.ok()) return header.error();
  enc.header_ = std::move(*header);
  enc.pending_.reserve(kSegmentSize);
  return enc;
}

void Encryptor::EncryptSegment(std::string_view plain, std::string& out) {
  const std::string nonce = RandomSodiumBytes(kNonceSize);
  const size_t at = out.size();
  out += nonce;
  out.resize(at + kNonceSize + plain.size() + kMacSize);
  unsigned long long len = 0;
  crypto_aead_chacha20poly1305_ietf_encrypt(U(out) + at + kNonceSize, &len, U(plain), plain.size(),
                                            nullptr, 0, nullptr, U(nonce), U(session_key_));
}

std::string Encryptor::Update(std::string_view plaintext) {
  assert(!finished_);
  std::string out;
  out.reserve((pending_.size() + plaintext.size()) / kSegmentSize * kCipherSegmentSize +
              (header_emitted_ ? 0 : header_.size()));
  if (!header_emitted_) {
    out = header_;
    header_emitted_ = true;
  }
  if (!pending_.empty()) {
    const size_t take = std::min(plaintext.size(), kSegmentSize - pending_.size());
    pending_.append(plaintext.substr(0, take));
    plaintext.remove_prefix(take);
    if (pending_.size() < kSegmentSize) return out;
    EncryptSegment(pending_, out);
    sodium_memzero(pending_.data(), pending_.size());
    pending_.clear();
  }
  while (plaintext.size() >= kSegmentSize) {
    EncryptSegment(plaintext.substr(0, kSegmentSize), out);
    plaintext.remove_prefix(kSegmentSize);
  }
  pending_.assign(plaintext);
  return out;
}

std::string Encryptor::Finish() {
  assert(!finished_);
  std::string out;
  if (!header_emitted_) {
    out = header_;
    header_emitted_ = true;
  }
  if (!pending_.empty()) EncryptSegment(pending_, out);
  sodium_memzero(pending_.data(), pending_.size());
  pending_.clear();
  sodium_memzero(session_key_.data(), session_key_.size());
  finished_ = true;
  return out;
}

Result<std::string> Encrypt(std::string_view plaintext, std::string_view writer_secret,
                            const std::vector<std::string>& recipient_public_keys) {
  ZG_ASSIGN_OR_RETURN(Encryptor enc, Encryptor::Create(writer_secret, recipient_public_keys));
  std::string out = enc.Update(plaintext);
  out += enc.Finish();
  return out;
}

// ----- decryption ----------------------------------------------------------------------------

Result<Decryptor> Decryptor::Create(std::string_view reader_secret, DecryptOptions options) {
  EnsureSodium();
  if (reader_secret.size() != kKeySize) return BadKey("secret keys must be 32 bytes");
  if (options.end && *options.end < options.start) {
    return InvalidArgument("invalid_range", "the range ends before it starts");
  }
  Decryptor dec;
  dec.secret_ = std::string(reader_secret);
  dec.options_ = options;
  return dec;
}

Result<std::string> Decryptor::Fail(Error e) {
  state_ = State::kFailed;
  error_ = e;
  sodium_memzero(secret_.data(), secret_.size());
  for (std::string& key : session_keys_) sodium_memzero(key.data(), key.size());
  return e;
}

Status Decryptor::ParseHeaderIfComplete() {
  ZG_ASSIGN_OR_RETURN(size_t length, HeaderLength(buffer_));
  if (length == 0) return Status::Ok();
  ZG_ASSIGN_OR_RETURN(KeyPair reader, KeyPairFromSecret(secret_));
  auto opened = OpenHeader(std::string_view(buffer_).substr(0, length), reader);
  sodium_memzero(reader.secret_key.data(), reader.secret_key.size());
  if (!opened.ok()) return opened.error();
  session_keys_ = std::move(opened->session_keys);
  writer_public_key_ = std::move(opened->writer_public_key);
  edit_list_ = std::move(opened->edit_list);
  if (edit_list_ && options_.data_begins_at_range) {
    return InvalidArgument("edit_list_with_seek",
                           "a stream with an edit list must be read from its first segment");
  }
  if (edit_list_ && !edit_list_->empty()) edit_left_ = (*edit_list_)[0];
  header_length_ = length;
  buffer_.erase(0, length);
  if (options_.data_begins_at_range) segment_index_ = options_.start / kSegmentSize;
  state_ = State::kData;
  return Status::Ok();
}

bool Decryptor::Done() const {
  if (edit_list_) {
    if (options_.end && edited_offset_ >= *options_.end) return true;
    // An even-length list ends with a keep: nothing after it is output.
    return edit_list_->size() % 2 == 0 && edit_entry_ >= edit_list_->size();
  }
  return options_.end && segment_index_ * kSegmentSize >= *options_.end;
}

void Decryptor::Emit(std::string_view raw, uint64_t offset, std::string& out) {
  // `raw` is output-stream bytes starting at position `offset`; keep [start, end).
  const uint64_t lo = std::max(offset, options_.start);
  const uint64_t hi = std::min<uint64_t>(offset + raw.size(), options_.end.value_or(UINT64_MAX));
  if (lo < hi) out.append(raw.substr(lo - offset, hi - lo));
}

void Decryptor::EmitEdited(std::string_view plain, std::string& out) {
  const std::vector<uint64_t>& list = *edit_list_;
  while (!plain.empty()) {
    if (edit_entry_ >= list.size()) {
      // Past the list: an odd-length list ends with a skip, after which everything is kept.
      if (list.size() % 2 == 0) return;
      Emit(plain, edited_offset_, out);
      edited_offset_ += plain.size();
      return;
    }
    const size_t n = static_cast<size_t>(std::min<uint64_t>(edit_left_, plain.size()));
    if (edit_entry_ % 2 == 1) {  // keep
      Emit(plain.substr(0, n), edited_offset_, out);
      edited_offset_ += n;
    }
    plain.remove_prefix(n);
    edit_left_ -= n;
    if (edit_left_ == 0) {
      ++edit_entry_;
      if (edit_entry_ < list.size()) edit_left_ = list[edit_entry_];
    }
  }
}

Status Decryptor::ProcessSegment(std::string_view cipher, std::string& out) {
  const uint64_t index = segment_index_++;
  if (!edit_list_ && (index + 1) * kSegmentSize <= options_.start) return Status::Ok();
  if (cipher.size() < kNonceSize + kMacSize) {
    return Truncated(fmt::format("segment {} is truncated ({} bytes)", index, cipher.size()));
  }
  const std::string_view nonce = cipher.substr(0, kNonceSize);
  const std::string_view sealed = cipher.substr(kNonceSize);
  std::string plain(sealed.size() - kMacSize, '\0');
  bool opened = false;
  for (const std::string& key : session_keys_) {
    unsigned long long len = 0;
    if (crypto_aead_chacha20poly1305_ietf_decrypt(U(plain), &len, nullptr, U(sealed), sealed.size(),
                                                  nullptr, 0, U(nonce), U(key)) == 0) {
      opened = true;
      break;
    }
  }
  if (!opened) {
    return PermissionDenied(
        "crypt4gh_mac_mismatch",
        fmt::format("segment {} (plaintext bytes from {}) failed authentication: the data is "
                    "corrupted or truncated",
                    index, index * kSegmentSize));
  }
  if (edit_list_) {
    EmitEdited(plain, out);
  } else {
    Emit(plain, index * kSegmentSize, out);
  }
  sodium_memzero(plain.data(), plain.size());
  return Status::Ok();
}

Result<std::string> Decryptor::Update(std::string_view input) {
  if (state_ == State::kFailed) return error_;
  if (state_ == State::kData && Done()) return std::string();
  if (state_ == State::kHeader) {
    buffer_.append(input);
    if (Status s = ParseHeaderIfComplete(); !s.ok()) return Fail(s.error());
    if (state_ == State::kHeader) return std::string();
    input = {};  // what followed the header is in buffer_
  }
  std::string out;
  out.reserve((buffer_.size() + input.size()) / kCipherSegmentSize * kSegmentSize + kSegmentSize);
  // Whole segments held from before (after the header, or a part topped up from input), then
  // whole segments straight from the input without copying it; only a partial tail is kept.
  size_t at = 0;
  for (;;) {
    while (buffer_.size() - at >= kCipherSegmentSize && !Done()) {
      Status s = ProcessSegment(std::string_view(buffer_).substr(at, kCipherSegmentSize), out);
      if (!s.ok()) return Fail(s.error());
      at += kCipherSegmentSize;
    }
    if (Done() || buffer_.size() - at == 0 || input.empty()) break;
    buffer_.erase(0, at);
    at = 0;
    const size_t take = std::min(kCipherSegmentSize - buffer_.size(), input.size());
    buffer_.append(input.substr(0, take));
    input.remove_prefix(take);
  }
  if (Done()) {
    buffer_.clear();
    return out;
  }
  buffer_.erase(0, at);
  while (buffer_.empty() && input.size() >= kCipherSegmentSize && !Done()) {
    Status s = ProcessSegment(input.substr(0, kCipherSegmentSize), out);
    if (!s.ok()) return Fail(s.error());
    input.remove_prefix(kCipherSegmentSize);
  }
  if (Done()) {
    buffer_.clear();
  } else {
    buffer_.append(input);
  }
  return out;
}

Result<std::string> Decryptor::Finish() {
  if (state_ == State::kFailed) return error_;
  if (state_ == State::kHeader) {
    return Fail(Truncated("the stream ends inside the Crypt4GH header"));
  }
  std::string out;
  if (!buffer_.empty() && !Done()) {
    if (buffer_.size() < kNonceSize + kMacSize) {
      return Fail(Truncated(fmt::format("the stream ends inside segment {} ({} bytes)",
                                        segment_index_, buffer_.size())));
    }
    if (Status s = ProcessSegment(buffer_, out); !s.ok()) return Fail(s.error());
  }
  buffer_.clear();
  static_cast<void>(
      Fail(Internal("crypt4gh_finished", "the Crypt4GH decryptor has already finished")));
  return out;
}

Result<std::string> Decrypt(std::string_view stream, std::string_view reader_secret,
                            DecryptOptions options) {
  ZG_ASSIGN_OR_RETURN(Decryptor dec, Decryptor::Create(reader_secret, options));
  ZG_ASSIGN_OR_RETURN(std::string out, dec.Update(stream));
  ZG_ASSIGN_OR_RETURN(std::string rest, dec.Finish());
  out += rest;
  return out;
}

// ----- re-encryption -------------------------------------------------------------------------

Result<std::string> ReencryptHeader(std::string_view header, std::string_view reader_secret,
                                    const std::vector<std::string>& new_recipient_public_keys,
                                    std::string_view writer_secret) {
  ZG_ASSIGN_OR_RETURN(size_t length, HeaderLength(header));
  if (length == 0) return Truncated("the Crypt4GH header is incomplete");
  if (length != header.size()) return BadHeader("trailing bytes after the Crypt4GH header");
  ZG_ASSIGN_OR_RETURN(KeyPair reader, KeyPairFromSecret(reader_secret));
  ZG_ASSIGN_OR_RETURN(KeyPair writer, KeyPairFromSecret(writer_secret));
  ZG_ASSIGN_OR_RETURN(OpenedHeader opened, OpenHeader(header, reader));
  auto out = BuildHeader(writer, new_recipient_public_keys, opened.payloads);
  for (std::string& p : opened.payloads) sodium_memzero(p.data(), p.size());
  for (std::string& k : opened.session_keys) sodium_memzero(k.data(), k.size());
  sodium_memzero(reader.secret_key.data(), reader.secret_key.size());
  sodium_memzero(writer.secret_key.data(), writer.secret_key.size());
  return out;
}

}  // namespace zengen::crypto::crypt4gh
