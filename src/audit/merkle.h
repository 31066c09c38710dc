// The Merkle tree over the audit log, exactly as RFC 9162 (Certificate Transparency 2.0)
// section 2.1 defines it, so that any independent implementation can check our proofs.
//
//   leaf hash   SHA-256(0x00 || entry)
//   node hash   SHA-256(0x01 || left || right)
//   MTH({})     SHA-256("")   (the empty tree)
//   MTH(D[n])   for n > 1: k = the largest power of two smaller than n,
//               NodeHash(MTH(D[0:k]), MTH(D[k:n]))
//
// Hashes are 32 raw bytes in std::string. Tree sizes and indexes are int64_t, 0-based leaves.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace zengen::audit::merkle {

inline constexpr size_t kHashBytes = 32;

std::string LeafHash(std::string_view entry);
std::string NodeHash(std::string_view left, std::string_view right);
std::string EmptyRoot();

// MTH of the given leaf hashes, by the recursive definition above (the reference the faster
// code is tested against). O(n).
std::string RootOf(std::span<const std::string> leaf_hashes);

// The tree [0, size) kept as the roots of its maximal perfect subtrees, left to right: one per
// set bit of size, largest first (the "compact range" of the log). Appending a leaf and
// computing the root both take O(log size), so the server can follow the log without keeping
// every leaf.
class CompactRange {
 public:
  CompactRange() = default;
  // Rebuilds a range from its size and nodes (e.g. stored beside a signed head). Errors:
  // kInvalidArgument "compact_range_malformed" when size is negative, the node count is not
  // the number of set bits of size, or a node is not 32 bytes.
  static Result<CompactRange> FromNodes(int64_t size, std::vector<std::string> nodes);

  void Append(std::string_view leaf_hash);
  int64_t size() const { return size_; }
  // MTH of the leaves appended so far (EmptyRoot() when none).
  std::string Root() const;
  const std::vector<std::string>& nodes() const { return nodes_; }

 private:
  int64_t size_ = 0;
  std::vector<std::string> nodes_;
};

// The consistency proof from the tree of size m to the tree of size n = m + new_leaves.size(),
// as PROOF(m, D[n]) in RFC 9162 section 2.1.4.1, computed from the compact range of the first m
// leaves and the leaf hashes of [m, n) only. An empty proof when m == 0 or m == n.
std::vector<std::string> ConsistencyProof(const CompactRange& old_tree,
                                          std::span<const std::string> new_leaves);

// The same proof from every leaf hash of D[n] (reference implementation, RFC 9162 SUBPROOF).
// REQUIRES: 0 <= m <= leaf_hashes.size().
std::vector<std::string> ConsistencyProofFromLeaves(int64_t m,
                                                    std::span<const std::string> leaf_hashes);

// Checks a consistency proof as RFC 9162 section 2.1.4.2 prescribes: true when proof shows
// that the tree of size n with root new_root extends the tree of size m with root old_root.
// m == n needs an empty proof and equal roots; m == 0 an empty proof (any tree extends the
// empty one).
bool VerifyConsistency(int64_t m, int64_t n, std::string_view old_root, std::string_view new_root,
                       std::span<const std::string> proof);

}  // namespace zengen::audit::merkle
