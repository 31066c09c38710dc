#include "s3/s3_client.h"

#include <curl/curl.h>
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <future>
#include <map>
#include <mutex>
#include <random>
#include <thread>
#include <utility>

#include <openssl/evp.h>
#include <pugixml.hpp>

#include "crypto/crypto.h"

namespace zengen::s3 {
namespace {

// SHA-256 of the empty string: the payload hash of every request without a body.
constexpr std::string_view kEmptySha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

// libcurl's send and receive buffer per handle (its maximum for uploads is 2 MiB).
constexpr long kTransferBuffer = 1L << 20;

bool IsUnreserved(unsigned char c) {
  return std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~';
}

// RFC 3986 encoding as SigV4's canonical query string wants it: everything but the
// unreserved characters as %XX (upper-case hex).
std::string EncodeQueryValue(std::string_view v) {
  std::string out;
  for (unsigned char c : v) {
    if (IsUnreserved(c)) {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

Status CheckKey(std::string_view key) {
  auto bad = [&](std::string_view why) -> Status {
    return InvalidArgument("s3_bad_key", fmt::format("object key '{}' {}", key, why), "key");
  };
  if (key.empty() || key.size() > 1024) return bad("must have 1 to 1024 bytes");
  if (key.front() == '/') return bad("must not start with '/'");
  for (unsigned char c : key) {
    if (!(std::isalnum(c) || c == '.' || c == '_' || c == '-' || c == '/')) {
      return bad("may hold only letters, digits and . _ - /");
    }
  }
  size_t start = 0;
  while (start <= key.size()) {
    size_t end = key.find('/', start);
    if (end == std::string_view::npos) end = key.size();
    std::string_view seg = key.substr(start, end - start);
    if (seg.empty() || seg == "." || seg == "..") return bad("has an empty, '.' or '..' segment");
    start = end + 1;
  }
  return Status::Ok();
}

Status CheckBucket(std::string_view bucket) {
  bool ok = bucket.size() >= 3 && bucket.size() <= 63;
  for (unsigned char c : bucket) {
    if (!(std::islower(c) || std::isdigit(c) || c == '-' || c == '.')) ok = false;
  }
  if (!ok) {
    return InvalidArgument("s3_bad_bucket",
                           fmt::format("bucket name '{}' must have 3 to 63 characters of a-z 0-9 . -",
                                       bucket),
                           "bucket");
  }
  return Status::Ok();
}

std::string Unquote(std::string s) {
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') return s.substr(1, s.size() - 2);
  return s;
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// A request as the client builds it.
struct Call {
  std::string op;  // for messages, e.g. "PUT object"
  std::string method;
  std::string bucket;
  std::string key;  // the object's key; unused for bucket-level requests
  bool object = false;  // an object-level request: key is checked and sent
  std::vector<std::pair<std::string, std::string>> query;  // sorted by name before sending
  std::vector<std::string> headers;                         // "Name: value"
  std::string_view body;
  bool has_body = false;
  const std::function<bool(std::string_view)>* sink = nullptr;  // streams a 2xx body
};

struct Reply {
  long status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};

// The S3 error code in an error body (<Error><Code>…</Code>), or "".
std::string ErrorCode(std::string_view body) {
  pugi::xml_document doc;
  if (!doc.load_buffer(body.data(), body.size())) return "";
  return doc.child("Error").child_value("Code");
}

bool Transient(CURLcode c) {
  switch (c) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return true;
    default:
      return false;
  }
}

struct CurlGlobal {
  CurlGlobal() { curl_global_init(CURL_GLOBAL_DEFAULT); }
};

}  // namespace

struct S3Client::Impl {
  Options options;
  std::string userpwd;
  std::string sigv4;
  std::mutex mu;
  std::vector<CURL*> idle;  // handles keep their connections between requests
  Stats stats;
  std::mt19937_64 rng{std::random_device{}()};

  ~Impl() {
    for (CURL* h : idle) curl_easy_cleanup(h);
  }

  CURL* Take() {
    {
      std::lock_guard lock(mu);
      if (!idle.empty()) {
        CURL* h = idle.back();
        idle.pop_back();
        return h;
      }
    }
    return curl_easy_init();
  }
  void Give(CURL* h) {
    std::lock_guard lock(mu);
    idle.push_back(h);
  }

  std::chrono::milliseconds Backoff(int attempt) {
    auto cap = options.backoff_cap.count();
    int64_t ceiling = std::min<int64_t>(cap, options.backoff_base.count() << std::min(attempt, 20));
    std::lock_guard lock(mu);
    std::uniform_int_distribution<int64_t> d(0, std::max<int64_t>(ceiling, 1));
    return std::chrono::milliseconds(d(rng));
  }

  std::string Url(const Call& c) const {
    std::string url = options.endpoint + "/" + c.bucket;
    if (c.object) url += "/" + c.key;
    auto q = c.query;
    std::sort(q.begin(), q.end());
    for (size_t i = 0; i < q.size(); ++i) {
      url += (i == 0 ? "?" : "&");
      url += EncodeQueryValue(q[i].first) + "=" + EncodeQueryValue(q[i].second);
    }
    return url;
  }

  struct Transfer {
    Reply* reply;
    const Call* call;
    CURL* handle;
    bool delivered = false;     // bytes reached the sink
    bool sink_stopped = false;  // the sink asked to stop
    int64_t received = 0;
  };

  static size_t OnHeader(char* data, size_t size, size_t n, void* p) {
    auto* t = static_cast<Transfer*>(p);
    std::string_view line(data, size * n);
    auto colon = line.find(':');
    if (colon != std::string_view::npos) {
      std::string name = Lower(std::string(line.substr(0, colon)));
      std::string_view value = line.substr(colon + 1);
      while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
      while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) {
        value.remove_suffix(1);
      }
      t->reply->headers[name] = std::string(value);
    } else if (line.rfind("HTTP/", 0) == 0) {
      t->reply->headers.clear();  // a new response (after 100 Continue or a redirect)
    }
    return size * n;
  }

  static size_t OnBody(char* data, size_t size, size_t n, void* p) {
    auto* t = static_cast<Transfer*>(p);
    std::string_view piece(data, size * n);
    t->received += static_cast<int64_t>(piece.size());
    long status = 0;
    curl_easy_getinfo(t->handle, CURLINFO_RESPONSE_CODE, &status);
    if (t->call->sink != nullptr && status >= 200 && status < 300) {
      t->delivered = true;
      if (!(*t->call->sink)(piece)) {
        t->sink_stopped = true;
        return 0;  // aborts the transfer
      }
      return piece.size();
    }
    t->reply->body.append(piece);
    return piece.size();
  }

  // One attempt. Returns the CURLcode; fills reply.
  CURLcode Once(CURL* h, const Call& c, const std::string& url, Reply& reply, Transfer& t) {
    curl_easy_reset(h);
    curl_easy_setopt(h, CURLOPT_URL, url.c_str());
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_AWS_SIGV4, sigv4.c_str());
    curl_easy_setopt(h, CURLOPT_USERPWD, userpwd.c_str());
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options.connect_timeout.count()));
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME,
                     std::max(1L, static_cast<long>(options.stall_timeout.count() / 1000)));
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &Impl::OnHeader);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &t);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &Impl::OnBody);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &t);
    if (!options.ca_file.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, options.ca_file.c_str());
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    // why: the default 64 KiB buffers cost one system call per 64 KiB of a 64 MiB part.
    curl_easy_setopt(h, CURLOPT_UPLOAD_BUFFERSIZE, kTransferBuffer);
    curl_easy_setopt(h, CURLOPT_BUFFERSIZE, kTransferBuffer);

    struct curl_slist* headers = nullptr;
    bool has_sha = false;
    bool has_type = false;
    for (const auto& hd : c.headers) {
      headers = curl_slist_append(headers, hd.c_str());
      if (Lower(hd).rfind("x-amz-content-sha256:", 0) == 0) has_sha = true;
      if (Lower(hd).rfind("content-type:", 0) == 0) has_type = true;
    }
    std::string sha_header;
    if (!has_sha) {
      sha_header = "x-amz-content-sha256: " +
                   (c.has_body ? crypto::Sha256Hex(c.body) : std::string(kEmptySha256));
      headers = curl_slist_append(headers, sha_header.c_str());
    }
    if (c.has_body && !has_type) {
      headers = curl_slist_append(headers, "Content-Type: application/octet-stream");
    }
    // No "Expect:" override: libcurl would sign the empty header it then does not send.

    if (c.method == "HEAD") {
      curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else if (c.has_body) {
      curl_easy_setopt(h, CURLOPT_POSTFIELDS, c.body.data());
      curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(c.body.size()));
      curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, c.method.c_str());
    } else if (c.method != "GET") {
      curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, c.method.c_str());
    }
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    CURLcode rc = curl_easy_perform(h);
    curl_slist_free_all(headers);
    if (rc == CURLE_OK) curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &reply.status);
    return rc;
  }

  Result<Reply> Send(const Call& c) {
    ZG_RETURN_IF_ERROR(CheckBucket(c.bucket));
    if (c.object) ZG_RETURN_IF_ERROR(CheckKey(c.key));
    const std::string url = Url(c);
    const std::string where =
        !c.object ? fmt::format("bucket {}", c.bucket) : fmt::format("{}/{}", c.bucket, c.key);
    CURL* h = Take();
    if (h == nullptr) return Internal("s3_client", "cannot create an HTTP handle");
    std::string last_problem;
    for (int attempt = 0; attempt < std::max(1, options.max_attempts); ++attempt) {
      if (attempt > 0) {
        {
          std::lock_guard lock(mu);
          ++stats.retries;
        }
        std::this_thread::sleep_for(Backoff(attempt));
      }
      Reply reply;
      Transfer t{&reply, &c, h};
      CURLcode rc = Once(h, c, url, reply, t);
      {
        std::lock_guard lock(mu);
        ++stats.requests;
        stats.bytes_sent += c.has_body ? static_cast<int64_t>(c.body.size()) : 0;
        stats.bytes_received += t.received;
      }
      if (t.sink_stopped) {
        Give(h);
        return Unavailable("s3_aborted_by_reader", fmt::format("{} of {}: the reader stopped", c.op, where));
      }
      if (rc != CURLE_OK) {
        last_problem = curl_easy_strerror(rc);
        if (Transient(rc) && !t.delivered) continue;
        curl_easy_cleanup(h);  // the connection state is unknown: do not reuse
        if (Transient(rc) || t.delivered) {
          return Unavailable("s3_unavailable",
                             fmt::format("{} of {} failed: {}", c.op, where, last_problem));
        }
        return Internal("s3_client", fmt::format("{} of {} failed: {}", c.op, where, last_problem));
      }
      if (reply.status >= 500) {
        last_problem = fmt::format("HTTP {} {}", reply.status, ErrorCode(reply.body));
        if (t.delivered) break;
        continue;
      }
      Give(h);
      if (reply.status >= 200 && reply.status < 300) return reply;
      std::string code = ErrorCode(reply.body);
      std::string msg = fmt::format("{} of {}: HTTP {}{}", c.op, where, reply.status,
                                    code.empty() ? "" : " " + code);
      if (reply.status == 404) {
        if (code == "NoSuchBucket") return NotFound("s3_no_such_bucket", msg);
        if (code == "NoSuchUpload") return NotFound("s3_no_such_upload", msg);
        return NotFound("s3_no_such_key", msg);
      }
      if (reply.status == 403) return PermissionDenied("s3_access_denied", msg);
      if (reply.status == 416) return InvalidArgument("s3_range_not_satisfiable", msg, "offset");
      if (reply.status == 409) return Conflict("s3_conflict", msg);
      return InvalidArgument("s3_bad_request", msg);
    }
    Give(h);
    return Unavailable("s3_unavailable",
                       fmt::format("{} of {} failed after {} attempts: {}", c.op, where,
                                   options.max_attempts, last_problem));
  }
};

S3Client::S3Client(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
S3Client::~S3Client() = default;

Result<std::unique_ptr<S3Client>> S3Client::Create(Options options) {
  static CurlGlobal global;
  std::string_view ep = options.endpoint;
  bool scheme = ep.rfind("http://", 0) == 0 || ep.rfind("https://", 0) == 0;
  auto rest = ep.substr(ep.find("://") == std::string_view::npos ? 0 : ep.find("://") + 3);
  if (!scheme || rest.empty() || rest.find('/') != std::string_view::npos ||
      rest.find('?') != std::string_view::npos) {
    return InvalidArgument("s3_bad_endpoint",
                           fmt::format("endpoint '{}' must be http(s)://host[:port]", ep),
                           "endpoint");
  }
  if (options.access_key.empty() || options.secret_key.empty()) {
    return InvalidArgument("s3_no_credentials", "an access key and a secret key are required",
                           "credentials");
  }
  if (options.region.empty()) options.region = "us-east-1";
  auto impl = std::make_unique<Impl>();
  impl->userpwd = options.access_key + ":" + options.secret_key;
  impl->sigv4 = "aws:amz:" + options.region + ":s3";
  impl->options = std::move(options);
  return std::unique_ptr<S3Client>(new S3Client(std::move(impl)));
}

Stats S3Client::stats() const {
  std::lock_guard lock(impl_->mu);
  return impl_->stats;
}

Status S3Client::CreateBucket(std::string_view bucket, bool object_lock) {
  Call c{.op = "create bucket", .method = "PUT", .bucket = std::string(bucket)};
  if (object_lock) c.headers.push_back("x-amz-bucket-object-lock-enabled: true");
  auto r = impl_->Send(c);
  if (!r.ok() && r.error().code == "s3_conflict" &&
      r.error().message.find("BucketAlreadyOwnedByYou") != std::string::npos) {
    return Status::Ok();
  }
  if (!r.ok()) return r.error();
  return Status::Ok();
}

Status S3Client::SetDefaultRetention(std::string_view bucket, std::string_view mode, int days) {
  if (mode != "COMPLIANCE" && mode != "GOVERNANCE") {
    return InvalidArgument("s3_bad_lock_mode", "mode must be COMPLIANCE or GOVERNANCE", "mode");
  }
  if (days < 1) return InvalidArgument("s3_bad_retention", "retention must be >= 1 day", "days");
  std::string body = fmt::format(
      "<ObjectLockConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
      "<ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule><DefaultRetention><Mode>{}</Mode>"
      "<Days>{}</Days></DefaultRetention></Rule></ObjectLockConfiguration>",
      mode, days);
  Call c{.op = "set object lock", .method = "PUT", .bucket = std::string(bucket),
         .query = {{"object-lock", ""}}, .headers = {"Content-Type: application/xml"},
         .body = body, .has_body = true};
  auto r = impl_->Send(c);
  if (!r.ok()) return r.error();
  return Status::Ok();
}

namespace {
std::string Md5(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), md, &len, EVP_md5(), nullptr) != 1) std::abort();
  return std::string(reinterpret_cast<const char*>(md), len);
}
std::string Base64(std::string_view data) {
  std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(data.data()),
                          static_cast<int>(data.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}
}  // namespace

Status S3Client::SetRetention(std::string_view bucket, std::string_view key,
                              std::string_view version_id, std::string_view mode,
                              std::string_view retain_until) {
  if (mode != "COMPLIANCE" && mode != "GOVERNANCE") {
    return InvalidArgument("s3_bad_lock_mode", "mode must be COMPLIANCE or GOVERNANCE", "mode");
  }
  std::string body = fmt::format(
      "<Retention xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Mode>{}</Mode>"
      "<RetainUntilDate>{}</RetainUntilDate></Retention>",
      mode, retain_until);
  Call c{.op = "set object retention", .method = "PUT", .bucket = std::string(bucket),
         .key = std::string(key), .object = true, .query = {{"retention", ""}},
         .headers = {"Content-Type: application/xml",
                     "Content-MD5: " + Base64(Md5(body))},
         .body = body, .has_body = true};
  // Query parameters in sorted order (curl does not canonicalise them).
  if (!version_id.empty()) c.query.emplace_back("versionId", std::string(version_id));
  auto r = impl_->Send(c);
  if (!r.ok()) return r.error();
  return Status::Ok();
}

namespace {
void AddPutHeaders(std::vector<std::string>& headers, const PutOptions& o) {
  headers.push_back("Content-Type: " +
                    (o.content_type.empty() ? std::string("application/octet-stream") : o.content_type));
  if (!o.lock_mode.empty()) {
    headers.push_back("x-amz-object-lock-mode: " + o.lock_mode);
    headers.push_back("x-amz-object-lock-retain-until-date: " + o.retain_until);
  }
}
}  // namespace

Result<PutResult> S3Client::Put(std::string_view bucket, std::string_view key,
                                std::string_view bytes, const PutOptions& options) {
  Call c{.op = "PUT object", .method = "PUT", .bucket = std::string(bucket),
         .key = std::string(key), .object = true, .body = bytes, .has_body = true};
  AddPutHeaders(c.headers, options);
  if (!options.declared_sha256_for_tests.empty()) {
    c.headers.push_back("x-amz-content-sha256: " + options.declared_sha256_for_tests);
  }
  ZG_ASSIGN_OR_RETURN(Reply r, impl_->Send(c));
  return PutResult{Unquote(r.Header("etag")), r.Header("x-amz-version-id")};
}

Result<ObjectHead> S3Client::Head(std::string_view bucket, std::string_view key,
                                  std::string_view version_id) {
  Call c{.op = "HEAD object", .method = "HEAD", .bucket = std::string(bucket),
         .key = std::string(key), .object = true};
  if (!version_id.empty()) c.query.emplace_back("versionId", std::string(version_id));
  ZG_ASSIGN_OR_RETURN(Reply r, impl_->Send(c));
  ObjectHead h;
  std::string len = r.Header("content-length");
  h.size = len.empty() ? 0 : std::stoll(len);
  h.etag = Unquote(r.Header("etag"));
  h.version_id = r.Header("x-amz-version-id");
  h.lock_mode = r.Header("x-amz-object-lock-mode");
  h.retain_until = r.Header("x-amz-object-lock-retain-until-date");
  return h;
}

Result<std::string> S3Client::GetRange(std::string_view bucket, std::string_view key,
                                       int64_t offset, int64_t n, std::string_view version_id) {
  if (offset < 0 || n < 0) {
    return InvalidArgument("s3_range_not_satisfiable", "offset and length must be >= 0", "offset");
  }
  if (n == 0) return std::string();
  Call c{.op = "GET range", .method = "GET", .bucket = std::string(bucket),
         .key = std::string(key), .object = true,
         .headers = {fmt::format("Range: bytes={}-{}", offset, offset + n - 1)}};
  if (!version_id.empty()) c.query.emplace_back("versionId", std::string(version_id));
  ZG_ASSIGN_OR_RETURN(Reply r, impl_->Send(c));
  return std::move(r.body);
}

Status S3Client::Get(std::string_view bucket, std::string_view key, int64_t offset,
                     const std::function<bool(std::string_view)>& sink,
                     std::string_view version_id) {
  Call c{.op = "GET object", .method = "GET", .bucket = std::string(bucket),
         .key = std::string(key), .object = true, .sink = &sink};
  if (!version_id.empty()) c.query.emplace_back("versionId", std::string(version_id));
  if (offset > 0) c.headers.push_back(fmt::format("Range: bytes={}-", offset));
  auto r = impl_->Send(c);
  if (!r.ok()) return r.error();
  return Status::Ok();
}

Result<std::vector<ObjectEntry>> S3Client::List(std::string_view bucket, std::string_view prefix) {
  std::vector<ObjectEntry> out;
  std::string token;
  for (;;) {
    Call c{.op = "list objects", .method = "GET", .bucket = std::string(bucket),
           .query = {{"list-type", "2"}, {"prefix", std::string(prefix)}}};
    if (!token.empty()) c.query.emplace_back("continuation-token", token);
    ZG_ASSIGN_OR_RETURN(Reply r, impl_->Send(c));
    pugi::xml_document doc;
    if (!doc.load_buffer(r.body.data(), r.body.size())) {
      return Unavailable("s3_bad_response", "list objects: the answer is not XML");
    }
    auto root = doc.child("ListBucketResult");
    for (auto e : root.children("Contents")) {
      out.push_back({e.child_value("Key"), std::stoll(std::string("0") + e.child_value("Size")),
                     Unquote(e.child_value("ETag"))});
    }
    if (std::string_view(root.child_value("IsTruncated")) != "true") break;
    token = root.child_value("NextContinuationToken");
    if (token.empty()) return Unavailable("s3_bad_response", "list objects: truncated without a token");
  }
  return out;
}

Status S3Client::Delete(std::string_view bucket, std::string_view key, std::string_view version_id) {
  Call c{.op = "DELETE object", .method = "DELETE", .bucket = std::string(bucket),
         .key = std::string(key), .object = true};
  if (!version_id.empty()) c.query.emplace_back("versionId", std::string(version_id));
  auto r = impl_->Send(c);
  if (!r.ok() && r.error().code != "s3_no_such_key") return r.error();
  return Status::Ok();
}

Result<std::string> S3Client::CreateMultipart(std::string_view bucket, std::string_view key,
                                              const PutOptions& options) {
  Call c{.op = "create multipart upload", .method = "POST", .bucket = std::string(bucket),
         .key = std::string(key), .object = true, .query = {{"uploads", ""}}};
  AddPutHeaders(c.headers, options);
  ZG_ASSIGN_OR_RETURN(Reply r, impl_->Send(c));
  pugi::xml_document doc;
  doc.load_buffer(r.body.data(), r.body.size());
  std::string id = doc.child("InitiateMultipartUploadResult").child_value("UploadId");
  if (id.empty()) return Unavailable("s3_bad_response", "create multipart upload: no UploadId");
  return id;
}

Result<std::string> S3Client::UploadPart(std::string_view bucket, std::string_view key,
                                         std::string_view upload_id, int part_number,
                                         std::string_view bytes,
                                         std::string_view payload_sha256) {
  if (part_number < 1 || part_number > 10000) {
    return InvalidArgument("s3_bad_part", "part numbers run from 1 to 10000", "part_number");
  }
  Call c{.op = fmt::format("upload part {}", part_number), .method = "PUT",
         .bucket = std::string(bucket), .key = std::string(key), .object = true,
         .query = {{"partNumber", std::to_string(part_number)}, {"uploadId", std::string(upload_id)}},
         .body = bytes, .has_body = true};
  if (!payload_sha256.empty()) {
    c.headers.push_back("x-amz-content-sha256: " + std::string(payload_sha256));
  }
  ZG_ASSIGN_OR_RETURN(Reply r, impl_->Send(c));
  std::string etag = Unquote(r.Header("etag"));
  if (etag.empty()) return Unavailable("s3_bad_response", "upload part: no ETag");
  return etag;
}

Result<PutResult> S3Client::CompleteMultipart(std::string_view bucket, std::string_view key,
                                              std::string_view upload_id,
                                              const std::vector<CompletedPart>& parts) {
  std::string body = "<CompleteMultipartUpload>";
  for (const auto& p : parts) {
    body += fmt::format("<Part><PartNumber>{}</PartNumber><ETag>\"{}\"</ETag></Part>", p.number,
                        p.etag);
  }
  body += "</CompleteMultipartUpload>";
  Call c{.op = "complete multipart upload", .method = "POST", .bucket = std::string(bucket),
         .key = std::string(key), .object = true, .query = {{"uploadId", std::string(upload_id)}},
         .headers = {"Content-Type: application/xml"}, .body = body, .has_body = true};
  ZG_ASSIGN_OR_RETURN(Reply r, impl_->Send(c));
  // S3 may answer 200 and put the error in the body.
  std::string code = ErrorCode(r.body);
  if (!code.empty()) {
    return Unavailable("s3_unavailable",
                       fmt::format("complete multipart upload of {}/{}: {}", bucket, key, code));
  }
  PutResult out{.version_id = r.Header("x-amz-version-id")};
  // Some servers (RGW 16) leave the ETag in the answer empty: ask for it.
  ZG_ASSIGN_OR_RETURN(ObjectHead head, Head(bucket, key));
  out.etag = head.etag;
  if (out.version_id.empty()) out.version_id = head.version_id;
  return out;
}

Status S3Client::AbortMultipart(std::string_view bucket, std::string_view key,
                                std::string_view upload_id) {
  Call c{.op = "abort multipart upload", .method = "DELETE", .bucket = std::string(bucket),
         .key = std::string(key), .object = true, .query = {{"uploadId", std::string(upload_id)}}};
  auto r = impl_->Send(c);
  if (!r.ok() && r.error().code != "s3_no_such_upload") return r.error();
  return Status::Ok();
}

Result<std::vector<MultipartUpload>> S3Client::ListMultipart(std::string_view bucket,
                                                             std::string_view prefix) {
  std::vector<MultipartUpload> out;
  std::string key_marker, id_marker;
  for (;;) {
    Call c{.op = "list multipart uploads", .method = "GET", .bucket = std::string(bucket),
           .query = {{"uploads", ""}, {"prefix", std::string(prefix)}}};
    if (!key_marker.empty()) {
      c.query.emplace_back("key-marker", key_marker);
      c.query.emplace_back("upload-id-marker", id_marker);
    }
    ZG_ASSIGN_OR_RETURN(Reply r, impl_->Send(c));
    pugi::xml_document doc;
    if (!doc.load_buffer(r.body.data(), r.body.size())) {
      return Unavailable("s3_bad_response", "list multipart uploads: the answer is not XML");
    }
    auto root = doc.child("ListMultipartUploadsResult");
    for (auto u : root.children("Upload")) {
      out.push_back({u.child_value("Key"), u.child_value("UploadId"), u.child_value("Initiated")});
    }
    if (std::string_view(root.child_value("IsTruncated")) != "true") break;
    key_marker = root.child_value("NextKeyMarker");
    id_marker = root.child_value("NextUploadIdMarker");
    if (key_marker.empty()) break;
  }
  return out;
}

// ---- MultipartWriter ----

struct MultipartWriter::Hashes {
  EVP_MD_CTX* sha = EVP_MD_CTX_new();
  EVP_MD_CTX* md5 = nullptr;  // only with check_part_md5
  explicit Hashes(bool with_md5) {
    if (with_md5) md5 = EVP_MD_CTX_new();
    Reset();
  }
  ~Hashes() {
    EVP_MD_CTX_free(sha);
    EVP_MD_CTX_free(md5);
  }
  Hashes(const Hashes&) = delete;
  Hashes& operator=(const Hashes&) = delete;
  void Reset() {
    if (EVP_DigestInit_ex(sha, EVP_sha256(), nullptr) != 1 ||
        (md5 != nullptr && EVP_DigestInit_ex(md5, EVP_md5(), nullptr) != 1)) {
      std::abort();
    }
  }
  void Update(std::string_view d) {
    if (EVP_DigestUpdate(sha, d.data(), d.size()) != 1 ||
        (md5 != nullptr && EVP_DigestUpdate(md5, d.data(), d.size()) != 1)) {
      std::abort();
    }
  }
  // (hex SHA-256, hex MD5 or "") of the bytes since the last Reset; resets.
  std::pair<std::string, std::string> Finish() {
    unsigned char a[EVP_MAX_MD_SIZE], b[EVP_MAX_MD_SIZE];
    unsigned int na = 0, nb = 0;
    if (EVP_DigestFinal_ex(sha, a, &na) != 1 ||
        (md5 != nullptr && EVP_DigestFinal_ex(md5, b, &nb) != 1)) {
      std::abort();
    }
    Reset();
    return {crypto::ToHex(std::string_view(reinterpret_cast<const char*>(a), na)),
            crypto::ToHex(std::string_view(reinterpret_cast<const char*>(b), nb))};
  }
};

MultipartWriter::MultipartWriter(S3Client& client, std::string bucket, std::string key,
                                 int64_t part_size, int max_in_flight, bool check_md5,
                                 std::string upload_id)
    : client_(client),
      bucket_(std::move(bucket)),
      key_(std::move(key)),
      part_size_(part_size),
      max_in_flight_(max_in_flight),
      check_md5_(check_md5),
      upload_id_(std::move(upload_id)),
      hashes_(std::make_unique<Hashes>(check_md5)) {}

MultipartWriter::~MultipartWriter() { Abort(); }

Result<std::unique_ptr<MultipartWriter>> MultipartWriter::Start(S3Client& client,
                                                                std::string bucket,
                                                                std::string key,
                                                                int64_t part_size,
                                                                const PutOptions& options,
                                                                int max_in_flight) {
  if (part_size < kMinPartSize) {
    return InvalidArgument("s3_part_too_small",
                           fmt::format("part size {} is below S3's minimum of {} bytes", part_size,
                                       kMinPartSize),
                           "part_size");
  }
  if (max_in_flight < 1 || max_in_flight > 16) {
    return InvalidArgument("s3_bad_in_flight",
                           fmt::format("parts in flight must be 1..16, not {}", max_in_flight),
                           "max_in_flight");
  }
  ZG_ASSIGN_OR_RETURN(std::string id, client.CreateMultipart(bucket, key, options));
  return std::unique_ptr<MultipartWriter>(new MultipartWriter(
      client, std::move(bucket), std::move(key), part_size, max_in_flight,
      options.check_part_md5, std::move(id)));
}

Status MultipartWriter::WaitOldest() {
  if (inflight_.empty()) return Status::Ok();
  auto [number, future] = std::move(inflight_.front());
  inflight_.pop_front();
  Result<std::string> etag = future.get();
  if (!etag.ok()) {
    Abort();
    return etag.error();
  }
  auto binary = crypto::FromHex(*etag);
  if (!binary.ok() || binary->size() != 16) {
    Abort();
    return Unavailable("s3_bad_response",
                       fmt::format("part {} of {}/{}: ETag '{}' is not an MD5", number, bucket_,
                                   key_, *etag));
  }
  part_md5s_ += *binary;
  parts_.push_back({number, std::move(*etag)});
  return Status::Ok();
}

Status MultipartWriter::WaitAll() {
  while (!inflight_.empty()) ZG_RETURN_IF_ERROR(WaitOldest());
  return Status::Ok();
}

Status MultipartWriter::Flush() {
  while (static_cast<int>(inflight_.size()) >= max_in_flight_) ZG_RETURN_IF_ERROR(WaitOldest());
  if (next_part_ > 10000) {
    Abort();
    return InvalidArgument("s3_too_many_parts",
                           fmt::format("{}/{} would need more than 10000 parts of {} bytes",
                                       bucket_, key_, part_size_),
                           "part_size");
  }
  auto [sha256, md5] = hashes_->Finish();
  const int number = next_part_++;
  // why: the part goes out on its own task (and connection) while the caller fills the next
  // one; the task owns the bytes, so nothing it reads changes under it.
  inflight_.emplace_back(
      number, std::async(std::launch::async,
                         [this, number, bytes = std::move(buffer_), sha256 = std::move(sha256),
                          md5 = std::move(md5)]() -> Result<std::string> {
                           ZG_ASSIGN_OR_RETURN(std::string etag,
                                               client_.UploadPart(bucket_, key_, upload_id_,
                                                                  number, bytes, sha256));
                           if (!md5.empty() && Lower(etag) != md5) {
                             return Unavailable(
                                 "s3_part_etag_mismatch",
                                 fmt::format("part {} of {}/{}: the store acknowledged ETag {} "
                                             "for bytes whose MD5 is {}",
                                             number, bucket_, key_, etag, md5));
                           }
                           return etag;
                         }));
  buffer_ = std::string();
  return Status::Ok();
}

Status MultipartWriter::SendBorrowed(std::string_view part) {
  while (static_cast<int>(inflight_.size()) >= max_in_flight_) ZG_RETURN_IF_ERROR(WaitOldest());
  if (next_part_ > 10000) {
    Abort();
    return InvalidArgument("s3_too_many_parts",
                           fmt::format("{}/{} would need more than 10000 parts of {} bytes",
                                       bucket_, key_, part_size_),
                           "part_size");
  }
  const int number = next_part_++;
  // why: the part is hashed and sent straight from the caller's bytes on its own task (no copy
  // into a part buffer); Write waits for it before returning, so the bytes outlive the task.
  inflight_.emplace_back(
      number, std::async(std::launch::async, [this, number, part]() -> Result<std::string> {
        std::string md5 = check_md5_ ? crypto::ToHex(Md5(part)) : std::string();
        ZG_ASSIGN_OR_RETURN(std::string etag,
                            client_.UploadPart(bucket_, key_, upload_id_, number, part,
                                               crypto::Sha256Hex(part)));
        if (!md5.empty() && Lower(etag) != md5) {
          return Unavailable("s3_part_etag_mismatch",
                             fmt::format("part {} of {}/{}: the store acknowledged ETag {} for "
                                         "bytes whose MD5 is {}",
                                         number, bucket_, key_, etag, md5));
        }
        return etag;
      }));
  return Status::Ok();
}

Status MultipartWriter::Write(std::string_view bytes) {
  if (finished_) return Conflict("s3_writer_finished", "the multipart writer has finished");
  written_ += static_cast<int64_t>(bytes.size());
  bool borrowed = false;
  while (!bytes.empty()) {
    if (buffer_.empty() && bytes.size() >= static_cast<size_t>(part_size_)) {
      ZG_RETURN_IF_ERROR(SendBorrowed(bytes.substr(0, static_cast<size_t>(part_size_))));
      bytes.remove_prefix(static_cast<size_t>(part_size_));
      borrowed = true;
      continue;
    }
    if (buffer_.empty()) buffer_.reserve(static_cast<size_t>(part_size_));
    size_t room = static_cast<size_t>(part_size_) - buffer_.size();
    std::string_view take = bytes.substr(0, std::min(room, bytes.size()));
    buffer_.append(take);
    hashes_->Update(take);
    bytes.remove_prefix(take.size());
    if (buffer_.size() == static_cast<size_t>(part_size_)) ZG_RETURN_IF_ERROR(Flush());
  }
  // The caller's bytes are only lent for this call: every part sent from them must be
  // acknowledged before it returns.
  if (borrowed) ZG_RETURN_IF_ERROR(WaitAll());
  return Status::Ok();
}

Result<PutResult> MultipartWriter::Commit() {
  if (finished_) return Conflict("s3_writer_finished", "the multipart writer has finished");
  if (!buffer_.empty() || next_part_ == 1) ZG_RETURN_IF_ERROR(Flush());
  ZG_RETURN_IF_ERROR(WaitAll());
  auto r = client_.CompleteMultipart(bucket_, key_, upload_id_, parts_);
  if (!r.ok()) {
    Abort();
    return r.error();
  }
  finished_ = true;
  buffer_ = std::string();
  return r;
}

std::string MultipartWriter::ExpectedEtag() const {
  return fmt::format("{}-{}", crypto::ToHex(Md5(part_md5s_)), parts_.size());
}

void MultipartWriter::Abort() {
  if (finished_) return;
  finished_ = true;
  // No part may land after the abort: wait for every one in flight first.
  for (auto& [number, future] : inflight_) (void)future.get();
  inflight_.clear();
  buffer_ = std::string();
  (void)client_.AbortMultipart(bucket_, key_, upload_id_);
}

}  // namespace zengen::s3
