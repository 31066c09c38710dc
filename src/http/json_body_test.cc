// The one JSON entry point for request bodies (http::ParseJson / ParseJsonBody) against hostile
// input: nesting bombs, numbers out of range and random nestings (issue 13 items 1 and 5).
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>

#include "http/http.h"

namespace zengen::http {
namespace {

using nlohmann::json;

Request JsonRequest(std::string body) {
  Request req;
  req.headers["Content-Type"] = "application/json";
  req.body = std::move(body);
  return req;
}

TEST(JsonBodyBoundsTest, NestingBombIsRefusedWithoutRecursion) {
  // Issue 13 item 1: 200,000 levels (400 KB) overflowed the stack when a handler copied it.
  constexpr int kLevels = 200000;
  std::string arrays(kLevels, '[');
  arrays += std::string(kLevels, ']');
  auto a = ParseJsonBody(JsonRequest("{\"data\":" + arrays + "}"));
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.error().code, "json_too_deep");
  EXPECT_EQ(a.error().field, "body");
  EXPECT_EQ(StatusFor(a.error().kind), 400);

  std::string objects;
  for (int i = 0; i < kLevels; ++i) objects += "{\"a\":";
  objects += "1" + std::string(kLevels, '}');
  auto o = ParseJsonBody(JsonRequest(objects));
  ASSERT_FALSE(o.ok());
  EXPECT_EQ(o.error().code, "json_too_deep");
  // Unterminated: still refused at the bound, not reported as merely malformed.
  auto open = ParseJson(std::string(kLevels, '['));
  ASSERT_FALSE(open.ok());
  EXPECT_EQ(open.error().code, "json_too_deep");
}

TEST(JsonBodyBoundsTest, DepthBoundIsExact) {
  auto nested = [](size_t levels) {
    return std::string(levels, '[') + std::string(levels, ']');
  };
  EXPECT_TRUE(ParseJson(nested(kMaxJsonDepth)).ok());
  auto over = ParseJson(nested(kMaxJsonDepth + 1));
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.error().code, "json_too_deep");
}

TEST(JsonBodyBoundsTest, NumberOutOfRangeIs400NamingTheField) {
  // Issue 13 item 5: {"password":1e999} on the login route answered 500.
  auto p = ParseJsonBody(JsonRequest(R"({"username":"a","password":1e999})"));
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().code, "number_out_of_range");
  EXPECT_EQ(p.error().field, "password");
  EXPECT_EQ(StatusFor(p.error().kind), 400);

  auto nested = ParseJson(R"({"a":[1,{"b":-1e400}]})");
  ASSERT_FALSE(nested.ok());
  EXPECT_EQ(nested.error().field, "a[1].b");
  auto top = ParseJson("[0, 1e999]");
  ASSERT_FALSE(top.ok());
  EXPECT_EQ(top.error().field, "body[1]");
}

TEST(JsonBodyBoundsTest, JsonIntRefusesIntegersOutsideInt64) {
  auto body = ParseJson(R"({"n":18446744073709551615,"m":-9223372036854775808,"k":7})");
  ASSERT_TRUE(body.ok());
  auto n = JsonInt(*body, "n", true);
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.error().code, "number_out_of_range");
  EXPECT_EQ(n.error().field, "n");
  auto m = JsonInt(*body, "m", true);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(*m, INT64_MIN);
  EXPECT_EQ(*JsonInt(*body, "k", true), 7);
}

TEST(JsonBodyBoundsTest, InvalidUtf8AndGarbageAre400) {
  for (std::string bad : {std::string("{\"a\":\"\xff\"}"), std::string("{\"a\":"),
                          std::string("\x00", 1), std::string("{\"a\":1}}"),
                          std::string("{\"a\" 1}")}) {
    auto r = ParseJson(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code, "invalid_json") << bad;
  }
}

std::string RandomScalar(std::mt19937_64& rng) {
  switch (rng() % 5) {
    case 0: return std::to_string(static_cast<int64_t>(rng()));
    case 1: return "\"s\\u00e9\\n[{\"";
    case 2: return "1.5e300";
    case 3: return rng() % 2 ? "true" : "null";
    default: return "-0.25";
  }
}

// A random document whose arrays and objects nest exactly `levels` deep: the first child of
// each container goes one level deeper, its siblings are scalars or empty containers.
std::string RandomDocument(std::mt19937_64& rng, int levels) {
  if (levels == 0) return RandomScalar(rng);
  const bool array = rng() % 2 == 0;
  std::string out = array ? "[" : "{";
  const int siblings = static_cast<int>(rng() % 3);
  for (int i = 0; i <= siblings; ++i) {
    if (i > 0) out += ",";
    if (!array) out += "\"k" + std::to_string(i) + "\":";
    if (i == 0) {
      out += RandomDocument(rng, levels - 1);
    } else {
      const auto r = rng() % 4;
      // An empty container one level down stays within `levels` only above the last level.
      out += levels >= 2 && r == 0 ? "[]" : levels >= 2 && r == 1 ? "{}" : RandomScalar(rng);
    }
  }
  return out + (array ? "]" : "}");
}

TEST(JsonBodyBoundsTest, RandomNestingsAgreeWithTheLibraryWithinTheBound) {
  std::mt19937_64 rng(20261206);
  int accepted = 0, refused = 0;
  for (int round = 0; round < 400; ++round) {
    const size_t levels = static_cast<size_t>(rng() % 100);
    const std::string doc = RandomDocument(rng, static_cast<int>(levels));
    const json reference = json::parse(doc);
    auto got = ParseJson(doc);
    if (levels <= kMaxJsonDepth) {
      ASSERT_TRUE(got.ok()) << "round " << round << ": " << got.error().message;
      EXPECT_EQ(*got, reference) << "round " << round;
      ++accepted;
    } else {
      ASSERT_FALSE(got.ok()) << "round " << round;
      EXPECT_EQ(got.error().code, "json_too_deep") << "round " << round;
      ++refused;
    }
    // A random prefix and a flipped byte: a value or a 400, never an exception.
    const size_t cut = static_cast<size_t>(rng() % (doc.size() + 1));
    auto prefix = ParseJson(std::string_view(doc).substr(0, cut));
    if (!prefix.ok()) {
      EXPECT_EQ(StatusFor(prefix.error().kind), 400);
    }
    std::string flipped = doc;
    flipped[static_cast<size_t>(rng() % doc.size())] ^= static_cast<char>(1 + rng() % 255);
    auto f = ParseJson(flipped);
    if (!f.ok()) {
      EXPECT_EQ(StatusFor(f.error().kind), 400);
    }
  }
  // Both sides of the bound were exercised.
  EXPECT_GT(accepted, 50);
  EXPECT_GT(refused, 50);
}

}  // namespace
}  // namespace zengen::http
