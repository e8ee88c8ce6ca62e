#include "api/body.h"

#include <gtest/gtest.h>

#include "api/http_types.h"
#include "api/router.h"

namespace crm::api {
namespace {

TEST(BodyTest, ParseObjectRefusesNonObjects) {
  EXPECT_EQ(ParseObject("[1,2]").error().code, "malformed_json");
  EXPECT_EQ(ParseObject("{\"a\":").error().code, "malformed_json");
  EXPECT_TRUE(ParseObject("").ok());
  EXPECT_TRUE(ParseObject("{}").ok());
}

TEST(BodyTest, ANameTwiceInOneObjectIsRefused) {
  auto dup = ParseObject(R"({"name":"a","owner_id":"stf_1","name":"b"})");
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().code, "malformed_json");
  EXPECT_NE(dup.error().detail.find("'name'"), std::string::npos);
  EXPECT_FALSE(ParseObject(R"({"contact":{"name":"a","name":"b"}})").ok());
  // The same name in different objects is fine.
  EXPECT_TRUE(
      ParseObject(R"({"name":"a","contact":{"name":"b"},"list":[{"name":1},{"name":2}]})").ok());
}

TEST(BodyTest, ATopLevelArrayIsCutAtItsLimitWhateverItsElements) {
  EXPECT_TRUE(ParseJson(R"([{"a":[1,2,3]},[4,5],6])", 3).ok());
  for (const char* more : {R"([{"a":[1,2,3]},[4,5],6,7])", R"([1,2,3,{}])", R"([1,2,3,[]])"}) {
    auto r = ParseJson(more, 3, "rows");
    ASSERT_FALSE(r.ok()) << more;
    EXPECT_EQ(r.error().code, "validation_failed");
    EXPECT_NE(r.error().detail.find("more than 3 rows"), std::string::npos) << r.error().detail;
  }
  // Only a top-level array's elements count; its elements' own members do not.
  EXPECT_TRUE(ParseJson(R"({"a":1,"b":2,"c":3,"d":4})", 3).ok());
  EXPECT_TRUE(ParseJson(R"([[1,2,3,4,5,6]])", 3).ok());
  // A million small values stop at the limit instead of becoming a million-node tree.
  std::string many = "[";
  for (int i = 0; i < 1000000; ++i) many += "1,";
  many.back() = ']';
  EXPECT_FALSE(ParseJson(many, 10000, "rows").ok());
}

TEST(BodyTest, NestingIsCountedOutsideStringsOnly) {
  std::string deep = std::string(64, '[') + std::string(64, ']');
  EXPECT_FALSE(NestsDeeperThan(deep, 64));
  EXPECT_TRUE(NestsDeeperThan("[" + deep + "]", 64));
  EXPECT_FALSE(NestsDeeperThan("\"" + std::string(100, '[') + "\"", 64));
  EXPECT_FALSE(NestsDeeperThan(R"("\"[[[")", 2)) << "an escaped quote does not end the string";
}

TEST(BodyTest, EveryProblemIsCollectedWithItsPath) {
  json j = json::parse(R"({"name": "  ", "amount": 1.5, "currency": "cny", "due": "2026-02-30",
                           "contact": {"email": "nope"}})");
  std::vector<FieldError> errors;
  Fields f(j, errors);
  f.Text("name", true);
  f.Amount("amount", true);
  f.Currency("currency", true);
  f.DateField("due", true);
  f.Text("missing", true);
  Fields c(j["contact"], errors, "contact.");
  c.Email("email", false);
  std::vector<std::string> fields;
  for (const auto& e : errors) fields.push_back(e.field);
  EXPECT_EQ(fields, (std::vector<std::string>{"name", "amount", "currency", "due", "missing",
                                              "contact.email"}));
}

TEST(BodyTest, AmountsArePositiveBoundedIntegers) {
  std::vector<FieldError> errors;
  json j = {
      {"a", 0u}, {"b", -5}, {"c", 1000000000000001LL}, {"d", 99}, {"e", 18446744073709551615ULL}};
  Fields f(j, errors);
  EXPECT_FALSE(f.Amount("a", true)) << "zero is no amount";
  EXPECT_FALSE(f.Amount("b", true));
  EXPECT_FALSE(f.Amount("c", true));
  EXPECT_EQ(f.Amount("d", true), 99);
  EXPECT_FALSE(f.Amount("e", true));
  EXPECT_EQ(errors.size(), 4u);
}

TEST(BodyTest, TextIsTrimmedAndBounded) {
  std::vector<FieldError> errors;
  json j = {{"a", "  hi  "}, {"b", std::string(201, 'x')}, {"c", "蓝天"}};
  Fields f(j, errors);
  EXPECT_EQ(f.Text("a", true), "hi");
  EXPECT_FALSE(f.Text("b", true));
  EXPECT_EQ(f.Text("c", true, 2), "蓝天");  // two characters, six bytes
  EXPECT_EQ(errors.size(), 1u);
}

TEST(RouterTest, PathParametersAndMethods) {
  Router r;
  int hit = 0;
  r.Add("GET", "/api/v1/leads/{id}", [&](const CallPtr&) { hit = 1; });
  r.Add("POST", "/api/v1/leads/{id}/claim", [&](const CallPtr&) { hit = 2; });
  r.Add("POST", "/api/v1/leads/assign-auto", [&](const CallPtr&) { hit = 3; });
  HttpRequest req;
  req.method = "POST";
  req.path = "/api/v1/leads/lead_1/claim";
  Handler h;
  std::string allowed;
  ASSERT_EQ(r.Find(req, &h, &allowed), Router::Match::kFound);
  EXPECT_EQ(req.params["id"], "lead_1");
  req.path = "/api/v1/leads/assign-auto";
  ASSERT_EQ(r.Find(req, &h, &allowed), Router::Match::kFound);
  h(nullptr);
  EXPECT_EQ(hit, 3);
  req.method = "DELETE";
  req.path = "/api/v1/leads/lead_1";
  EXPECT_EQ(r.Find(req, &h, &allowed), Router::Match::kNoMethod);
  EXPECT_EQ(allowed, "GET");
  req.path = "/api/v1/nothing";
  EXPECT_EQ(r.Find(req, &h, &allowed), Router::Match::kNoPath);
}

TEST(QueryTest, DecodesEscapes) {
  std::map<std::string, std::string> q;
  ASSERT_TRUE(ParseQuery("q=%E8%93%9D%E5%A4%A9&as_of=2026-11-22T08%3A00%3A00Z&x=a+b", &q));
  EXPECT_EQ(q["q"], "蓝天");
  EXPECT_EQ(q["as_of"], "2026-11-22T08:00:00Z");
  EXPECT_EQ(q["x"], "a b");
  EXPECT_FALSE(ParseQuery("q=%ZZ", &q));
}

}  // namespace
}  // namespace crm::api
