#include "crypto/crypto.h"
#include "crypto/sha256_stream.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>

#include <fmt/format.h>

namespace zengen::crypto {
namespace {

template <typename T, void (*F)(T*)>
struct Deleter {
  void operator()(T* p) const { F(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509, X509_free>>;

struct FileCloser {
  void operator()(FILE* f) const { std::fclose(f); }
};

Result<std::unique_ptr<FILE, FileCloser>> CreateFile(const std::filesystem::path& path,
                                                     mode_t mode) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) {
    return Internal("file_create_failed",
                    fmt::format("cannot create {}: {}", path.string(), std::strerror(errno)));
  }
  // The umask may have narrowed the mode; secret files must be exactly what was asked.
  ::fchmod(fd, mode);
  FILE* f = ::fdopen(fd, "w");
  if (f == nullptr) {
    ::close(fd);
    return Internal("file_create_failed", fmt::format("cannot open {}", path.string()));
  }
  return std::unique_ptr<FILE, FileCloser>(f);
}

}  // namespace

std::string RandomBytes(size_t n) {
  std::string out(n, '\0');
  if (n > 0 && RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    std::fputs("zengen: the random number generator failed\n", stderr);
    std::abort();
  }
  return out;
}

std::string ToHex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

Result<std::string> FromHex(std::string_view hex) {
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  if (hex.size() % 2 != 0) return InvalidArgument("invalid_hex", "hex string has odd length");
  std::string out(hex.size() / 2, '\0');
  for (size_t i = 0; i < out.size(); ++i) {
    const int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return InvalidArgument("invalid_hex", "not a hex digit");
    out[i] = static_cast<char>(hi << 4 | lo);
  }
  return out;
}

std::string Sha256(std::string_view data) {
  std::string out(32, '\0');
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), reinterpret_cast<unsigned char*>(out.data()), &len,
             EVP_sha256(), nullptr);
  return out;
}

std::string Sha256Hex(std::string_view data) { return ToHex(Sha256(data)); }

void Sha256Stream::Free::operator()(evp_md_ctx_st* ctx) const { EVP_MD_CTX_free(ctx); }

Sha256Stream::Sha256Stream() : ctx_(EVP_MD_CTX_new()) {
  if (!ctx_ || EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr) != 1) {
    std::fprintf(stderr, "fatal: SHA-256 is not available\n");
    std::abort();
  }
}

void Sha256Stream::Update(std::string_view data) {
  EVP_DigestUpdate(ctx_.get(), data.data(), data.size());
}

std::string Sha256Stream::HexFinal() {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_DigestFinal_ex(ctx_.get(), md, &n);
  return ToHex(std::string_view(reinterpret_cast<const char*>(md), n));
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

Status WriteSelfSignedCertificate(const std::filesystem::path& cert_path,
                                  const std::filesystem::path& key_path,
                                  const std::vector<std::string>& names, int days) {
  PkeyPtr key(EVP_EC_gen("P-256"));
  if (!key) return Internal("keygen_failed", "could not generate a P-256 key");
  X509Ptr cert(X509_new());
  X509_set_version(cert.get(), 2);
  // A random 127-bit serial: browsers reject reuse of serials for one issuer name.
  std::string serial = RandomBytes(16);
  serial[0] = static_cast<char>(serial[0] & 0x7f);
  BIGNUM* bn = BN_bin2bn(reinterpret_cast<const unsigned char*>(serial.data()), 16, nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -60);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), static_cast<long>(days) * 86400);
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("Zengen local"), -1, -1, 0);
  const std::string cn = names.empty() ? "localhost" : names.front();
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  std::string san;
  for (const auto& n : names) {
    if (!san.empty()) san += ",";
    const bool is_ip = n.find_first_not_of("0123456789.:") == std::string::npos;
    san += (is_ip ? "IP:" : "DNS:") + n;
  }
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
  for (auto [nid, value] : {std::pair{NID_subject_alt_name, san},
                            std::pair{NID_basic_constraints, std::string("critical,CA:FALSE")},
                            std::pair{NID_ext_key_usage, std::string("serverAuth")}}) {
    if (value.empty()) continue;
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
    if (ext == nullptr) return Internal("cert_failed", "could not build certificate extension");
    X509_add_ext(cert.get(), ext, -1);
    X509_EXTENSION_free(ext);
  }
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) {
    return Internal("cert_failed", "could not sign the certificate");
  }
  auto key_file = CreateFile(key_path, 0600);
  if (!key_file.ok()) return key_file.error();
  if (PEM_write_PrivateKey(key_file->get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) !=
      1) {
    return Internal("cert_failed", "could not write the private key");
  }
  auto cert_file = CreateFile(cert_path, 0644);
  if (!cert_file.ok()) return cert_file.error();
  if (PEM_write_X509(cert_file->get(), cert.get()) != 1) {
    return Internal("cert_failed", "could not write the certificate");
  }
  return Status::Ok();
}

Status WriteSecretFile(const std::filesystem::path& path, std::string_view content) {
  auto f = CreateFile(path, 0600);
  if (!f.ok()) return f.error();
  if (std::fwrite(content.data(), 1, content.size(), f->get()) != content.size() ||
      std::fflush(f->get()) != 0 || ::fsync(::fileno(f->get())) != 0) {
    return Internal("file_write_failed", fmt::format("cannot write {}", path.string()));
  }
  return Status::Ok();
}

}  // namespace zengen::crypto
