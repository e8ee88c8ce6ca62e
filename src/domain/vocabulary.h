// The business vocabulary: roles, states, stages, channels and their wire names.
// Every enum here has a `Name()` giving the name used in events and JSON and a
// `Parse...()` that accepts exactly those names.
#ifndef CRM_DOMAIN_VOCABULARY_H_
#define CRM_DOMAIN_VOCABULARY_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace crm::domain {

enum class Role : uint8_t { kAdmin, kManager, kSales, kFinance, kAuditor };
enum class LeadState : uint8_t { kUnassigned, kPending, kFollowing, kInvalid, kConverted, kVoided };
enum class Stage : uint8_t { kQualification, kNeedsAnalysis, kProposal, kNegotiation, kWon, kLost };
enum class Channel : uint8_t { kCall, kVisit, kEmail, kMessage, kOther };
enum class Level : uint8_t { kA, kB, kC, kD };
enum class AssignStrategy : uint8_t { kManual, kRoundRobin, kLeastLoaded, kRegion };
// Why an item is in the pool.
enum class PoolReason : uint8_t { kCreated, kReleased, kRecycled, kHandover };
// Which pool rule recycled an item.
enum class RecycleRule : uint8_t { kNoFollowUp, kNoDeal };

std::string_view Name(Role v);
std::string_view Name(LeadState v);
std::string_view Name(Stage v);
std::string_view Name(Channel v);
std::string_view Name(Level v);
std::string_view Name(AssignStrategy v);
std::string_view Name(PoolReason v);
std::string_view Name(RecycleRule v);

std::optional<Role> ParseRole(std::string_view s);
std::optional<LeadState> ParseLeadState(std::string_view s);
std::optional<Stage> ParseStage(std::string_view s);
std::optional<Channel> ParseChannel(std::string_view s);
std::optional<Level> ParseLevel(std::string_view s);
std::optional<AssignStrategy> ParseAssignStrategy(std::string_view s);

// `s` with its ASCII letters lower-cased (regions, column headers and media types compare
// so; other letters are left as they are).
std::string LowerAscii(std::string s);

// The non-empty pieces of `text` between `separator`s ("a,,b," → {"a", "b"}): URL path
// segments, NATS server lists, space-separated index values.
std::vector<std::string> SplitNonEmpty(std::string_view text, char separator);

// Default probability (percent) of each stage.
int Probability(Stage s);
inline bool IsOpen(Stage s) { return s != Stage::kWon && s != Stage::kLost; }
// Leads a person "owns" for the capacity rules and the handover.
inline bool IsOwnedState(LeadState s) {
  return s == LeadState::kPending || s == LeadState::kFollowing || s == LeadState::kInvalid;
}
// Roles that can own leads and customers.
inline bool CanOwnRecords(Role r) { return r == Role::kSales || r == Role::kManager; }

}  // namespace crm::domain

#endif  // CRM_DOMAIN_VOCABULARY_H_
