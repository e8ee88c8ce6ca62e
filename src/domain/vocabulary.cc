#include "domain/vocabulary.h"

#include <algorithm>
#include <array>

namespace crm::domain {
namespace {

template <class E, size_t N>
std::string_view NameOf(const std::array<std::string_view, N>& names, E v) {
  auto i = static_cast<size_t>(v);
  return i < N ? names[i] : std::string_view("unknown");
}

template <class E, size_t N>
std::optional<E> ParseOf(const std::array<std::string_view, N>& names, std::string_view s) {
  for (size_t i = 0; i < N; ++i) {
    if (names[i] == s) return static_cast<E>(i);
  }
  return std::nullopt;
}

constexpr std::array<std::string_view, 5> kRoles = {"admin", "manager", "sales", "finance",
                                                    "auditor"};
constexpr std::array<std::string_view, 6> kLeadStates = {"unassigned", "pending",   "following",
                                                         "invalid",    "converted", "voided"};
constexpr std::array<std::string_view, 6> kStages = {
    "qualification", "needs_analysis", "proposal", "negotiation", "won", "lost"};
constexpr std::array<int, 6> kProbabilities = {10, 30, 50, 80, 100, 0};
constexpr std::array<std::string_view, 5> kChannels = {"call", "visit", "email", "message",
                                                       "other"};
constexpr std::array<std::string_view, 4> kLevels = {"A", "B", "C", "D"};
constexpr std::array<std::string_view, 4> kStrategies = {"manual", "round_robin", "least_loaded",
                                                         "region"};
constexpr std::array<std::string_view, 4> kPoolReasons = {"created", "released", "recycled",
                                                          "handover"};
constexpr std::array<std::string_view, 2> kRecycleRules = {"no_follow_up", "no_deal"};

}  // namespace

std::string_view Name(Role v) { return NameOf(kRoles, v); }
std::string_view Name(LeadState v) { return NameOf(kLeadStates, v); }
std::string_view Name(Stage v) { return NameOf(kStages, v); }
std::string_view Name(Channel v) { return NameOf(kChannels, v); }
std::string_view Name(Level v) { return NameOf(kLevels, v); }
std::string_view Name(AssignStrategy v) { return NameOf(kStrategies, v); }
std::string_view Name(PoolReason v) { return NameOf(kPoolReasons, v); }
std::string_view Name(RecycleRule v) { return NameOf(kRecycleRules, v); }

std::optional<Role> ParseRole(std::string_view s) { return ParseOf<Role>(kRoles, s); }
std::optional<LeadState> ParseLeadState(std::string_view s) {
  return ParseOf<LeadState>(kLeadStates, s);
}
std::optional<Stage> ParseStage(std::string_view s) { return ParseOf<Stage>(kStages, s); }
std::optional<Channel> ParseChannel(std::string_view s) { return ParseOf<Channel>(kChannels, s); }
std::optional<Level> ParseLevel(std::string_view s) { return ParseOf<Level>(kLevels, s); }
std::optional<AssignStrategy> ParseAssignStrategy(std::string_view s) {
  auto v = ParseOf<AssignStrategy>(kStrategies, s);
  if (v == AssignStrategy::kManual) return std::nullopt;  // not a strategy a client picks
  return v;
}

int Probability(Stage s) { return kProbabilities[static_cast<size_t>(s)]; }

std::vector<std::string> SplitNonEmpty(std::string_view text, char separator) {
  std::vector<std::string> out;
  for (size_t start = 0; start < text.size();) {
    size_t end = std::min(text.find(separator, start), text.size());
    if (end > start) out.emplace_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

std::string LowerAscii(std::string s) {
  for (auto& ch : s) {
    if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
  }
  return s;
}

}  // namespace crm::domain
