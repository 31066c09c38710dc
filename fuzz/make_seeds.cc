// Writes the binary seeds of the Crypt4GH fuzz target: streams encrypted for the fuzz reader key
// (crypt4gh_fuzz_key.h) by this project's own encryptor. Run once by hand when the format or the
// key changes: make_seeds DIR (writes DIR/*.c4gh). Each seed starts with the chunk-seed byte.
#include <cstdio>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "crypto/crypt4gh.h"
#include "fuzz/crypt4gh_fuzz_key.h"

namespace c4gh = zengen::crypto::crypt4gh;

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_seeds DIR\n");
    return 2;
  }
  const std::string dir = argv[1];
  auto reader_pk = c4gh::PublicKeyFromSecret(zengen::fuzz::Crypt4ghReaderSecret());
  auto other_pk = c4gh::PublicKeyFromSecret(std::string(32, '\x33'));
  if (!reader_pk.ok() || !other_pk.ok()) return 1;
  struct Seed {
    std::string name;
    std::string plain;
    std::vector<std::string> recipients;
    std::optional<std::vector<uint64_t>> edit_list;
  };
  const std::vector<Seed> seeds = {
      {"empty", "", {*reader_pk}, std::nullopt},
      {"short", "@r1\nACGT\n+\nIIII\n", {*reader_pk}, std::nullopt},
      {"two-recipients", std::string(300, 'A'), {*other_pk, *reader_pk}, std::nullopt},
      {"other-recipient", "not for the fuzz key", {*other_pk}, std::nullopt},
      {"edit-list", std::string(200, 'C') + std::string(200, 'G'), {*reader_pk},
       std::vector<uint64_t>{10, 100, 50, 20}},
      {"two-segments", std::string(65536 + 100, 'T'), {*reader_pk}, std::nullopt},
  };
  for (const Seed& s : seeds) {
    auto enc = c4gh::Encryptor::Create(zengen::fuzz::Crypt4ghWriterSecret(), s.recipients,
                                       s.edit_list);
    if (!enc.ok()) {
      std::fprintf(stderr, "%s: %s\n", s.name.c_str(), enc.error().message.c_str());
      return 1;
    }
    std::string stream = enc->Update(s.plain);
    stream += enc->Finish();
    std::ofstream(dir + "/" + s.name + ".c4gh", std::ios::binary)
        << static_cast<char>(s.name.size()) << stream;
  }
  return 0;
}
