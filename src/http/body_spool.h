// Request bodies kept on disk instead of in memory (issue 13 item 2): the server spools the
// body of a route with BodyMode::kSpooled here while it arrives, then hands the handler a
// BodyReader over it. Memory per body stays bounded (one segment of plaintext and one of
// ciphertext, a few hundred KiB) whatever the body's size.
//
// The spool file has no name: it is opened with O_TMPFILE in the spool directory (or, where
// the file system lacks it, created 0600 and unlinked at once), so it disappears when the
// spool is destroyed, whatever ended the request (success, refusal, a client that went away),
// and also when the process dies. Its bytes are Crypt4GH segments under a key pair made for
// this one body and held only in memory, so the disk blocks it used never hold readable
// plaintext (uploads are plaintext FASTQ until they are completed).
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"
#include "http/http.h"

namespace zengen::http {

class BodySpool {
 public:
  // Opens an unnamed spool file in `directory` (which must exist and be writable; the server
  // keeps it owner-only). `live`, when given, counts the spool files open: incremented here,
  // decremented when the file is closed (for ServerStats and tests). Errors (503):
  // "body_spool_unavailable" when the file cannot be created.
  static Result<std::unique_ptr<BodySpool>> Create(const std::filesystem::path& directory,
                                                   std::atomic<int>* live = nullptr);
  ~BodySpool();
  BodySpool(const BodySpool&) = delete;
  BodySpool& operator=(const BodySpool&) = delete;

  // Appends body bytes. Errors (503): "body_spool_failed" when the disk refuses them.
  // REQUIRES: Finish() not yet called.
  Status Append(std::string_view bytes);
  // Ends writing and returns a reader over the whole body from its first byte. The file is
  // closed (and so gone) when both this spool and the reader are destroyed. Errors as Append.
  // REQUIRES: called at most once.
  Result<std::shared_ptr<BodyReader>> Finish();

  // Body bytes appended so far.
  int64_t size() const;

 private:
  struct State;
  explicit BodySpool(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace zengen::http
