#include "sharing/document_blobs.h"

#include <fmt/format.h>

namespace zengen::sharing {

Result<std::string> EncryptedDocumentBlobs::Put(std::string_view bytes) {
  ZG_ASSIGN_OR_RETURN(genomefiles::EncryptedBlob blob,
                      genomefiles::EncryptedBlob::Create(blobs_, keys_, "other"));
  ZG_RETURN_IF_ERROR(blob.Write(bytes));
  ZG_ASSIGN_OR_RETURN(blobs::BlobInfo info, blob.Commit());
  return info.id;
}

Result<std::string> EncryptedDocumentBlobs::Get(std::string_view id) {
  ZG_ASSIGN_OR_RETURN(genomefiles::PlainReader reader,
                      genomefiles::PlainReader::Open(blobs_, id, keys_));
  return reader.Read(0, reader.size());
}

Status EncryptedDocumentBlobs::Discard(std::string_view id) {
  return Error{ErrorKind::kUnavailable, "discard_unsupported",
               fmt::format("the blob store cannot delete {}", id)};
}

}  // namespace zengen::sharing
