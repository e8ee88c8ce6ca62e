#include "api/event_json.h"

#include "domain/time.h"
#include "eventstore/coding.h"

namespace nlohmann {
template <class T>
struct adl_serializer<std::optional<T>> {
  static void to_json(json& j, const std::optional<T>& v) {
    if (v)
      j = *v;
    else
      j = nullptr;
  }
};
template <>
struct adl_serializer<crm::Time> {
  static void to_json(json& j, const crm::Time& t) { j = crm::FormatTime(t); }
};
template <>
struct adl_serializer<crm::Date> {
  static void to_json(json& j, const crm::Date& d) { j = crm::FormatDate(d); }
};
template <>
struct adl_serializer<crm::Period> {
  static void to_json(json& j, const crm::Period& p) { j = p.ToString(); }
};
template <>
struct adl_serializer<crm::Seconds> {
  static void to_json(json& j, const crm::Seconds& s) { j = crm::FormatDuration(s); }
};
}  // namespace nlohmann

namespace crm::domain {

using nlohmann::json;

// Only serialisation is needed: the macro below defines to_json for each event.
#define CRM_TO_JSON(Type, ...)                                                        \
  [[maybe_unused]] void to_json(json& nlohmann_json_j, const Type& nlohmann_json_t) { \
    nlohmann_json_j = json::object();                                                 \
    NLOHMANN_JSON_EXPAND(NLOHMANN_JSON_PASTE(NLOHMANN_JSON_TO, __VA_ARGS__))          \
  }

namespace {
template <class E>
void EnumToJson(json& j, E v) {
  j = std::string(Name(v));
}
}  // namespace

void to_json(json& j, Role v) { EnumToJson(j, v); }
void to_json(json& j, Stage v) { EnumToJson(j, v); }
void to_json(json& j, Channel v) { EnumToJson(j, v); }
void to_json(json& j, Level v) { EnumToJson(j, v); }
void to_json(json& j, AssignStrategy v) { EnumToJson(j, v); }
void to_json(json& j, RecycleRule v) { EnumToJson(j, v); }

CRM_TO_JSON(PoolPolicy, recycle_no_follow_up, recycle_no_deal, remind_before, daily_claim_limit,
            previous_owner_block, max_owned_customers, max_owned_leads)
CRM_TO_JSON(PlannedInstallment, due_on, amount)
CRM_TO_JSON(Allocation, installment, amount)

CRM_TO_JSON(DepartmentCreated, department_id, name, parent_id)
CRM_TO_JSON(StaffCreated, staff_id, name, email, role, department_id, region)
CRM_TO_JSON(StaffDeparted, staff_id)
CRM_TO_JSON(HandoverCompleted, staff_id, to_staff_id, depart, leads, customers, opportunities,
            contracts)
void to_json(json& j, const PoolPolicySet& e) { to_json(j, e.policy); }
CRM_TO_JSON(TargetSet, period, staff_id, department_id, amount, currency)
CRM_TO_JSON(LeadCreated, lead_id, name, company, phone, email, source, region, owner_id, phone_key,
            name_key, duplicate_of)
void to_json(json& j, const FieldChange& c) {
  j = json{{"field", c.field}, {"old", c.old_value}, {"new", c.new_value}};
}
CRM_TO_JSON(LeadEdited, changes, phone_key, name_key, duplicate_of)
CRM_TO_JSON(StaffEdited, changes)
CRM_TO_JSON(DepartmentEdited, changes)
CRM_TO_JSON(ContactEdited, changes)
CRM_TO_JSON(OpportunityEdited, changes)
CRM_TO_JSON(LeadAssigned, owner_id, previous_owner_id, strategy)
CRM_TO_JSON(LeadClaimed, owner_id)
CRM_TO_JSON(LeadReleased, previous_owner_id, reason)
CRM_TO_JSON(LeadRecycled, previous_owner_id, rule)
CRM_TO_JSON(LeadInvalidated, reason)
CRM_TO_JSON(LeadVoided, reason)
CRM_TO_JSON(LeadConverted, customer_id, customer_created, contact_id, opportunity_id)
CRM_TO_JSON(FollowUpRecorded, follow_up_id, channel, note, next_at)
CRM_TO_JSON(RecordHandedOver, previous_owner_id, owner_id)
CRM_TO_JSON(CustomerCreated, customer_id, name, industry, region, level, phone, address, owner_id,
            source_lead_id, name_key)
CRM_TO_JSON(CustomerUpdated, name, industry, region, level, phone, address, name_key)
CRM_TO_JSON(CustomerLeadAttached, lead_id)
CRM_TO_JSON(CustomerClaimed, owner_id)
CRM_TO_JSON(CustomerReleased, previous_owner_id, reason)
CRM_TO_JSON(CustomerRecycled, previous_owner_id, rule)
CRM_TO_JSON(CustomerTransferred, owner_id, previous_owner_id)
CRM_TO_JSON(CustomerLocked, reason)
void to_json(json& j, const CustomerUnlocked&) { j = json::object(); }
CRM_TO_JSON(ContactCreated, contact_id, customer_id, name, title, phone, email, decision_maker)
CRM_TO_JSON(OpportunityCreated, opportunity_id, customer_id, name, amount, currency,
            expected_close_date, stage, owner_id, source_lead_id)
CRM_TO_JSON(OpportunityStageChanged, stage, previous_stage)
CRM_TO_JSON(OpportunityWon, reason, contract_id)
CRM_TO_JSON(OpportunityLost, reason)
CRM_TO_JSON(ContractSigned, contract_id, customer_id, opportunity_id, number, title, amount,
            currency, signed_on, signed_by, owner_id, installments)
CRM_TO_JSON(PaymentReceived, payment_id, amount, received_on, method, reference, allocations)
CRM_TO_JSON(DealOwnerChanged, customer_id, owner_id, previous_owner_id)
CRM_TO_JSON(PasswordSet, staff_id)
CRM_TO_JSON(PaymentReversed, payment_id, amount, reversed_on, reason, allocations)
CRM_TO_JSON(InvoiceIssued, invoice_id, contract_id, customer_id, number, amount, currency,
            issued_on, kind, tax_rate_pct)
CRM_TO_JSON(InvoiceVoided, reason)
CRM_TO_JSON(TaskCreated, task_id, owner_id, title, due_at, record_id)
void to_json(json& j, const TaskCompleted&) { j = json::object(); }
CRM_TO_JSON(RecordMoved, customer_id, from_customer_id, owner_id)
CRM_TO_JSON(CustomerMerged, into_id)
CRM_TO_JSON(CustomerAbsorbed, from_id)

}  // namespace crm::domain

namespace crm::api {

nlohmann::json EventJson(const eventstore::RecordedEvent& e) {
  using nlohmann::json;
  json data;
  std::visit([&](const auto& ev) { domain::to_json(data, ev); }, e.event);
  return json{{"position", e.position},     {"stream", e.stream},
              {"version", e.version},       {"type", std::string(domain::EventTypeName(e.event))},
              {"at", FormatTime(e.at)},     {"actor", e.actor},
              {"command_id", e.command_id}, {"correlation_id", e.correlation_id},
              {"data", std::move(data)},    {"hash", eventstore::ToHex(e.hash)}};
}

nlohmann::json VerifyJson(const eventstore::VerifyReport& r) {
  nlohmann::json j = {{"ok", r.ok}, {"events", r.events}};
  if (r.ok) {
    j["head_position"] = r.head_position;
    j["head_hash"] = r.head_hash;
  } else {
    j["first_bad_position"] = r.first_bad_position;
    j["detail"] = r.detail;
  }
  return j;
}

}  // namespace crm::api
