// Search through the n-gram index finds what a substring match over the folded text
// finds, page by page, and folds width, case and phone formats.
#include <gtest/gtest.h>

#include <random>

#include "projections/search_index.h"

namespace crm::projections {
namespace {

struct Row {
  std::string id;
  std::string owner;
  std::vector<std::string> texts;
  std::vector<std::string> phones;
};

void Put(SearchIndex& index, const Row& row) {
  std::vector<std::string_view> texts(row.texts.begin(), row.texts.end());
  std::vector<std::string_view> phones(row.phones.begin(), row.phones.end());
  index.Put(row.id, texts, phones);
}

// Every id of the search's pages, walked with the cursor.
std::vector<std::string> AllPages(
    const SearchIndex& index, const std::map<std::string, Row>& rows, const std::string& q,
    const std::optional<std::vector<const std::set<std::string>*>>& sets = std::nullopt,
    const std::function<bool(const Row&)>& keep = nullptr) {
  std::vector<std::string> ids;
  std::string cursor;
  SearchQuery query(q);
  std::function<bool(const Row&)> all = keep ? keep : [](const Row&) { return true; };
  for (int guard = 0; guard < 10000; ++guard) {
    auto page = PageOfList(sets, index, query, rows, cursor, 7, all);
    for (const auto* r : page.items) ids.push_back(r->id);
    if (!page.next_cursor) break;
    cursor = *page.next_cursor;
  }
  return ids;
}

TEST(FoldTextTest, WidthCaseAndSpaceFold) {
  EXPECT_EQ(FoldText("ＢＬＵＥ　Sky"), "blue sky");
  EXPECT_EQ(FoldText("  Blue \t Sky  "), "blue sky");
  EXPECT_EQ(FoldText("蓝天\u3000有限公司"), "蓝天 有限公司");
  EXPECT_EQ(FoldText("Straße"), FoldText("STRASSE"));
}

TEST(FoldTextTest, AsciiTakesTheShortcutToTheSameAnswerAsIcu) {
  // A non-ASCII character sends the text through ICU; the ASCII part must fold the same.
  for (int c = 1; c < 0x80; ++c) {
    std::string ascii = "x" + std::string(1, static_cast<char>(c)) + "X";
    EXPECT_EQ(FoldText("é" + ascii + "é"), "é" + FoldText(ascii) + "é") << "character " << c;
  }
}

TEST(FoldTextTest, IdeographsTakeTheShortcutToTheSameAnswerAsIcu) {
  // Every CJK unified ideograph: after "é" the text goes through ICU; alone, it does not.
  for (char32_t cp = 0x4E00; cp <= 0x9FFF; ++cp) {
    std::string ch = {static_cast<char>(0xE0 | (cp >> 12)),
                      static_cast<char>(0x80 | ((cp >> 6) & 0x3F)),
                      static_cast<char>(0x80 | (cp & 0x3F))};
    ASSERT_EQ(FoldText("é" + ch + "A"), "é" + FoldText(ch + "A"))
        << "U+" << std::hex << static_cast<uint32_t>(cp);
  }
}

TEST(PhoneDigitsTest, FormatsAndChinasPrefixFold) {
  EXPECT_EQ(PhoneDigits("+86 138-0013-8000"), "13800138000");
  EXPECT_EQ(PhoneDigits("0086 13800138000"), "13800138000");
  EXPECT_EQ(PhoneDigits("86 138 0013 8000"), "13800138000");
  EXPECT_EQ(PhoneDigits("１３８００１３８０００"), "13800138000");
  EXPECT_EQ(PhoneDigits("(021) 6234-5678"), "02162345678");
  EXPECT_EQ(PhoneDigits("ext."), "");
}

TEST(SearchIndexTest, FindsByFoldedTextSingleChineseCharactersAndPhoneDigits) {
  SearchIndex index;
  std::map<std::string, Row> rows;
  auto add = [&](Row r) {
    Put(index, r);
    rows[r.id] = r;
  };
  add({"lead_1", "", {"ＢＬＵＥ sky", "蓝天贸易"}, {"+86 138-0013-8000"}});
  add({"lead_2", "", {"王小明", "Acme"}, {"021-6234 5678"}});
  add({"lead_3", "", {"Bluebird", ""}, {}});
  EXPECT_EQ(AllPages(index, rows, "blue"), (std::vector<std::string>{"lead_3", "lead_1"}));
  EXPECT_EQ(AllPages(index, rows, "BLUE SKY"), (std::vector<std::string>{"lead_1"}));
  EXPECT_EQ(AllPages(index, rows, "王"), (std::vector<std::string>{"lead_2"}));
  EXPECT_EQ(AllPages(index, rows, "天贸"), (std::vector<std::string>{"lead_1"}));
  EXPECT_EQ(AllPages(index, rows, "13800138000"), (std::vector<std::string>{"lead_1"}));
  EXPECT_EQ(AllPages(index, rows, "0013 8000"), (std::vector<std::string>{"lead_1"}));
  EXPECT_EQ(AllPages(index, rows, "+8613800138000"), (std::vector<std::string>{"lead_1"}));
  EXPECT_EQ(AllPages(index, rows, "62345678"), (std::vector<std::string>{"lead_2"}));
  EXPECT_TRUE(AllPages(index, rows, "blue moon").empty());
  EXPECT_TRUE(AllPages(index, rows, "赵").empty());
  // Digits in free text are found by runs of four, and only as they are written.
  add({"cus_1", "", {"Acme 有限公司12345号"}, {}});
  EXPECT_EQ(AllPages(index, rows, "公司12345"), (std::vector<std::string>{"cus_1"}));
  EXPECT_EQ(AllPages(index, rows, "2345号"), (std::vector<std::string>{"cus_1"}));
  EXPECT_EQ(AllPages(index, rows, "123"), (std::vector<std::string>{"cus_1"}));
  // A lookup names the lists it walks; one ASCII character, or a few digits, is not worth
  // a list.
  EXPECT_FALSE(index.Lookup(SearchQuery("b")).has_value());
  EXPECT_FALSE(index.Lookup(SearchQuery("123")).has_value());
  ASSERT_TRUE(index.Lookup(SearchQuery("bird")).has_value());
  EXPECT_EQ(index.Lookup(SearchQuery("bird"))->cost(), 1u);

  // A change of text moves the record in the index.
  rows["lead_3"].texts = {"Redbird"};
  Put(index, rows["lead_3"]);
  EXPECT_EQ(AllPages(index, rows, "blue"), (std::vector<std::string>{"lead_1"}));
  EXPECT_EQ(AllPages(index, rows, "redb"), (std::vector<std::string>{"lead_3"}));
  EXPECT_EQ(index.size(), 4u);
}

TEST(SearchIndexTest, PagesEqualASubstringMatchOverEveryRow) {
  // Few distinct characters, so that grams repeat and lists intersect in many ways.
  const std::vector<std::string> alphabet = {"a",  "b",  "c",  "A", "Ｂ", " ",
                                             "王", "李", "明", "1", "3",  "8"};
  std::mt19937 rng(11);
  auto word = [&](size_t max) {
    std::string s;
    size_t n = rng() % max;
    for (size_t i = 0; i < n; ++i) s += alphabet[rng() % alphabet.size()];
    return s;
  };
  auto digits = [&] {
    std::string s = (rng() % 2) ? "+86 " : "";
    for (int i = 0; i < 11; ++i) s += static_cast<char>('0' + rng() % 4);
    return s;
  };
  SearchIndex index;
  std::map<std::string, Row> rows;
  OwnerIndex owners;
  const std::vector<std::string> people = {"", "stf_a", "stf_b"};
  for (int i = 0; i < 1500; ++i) {
    char id[16];
    std::snprintf(id, sizeof id, "lead_%05d", static_cast<int>(rng() % 100000));
    if (rows.count(id)) continue;
    Row r{id, people[rng() % people.size()], {word(8), word(6)}, {digits()}};
    Put(index, r);
    owners.Move(r.id, "", r.owner);
    rows[id] = r;
  }
  // Some records change their text, as edits would.
  for (auto& [id, r] : rows) {
    if (rng() % 5 == 0) {
      r.texts = {word(8)};
      Put(index, r);
    }
  }
  auto brute = [&](const std::string& q, const std::string* owner) {
    std::string folded = FoldText(q);
    SearchQuery query(q);
    std::vector<std::string> ids;
    for (auto it = rows.rbegin(); it != rows.rend(); ++it) {
      const Row& r = it->second;
      if (owner && r.owner != *owner) continue;
      bool hit = folded.empty();
      for (const auto& t : r.texts) hit = hit || FoldText(t).find(folded) != std::string::npos;
      for (const auto& p : r.phones) {
        hit = hit || FoldText(p).find(folded) != std::string::npos ||
              (!query.digits.empty() && PhoneDigits(p).find(query.digits) != std::string::npos);
      }
      if (hit) ids.push_back(r.id);
    }
    return ids;
  };
  int planned = 0;  // searches answered from the index's lists rather than a walk
  for (int i = 0; i < 300; ++i) {
    std::string q = (i % 4 == 3) ? digits().substr(rng() % 6, 5) : word(4);
    auto plan = index.Lookup(SearchQuery(q));
    if (plan && plan->cost() < rows.size()) ++planned;
    ASSERT_EQ(AllPages(index, rows, q), brute(q, nullptr)) << "q=" << q;
    const std::string& owner = people[rng() % people.size()];
    // The owner's set alone must narrow the page, whichever lists are walked.
    std::vector<const std::set<std::string>*> sets = {&owners.Of(owner)};
    ASSERT_EQ(AllPages(index, rows, q, sets), brute(q, &owner)) << "q=" << q << " owner=" << owner;
  }
  EXPECT_GT(planned, 150);
}

}  // namespace
}  // namespace crm::projections
