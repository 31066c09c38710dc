// Crypt4GH 1.0 (GA4GH file encryption; samtools/hts-specs crypt4gh.tex) on libsodium, and the
// Crypt4GH key file formats (EGA-archive/crypt4gh docs/keys.rst) with scrypt on OpenSSL.
//
// A Crypt4GH stream is a header (magic "crypt4gh", version 1, header packets, each encrypted for
// one reader with X25519 + BLAKE2b-512 + ChaCha20-Poly1305 IETF) followed by the data: the
// plaintext in 65536-byte segments, each stored as nonce[12] ‖ ciphertext ‖ MAC[16] under a
// random session key carried in the header.
//
// All keys in this API are 32 raw bytes (X25519). Errors are values; nothing here throws.
// Error codes: invalid_key, invalid_key_file, unsupported_kdf, unsupported_cipher,
// passphrase_required, wrong_passphrase, not_crypt4gh, unsupported_crypt4gh_version,
// invalid_crypt4gh_header, no_crypt4gh_packet_for_key, crypt4gh_truncated,
// crypt4gh_mac_mismatch, crypt4gh_finished, invalid_range, edit_list_with_seek,
// invalid_edit_list.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace zengen::crypto::crypt4gh {

inline constexpr size_t kKeySize = 32;
inline constexpr size_t kSegmentSize = 65536;             // plaintext bytes per segment
inline constexpr size_t kNonceSize = 12;                  // ChaCha20-Poly1305 IETF nonce
inline constexpr size_t kMacSize = 16;                    // Poly1305 tag
inline constexpr size_t kCipherSegmentSize = 65536 + 28;  // nonce ‖ ct ‖ MAC of a full segment

struct KeyPair {
  std::string public_key;  // 32 raw bytes
  std::string secret_key;  // 32 raw bytes
};

// A fresh X25519 key pair from libsodium's CSPRNG.
KeyPair GenerateKeyPair();

// The X25519 public key of `secret_key`. Fails with invalid_key unless it is 32 bytes.
Result<std::string> PublicKeyFromSecret(std::string_view secret_key);

// ---------------------------------------------------------------------------------------------
// Key files.

// "-----BEGIN CRYPT4GH PUBLIC KEY-----\n" + base64(public_key) + "\n-----END …-----\n".
// REQUIRES: public_key.size() == kKeySize.
std::string FormatPublicKey(std::string_view public_key);

// Parses a public key file's text. Fails with invalid_key_file on a missing armour, bad base64
// or a payload other than 32 bytes.
Result<std::string> ParsePublicKey(std::string_view text);

// Serialises a private key. With an empty passphrase the key is stored unprotected (kdf "none",
// cipher "none", armour "CRYPT4GH PRIVATE KEY"); otherwise it is encrypted with
// ChaCha20-Poly1305 under scrypt(passphrase, random 16-byte salt, N=2^14, r=8, p=1) (the
// parameters of the reference implementation, which writes rounds = 0 for scrypt) in an
// "ENCRYPTED PRIVATE KEY" armour. `comment`, when not empty, is stored after the key.
// Fails with invalid_key unless secret_key is 32 bytes.
Result<std::string> FormatPrivateKey(std::string_view secret_key, std::string_view passphrase,
                                     std::string_view comment = {});

// Parses a private key file (either armour) and returns the 32-byte secret key. KDFs: none,
// scrypt and pbkdf2_hmac_sha256; bcrypt keys fail with unsupported_kdf ("unsupported_kdf:
// bcrypt": bcrypt_pbkdf is in neither libsodium nor OpenSSL). Fails with passphrase_required
// when the key is protected and `passphrase` is empty, wrong_passphrase when the key blob does
// not authenticate, invalid_key_file on anything malformed.
Result<std::string> ParsePrivateKey(std::string_view text, std::string_view passphrase);

// File forms of the above. Private keys are written with WriteSecretFile (mode 0600, never
// overwriting); public keys refuse to overwrite too.
Result<std::string> ReadPublicKeyFile(const std::filesystem::path& path);
Result<std::string> ReadPrivateKeyFile(const std::filesystem::path& path,
                                       std::string_view passphrase);
Status WritePublicKeyFile(const std::filesystem::path& path, std::string_view public_key);
Status WritePrivateKeyFile(const std::filesystem::path& path, std::string_view secret_key,
                           std::string_view passphrase, std::string_view comment = {});

// ---------------------------------------------------------------------------------------------
// Stream layout helpers.

// Examines the beginning of a Crypt4GH stream and returns the header's length in bytes, i.e.
// the offset of the first encrypted segment. Returns 0 when `prefix` is a valid but incomplete
// beginning (feed more bytes). Fails with not_crypt4gh, unsupported_crypt4gh_version or
// invalid_crypt4gh_header (a packet length below the minimum or above 1 MiB, or more than 1024
// packets). No key is needed: packets are not opened.
Result<size_t> HeaderLength(std::string_view prefix);

struct SplitStream {
  std::string_view header;  // views into the argument of SplitHeader
  std::string_view data;    // the encrypted segments
  size_t data_offset = 0;   // == header.size()
};

// Splits a whole stream into header and data. Fails as HeaderLength, and with
// crypt4gh_truncated when the stream ends inside the header.
Result<SplitStream> SplitHeader(std::string_view stream);

// The slice of the data section (offsets relative to the first segment, i.e. after the header)
// holding plaintext bytes [start, end): whole segments floor(start/64Ki) .. ceil(end/64Ki)-1.
// `length` is nullopt when `end` is nullopt (to the end of the stream); it may run past the end
// of a short stream, which the caller clamps.
struct DataSpan {
  uint64_t offset = 0;
  std::optional<uint64_t> length;
};
DataSpan DataSpanForRange(uint64_t start, std::optional<uint64_t> end);

// ---------------------------------------------------------------------------------------------
// Encryption.

// Streams plaintext into a Crypt4GH stream for one or more recipients.
//
//   ZG_ASSIGN_OR_RETURN(auto enc, Encryptor::Create(writer.secret_key, {bob_pk}));
//   out.write(enc.Update(chunk));  …  out.write(enc.Finish());
//
// The header (one data_encryption_parameters packet per recipient, carrying one random session
// key) is emitted by the first Update or by Finish. Each full 64 KiB of plaintext is emitted as
// a segment as soon as it is complete, with a fresh random nonce; at most 64 KiB - 1 bytes are
// buffered. An empty plaintext produces a header and no segment; a plaintext whose length is a
// multiple of 64 KiB ends without an empty segment (as the reference implementation does).
class Encryptor {
 public:
  // Fails with invalid_key unless writer_secret and every recipient key are 32 bytes, or when
  // there are no recipients or a recipient key is a low-order point. With `edit_list`
  // (alternating skip/keep lengths over the plaintext; at most 65536 entries, else
  // invalid_argument) each recipient also gets a data_edit_list packet, so readers see only the
  // kept bytes although every byte is encrypted.
  static Result<Encryptor> Create(std::string_view writer_secret,
                                  const std::vector<std::string>& recipient_public_keys,
                                  const std::optional<std::vector<uint64_t>>& edit_list = {});

  // Returns the bytes to write next (the header first, then any completed segments).
  // REQUIRES: Finish() not yet called.
  std::string Update(std::string_view plaintext);

  // Returns the remaining bytes: the header if not yet emitted and the final short segment.
  // REQUIRES: Finish() not yet called.
  std::string Finish();

  // The serialised header (available from Create on).
  const std::string& header() const { return header_; }

 private:
  Encryptor() = default;
  void EncryptSegment(std::string_view plain, std::string& out);

  std::string header_;
  std::string session_key_;
  std::string pending_;
  bool header_emitted_ = false;
  bool finished_ = false;
};

// One-shot encryption of an in-memory plaintext.
Result<std::string> Encrypt(std::string_view plaintext, std::string_view writer_secret,
                            const std::vector<std::string>& recipient_public_keys);

// ---------------------------------------------------------------------------------------------
// Decryption.

struct DecryptOptions {
  // Plaintext byte range [start, end) to return (end = nullopt: to the end). When the header has
  // an edit list the range applies to the edited plaintext. start > end fails with invalid_range.
  uint64_t start = 0;
  std::optional<uint64_t> end;
  // false: the caller feeds the whole stream; segments wholly outside the range are skipped
  // without being decrypted or authenticated.
  // true: the caller feeds the header, then only the data from DataSpanForRange(start, end)
  // (having seeked past earlier segments). Not allowed with an edit list (edit_list_with_seek).
  bool data_begins_at_range = false;
};

// Streams a Crypt4GH stream back into plaintext with one reader's secret key.
//
// Update accepts any chunking of the input. Header packets that do not authenticate with the
// reader's key are skipped (they are meant for other readers); if none yields a session key the
// stream fails with no_crypt4gh_packet_for_key. A header with more than one edit list fails
// with invalid_crypt4gh_header. A segment that authenticates under none of the session keys
// fails with crypt4gh_mac_mismatch, whose message names the 0-based segment number ("segment
// 3"). Finish fails with crypt4gh_truncated when the input ended inside the header or inside a
// segment. The format cannot detect a stream cut exactly at a segment boundary unless `end` is
// given and not reached. After an error every further call returns the same error.
class Decryptor {
 public:
  // Fails with invalid_key unless reader_secret is 32 bytes, invalid_range if start > end.
  static Result<Decryptor> Create(std::string_view reader_secret, DecryptOptions options = {});

  // Consumes input; returns the plaintext that became available. The input is buffered until
  // whole segments are available, so feed it in chunks (e.g. 1 MiB) rather than all at once.
  Result<std::string> Update(std::string_view input);
  // Ends the input; returns any remaining plaintext. Afterwards Update and Finish fail with
  // crypt4gh_finished.
  Result<std::string> Finish();

  bool header_parsed() const { return state_ == State::kData; }
  size_t header_length() const { return header_length_; }
  // The writer public key of the packet that gave the first session key (after the header).
  const std::string& writer_public_key() const { return writer_public_key_; }
  bool has_edit_list() const { return edit_list_.has_value(); }

 private:
  enum class State { kHeader, kData, kFailed };
  Decryptor() = default;
  Result<std::string> Fail(Error e);
  Status ParseHeaderIfComplete();
  Status ProcessSegment(std::string_view cipher, std::string& out);
  void Emit(std::string_view raw, uint64_t raw_offset, std::string& out);
  void EmitEdited(std::string_view plain, std::string& out);
  bool Done() const;

  std::string secret_;
  DecryptOptions options_;
  State state_ = State::kHeader;
  Error error_;
  std::string buffer_;
  size_t header_length_ = 0;
  std::vector<std::string> session_keys_;
  std::string writer_public_key_;
  std::optional<std::vector<uint64_t>> edit_list_;
  uint64_t segment_index_ = 0;    // of the next segment fed
  uint64_t edited_offset_ = 0;    // output position in the edited plaintext
  uint64_t edit_raw_offset_ = 0;  // raw plaintext consumed by the edit-list filter
  size_t edit_entry_ = 0;         // current edit-list entry
  uint64_t edit_left_ = 0;        // bytes left in that entry
};

// One-shot decryption of an in-memory stream.
Result<std::string> Decrypt(std::string_view stream, std::string_view reader_secret,
                            DecryptOptions options = {});

// ---------------------------------------------------------------------------------------------
// Header re-encryption.

// Opens `header` (a whole serialised header, e.g. SplitHeader(...).header) with reader_secret
// and returns a new header carrying the same packets (session keys and edit list) encrypted
// by writer_secret for each of new_recipient_public_keys, and nothing for anyone else. The
// encrypted segments that follow the old header can be appended to the new one unchanged.
// Fails as Decryptor does for the header, with invalid_key for bad keys or no recipients, and
// with invalid_crypt4gh_header if `header` has trailing bytes.
Result<std::string> ReencryptHeader(std::string_view header, std::string_view reader_secret,
                                    const std::vector<std::string>& new_recipient_public_keys,
                                    std::string_view writer_secret);

}  // namespace zengen::crypto::crypt4gh
