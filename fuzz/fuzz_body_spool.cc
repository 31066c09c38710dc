// The spool that keeps large request bodies out of memory (http/body_spool.h, issue 13 item 2).
//
// Input: a few bytes choosing how the body is cut while it arrives and how the handler reads it
// back, then the body. Whatever the cuts, the reader must give back exactly the body, in pieces
// no longer than asked, then "" for ever; the spool file must be gone once both owners are.
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>

#include <unistd.h>

#include "http/body_spool.h"

namespace {

[[noreturn]] void Fail(const std::string& what) {
  std::fprintf(stderr, "divergence: %s\n", what.c_str());
  std::abort();
}

const std::filesystem::path& SpoolDir() {
  static const std::filesystem::path dir = [] {
    auto d = std::filesystem::temp_directory_path() /
             ("zengen-fuzz-spool-" + std::to_string(::getpid()));
    std::filesystem::create_directories(d);
    return d;
  }();
  return dir;
}

// Piece lengths from a seed byte: 1..(seed * 997 + 1), cycling through small and large ones.
size_t PieceLength(uint8_t seed, size_t step) {
  const size_t span = static_cast<size_t>(seed) * 997 + 1;
  return 1 + (step * 7919 + seed) % span;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const uint8_t write_seed = data[0];
  const uint8_t read_seed = data[1];
  // Repeat the body so that it spans several 64 KiB Crypt4GH segments now and then.
  const size_t repeat = 1 + (write_seed & 0x0f);
  std::string body;
  for (size_t i = 0; i < repeat; ++i) {
    body.append(reinterpret_cast<const char*>(data) + 2, size - 2);
  }

  std::atomic<int> live{0};
  auto spool = zengen::http::BodySpool::Create(SpoolDir(), &live);
  if (!spool.ok()) Fail("cannot create a spool: " + spool.error().message);
  size_t at = 0;
  for (size_t step = 0; at < body.size(); ++step) {
    const size_t n = std::min(body.size() - at, PieceLength(write_seed, step));
    if (!(*spool)->Append(std::string_view(body).substr(at, n)).ok()) Fail("append failed");
    at += n;
  }
  auto reader = (*spool)->Finish();
  if (!reader.ok()) Fail("finish failed: " + reader.error().message);
  spool->reset();
  if ((*reader)->size() != static_cast<int64_t>(body.size())) Fail("size differs");
  std::string back;
  for (size_t step = 0;; ++step) {
    const size_t max = PieceLength(read_seed, step);
    auto piece = (*reader)->Read(max);
    if (!piece.ok()) Fail("read failed: " + piece.error().message);
    if (piece->size() > max) Fail("a piece longer than asked");
    if (piece->empty()) break;
    back += *piece;
    if (back.size() > body.size()) Fail("more bytes than were spooled");
  }
  if (back != body) Fail("the body came back different");
  auto after = (*reader)->Read(16);
  if (!after.ok() || !after->empty()) Fail("bytes after the end");
  if (live.load() != 1) Fail("the reader does not hold the file");
  reader->reset();
  if (live.load() != 0) Fail("the spool file outlived its owners");
  return 0;
}
