#include "crypto/crypt4gh.h"
#include "crypto/crypt4gh_python.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sodium.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "crypto/crypto.h"

namespace zengen::crypto::crypt4gh {
namespace {

namespace fs = std::filesystem;

const fs::path kFixtures = ZENGEN_FIXTURES_DIR;

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteFile(const fs::path& path, std::string_view data) {
  std::ofstream out(path, std::ios::binary);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
}

std::string Random(size_t n) {
  std::string s(n, '\0');
  randombytes_buf(s.data(), n);
  return s;
}

// A fresh directory under the system temp dir, removed with the object.
class TempDir {
 public:
  TempDir() {
    std::string templ = (fs::temp_directory_path() / "c4gh-test-XXXXXX").string();
    path_ = ::mkdtemp(templ.data());
  }
  ~TempDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// Feeds `data` to the encryptor in chunks of `chunk` bytes.
std::string EncryptChunked(std::string_view data, const KeyPair& writer,
                           const std::vector<std::string>& recipients, size_t chunk) {
  auto enc = Encryptor::Create(writer.secret_key, recipients);
  EXPECT_TRUE(enc.ok());
  std::string out;
  for (size_t at = 0; at < data.size(); at += chunk) out += enc->Update(data.substr(at, chunk));
  out += enc->Finish();
  return out;
}

Result<std::string> DecryptChunked(std::string_view data, std::string_view secret, size_t chunk,
                                   DecryptOptions options = {}) {
  ZG_ASSIGN_OR_RETURN(Decryptor dec, Decryptor::Create(secret, options));
  std::string out;
  for (size_t at = 0; at < data.size(); at += chunk) {
    ZG_ASSIGN_OR_RETURN(std::string part, dec.Update(data.substr(at, chunk)));
    out += part;
  }
  ZG_ASSIGN_OR_RETURN(std::string rest, dec.Finish());
  return out + rest;
}

// ----- python3 as the independent implementation ----------------------------------------------

// Fails the test (not skips) when python3 or its modules are missing: CI installs them.
void RequirePythonModules() {
  const testing::PyRun run = testing::RunPython("import nacl.bindings, bcrypt, hashlib\nprint('ok')\n", {});
  ASSERT_EQ(run.exit_code, 0)
      << "The Crypt4GH interop tests need " << testing::PythonInterpreter()
      << " with the Debian packages python3-nacl and python3-bcrypt (scripts/install-deps.sh "
         "installs them; or set ZENGEN_TEST_PYTHON). Output: "
      << run.output;
}

// Unlocks a Crypt4GH private key file (kdf none or bcrypt) with python3-bcrypt's bcrypt.kdf and
// PyNaCl, and prints the raw secret key as hex.
constexpr std::string_view kUnlockKeyPy = R"PY(
import base64, sys
import bcrypt
from nacl.bindings import crypto_aead_chacha20poly1305_ietf_decrypt
text = open(sys.argv[1]).read().splitlines()
data = base64.b64decode(''.join(l.strip() for l in text if l.strip() and not l.startswith('-----')))
assert data[:7] == b'c4gh-v1', 'magic'
pos = 7
def field():
    global pos
    n = int.from_bytes(data[pos:pos + 2], 'big')
    value = data[pos + 2:pos + 2 + n]
    pos += 2 + n
    return value
kdf = field()
if kdf != b'none':
    opts = field()
    rounds, salt = int.from_bytes(opts[:4], 'big'), opts[4:]
cipher = field()
blob = field()
if kdf == b'none':
    secret = blob
elif kdf == b'bcrypt':
    key = bcrypt.kdf(sys.argv[2].encode(), salt, 32, rounds, ignore_few_rounds=True)
    secret = crypto_aead_chacha20poly1305_ietf_decrypt(blob[12:], None, blob[:12], key)
else:
    sys.exit('kdf not handled by this helper: %r' % kdf)
print(secret.hex())
)PY";


// Encrypts a file for one recipient, optionally with an edit list.
// argv: recipient-public-hex in-file out-file [comma-separated edit list].
constexpr std::string_view kEncryptPy = R"PY(
import hashlib, os, sys
from nacl.bindings import (crypto_scalarmult, crypto_scalarmult_base,
                           crypto_aead_chacha20poly1305_ietf_encrypt)
u32 = lambda v: v.to_bytes(4, 'little')
reader = bytes.fromhex(sys.argv[1])
plain = open(sys.argv[2], 'rb').read()
writer_sk = os.urandom(32)
writer = crypto_scalarmult_base(writer_sk)
shared = hashlib.blake2b(crypto_scalarmult(writer_sk, reader) + reader + writer, digest_size=64).digest()[:32]
key = os.urandom(32)
bodies = [u32(0) + u32(0) + key]
if len(sys.argv) > 4:
    edits = [int(x) for x in sys.argv[4].split(',')]
    bodies.append(u32(1) + u32(len(edits)) + b''.join(e.to_bytes(8, 'little') for e in edits))
out = bytearray(b'crypt4gh' + u32(1) + u32(len(bodies)))
for body in bodies:
    nonce = os.urandom(12)
    sealed = crypto_aead_chacha20poly1305_ietf_encrypt(body, None, nonce, shared)
    out += u32(4 + 4 + 32 + 12 + len(sealed)) + u32(0) + writer + nonce + sealed
for i in range(0, len(plain), 65536):
    nonce = os.urandom(12)
    out += nonce + crypto_aead_chacha20poly1305_ietf_encrypt(plain[i:i + 65536], None, nonce, key)
open(sys.argv[3], 'wb').write(out)
)PY";

std::string SecretFromPython(const fs::path& key_file, std::string_view passphrase) {
  const testing::PyRun run = testing::RunPython(kUnlockKeyPy, {key_file.string(), std::string(passphrase)});
  EXPECT_EQ(run.exit_code, 0) << run.output;
  auto bytes = FromHex(run.output.substr(0, run.output.find_last_not_of("\n") + 1));
  EXPECT_TRUE(bytes.ok()) << run.output;
  return bytes.ok() ? *bytes : std::string();
}

// ----- round trips ----------------------------------------------------------------------------

class RoundTripTest : public ::testing::TestWithParam<size_t> {};

TEST_P(RoundTripTest, EncryptsAndDecryptsInAnyChunking) {
  const size_t size = GetParam();
  const std::string plain = Random(size);
  const KeyPair alice = GenerateKeyPair();
  const KeyPair bob = GenerateKeyPair();
  for (size_t chunk : {size_t{1000}, size_t{65536}, size_t{70001}}) {
    if (chunk == 1000 && size > 300000) continue;  // keep the test fast
    const std::string enc = EncryptChunked(plain, alice, {bob.public_key}, chunk);
    auto split = SplitHeader(enc);
    ASSERT_TRUE(split.ok()) << split.error().message;
    const size_t segments = (size + kSegmentSize - 1) / kSegmentSize;
    EXPECT_EQ(split->data.size(), size + segments * (kNonceSize + kMacSize));
    for (size_t dchunk : {size_t{777}, size_t{65564}, size_t{1} << 20}) {
      if (dchunk == 777 && size > 300000) continue;
      auto dec = DecryptChunked(enc, bob.secret_key, dchunk);
      ASSERT_TRUE(dec.ok()) << dec.error().message;
      EXPECT_TRUE(*dec == plain) << "size " << size << " chunks " << chunk << "/" << dchunk;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Sizes, RoundTripTest,
                         ::testing::Values(0, 1, 65535, 65536, 65537, 4 * 65536 + 3, 3000000));

TEST(Crypt4ghTest, EveryRecipientCanDecrypt) {
  const KeyPair writer = GenerateKeyPair();
  const KeyPair r1 = GenerateKeyPair(), r2 = GenerateKeyPair(), other = GenerateKeyPair();
  const std::string plain = Random(100000);
  auto enc = Encrypt(plain, writer.secret_key, {r1.public_key, r2.public_key});
  ASSERT_TRUE(enc.ok());
  for (const KeyPair* r : {&r1, &r2}) {
    auto dec = Decrypt(*enc, r->secret_key);
    ASSERT_TRUE(dec.ok()) << dec.error().message;
    EXPECT_TRUE(*dec == plain);
  }
  auto refused = Decrypt(*enc, other.secret_key);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, "no_crypt4gh_packet_for_key");
}

TEST(Crypt4ghTest, WrongKeyIsRefused) {
  const KeyPair alice = GenerateKeyPair(), bob = GenerateKeyPair();
  auto enc = Encrypt("secret genome", alice.secret_key, {bob.public_key});
  ASSERT_TRUE(enc.ok());
  // Neither the writer's own key nor a stranger's opens a packet written for bob.
  for (const std::string& key : {alice.secret_key, GenerateKeyPair().secret_key}) {
    auto dec = Decrypt(*enc, key);
    ASSERT_FALSE(dec.ok());
    EXPECT_EQ(dec.error().code, "no_crypt4gh_packet_for_key");
  }
}

TEST(Crypt4ghTest, CreateRejectsBadKeys) {
  const KeyPair k = GenerateKeyPair();
  EXPECT_EQ(Encryptor::Create("short", {k.public_key}).error().code, "invalid_key");
  EXPECT_EQ(Encryptor::Create(k.secret_key, {}).error().code, "invalid_key");
  EXPECT_EQ(Encryptor::Create(k.secret_key, {"short"}).error().code, "invalid_key");
  // The all-zero point gives an all-zero shared secret, which libsodium refuses.
  EXPECT_EQ(Encryptor::Create(k.secret_key, {std::string(32, '\0')}).error().code, "invalid_key");
  EXPECT_EQ(Decryptor::Create("short").error().code, "invalid_key");
  EXPECT_EQ(Decryptor::Create(k.secret_key, {.start = 5, .end = 4}).error().code, "invalid_range");
}

TEST(Crypt4ghTest, FlippedByteReportsItsSegment) {
  const KeyPair alice = GenerateKeyPair(), bob = GenerateKeyPair();
  const std::string plain = Random(4 * kSegmentSize + 3);
  auto enc = Encrypt(plain, alice.secret_key, {bob.public_key});
  ASSERT_TRUE(enc.ok());
  const size_t header = SplitHeader(*enc)->data_offset;
  for (size_t segment = 0; segment < 5; ++segment) {
    // Nonce, ciphertext and MAC bytes (the last segment holds 3 + 28 bytes).
    for (size_t where : {size_t{0}, size_t{12}, size_t{14}, size_t{30}}) {
      std::string bad = *enc;
      bad[header + segment * kCipherSegmentSize + where] ^= 0x01;
      auto dec = DecryptChunked(bad, bob.secret_key, 50000);
      ASSERT_FALSE(dec.ok());
      EXPECT_EQ(dec.error().code, "crypt4gh_mac_mismatch");
      EXPECT_NE(dec.error().message.find(fmt::format("segment {} ", segment)), std::string::npos)
          << dec.error().message;
    }
  }
  // The last byte (MAC of the final, short segment).
  std::string bad = *enc;
  bad.back() ^= 0x80;
  auto dec = Decrypt(bad, bob.secret_key);
  ASSERT_FALSE(dec.ok());
  EXPECT_NE(dec.error().message.find("segment 4 "), std::string::npos);
  // A flipped byte in the header packet makes it unreadable for bob.
  bad = *enc;
  bad[header - 1] ^= 0x01;
  EXPECT_EQ(Decrypt(bad, bob.secret_key).error().code, "no_crypt4gh_packet_for_key");
}

TEST(Crypt4ghTest, TruncatedStreamsAreRefused) {
  const KeyPair alice = GenerateKeyPair(), bob = GenerateKeyPair();
  const std::string plain = Random(2 * kSegmentSize + 100);
  auto enc = Encrypt(plain, alice.secret_key, {bob.public_key});
  ASSERT_TRUE(enc.ok());
  const size_t header = SplitHeader(*enc)->data_offset;
  EXPECT_EQ(Decrypt("", bob.secret_key).error().code, "crypt4gh_truncated");
  EXPECT_EQ(Decrypt(enc->substr(0, 10), bob.secret_key).error().code, "crypt4gh_truncated");
  EXPECT_EQ(Decrypt(enc->substr(0, header - 1), bob.secret_key).error().code, "crypt4gh_truncated");
  EXPECT_EQ(SplitHeader(enc->substr(0, header - 1)).error().code, "crypt4gh_truncated");
  // Fewer bytes than a nonce and MAC left of the next segment.
  auto cut = Decrypt(enc->substr(0, header + kCipherSegmentSize + 20), bob.secret_key);
  ASSERT_FALSE(cut.ok());
  EXPECT_EQ(cut.error().code, "crypt4gh_truncated");
  EXPECT_NE(cut.error().message.find("segment 1"), std::string::npos);
  // A segment cut short cannot authenticate.
  for (size_t drop : {size_t{1}, size_t{50}, size_t{99}}) {
    auto short_tail = Decrypt(enc->substr(0, enc->size() - drop), bob.secret_key);
    ASSERT_FALSE(short_tail.ok());
    EXPECT_NE(short_tail.error().message.find("segment 2 "), std::string::npos);
  }
  auto mid = Decrypt(enc->substr(0, header + kCipherSegmentSize / 2), bob.secret_key);
  ASSERT_FALSE(mid.ok());
  EXPECT_NE(mid.error().message.find("segment 0 "), std::string::npos);
}

TEST(Crypt4ghTest, RecognisesForeignAndFutureStreams) {
  const KeyPair k = GenerateKeyPair();
  EXPECT_EQ(Decrypt("hello, this is not encrypted", k.secret_key).error().code, "not_crypt4gh");
  EXPECT_EQ(HeaderLength("BAM\1").error().code, "not_crypt4gh");
  auto enc = Encrypt("x", k.secret_key, {k.public_key});
  ASSERT_TRUE(enc.ok());
  std::string v2 = *enc;
  v2[8] = 2;
  auto dec = Decrypt(v2, k.secret_key);
  ASSERT_FALSE(dec.ok());
  EXPECT_EQ(dec.error().code, "unsupported_crypt4gh_version");
  std::string bad_len = *enc;
  bad_len[16] = 3;  // first packet length 3
  bad_len[17] = bad_len[18] = bad_len[19] = 0;
  EXPECT_EQ(Decrypt(bad_len, k.secret_key).error().code, "invalid_crypt4gh_header");
}

TEST(Crypt4ghTest, HeaderLengthWaitsForTheWholeHeader) {
  const KeyPair k = GenerateKeyPair(), r1 = GenerateKeyPair(), r2 = GenerateKeyPair();
  auto enc = Encrypt(Random(10), k.secret_key, {r1.public_key, r2.public_key});
  ASSERT_TRUE(enc.ok());
  const size_t header = SplitHeader(*enc)->data_offset;
  EXPECT_EQ(header, 16 + 2 * (4 + 4 + 32 + 12 + 40 + 16));
  for (size_t n = 0; n < header; ++n) {
    auto len = HeaderLength(enc->substr(0, n));
    ASSERT_TRUE(len.ok()) << n;
    EXPECT_EQ(*len, 0u) << n;
  }
  EXPECT_EQ(*HeaderLength(enc->substr(0, header)), header);
  EXPECT_EQ(*HeaderLength(*enc), header);
}

// ----- header re-encryption -------------------------------------------------------------------

TEST(Crypt4ghTest, ReencryptedHeaderServesAnotherKeyWithTheSameSegments) {
  const KeyPair archive = GenerateKeyPair(), researcher = GenerateKeyPair();
  const std::string plain = Random(3 * kSegmentSize + 17);
  auto enc = Encrypt(plain, archive.secret_key, {archive.public_key});
  ASSERT_TRUE(enc.ok());
  auto split = SplitHeader(*enc);
  ASSERT_TRUE(split.ok());
  auto header = ReencryptHeader(split->header, archive.secret_key, {researcher.public_key},
                                archive.secret_key);
  ASSERT_TRUE(header.ok()) << header.error().message;
  const std::string served = *header + std::string(split->data);
  auto dec = Decrypt(served, researcher.secret_key);
  ASSERT_TRUE(dec.ok()) << dec.error().message;
  EXPECT_TRUE(*dec == plain);
  // The archive's packet is gone from the new header; the old one still serves the archive.
  auto archive_read = Decrypt(served, archive.secret_key);
  ASSERT_FALSE(archive_read.ok());
  EXPECT_EQ(archive_read.error().code, "no_crypt4gh_packet_for_key");
  EXPECT_EQ(served.find(split->header.substr(16)), std::string::npos);
  EXPECT_TRUE(*Decrypt(*enc, archive.secret_key) == plain);
  // Someone without a packet cannot re-encrypt.
  EXPECT_EQ(ReencryptHeader(split->header, researcher.secret_key, {researcher.public_key},
                            researcher.secret_key)
                .error()
                .code,
            "no_crypt4gh_packet_for_key");
  EXPECT_EQ(ReencryptHeader(*enc, archive.secret_key, {researcher.public_key}, archive.secret_key)
                .error()
                .code,
            "invalid_crypt4gh_header");
}

TEST(Crypt4ghTest, ReencryptionKeepsTheEditList) {
  const KeyPair a = GenerateKeyPair(), b = GenerateKeyPair();
  const std::string plain = Random(200000);
  auto enc = Encryptor::Create(a.secret_key, {a.public_key}, std::vector<uint64_t>{10, 5});
  ASSERT_TRUE(enc.ok());
  std::string stream = enc->Update(plain);
  stream += enc->Finish();
  auto split = SplitHeader(stream);
  auto header = ReencryptHeader(split->header, a.secret_key, {b.public_key}, b.secret_key);
  ASSERT_TRUE(header.ok());
  auto dec = Decrypt(*header + std::string(split->data), b.secret_key);
  ASSERT_TRUE(dec.ok());
  EXPECT_TRUE(*dec == plain.substr(10, 5));
}

// ----- byte ranges and edit lists -------------------------------------------------------------

TEST(Crypt4ghTest, ByteRangesMatchThePlaintextSlice) {
  const KeyPair a = GenerateKeyPair(), b = GenerateKeyPair();
  const uint64_t size = 4 * kSegmentSize + 3;
  const std::string plain = Random(size);
  auto enc = Encrypt(plain, a.secret_key, {b.public_key});
  ASSERT_TRUE(enc.ok());
  auto split = SplitHeader(*enc);
  const uint64_t S = kSegmentSize;
  const std::vector<std::pair<uint64_t, std::optional<uint64_t>>> ranges = {
      {0, S},           {S, 2 * S},
      {S - 1, S + 1},   {2 * S, std::nullopt},
      {4 * S, size},    {4 * S + 1, 4 * S + 2},
      {5, 5},           {0, std::nullopt},
      {3, 3 * S + 7},   {size, std::nullopt},
      {S, size + 1000}, {size + 5, size + 9}};
  for (const auto& [start, end] : ranges) {
    const uint64_t hi = std::min<uint64_t>(end.value_or(size), size);
    const std::string want = start < hi ? plain.substr(start, hi - start) : std::string();
    const std::string label = fmt::format("[{}, {})", start, end ? std::to_string(*end) : "end");
    // Whole stream fed.
    auto whole = DecryptChunked(*enc, b.secret_key, 30000, {.start = start, .end = end});
    ASSERT_TRUE(whole.ok()) << label << whole.error().message;
    EXPECT_TRUE(*whole == want) << label;
    // Seeked: header, then only the segments of the range.
    const DataSpan span = DataSpanForRange(start, end);
    std::string_view data = split->data.substr(std::min<uint64_t>(span.offset, split->data.size()));
    if (span.length) data = data.substr(0, *span.length);
    const std::string seeked_input = std::string(split->header) + std::string(data);
    auto seeked = DecryptChunked(seeked_input, b.secret_key, 65564,
                                 {.start = start, .end = end, .data_begins_at_range = true});
    ASSERT_TRUE(seeked.ok()) << label << seeked.error().message;
    EXPECT_TRUE(*seeked == want) << label;
  }
  EXPECT_EQ(DataSpanForRange(S, 2 * S).offset, kCipherSegmentSize);
  EXPECT_EQ(*DataSpanForRange(S, 2 * S).length, kCipherSegmentSize);
  EXPECT_EQ(*DataSpanForRange(S - 1, S + 1).length, 2 * kCipherSegmentSize);
}

TEST(Crypt4ghTest, SegmentsOutsideTheRangeAreNotDecrypted) {
  const KeyPair a = GenerateKeyPair(), b = GenerateKeyPair();
  const std::string plain = Random(3 * kSegmentSize);
  auto enc = Encrypt(plain, a.secret_key, {b.public_key});
  const size_t header = SplitHeader(*enc)->data_offset;
  std::string bad = *enc;
  bad[header + 20] ^= 1;                           // segment 0
  bad[header + 2 * kCipherSegmentSize + 20] ^= 1;  // segment 2
  auto dec = Decrypt(bad, b.secret_key, {.start = kSegmentSize + 5, .end = 2 * kSegmentSize});
  ASSERT_TRUE(dec.ok()) << dec.error().message;
  EXPECT_TRUE(*dec == plain.substr(kSegmentSize + 5, kSegmentSize - 5));
  auto whole = Decrypt(bad, b.secret_key, {.start = kSegmentSize});
  ASSERT_FALSE(whole.ok());
  EXPECT_NE(whole.error().message.find("segment 2 "), std::string::npos);
}

std::string ApplyEditList(std::string_view plain, const std::vector<uint64_t>& list) {
  std::string out;
  size_t at = 0;
  for (size_t i = 0; i < list.size() && at < plain.size(); ++i) {
    const size_t n = std::min<size_t>(list[i], plain.size() - at);
    if (i % 2 == 1) out.append(plain.substr(at, n));
    at += n;
  }
  if (list.size() % 2 == 1 && at < plain.size()) out.append(plain.substr(at));
  return out;
}

TEST(Crypt4ghTest, EditListsSelectTheKeptBytes) {
  const KeyPair a = GenerateKeyPair(), b = GenerateKeyPair();
  const std::string plain = Random(4 * kSegmentSize + 3);
  const std::vector<std::vector<uint64_t>> lists = {
      {},
      {0, 100},
      {65530, 12},
      {65530, 12, 131060, 70000},
      {100, 200, 300},      // odd: everything after the final skip is kept
      {5, 3, 65536, 4, 1},  // ends with a skip then keeps the rest
      {1000000},            // skip past the end
      {0, 1000000},
      {kSegmentSize, kSegmentSize, kSegmentSize, 1}};
  for (const std::vector<uint64_t>& list : lists) {
    auto enc = Encryptor::Create(a.secret_key, {b.public_key}, list);
    ASSERT_TRUE(enc.ok());
    std::string stream = enc->Update(plain);
    stream += enc->Finish();
    const std::string want = ApplyEditList(plain, list);
    auto dec = DecryptChunked(stream, b.secret_key, 40000);
    ASSERT_TRUE(dec.ok()) << dec.error().message;
    EXPECT_TRUE(*dec == want) << "list of " << list.size() << " got " << dec->size();
    // A range applies to the edited plaintext.
    if (want.size() > 10) {
      auto ranged = Decrypt(stream, b.secret_key, {.start = 3, .end = want.size() - 2});
      ASSERT_TRUE(ranged.ok());
      EXPECT_TRUE(*ranged == want.substr(3, want.size() - 5));
    }
    auto seek = Decrypt(stream, b.secret_key, {.start = 1, .data_begins_at_range = true});
    ASSERT_FALSE(seek.ok());
    EXPECT_EQ(seek.error().code, "edit_list_with_seek");
  }
}

// ----- key files ------------------------------------------------------------------------------

TEST(Crypt4ghKeysTest, PublicKeyFormatRoundTrips) {
  const KeyPair k = GenerateKeyPair();
  EXPECT_EQ(*PublicKeyFromSecret(k.secret_key), k.public_key);
  const std::string text = FormatPublicKey(k.public_key);
  EXPECT_EQ(text.rfind("-----BEGIN CRYPT4GH PUBLIC KEY-----\n", 0), 0u);
  EXPECT_EQ(*ParsePublicKey(text), k.public_key);
  EXPECT_EQ(ParsePublicKey("-----BEGIN CRYPT4GH PUBLIC KEY-----\nAAAA\n"
                           "-----END CRYPT4GH PUBLIC KEY-----\n")
                .error()
                .code,
            "invalid_key_file");
  EXPECT_EQ(ParsePublicKey("garbage").error().code, "invalid_key_file");
}

TEST(Crypt4ghKeysTest, ScryptProtectedKeyRoundTrips) {
  const KeyPair k = GenerateKeyPair();
  auto text = FormatPrivateKey(k.secret_key, "correct horse", "zengen test key");
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(text->rfind("-----BEGIN ENCRYPTED PRIVATE KEY-----\n", 0), 0u);
  auto back = ParsePrivateKey(*text, "correct horse");
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(*back, k.secret_key);
  auto wrong = ParsePrivateKey(*text, "wrong horse");
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().code, "wrong_passphrase");
  EXPECT_EQ(ParsePrivateKey(*text, "").error().code, "passphrase_required");
  // The secret key is not stored in the clear.
  EXPECT_EQ(text->find(ToHex(k.secret_key)), std::string::npos);
}

TEST(Crypt4ghKeysTest, UnprotectedKeyAndFilesRoundTrip) {
  TempDir dir;
  const KeyPair k = GenerateKeyPair();
  auto text = FormatPrivateKey(k.secret_key, "");
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(text->rfind("-----BEGIN CRYPT4GH PRIVATE KEY-----\n", 0), 0u);
  EXPECT_EQ(*ParsePrivateKey(*text, ""), k.secret_key);
  EXPECT_EQ(*ParsePrivateKey(*text, "ignored"), k.secret_key);

  ASSERT_TRUE(WritePrivateKeyFile(dir.path() / "k.sec", k.secret_key, "pw").ok());
  ASSERT_TRUE(WritePublicKeyFile(dir.path() / "k.pub", k.public_key).ok());
  EXPECT_EQ(fs::status(dir.path() / "k.sec").permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
  EXPECT_FALSE(WritePrivateKeyFile(dir.path() / "k.sec", k.secret_key, "pw").ok());
  EXPECT_FALSE(WritePublicKeyFile(dir.path() / "k.pub", k.public_key).ok());
  EXPECT_EQ(*ReadPrivateKeyFile(dir.path() / "k.sec", "pw"), k.secret_key);
  EXPECT_EQ(ReadPrivateKeyFile(dir.path() / "k.sec", "pW").error().code, "wrong_passphrase");
  EXPECT_EQ(*ReadPublicKeyFile(dir.path() / "k.pub"), k.public_key);
  EXPECT_FALSE(ReadPublicKeyFile(dir.path() / "missing.pub").ok());
}

TEST(Crypt4ghKeysTest, FixtureKeysParse) {
  for (const char* name : {"alice.pub", "bob.pub"}) {
    auto pk = ReadPublicKeyFile(kFixtures / "crypt4gh" / name);
    ASSERT_TRUE(pk.ok()) << name << ": " << pk.error().message;
    EXPECT_EQ(pk->size(), kKeySize);
  }
  // The EGA test keys use bcrypt_pbkdf, which neither libsodium nor OpenSSL provides.
  auto sec = ReadPrivateKeyFile(kFixtures / "crypt4gh" / "bob.sec", "bob");
  ASSERT_FALSE(sec.ok());
  EXPECT_EQ(sec.error().code, "unsupported_kdf");
  EXPECT_EQ(sec.error().message, "unsupported_kdf: bcrypt");
  // The htsget-compliance keys are unprotected and match their public keys.
  for (const char* who : {"alice", "bob"}) {
    const fs::path keys = kFixtures / "htsget" / "c4gh" / "keys";
    auto secret = ReadPrivateKeyFile(keys / fmt::format("{}.sec", who), "");
    ASSERT_TRUE(secret.ok()) << who << ": " << secret.error().message;
    EXPECT_EQ(*PublicKeyFromSecret(*secret), *ReadPublicKeyFile(keys / fmt::format("{}.pub", who)));
  }
}

// ----- interop --------------------------------------------------------------------------------

struct FixtureFile {
  const char* encrypted;  // under htsget/c4gh/
  const char* plaintext;  // under the fixtures directory (PROVENANCE.md)
};
constexpr FixtureFile kHtsgetFiles[] = {
    {"htsnexus_test_NA12878.bam.c4gh", "htsget/reads/htsnexus_test_NA12878.bam"},
    {"htsnexus_test_NA12878.cram.c4gh", "htsget/reads/htsnexus_test_NA12878.cram"},
    {"sample1-bcbio-cancer.bcf.c4gh", "htsget-rs/bcf/sample1-bcbio-cancer.bcf"},
    {"sample1-bcbio-cancer.vcf.gz.c4gh", "htsget-rs/vcf/sample1-bcbio-cancer.vcf.gz"},
    {"spec-v4.3.bcf.c4gh", "htsget/variants/spec-v4.3.bcf"},
    {"spec-v4.3.vcf.gz.c4gh", "htsget/variants/spec-v4.3.vcf.gz"},
};

TEST(Crypt4ghInteropTest, DecryptsEveryHtsgetFixtureForBob) {
  ASSERT_NO_FATAL_FAILURE(RequirePythonModules());
  const fs::path dir = kFixtures / "htsget" / "c4gh";
  // bob's secret key, unlocked by the python helper and by our own loader.
  const std::string bob = SecretFromPython(dir / "keys" / "bob.sec", "");
  ASSERT_EQ(bob.size(), kKeySize);
  EXPECT_EQ(*ReadPrivateKeyFile(dir / "keys" / "bob.sec", ""), bob);
  const std::string alice_pub = *ReadPublicKeyFile(dir / "keys" / "alice.pub");
  const std::string alice_sec = *ReadPrivateKeyFile(dir / "keys" / "alice.sec", "");

  size_t seen = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() == ".c4gh") ++seen;
  }
  EXPECT_EQ(seen, std::size(kHtsgetFiles)) << "a .c4gh fixture without a listed plaintext";
  for (const FixtureFile& f : kHtsgetFiles) {
    const std::string enc = ReadFile(dir / f.encrypted);
    const std::string want = ReadFile(kFixtures / f.plaintext);
    ASSERT_FALSE(enc.empty()) << f.encrypted;
    ASSERT_FALSE(want.empty()) << f.plaintext;
    auto dec = Decryptor::Create(bob);
    std::string got;
    for (size_t at = 0; at < enc.size(); at += 100000) {
      auto part = dec->Update(std::string_view(enc).substr(at, 100000));
      ASSERT_TRUE(part.ok()) << f.encrypted << ": " << part.error().message;
      got += *part;
    }
    auto rest = dec->Finish();
    ASSERT_TRUE(rest.ok()) << f.encrypted << ": " << rest.error().message;
    got += *rest;
    EXPECT_EQ(got.size(), want.size()) << f.encrypted;
    EXPECT_TRUE(got == want) << f.encrypted << " differs from " << f.plaintext;
    EXPECT_EQ(dec->writer_public_key(), alice_pub) << f.encrypted;
    EXPECT_EQ(dec->Update("x").error().code, "crypt4gh_finished");
    // Written by alice for bob: alice's own key has no packet.
    EXPECT_EQ(Decrypt(enc, alice_sec).error().code, "no_crypt4gh_packet_for_key");
    // A byte range from the middle, reading only the segments it needs.
    if (want.size() > 3 * kSegmentSize) {
      const uint64_t start = kSegmentSize + 1234, end = 3 * kSegmentSize - 7;
      auto split = SplitHeader(enc);
      const DataSpan span = DataSpanForRange(start, end);
      const std::string input =
          std::string(split->header) + std::string(split->data.substr(span.offset, *span.length));
      auto part = Decrypt(input, bob, {.start = start, .end = end, .data_begins_at_range = true});
      ASSERT_TRUE(part.ok()) << part.error().message;
      EXPECT_TRUE(*part == want.substr(start, end - start));
    }
  }
}

TEST(Crypt4ghInteropTest, PythonDecryptsWhatWeEncryptForBob) {
  ASSERT_NO_FATAL_FAILURE(RequirePythonModules());
  const fs::path dir = kFixtures / "crypt4gh";
  // bob's bcrypt-protected key, unlocked with python3-bcrypt; it must match bob.pub.
  const std::string bob_sec = SecretFromPython(dir / "bob.sec", "bob");
  ASSERT_EQ(bob_sec.size(), kKeySize);
  const std::string bob_pub = *ReadPublicKeyFile(dir / "bob.pub");
  EXPECT_EQ(*PublicKeyFromSecret(bob_sec), bob_pub);
  const std::string alice_sec = SecretFromPython(dir / "alice.sec", "alice");
  EXPECT_EQ(*PublicKeyFromSecret(alice_sec), *ReadPublicKeyFile(dir / "alice.pub"));
  // A wrong passphrase fails in the helper too.
  EXPECT_NE(testing::RunPython(kUnlockKeyPy, {(dir / "bob.sec").string(), "alice"}).exit_code, 0);

  TempDir tmp;
  for (const char* name : {"testfile.abcd", "testfile.abbbc"}) {
    const std::string plain = ReadFile(dir / name);
    ASSERT_FALSE(plain.empty()) << name;
    auto enc = Encrypt(plain, alice_sec, {bob_pub});
    ASSERT_TRUE(enc.ok());
    const fs::path in = tmp.path() / (std::string(name) + ".c4gh");
    const fs::path out = tmp.path() / (std::string(name) + ".out");
    WriteFile(in, *enc);
    const testing::PyRun run = testing::RunPython(testing::kCrypt4ghDecryptPy, {ToHex(bob_sec), in.string(), out.string()});
    ASSERT_EQ(run.exit_code, 0) << name << ": " << run.output;
    EXPECT_TRUE(ReadFile(out) == plain) << name;
    // And our own decryption of the same bytes, with bob's key.
    EXPECT_TRUE(*Decrypt(*enc, bob_sec) == plain);
    // The python decryptor refuses alice's key and a corrupted segment.
    EXPECT_NE(testing::RunPython(testing::kCrypt4ghDecryptPy, {ToHex(alice_sec), in.string(), out.string()}).exit_code, 0);
    std::string bad = *enc;
    bad[bad.size() - 100] ^= 1;
    WriteFile(in, bad);
    EXPECT_NE(testing::RunPython(testing::kCrypt4ghDecryptPy, {ToHex(bob_sec), in.string(), out.string()}).exit_code, 0);
  }
}

TEST(Crypt4ghInteropTest, WeDecryptWhatPythonEncryptsWithAnEditList) {
  ASSERT_NO_FATAL_FAILURE(RequirePythonModules());
  const fs::path dir = kFixtures / "crypt4gh";
  const std::string bob_sec = SecretFromPython(dir / "bob.sec", "bob");
  ASSERT_EQ(bob_sec.size(), kKeySize);
  const std::string bob_pub = *ReadPublicKeyFile(dir / "bob.pub");
  const std::string plain = ReadFile(dir / "testfile.abcd");
  TempDir tmp;
  const fs::path out = tmp.path() / "abcd.c4gh";
  for (const std::vector<uint64_t>& list :
       {std::vector<uint64_t>{}, std::vector<uint64_t>{65530, 12, 65536, 8},
        std::vector<uint64_t>{100, 65536, 65536}}) {
    std::vector<std::string> args = {ToHex(bob_pub), (dir / "testfile.abcd").string(),
                                     out.string()};
    std::string joined;
    for (uint64_t v : list) joined += (joined.empty() ? "" : ",") + std::to_string(v);
    if (!list.empty()) args.push_back(joined);
    const testing::PyRun run = testing::RunPython(kEncryptPy, args);
    ASSERT_EQ(run.exit_code, 0) << run.output;
    auto dec = Decrypt(ReadFile(out), bob_sec);
    ASSERT_TRUE(dec.ok()) << dec.error().message;
    const std::string want = list.empty() ? plain : ApplyEditList(plain, list);
    EXPECT_TRUE(*dec == want) << joined;
  }
  EXPECT_TRUE(ApplyEditList(plain, {65530, 12}) == std::string(6, 'a') + std::string(6, 'b'));
}

}  // namespace
}  // namespace zengen::crypto::crypt4gh
