// A small blocking HTTPS/1.1 client on OpenSSL for integration tests. It writes raw bytes, so
// tests can send malformed requests that no real client library would produce.
#pragma once

#include <openssl/ssl.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace zengen::testing {

struct HttpResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  nlohmann::json Json() const { return nlohmann::json::parse(body, nullptr, false); }
  std::string ErrorCode() const;   // body's error.code, or ""
  std::string ErrorField() const;  // body's error.field, or ""
};

struct ConnectOptions {
  std::string source_address;  // a local address to connect from, e.g. "127.0.0.2"
  std::string tls12_ciphers;   // offer only these TLS 1.2 suites, and no TLS 1.3
};

class TlsConnection {
 public:
  // Connects to 127.0.0.1:port and completes a TLS handshake, verifying the server against
  // ca_cert (the data directory's self-signed certificate). Returns null on failure.
  static std::unique_ptr<TlsConnection> Connect(uint16_t port, const std::filesystem::path& ca_cert);
  static std::unique_ptr<TlsConnection> Connect(uint16_t port, const std::filesystem::path& ca_cert,
                                                const ConnectOptions& options);
  // The negotiated cipher suite, e.g. "ECDHE-ECDSA-AES128-GCM-SHA256".
  std::string cipher() const;
  ~TlsConnection();

  bool Send(std::string_view bytes);
  // Reads one response (Content-Length framed). nullopt on timeout, close or garbage.
  std::optional<HttpResponse> Read(int timeout_ms = 5000);
  // True when the server closes the connection (or resets it) within timeout_ms without
  // sending anything more.
  bool ClosedByPeer(int timeout_ms);

 private:
  TlsConnection() = default;
  int ReadSome(char* buf, int n, int timeout_ms);
  int fd_ = -1;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  std::string pending_;
};

// Builds a request: method, target, extra header lines ("Name: value"), body.
std::string BuildRequest(const std::string& method, const std::string& target,
                         const std::map<std::string, std::string>& headers = {},
                         const std::string& body = "");

// A plain TCP connection (no TLS), for tests that speak the wrong protocol; from
// source_address when given.
int ConnectTcp(uint16_t port, const std::string& source_address = "");

}  // namespace zengen::testing
