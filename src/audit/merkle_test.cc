#include "audit/merkle.h"

#include <gtest/gtest.h>

#include <bit>
#include <random>
#include <string>
#include <vector>

#include "crypto/crypto.h"

namespace zengen::audit::merkle {
namespace {

std::string Hex(const std::string& raw) { return crypto::ToHex(raw); }

// The definition of RFC 9162 section 2.1.1 written out directly on byte strings, independent of
// the code under test: MTH over the entries themselves.
std::string NaiveRoot(const std::vector<std::string>& entries, size_t lo, size_t hi) {
  if (hi == lo) return crypto::Sha256("");
  if (hi - lo == 1) return crypto::Sha256(std::string(1, '\0') + entries[lo]);
  size_t k = 1;
  while (k * 2 < hi - lo) k *= 2;
  return crypto::Sha256(std::string(1, '\1') + NaiveRoot(entries, lo, lo + k) +
                        NaiveRoot(entries, lo + k, hi));
}

std::vector<std::string> RandomEntries(std::mt19937_64& rng, size_t n) {
  std::vector<std::string> out;
  for (size_t i = 0; i < n; ++i) {
    std::string e(rng() % 40, '\0');
    for (char& c : e) c = static_cast<char>(rng());
    out.push_back(std::move(e));
  }
  return out;
}

std::vector<std::string> Leaves(const std::vector<std::string>& entries) {
  std::vector<std::string> out;
  for (const auto& e : entries) out.push_back(LeafHash(e));
  return out;
}

CompactRange RangeOf(const std::vector<std::string>& leaves, size_t m) {
  CompactRange r;
  for (size_t i = 0; i < m; ++i) r.Append(leaves[i]);
  return r;
}

// The test vectors of RFC 6962's reference implementation (certificate-transparency
// merkle_tree_test): eight fixed entries and the roots of their first n entries.
TEST(MerkleTest, MatchesTheCertificateTransparencyTestVectors) {
  const std::vector<std::string> entries = {
      std::string(),
      std::string(1, '\x00'),
      std::string(1, '\x10'),
      std::string("\x20\x21"),
      std::string("\x30\x31"),
      std::string("\x40\x41\x42\x43"),
      std::string("\x50\x51\x52\x53\x54\x55\x56\x57"),
      std::string("\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f")};
  const char* const roots[] = {
      "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
      "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
      "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
      "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
      "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
      "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
      "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"};
  ASSERT_EQ(entries[1].size(), 1u);
  EXPECT_EQ(Hex(EmptyRoot()), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CompactRange range;
  std::vector<std::string> leaves;
  for (size_t n = 1; n <= entries.size(); ++n) {
    leaves.push_back(LeafHash(entries[n - 1]));
    range.Append(leaves.back());
    EXPECT_EQ(Hex(RootOf(leaves)), roots[n - 1]) << "n = " << n;
    EXPECT_EQ(Hex(range.Root()), roots[n - 1]) << "n = " << n;
  }
}

TEST(MerkleTest, CompactRangeAndRootOfAgreeWithNaiveRecomputationForRandomSizes) {
  std::mt19937_64 rng(20261206);
  for (int trial = 0; trial < 30; ++trial) {
    const size_t n = rng() % 300;
    const auto entries = RandomEntries(rng, n);
    const auto leaves = Leaves(entries);
    CompactRange range;
    EXPECT_EQ(range.Root(), NaiveRoot(entries, 0, 0));
    for (size_t i = 0; i < n; ++i) {
      range.Append(leaves[i]);
      ASSERT_EQ(range.Root(), NaiveRoot(entries, 0, i + 1)) << "size " << i + 1;
      ASSERT_EQ(range.nodes().size(), static_cast<size_t>(std::popcount(i + 1)));
    }
    EXPECT_EQ(RootOf(leaves), NaiveRoot(entries, 0, n)) << "n = " << n;
    // A range rebuilt from its nodes continues like the original.
    auto rebuilt = CompactRange::FromNodes(range.size(), range.nodes());
    ASSERT_TRUE(rebuilt.ok());
    rebuilt->Append(LeafHash("next"));
    range.Append(LeafHash("next"));
    EXPECT_EQ(rebuilt->Root(), range.Root());
  }
}

TEST(MerkleTest, FromNodesRefusesAMismatchedNodeCount) {
  EXPECT_FALSE(CompactRange::FromNodes(3, {LeafHash("a")}).ok());
  EXPECT_FALSE(CompactRange::FromNodes(-1, {}).ok());
  EXPECT_FALSE(CompactRange::FromNodes(1, {"short"}).ok());
  EXPECT_TRUE(CompactRange::FromNodes(0, {}).ok());
}

TEST(MerkleTest, ConsistencyProofsForRandomSizesMatchTheReferenceAndVerify) {
  std::mt19937_64 rng(777);
  const auto entries = RandomEntries(rng, 260);
  const auto leaves = Leaves(entries);
  for (int trial = 0; trial < 400; ++trial) {
    const auto n = static_cast<int64_t>(rng() % 260) + 1;
    const auto m = static_cast<int64_t>(rng() % static_cast<uint64_t>(n + 1));
    const std::span<const std::string> all(leaves.data(), static_cast<size_t>(n));
    const auto reference = ConsistencyProofFromLeaves(m, all);
    const auto proof =
        ConsistencyProof(RangeOf(leaves, static_cast<size_t>(m)), all.subspan(static_cast<size_t>(m)));
    ASSERT_EQ(proof, reference) << "m = " << m << ", n = " << n;
    const std::string old_root = NaiveRoot(entries, 0, static_cast<size_t>(m));
    const std::string new_root = NaiveRoot(entries, 0, static_cast<size_t>(n));
    ASSERT_TRUE(VerifyConsistency(m, n, old_root, new_root, proof)) << "m = " << m << ", n = " << n;
    if (m == 0 || m == n) continue;
    // Every proof has at most ceil(log2 n) + 1 nodes.
    EXPECT_LE(proof.size(), static_cast<size_t>(std::bit_width(static_cast<uint64_t>(n)) + 1));
    // Any change makes it fail: a flipped bit in any node, a wrong root, a wrong size.
    for (size_t i = 0; i < proof.size(); ++i) {
      auto bad = proof;
      bad[i][rng() % kHashBytes] ^= static_cast<char>(1 + rng() % 255);
      ASSERT_FALSE(VerifyConsistency(m, n, old_root, new_root, bad)) << "node " << i;
    }
    ASSERT_FALSE(VerifyConsistency(m, n, NaiveRoot(entries, 0, static_cast<size_t>(m) - 1),
                                   new_root, proof));
    ASSERT_FALSE(VerifyConsistency(m, n, old_root, NaiveRoot(entries, 1, static_cast<size_t>(n)),
                                   proof));
    ASSERT_FALSE(VerifyConsistency(m, n, old_root, new_root, {}));
    auto shorter = proof;
    shorter.pop_back();
    ASSERT_FALSE(VerifyConsistency(m, n, old_root, new_root, shorter));
  }
}

TEST(MerkleTest, AProofDoesNotVerifyForADifferentOldTree) {
  // A log that rewrote record 3 of 10 cannot prove that it extends the tree of the first 5.
  std::mt19937_64 rng(5);
  auto entries = RandomEntries(rng, 10);
  const std::string honest_old = NaiveRoot(entries, 0, 5);
  entries[2] += "x";
  const auto leaves = Leaves(entries);
  const auto proof = ConsistencyProofFromLeaves(5, leaves);
  EXPECT_FALSE(VerifyConsistency(5, 10, honest_old, RootOf(leaves), proof));
  EXPECT_TRUE(VerifyConsistency(5, 10, NaiveRoot(entries, 0, 5), RootOf(leaves), proof));
}

TEST(MerkleTest, EqualAndEmptyTreesNeedEmptyProofs) {
  const std::string a = LeafHash("a");
  EXPECT_TRUE(VerifyConsistency(1, 1, a, a, {}));
  EXPECT_FALSE(VerifyConsistency(1, 1, a, LeafHash("b"), {}));
  EXPECT_TRUE(VerifyConsistency(0, 1, EmptyRoot(), a, {}));
  EXPECT_FALSE(VerifyConsistency(0, 1, a, a, {}));
  EXPECT_FALSE(VerifyConsistency(2, 1, a, a, {}));
}

}  // namespace
}  // namespace zengen::audit::merkle
