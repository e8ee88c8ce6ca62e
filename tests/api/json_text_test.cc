// JSON written straight as text is byte for byte what building the value and JsonText
// give: escapes, bad UTF-8, key order, nulls, times and nested lists.
#include <gtest/gtest.h>

#include <random>

#include "api/handler_util.h"
#include "api/json_text.h"
#include "api/views_json.h"

namespace crm::api {
namespace {

std::string RandomText(std::mt19937& rng) {
  static const std::vector<std::string> pieces = {
      "a",  "Z",  " ",    "\"",       "\\",           "/",        "\b", "\f",
      "\n", "\r", "\t",   "\x01",     "\x1f",         "\x7f",     "王", "ＢＬＵＥ",
      "é",  "😀",  "\xff", "\xe9\x41", "\xed\xa0\x80", "\xc0\xaf", ""};
  std::string s;
  size_t n = rng() % 8;
  for (size_t i = 0; i < n; ++i) s += pieces[rng() % pieces.size()];
  return s;
}

TEST(JsonWriterTest, StringsComeOutAsJsonTextWritesThem) {
  std::mt19937 rng(5);
  for (int i = 0; i < 5000; ++i) {
    std::string s = RandomText(rng);
    std::string out;
    JsonWriter w(out);
    w.String(s);
    ASSERT_EQ(out, JsonText(json(s))) << "case " << i;
  }
}

TEST(JsonWriterTest, ContainersSeparateTheirItems) {
  std::string out;
  JsonWriter w(out);
  w.BeginObject();
  w.Key("a");
  w.BeginArray();
  w.Int(-1);
  w.UInt(2);
  w.Bool(true);
  w.Null();
  w.BeginObject();
  w.EndObject();
  w.BeginArray();
  w.EndArray();
  w.EndArray();
  w.Key("b");
  w.String("x");
  w.EndObject();
  EXPECT_EQ(out, R"({"a":[-1,2,true,null,{},[]],"b":"x"})");
  EXPECT_EQ(out, JsonText(json::parse(out)));
}

TEST(LeadTextTest, AListPageAsTextIsTheListPageAsAValue) {
  std::mt19937 rng(9);
  domain::PoolPolicy policy;
  const std::vector<std::string> states = {"unassigned", "pending", "following", "converted"};
  std::vector<views::LeadRowT> rows(300);
  for (size_t i = 0; i < rows.size(); ++i) {
    auto& r = rows[i];
    r.id = "lead_" + std::to_string(i);
    r.name = RandomText(rng);
    r.company = RandomText(rng);
    r.phone = rng() % 2 ? RandomText(rng) : "";
    r.email = rng() % 2 ? RandomText(rng) : "";
    r.state = states[rng() % states.size()];
    r.owner_id = rng() % 3 ? "stf_" + std::to_string(rng() % 5) : "";
    r.pool_since = rng() % 2 ? 1795000000000 + static_cast<int64_t>(rng() % 100000) : 0;
    r.pool_reason = rng() % 2 ? "recycled" : "";
    r.owned_since = rng() % 2 ? 1795000000123 : 0;
    r.last_follow_up_at = rng() % 2 ? 1795000000456 : 0;
    r.created_at = 1795000000000;
    r.created_by = "stf_1";
    r.version = rng() % 1000;
    r.follow_up_count = static_cast<int32_t>(rng() % 4);
    for (int k = 0; k < r.follow_up_count; ++k) {
      auto f = std::make_unique<views::FollowUpRowT>();
      f->id = "fup_" + std::to_string(k);
      f->channel = "call";
      f->note = RandomText(rng);
      f->next_at = rng() % 2 ? 1795000999000 : 0;
      f->at = 1795000000789;
      f->by = "stf_1";
      r.follow_ups.push_back(std::move(f));
    }
  }
  for (const auto& r : rows) {
    std::string text;
    JsonWriter w(text);
    AppendLeadText(w, r, policy);
    ASSERT_EQ(text, JsonText(LeadJson(r, policy))) << r.id;
  }
  projections::Page<views::LeadRowT> page;
  for (const auto& r : rows) page.items.push_back(&r);
  page.next_cursor = "lead_299";
  Answer as_text = PageTextAnswer(
      page, [&](JsonWriter& w, const views::LeadRowT& r) { AppendLeadText(w, r, policy); });
  Answer as_value = PageAnswer(page, [&](const views::LeadRowT& r) { return LeadJson(r, policy); });
  ASSERT_TRUE(as_text.text.has_value());
  EXPECT_EQ(*as_text.text, JsonText(as_value.body));
  page.next_cursor.reset();
  page.items.clear();
  EXPECT_EQ(*PageTextAnswer(page, [](JsonWriter&, const views::LeadRowT&) {}).text,
            R"({"items":[],"next_cursor":null})");
}

TEST(CustomerTextTest, ACustomerAsTextIsTheCustomerAsAValue) {
  std::mt19937 rng(13);
  domain::PoolPolicy policy;
  for (int i = 0; i < 300; ++i) {
    views::CustomerRowT r;
    r.id = "cus_" + std::to_string(i);
    r.name = RandomText(rng);
    r.industry = rng() % 2 ? RandomText(rng) : "";
    r.region = rng() % 2 ? "上海" : "";
    r.level = rng() % 2 ? "A" : "";
    r.phone = rng() % 2 ? RandomText(rng) : "";
    r.address = rng() % 2 ? RandomText(rng) : "";
    r.owner_id = rng() % 2 ? "stf_1" : "";
    r.locked = rng() % 2;
    r.owned_since = rng() % 2 ? 1795000000000 : 0;
    r.last_follow_up_at = rng() % 2 ? 1795000000456 : 0;
    r.created_at = 1795000000000;
    r.updated_at = rng() % 2 ? 1795000000999 : 0;
    r.version = rng() % 1000;
    std::string text;
    JsonWriter w(text);
    AppendCustomerSummaryText(w, r, policy);
    ASSERT_EQ(text, JsonText(CustomerSummaryJson(r, policy))) << r.id;
  }
}

}  // namespace
}  // namespace crm::api
