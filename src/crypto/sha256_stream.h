// SHA-256 over data given in pieces (uploads, stored objects): the streaming form of
// crypto::Sha256Hex (crypto.h). Implemented in crypto.cc on OpenSSL EVP.
#pragma once

#include <memory>
#include <string>
#include <string_view>

struct evp_md_ctx_st;  // OpenSSL's EVP_MD_CTX

namespace zengen::crypto {

// Update any number of times, then HexFinal once: lower-case hex, the same as Sha256Hex of the
// concatenated pieces. Movable, not copyable. Aborts if OpenSSL offers no SHA-256.
class Sha256Stream {
 public:
  Sha256Stream();
  void Update(std::string_view data);
  std::string HexFinal();

 private:
  struct Free {
    void operator()(evp_md_ctx_st* ctx) const;
  };
  std::unique_ptr<evp_md_ctx_st, Free> ctx_;
};

}  // namespace zengen::crypto
