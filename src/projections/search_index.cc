#include "projections/search_index.h"

#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>

namespace crm::projections {

namespace {

constexpr char kFieldSeparator = '\x1f';
constexpr size_t kDigitGram = 4;

bool IsAsciiSpace(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

// The NFKC case fold of ASCII is its lower case; ASCII white space runs fold to one space,
// and the ends are trimmed. Bytes beyond ASCII are kept.
std::string FoldAscii(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  bool pending_space = false;
  for (char c : text) {
    if (IsAsciiSpace(c)) {
      pending_space = true;
      continue;
    }
    if (pending_space && !out.empty()) out += ' ';
    pending_space = false;
    out += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  }
  return out;
}

// The code points of valid UTF-8.
std::vector<char32_t> CodePointsOf(std::string_view s) {
  std::vector<char32_t> out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    char32_t cp = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
    for (size_t k = 1; k < len && i + k < s.size(); ++k) {
      cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    }
    out.push_back(cp);
    i += len;
  }
  return out;
}

// Gram keys: the top two bits say which kind.
constexpr uint64_t kTriple = 0, kPair = 1ull << 62, kSingle = 2ull << 62, kDigits = 3ull << 62;
uint64_t PairGram(char32_t a, char32_t b) { return kPair | (uint64_t{a} << 21) | b; }
uint64_t SingleGram(char32_t a) { return kSingle | a; }
// Three code points do not fit beside the tag: a hash of them. Two triples that share a
// key only make a candidate the match check then drops.
uint64_t TripleGram(char32_t a, char32_t b, char32_t c) {
  uint64_t h = (uint64_t{a} << 42) ^ (uint64_t{b} << 21) ^ c;
  h *= 0x9E3779B97F4A7C15ull;
  return kTriple | (h >> 2);
}

bool IsDigit(char32_t c) { return c >= '0' && c <= '9'; }

void DigitGrams(std::string_view digits, std::vector<uint64_t>& out) {
  for (size_t i = 0; i + kDigitGram <= digits.size(); ++i) {
    uint64_t v = 0;
    for (size_t k = 0; k < kDigitGram; ++k) v = v * 10 + static_cast<uint64_t>(digits[i + k] - '0');
    out.push_back(kDigits | v);
  }
}

// Each run of at least four digits in `cps`, by its runs of four.
void DigitRunGrams(const std::vector<char32_t>& cps, std::vector<uint64_t>& out) {
  std::string run;
  for (char32_t c : cps) {
    if (IsDigit(c)) {
      run += static_cast<char>(c);
      continue;
    }
    DigitGrams(run, out);
    run.clear();
  }
  DigitGrams(run, out);
}

// The grams of free text: each character beyond ASCII, each pair and each three adjacent
// characters (but those made of digits only), and each run of at least four digits by its
// runs of four. (Pairs and threes of digits narrow nothing: phone numbers are full of
// every one of them.)
void TextGrams(std::string_view field, std::vector<uint64_t>& out) {
  auto cps = CodePointsOf(field);
  for (size_t i = 0; i < cps.size(); ++i) {
    if (cps[i] >= 0x80) out.push_back(SingleGram(cps[i]));
    if (i + 1 < cps.size() && !(IsDigit(cps[i]) && IsDigit(cps[i + 1]))) {
      out.push_back(PairGram(cps[i], cps[i + 1]));
    }
    if (i + 2 < cps.size() && !(IsDigit(cps[i]) && IsDigit(cps[i + 1]) && IsDigit(cps[i + 2]))) {
      out.push_back(TripleGram(cps[i], cps[i + 1], cps[i + 2]));
    }
  }
  DigitRunGrams(cps, out);
}

// The grams a search looks up: the longest the query has. Threes (a pair of common
// characters is often in a great many records; three of them rarely are), else its pair,
// else its character beyond ASCII; and its runs of four digits.
void QueryGrams(std::string_view text, std::vector<uint64_t>& out) {
  auto cps = CodePointsOf(text);
  if (cps.size() >= 3) {
    for (size_t i = 0; i + 2 < cps.size(); ++i) {
      if (!(IsDigit(cps[i]) && IsDigit(cps[i + 1]) && IsDigit(cps[i + 2]))) {
        out.push_back(TripleGram(cps[i], cps[i + 1], cps[i + 2]));
      }
    }
  } else if (cps.size() == 2) {
    if (!(IsDigit(cps[0]) && IsDigit(cps[1]))) out.push_back(PairGram(cps[0], cps[1]));
  } else if (cps.size() == 1 && cps[0] >= 0x80) {
    out.push_back(SingleGram(cps[0]));
  }
  DigitRunGrams(cps, out);
}

template <class Fn>
void ForEachPart(std::string_view s, char separator, Fn&& fn) {
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find(separator, start);
    if (end == std::string_view::npos) end = s.size();
    fn(s.substr(start, end - start));
    start = end + 1;
  }
}

bool IdLess(const std::string* a, const std::string* b) { return *a < *b; }

}  // namespace

// Whether every character of valid UTF-8 `text` is ASCII or a CJK unified ideograph
// (U+4E00-U+9FFF), whose NFKC case fold is itself: most Chinese names and companies.
bool AsciiOrIdeographs(std::string_view text) {
  for (size_t i = 0; i < text.size();) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    if ((c & 0xF0) != 0xE0 || i + 2 >= text.size()) return false;
    auto b1 = static_cast<unsigned char>(text[i + 1]), b2 = static_cast<unsigned char>(text[i + 2]);
    if ((b1 & 0xC0) != 0x80 || (b2 & 0xC0) != 0x80) return false;
    char32_t cp = (char32_t{c} & 0x0F) << 12 |
                  (char32_t{static_cast<unsigned char>(text[i + 1])} & 0x3F) << 6 |
                  (char32_t{static_cast<unsigned char>(text[i + 2])} & 0x3F);
    if (cp < 0x4E00 || cp > 0x9FFF) return false;
    i += 3;
  }
  return true;
}

std::string FoldText(std::string_view text) {
  // No need to go through ICU for what it would not change but the case of ASCII letters.
  if (AsciiOrIdeographs(text)) return FoldAscii(text);
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* nfkc_cf = icu::Normalizer2::getNFKCCasefoldInstance(status);
  icu::UnicodeString in = icu::UnicodeString::fromUTF8(
      icu::StringPiece(text.data(), static_cast<int32_t>(text.size())));
  icu::UnicodeString folded = U_SUCCESS(status) ? nfkc_cf->normalize(in, status) : in;
  if (U_FAILURE(status)) folded = in;
  // Fold white space runs and trim.
  icu::UnicodeString out;
  bool pending_space = false;
  for (int32_t i = 0; i < folded.length();) {
    UChar32 c = folded.char32At(i);
    i += U16_LENGTH(c);
    if (u_isUWhiteSpace(c)) {
      pending_space = true;
      continue;
    }
    if (pending_space && !out.isEmpty()) out.append(static_cast<UChar>(' '));
    pending_space = false;
    out.append(c);
  }
  std::string result;
  out.toUTF8String(result);
  return result;
}

std::string PhoneDigits(std::string_view phone) {
  std::string digits;
  for (char c : FoldText(phone)) {
    if (c >= '0' && c <= '9') digits += c;
  }
  if (digits.rfind("0086", 0) == 0) digits.erase(0, 2);
  if (digits.size() == 13 && digits.rfind("861", 0) == 0) digits.erase(0, 2);
  return digits;
}

SearchQuery::SearchQuery(std::string_view q) : text(FoldText(q)) {
  std::erase(text, kFieldSeparator);
  bool phone_like = std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '(' || c == ')' || c == '.' ||
           c == ' ';
  });
  if (phone_like) {
    std::string d = PhoneDigits(text);
    if (d.size() >= kDigitGram) digits = std::move(d);
  }
}

std::vector<uint64_t> SearchIndex::Grams(const std::string& text, const std::string& digits) {
  std::vector<uint64_t> grams;
  ForEachPart(text, kFieldSeparator, [&](std::string_view field) { TextGrams(field, grams); });
  ForEachPart(digits, ' ', [&](std::string_view d) { DigitGrams(d, grams); });
  std::sort(grams.begin(), grams.end());
  grams.erase(std::unique(grams.begin(), grams.end()), grams.end());
  return grams;
}

void SearchIndex::Put(const std::string& id, const std::vector<std::string_view>& texts,
                      const std::vector<std::string_view>& phones) {
  std::string source;
  for (auto t : texts) (source += t) += kFieldSeparator;
  source += kFieldSeparator;
  for (auto p : phones) (source += p) += kFieldSeparator;
  size_t hash = std::hash<std::string>{}(source);
  auto [it, added] = docs_.ShardOf(id).try_emplace(id);
  Doc& doc = it->second;
  if (!added && doc.source_hash == hash) return;
  Doc next;
  next.source_hash = hash;
  auto add_text = [&](std::string_view t) {
    if (t.empty()) return;
    if (!next.text.empty()) next.text += kFieldSeparator;
    next.text += FoldText(t);
  };
  for (auto t : texts) add_text(t);
  for (auto p : phones) {
    add_text(p);
    std::string d = PhoneDigits(p);
    if (d.empty()) continue;
    if (!next.digits.empty()) next.digits += ' ';
    next.digits += d;
  }
  std::vector<uint64_t> before = added ? std::vector<uint64_t>{} : Grams(doc.text, doc.digits);
  std::vector<uint64_t> after = Grams(next.text, next.digits);
  const std::string* key = &it->first;
  std::vector<uint64_t> changed;
  std::set_difference(before.begin(), before.end(), after.begin(), after.end(),
                      std::back_inserter(changed));
  for (uint64_t g : changed) Remove(g, key);
  changed.clear();
  std::set_difference(after.begin(), after.end(), before.begin(), before.end(),
                      std::back_inserter(changed));
  for (uint64_t g : changed) Add(g, key);
  doc = std::move(next);
}

void SearchIndex::Add(uint64_t gram, const std::string* id) {
  auto& ids = grams_[gram];
  // New records have the greatest ids: most inserts are appends. A change to an older
  // record inserts and erases inside the lists it shares, linear in their length (a
  // rename of one of a million companies moves a few megabytes per common gram).
  if (ids.empty() || *ids.back() < *id) {
    ids.push_back(id);
    return;
  }
  ids.insert(std::lower_bound(ids.begin(), ids.end(), id, IdLess), id);
}

void SearchIndex::Remove(uint64_t gram, const std::string* id) {
  auto& shard = grams_.ShardOf(gram);
  auto it = shard.find(gram);
  if (it == shard.end()) return;
  auto& ids = it->second;
  auto at = std::lower_bound(ids.begin(), ids.end(), id, IdLess);
  if (at != ids.end() && *at == id) ids.erase(at);
  if (ids.empty()) shard.erase(it);
}

void SearchIndex::Clear() {
  grams_.clear();
  docs_.clear();
}

bool SearchIndex::Matches(const std::string& id, const SearchQuery& query) const {
  if (query.empty()) return true;
  const Doc* found = docs_.Find(id);
  if (!found) return false;
  const Doc& doc = *found;
  if (doc.text.find(query.text) != std::string::npos) return true;
  return !query.digits.empty() && doc.digits.find(query.digits) != std::string::npos;
}

size_t SearchIndex::Plan::cost() const {
  size_t n = 0;
  for (const auto& lists : alternatives) n += lists.front()->size();
  return n;
}

std::optional<SearchIndex::Plan> SearchIndex::Lookup(const SearchQuery& query) const {
  std::vector<uint64_t> text_grams;
  QueryGrams(query.text, text_grams);
  // One ASCII character, or two or three digits: nearly every record has them. Walk.
  if (text_grams.empty()) return std::nullopt;
  std::vector<uint64_t> digit_grams;
  DigitGrams(query.digits, digit_grams);
  Plan plan;
  for (auto* grams : {&text_grams, &digit_grams}) {
    if (grams->empty()) continue;
    std::sort(grams->begin(), grams->end());
    grams->erase(std::unique(grams->begin(), grams->end()), grams->end());
    std::vector<const Plan::Ids*> lists;
    bool all_found = true;
    for (uint64_t g : *grams) {
      const Plan::Ids* ids = grams_.Find(g);
      if (!ids) {
        all_found = false;  // nothing has this gram: this alternative finds nothing
        break;
      }
      lists.push_back(ids);
    }
    if (!all_found) continue;
    std::sort(lists.begin(), lists.end(),
              [](const Plan::Ids* a, const Plan::Ids* b) { return a->size() < b->size(); });
    plan.alternatives.push_back(std::move(lists));
  }
  return plan;
}

namespace search_detail {

bool Walk::Settle() {
  const Ids& first = *(*lists)[0];
  while (next != first.begin()) {
    const std::string* id = *std::prev(next);
    bool everywhere = std::all_of(lists->begin() + 1, lists->end(), [&](const Ids* l) {
      return std::binary_search(l->begin(), l->end(), id, IdLess);
    });
    if (everywhere) return true;
    --next;
  }
  return false;
}

std::vector<Walk> StartWalks(const SearchIndex::Plan& plan, const std::string& cursor) {
  std::vector<Walk> walks;
  for (const auto& lists : plan.alternatives) {
    const Ids& first = *lists[0];
    auto from =
        cursor.empty()
            ? first.end()
            : std::lower_bound(first.begin(), first.end(), cursor,
                               [](const std::string* a, const std::string& b) { return *a < b; });
    Walk w{&lists, from};
    if (w.Settle()) walks.push_back(w);
  }
  return walks;
}

std::string PopGreatest(std::vector<Walk>& walks) {
  const std::string* top = &walks[0].id();
  for (const auto& w : walks) {
    if (w.id() > *top) top = &w.id();
  }
  std::string id = *top;
  for (size_t i = walks.size(); i-- > 0;) {
    if (walks[i].id() != id) continue;
    --walks[i].next;
    if (!walks[i].Settle()) walks.erase(walks.begin() + static_cast<std::ptrdiff_t>(i));
  }
  return id;
}

}  // namespace search_detail

}  // namespace crm::projections
