// HTTP face of the genome-file registry (R3.8 stored files, R3.9 delivery): metadata, a
// participant's files and the bytes of a stored file.
//
//   GET  /api/v1/files/{id}                 file.read     metadata, QC report, linkage
//   GET  /api/v1/participants/{id}/files    file.read     the participant's files the caller
//                                                         may see (403 when none)
//   GET  /api/v1/files/{id}/content         file.download the object as Crypt4GH re-encrypted
//        ?public_key=<base64 X25519 key>                  for the caller's key (header
//        &part=data|index                                 re-encryption only)
//   GET  /api/v1/files/{id}/plaintext       file.decrypt  the plaintext over TLS (the analysis
//        ?part=data|index                                 centre that analyses it)
//
// The handlers hold no access logic (issue 12): every route is resolved by the access gate
// (access/access.h), so http::PolicyFilter decides once on the file's facts (the participant's
// hospital, the specimen's holder, live consent) and writes one audit record. The listing is
// decided once as a whole (Gate::ParticipantFilesResolver), and its handler serves exactly the
// rows that resolver selected and recorded. Downloads stream: the body goes out in ~1 MiB
// pieces read from the blob store as the client takes them, with an exact Content-Length, so
// an object of any size is served in constant memory; a piece that fails (a tampered segment,
// a copy lost mid-way) closes the connection short of that length.
#pragma once

#include "access/access.h"
#include "blobs/blobs.h"
#include "genomefiles/files.h"
#include "http/http.h"

namespace zengen::genomefiles {

// Adds the routes above. Every reference must outlive the router.
Status AddFileRoutes(http::Router& router, Files& files, blobs::BlobStore& blobs,
                     access::Gate& gate);

}  // namespace zengen::genomefiles
