#include "audit/merkle.h"

#include <bit>
#include <cassert>
#include <functional>
#include <utility>

#include "crypto/crypto.h"

namespace zengen::audit::merkle {
namespace {

// The largest power of two strictly smaller than n. REQUIRES: n > 1.
int64_t SplitPoint(int64_t n) {
  return static_cast<int64_t>(std::bit_floor(static_cast<uint64_t>(n - 1)));
}

using SubtreeHash = std::function<std::string(int64_t lo, int64_t hi)>;

// SUBPROOF of RFC 9162 section 2.1.4.1 on the leaves [lo, hi), with m the (absolute) size of
// the old tree, lo <= m <= hi; the nodes are appended to out in the RFC's order.
void SubProof(int64_t lo, int64_t hi, int64_t m, bool b, const SubtreeHash& mth,
              std::vector<std::string>& out) {
  if (m == hi) {
    if (!b) out.push_back(mth(lo, hi));
    return;
  }
  const int64_t k = SplitPoint(hi - lo);
  if (m - lo <= k) {
    SubProof(lo, lo + k, m, b, mth, out);
    out.push_back(mth(lo + k, hi));
  } else {
    SubProof(lo + k, hi, m, false, mth, out);
    out.push_back(mth(lo, lo + k));
  }
}

std::vector<std::string> Proof(int64_t m, int64_t n, const SubtreeHash& mth) {
  std::vector<std::string> out;
  if (m <= 0 || m >= n) return out;
  SubProof(0, n, m, true, mth, out);
  return out;
}

}  // namespace

std::string LeafHash(std::string_view entry) {
  std::string in;
  in.reserve(entry.size() + 1);
  in.push_back('\x00');
  in.append(entry);
  return crypto::Sha256(in);
}

std::string NodeHash(std::string_view left, std::string_view right) {
  std::string in;
  in.reserve(1 + left.size() + right.size());
  in.push_back('\x01');
  in.append(left);
  in.append(right);
  return crypto::Sha256(in);
}

std::string EmptyRoot() { return crypto::Sha256(""); }

std::string RootOf(std::span<const std::string> leaf_hashes) {
  if (leaf_hashes.empty()) return EmptyRoot();
  if (leaf_hashes.size() == 1) return leaf_hashes[0];
  const auto k = static_cast<size_t>(SplitPoint(static_cast<int64_t>(leaf_hashes.size())));
  return NodeHash(RootOf(leaf_hashes.first(k)), RootOf(leaf_hashes.subspan(k)));
}

Result<CompactRange> CompactRange::FromNodes(int64_t size, std::vector<std::string> nodes) {
  if (size < 0 || nodes.size() != static_cast<size_t>(std::popcount(static_cast<uint64_t>(size)))) {
    return InvalidArgument("compact_range_malformed",
                           "the node count does not match the tree size", "compact_range");
  }
  for (const std::string& n : nodes) {
    if (n.size() != kHashBytes) {
      return InvalidArgument("compact_range_malformed", "a node is not a 32-byte hash",
                             "compact_range");
    }
  }
  CompactRange r;
  r.size_ = size;
  r.nodes_ = std::move(nodes);
  return r;
}

void CompactRange::Append(std::string_view leaf_hash) {
  std::string h(leaf_hash);
  // why: each trailing 1 bit of the old size is a perfect subtree as large as the one the new
  // leaf completes; they merge from the smallest up.
  for (int64_t s = size_; (s & 1) != 0; s >>= 1) {
    h = NodeHash(nodes_.back(), h);
    nodes_.pop_back();
  }
  nodes_.push_back(std::move(h));
  ++size_;
}

std::string CompactRange::Root() const {
  if (nodes_.empty()) return EmptyRoot();
  std::string r = nodes_.back();
  for (size_t i = nodes_.size() - 1; i-- > 0;) r = NodeHash(nodes_[i], r);
  return r;
}

std::vector<std::string> ConsistencyProof(const CompactRange& old_tree,
                                          std::span<const std::string> new_leaves) {
  const int64_t m = old_tree.size();
  const int64_t n = m + static_cast<int64_t>(new_leaves.size());
  // The old tree's perfect subtrees as [start, end) ranges, left to right.
  std::vector<std::pair<int64_t, int64_t>> spans;
  int64_t start = 0;
  for (int bit = 62; bit >= 0; --bit) {
    const int64_t width = int64_t{1} << bit;
    if ((m & width) != 0) {
      spans.emplace_back(start, start + width);
      start += width;
    }
  }
  const auto& nodes = old_tree.nodes();
  SubtreeHash mth = [&](int64_t lo, int64_t hi) -> std::string {
    if (lo >= m) {
      return RootOf(new_leaves.subspan(static_cast<size_t>(lo - m), static_cast<size_t>(hi - lo)));
    }
    if (hi <= m) {
      // why: SUBPROOF only asks the old tree for one of its perfect subtrees or for the tail
      // of them that ends at m; the tail's MTH folds the subtrees from the right.
      for (size_t i = 0; i < spans.size(); ++i) {
        if (spans[i].first != lo) continue;
        if (spans[i].second == hi) return nodes[i];
        if (hi == m) {
          std::string r = nodes.back();
          for (size_t j = nodes.size() - 1; j-- > i;) r = NodeHash(nodes[j], r);
          return r;
        }
      }
      assert(false && "subtree not derivable from the compact range");
      return std::string();
    }
    const int64_t k = SplitPoint(hi - lo);
    return NodeHash(mth(lo, lo + k), mth(lo + k, hi));
  };
  return Proof(m, n, mth);
}

std::vector<std::string> ConsistencyProofFromLeaves(int64_t m,
                                                    std::span<const std::string> leaf_hashes) {
  const auto n = static_cast<int64_t>(leaf_hashes.size());
  return Proof(m, n, [&](int64_t lo, int64_t hi) {
    return RootOf(leaf_hashes.subspan(static_cast<size_t>(lo), static_cast<size_t>(hi - lo)));
  });
}

bool VerifyConsistency(int64_t m, int64_t n, std::string_view old_root, std::string_view new_root,
                       std::span<const std::string> proof) {
  if (m < 0 || n < m) return false;
  if (m == n) return proof.empty() && old_root == new_root;
  if (m == 0) return proof.empty() && old_root == EmptyRoot();
  if (proof.empty()) return false;
  for (const std::string& p : proof) {
    if (p.size() != kHashBytes) return false;
  }
  // RFC 9162 section 2.1.4.2, step by step.
  std::vector<std::string> path(proof.begin(), proof.end());
  if (std::has_single_bit(static_cast<uint64_t>(m))) path.insert(path.begin(), std::string(old_root));
  uint64_t fn = static_cast<uint64_t>(m) - 1, sn = static_cast<uint64_t>(n) - 1;
  while ((fn & 1) != 0) {
    fn >>= 1;
    sn >>= 1;
  }
  std::string fr = path[0], sr = path[0];
  for (size_t i = 1; i < path.size(); ++i) {
    const std::string& c = path[i];
    if (sn == 0) return false;
    if ((fn & 1) != 0 || fn == sn) {
      fr = NodeHash(c, fr);
      sr = NodeHash(c, sr);
      while ((fn & 1) == 0 && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      sr = NodeHash(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return fr == old_root && sr == new_root && sn == 0;
}

}  // namespace zengen::audit::merkle
