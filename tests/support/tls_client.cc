#include "support/tls_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <sstream>

namespace zengen::testing {
namespace {
// Tests write to sockets the server has closed on purpose; that must fail a call, not kill the
// test process.
const bool kSigpipeIgnored = [] {
  ::signal(SIGPIPE, SIG_IGN);
  return true;
}();
}  // namespace

std::string HttpResponse::ErrorCode() const {
  auto j = Json();
  if (!j.is_object() || !j.contains("error")) return "";
  return j["error"].value("code", "");
}

std::string HttpResponse::ErrorField() const {
  auto j = Json();
  if (!j.is_object() || !j.contains("error")) return "";
  return j["error"].value("field", "");
}

int ConnectTcp(uint16_t port, const std::string& source_address) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (!source_address.empty()) {
    sockaddr_in local{};
    local.sin_family = AF_INET;
    if (::inet_pton(AF_INET, source_address.c_str(), &local.sin_addr) != 1 ||
        ::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) {
      ::close(fd);
      return -1;
    }
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

std::unique_ptr<TlsConnection> TlsConnection::Connect(uint16_t port,
                                                      const std::filesystem::path& ca_cert) {
  return Connect(port, ca_cert, ConnectOptions{});
}

std::string TlsConnection::cipher() const {
  const char* name = SSL_get_cipher_name(ssl_);
  return name != nullptr ? name : "";
}

std::unique_ptr<TlsConnection> TlsConnection::Connect(uint16_t port,
                                                      const std::filesystem::path& ca_cert,
                                                      const ConnectOptions& options) {
  std::unique_ptr<TlsConnection> c(new TlsConnection());
  c->fd_ = ConnectTcp(port, options.source_address);
  if (c->fd_ < 0) return nullptr;
  c->ctx_ = SSL_CTX_new(TLS_client_method());
  if (!options.tls12_ciphers.empty()) {
    SSL_CTX_set_max_proto_version(c->ctx_, TLS1_2_VERSION);
    if (SSL_CTX_set_cipher_list(c->ctx_, options.tls12_ciphers.c_str()) != 1) return nullptr;
  }
  SSL_CTX_set_verify(c->ctx_, SSL_VERIFY_PEER, nullptr);
  if (SSL_CTX_load_verify_locations(c->ctx_, ca_cert.c_str(), nullptr) != 1) return nullptr;
  c->ssl_ = SSL_new(c->ctx_);
  SSL_set_fd(c->ssl_, c->fd_);
  SSL_set1_host(c->ssl_, "127.0.0.1");
  timeval tv{5, 0};
  ::setsockopt(c->fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (SSL_connect(c->ssl_) != 1) return nullptr;
  return c;
}

TlsConnection::~TlsConnection() {
  if (ssl_ != nullptr) SSL_free(ssl_);
  if (ctx_ != nullptr) SSL_CTX_free(ctx_);
  if (fd_ >= 0) ::close(fd_);
}

bool TlsConnection::Send(std::string_view bytes) {
  size_t off = 0;
  while (off < bytes.size()) {
    const int n = SSL_write(ssl_, bytes.data() + off, static_cast<int>(bytes.size() - off));
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

int TlsConnection::ReadSome(char* buf, int n, int timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                          deadline - std::chrono::steady_clock::now())
                          .count();
    if (SSL_pending(ssl_) == 0) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(std::max<int64_t>(left, 0))) <= 0) return -2;  // timeout
    }
    const int got = SSL_read(ssl_, buf, n);
    if (got > 0) return got;
    const int err = SSL_get_error(ssl_, got);
    if (err == SSL_ERROR_ZERO_RETURN) return 0;
    // The readable bytes were only a TLS 1.3 session ticket (or part of a record) and the
    // socket's own 5 s receive timeout ended the wait for more: a slow answer (a handler
    // working on 64 MiB) is still allowed until the caller's deadline.
    if (err == SSL_ERROR_WANT_READ && std::chrono::steady_clock::now() < deadline) continue;
    return -1;
  }
}

std::optional<HttpResponse> TlsConnection::Read(int timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  auto remaining = [&] {
    return static_cast<int>(std::max<int64_t>(
        0, std::chrono::duration_cast<std::chrono::milliseconds>(deadline -
                                                                 std::chrono::steady_clock::now())
               .count()));
  };
  char buf[16384];
  size_t header_end;
  while ((header_end = pending_.find("\r\n\r\n")) == std::string::npos) {
    const int n = ReadSome(buf, sizeof buf, remaining());
    if (n <= 0) return std::nullopt;
    pending_.append(buf, static_cast<size_t>(n));
  }
  HttpResponse r;
  std::istringstream head(pending_.substr(0, header_end));
  std::string line;
  std::getline(head, line);
  if (line.size() < 12 || !line.starts_with("HTTP/1.")) return std::nullopt;
  r.status = std::stoi(line.substr(9, 3));
  while (std::getline(head, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = line.substr(0, colon);
    std::transform(name.begin(), name.end(), name.begin(), ::tolower);
    std::string value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(' '));
    r.headers[name] = value;
  }
  const size_t length =
      r.headers.count("content-length") ? std::stoul(r.headers["content-length"]) : 0;
  pending_.erase(0, header_end + 4);
  while (pending_.size() < length) {
    const int n = ReadSome(buf, sizeof buf, remaining());
    if (n <= 0) return std::nullopt;
    pending_.append(buf, static_cast<size_t>(n));
  }
  r.body = pending_.substr(0, length);
  pending_.erase(0, length);
  return r;
}

bool TlsConnection::ClosedByPeer(int timeout_ms) {
  char buf[1024];
  const int n = ReadSome(buf, sizeof buf, timeout_ms);
  return n == 0 || n == -1;
}

std::string BuildRequest(const std::string& method, const std::string& target,
                         const std::map<std::string, std::string>& headers,
                         const std::string& body) {
  // A test may send its own Host (a forged one, for example).
  std::string out = method + " " + target + " HTTP/1.1\r\n";
  if (!headers.count("Host")) out += "Host: 127.0.0.1\r\n";
  for (const auto& [k, v] : headers) out += k + ": " + v + "\r\n";
  if (!body.empty() || method == "POST" || method == "PUT") {
    if (!headers.count("Content-Length") && !headers.count("Transfer-Encoding")) {
      out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    }
  }
  out += "\r\n" + body;
  return out;
}

}  // namespace zengen::testing
