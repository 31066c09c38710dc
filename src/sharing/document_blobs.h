// The adapter of sharing's DocumentBlobs port: an application's documents are stored as the
// genome files are, one Crypt4GH object for the data center's own key in the blob store
// (genomefiles::EncryptedBlob, kind "other"), and read back through the one authenticated
// reader (genomefiles::PlainReader, which falls back from a bad copy). No second encryption.
//
// Thread-safe (the blob store is; each call has its own writer or reader).
#pragma once

#include <string>
#include <string_view>

#include "blobs/blobs.h"
#include "genomefiles/object.h"
#include "sharing/sharing.h"

namespace zengen::sharing {

class EncryptedDocumentBlobs final : public DocumentBlobs {
 public:
  EncryptedDocumentBlobs(blobs::BlobStore& blobs, genomefiles::UploadKeys keys)
      : blobs_(blobs), keys_(std::move(keys)) {}
  // Errors: the blob store's and crypt4gh's.
  Result<std::string> Put(std::string_view bytes) override;
  // Errors: the blob store's (blob_not_found), kUnavailable "no_good_copy".
  Result<std::string> Get(std::string_view id) override;
  // The blob store offers no deletion (blobs.h: "Delete is deliberately not offered"), so this
  // always fails with kUnavailable "discard_unsupported": the object stays, unreferenced, and
  // the caller's audit record names it for the operator.
  Status Discard(std::string_view id) override;

 private:
  blobs::BlobStore& blobs_;
  genomefiles::UploadKeys keys_;
};

}  // namespace zengen::sharing
