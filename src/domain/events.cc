#include "domain/events.h"

#include <array>

namespace crm::domain {
namespace {

// In the order of the `Event` variant.
constexpr std::array<std::string_view, 47> kEventTypeNames = {
    "DepartmentCreated", "StaffCreated",     "StaffDeparted",        "HandoverCompleted",
    "PoolPolicySet",     "TargetSet",        "LeadCreated",          "LeadAssigned",
    "LeadClaimed",       "LeadReleased",     "LeadRecycled",         "LeadInvalidated",
    "LeadVoided",        "LeadConverted",    "FollowUpRecorded",     "RecordHandedOver",
    "CustomerCreated",   "CustomerUpdated",  "CustomerLeadAttached", "CustomerClaimed",
    "CustomerReleased",  "CustomerRecycled", "CustomerTransferred",  "CustomerLocked",
    "CustomerUnlocked",  "ContactCreated",   "OpportunityCreated",   "OpportunityStageChanged",
    "OpportunityWon",    "OpportunityLost",  "ContractSigned",       "PaymentReceived",
    "DealOwnerChanged",  "PasswordSet",      "StaffEdited",          "DepartmentEdited",
    "LeadEdited",        "ContactEdited",    "OpportunityEdited",    "PaymentReversed",
    "InvoiceIssued",     "InvoiceVoided",    "TaskCreated",          "TaskCompleted",
    "RecordMoved",       "CustomerMerged",   "CustomerAbsorbed"};
static_assert(kEventTypeNames.size() == std::variant_size_v<Event>,
              "every event type needs its name");

}  // namespace

std::string_view EventTypeName(const Event& e) { return kEventTypeNames[e.index()]; }

std::optional<size_t> EventTypeIndex(std::string_view name) {
  for (size_t i = 0; i < kEventTypeNames.size(); ++i) {
    if (kEventTypeNames[i] == name) return i;
  }
  return std::nullopt;
}

}  // namespace crm::domain
