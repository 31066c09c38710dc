// The Crypt4GH header parser and decryptor.
//
// Input: one byte that seeds the chunk sizes, then a Crypt4GH stream. HeaderLength is asked
// about every prefix length the chunking produces and must never contradict itself (a
// complete header length, once known, stays the same); SplitHeader must agree with it; and
// decrypting the stream with the fuzz reader key in one piece and in pseudo-random pieces
// must give the same plaintext or the same error. Divergence aborts.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "crypto/crypt4gh.h"
#include "fuzz/crypt4gh_fuzz_key.h"

namespace {

namespace c4gh = zengen::crypto::crypt4gh;

std::string Describe(const zengen::Result<std::string>& r) {
  if (!r.ok()) return "error " + r.error().code + ": " + r.error().message;
  return "ok " + std::to_string(r->size()) + " bytes: " + *r;
}

[[noreturn]] void Diverged(const char* what, const std::string& a, const std::string& b) {
  std::fprintf(stderr, "Crypt4GH divergence (%s):\n  %.300s\n  %.300s\n", what, a.c_str(),
               b.c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  uint32_t state = data[0];
  const std::string_view stream(reinterpret_cast<const char*>(data) + 1, size - 1);
  const std::string secret = zengen::fuzz::Crypt4ghReaderSecret();

  // The header length from the whole stream and from growing prefixes.
  const auto whole_length = c4gh::HeaderLength(stream);
  const auto split = c4gh::SplitHeader(stream);
  if (split.ok()) {
    if (!whole_length.ok() || *whole_length != split->header.size() ||
        split->header.size() + split->data.size() != stream.size()) {
      Diverged("SplitHeader vs HeaderLength", std::to_string(split->header.size()),
               whole_length.ok() ? std::to_string(*whole_length) : whole_length.error().code);
    }
  }
  for (size_t n = 0; n <= stream.size();) {
    const auto prefix = c4gh::HeaderLength(stream.substr(0, n));
    if (prefix.ok() && *prefix != 0) {
      if (!whole_length.ok() || *whole_length != *prefix) {
        Diverged("HeaderLength of a prefix vs the whole", std::to_string(*prefix),
                 whole_length.ok() ? std::to_string(*whole_length) : whole_length.error().code);
      }
      break;
    }
    state = state * 1103515245u + 12345u;
    n += 1 + (state >> 16) % 61;
  }

  // One piece and many pieces decrypt alike.
  const auto once = c4gh::Decrypt(stream, secret);
  auto d = c4gh::Decryptor::Create(secret);
  if (!d.ok()) std::abort();
  std::string plain;
  zengen::Result<std::string> pieces = std::string();
  size_t at = 0;
  while (at < stream.size()) {
    state = state * 1103515245u + 12345u;
    const size_t n = std::min<size_t>(stream.size() - at, 1 + (state >> 16) % 70000);
    auto out = d->Update(stream.substr(at, n));
    at += n;
    if (!out.ok()) {
      pieces = out.error();
      break;
    }
    plain += *out;
  }
  if (pieces.ok()) {
    auto tail = d->Finish();
    if (tail.ok()) {
      plain += *tail;
      pieces = plain;
    } else {
      pieces = tail.error();
    }
  }
  const std::string a = Describe(once), b = Describe(pieces);
  if (a != b) Diverged("whole vs chunked decryption", a, b);
  return 0;
}
