#include "storage/columns.h"

#include <gtest/gtest.h>

namespace zengen::storage {
namespace {

using nlohmann::json;

TEST(ColumnsTest, SafeDumpReplacesInvalidUtf8InsteadOfThrowing) {
  const json j = {{"name", std::string("read\xff\xfe", 6)}};
  EXPECT_THROW((void)j.dump(), json::type_error);
  EXPECT_EQ(SafeDump(j), "{\"name\":\"read\xEF\xBF\xBD\xEF\xBF\xBD\"}");
  EXPECT_EQ(SafeDump({{"a", 1}, {"b", {true, nullptr}}}), R"({"a":1,"b":[true,null]})");
}

TEST(ColumnsTest, ParseStringListKeepsOnlyTheStringsOfAnArray) {
  EXPECT_EQ(ParseStringList(R"(["FL-1", 2, "FL-3", null])"),
            (std::vector<std::string>{"FL-1", "FL-3"}));
  EXPECT_TRUE(ParseStringList("").empty());
  EXPECT_TRUE(ParseStringList("[\"unterminated").empty());
  EXPECT_TRUE(ParseStringList(R"({"a":"b"})").empty());
}

TEST(ColumnsTest, ParseJsonOrNullGivesNullForEmptyOrCorruptText) {
  EXPECT_TRUE(ParseJsonOrNull("").is_null());
  EXPECT_TRUE(ParseJsonOrNull("{broken").is_null());
  EXPECT_EQ(ParseJsonOrNull(R"({"reads":10})"), json({{"reads", 10}}));
  EXPECT_EQ(ParseJsonOrNull("[]"), json::array());
}

TEST(ColumnsTest, OptTextIsNullOnlyForTheEmptyString) {
  EXPECT_TRUE(std::holds_alternative<std::monostate>(OptText("")));
  EXPECT_EQ(std::get<std::string>(OptText("RUN-1")), "RUN-1");
  EXPECT_EQ(std::get<std::string>(OptText(" ")), " ");
}

}  // namespace
}  // namespace zengen::storage
