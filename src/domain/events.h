// Every event of the business. An event is a fact that happened; it is never changed.
// Each event belongs to one stream, named by the id of the record it concerns
// (lead_..., cus_..., stf_...), or `pool_policy` and `targets`.
//
// Field names are the names used in the FlatBuffers schema (schemas/events.fbs) and in the
// JSON the audit API shows. Adding an event: add the struct here, to `Event`, to the
// schema's union, and to eventstore/event_codec.cc.
#ifndef CRM_DOMAIN_EVENTS_H_
#define CRM_DOMAIN_EVENTS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "domain/policy.h"
#include "domain/time.h"
#include "domain/vocabulary.h"

namespace crm::domain {

using Id = std::string;
using OptId = std::optional<std::string>;
using OptText = std::optional<std::string>;

// ---- organisation (streams dep_..., stf_...) ------------------------------------------
struct DepartmentCreated {
  Id department_id;
  std::string name;
  OptId parent_id;
  bool operator==(const DepartmentCreated&) const = default;
};
struct StaffCreated {
  Id staff_id;
  std::string name;
  std::string email;
  Role role = Role::kSales;
  OptId department_id;  // absent only for the bootstrap admin
  OptText region;
  bool operator==(const StaffCreated&) const = default;
};
struct StaffDeparted {
  Id staff_id;
  bool operator==(const StaffDeparted&) const = default;
};
// That `staff_id`'s sign-in password was set (by the envelope's actor). The password and
// its hash are never in the log: the hash lives beside the token hashes (api/password_store.h).
struct PasswordSet {
  Id staff_id;
  bool operator==(const PasswordSet&) const = default;
};
// Written on the departing person's stream, after every record's RecordHandedOver.
struct HandoverCompleted {
  Id staff_id;
  OptId to_staff_id;  // absent: to the pool
  bool depart = false;
  int64_t leads = 0;
  int64_t customers = 0;
  int64_t opportunities = 0;
  int64_t contracts = 0;
  bool operator==(const HandoverCompleted&) const = default;
};

// One field an edit changed, with its value before and after as text (an amount in its
// smallest unit, a date as YYYY-MM-DD); an absent value is an empty or unset field.
struct FieldChange {
  std::string field;
  OptText old_value;
  OptText new_value;
  bool operator==(const FieldChange&) const = default;
};
// The edits of a record, on its stream: the fields that changed, nothing else.
struct StaffEdited {
  std::vector<FieldChange> changes;
  bool operator==(const StaffEdited&) const = default;
};
struct DepartmentEdited {
  std::vector<FieldChange> changes;
  bool operator==(const DepartmentEdited&) const = default;
};

// ---- pool policy (stream pool_policy) and targets (stream targets) --------------------
struct PoolPolicySet {
  PoolPolicy policy;
  bool operator==(const PoolPolicySet&) const = default;
};
struct TargetSet {
  Period period;
  OptId staff_id;
  OptId department_id;
  int64_t amount = 0;
  std::string currency;
  bool operator==(const TargetSet&) const = default;
};

// ---- leads (streams lead_...) -----------------------------------------------------------
struct LeadCreated {
  Id lead_id;
  std::string name;
  std::string company;
  OptText phone;
  OptText email;
  OptText source;
  OptText region;
  OptId owner_id;  // absent: created into the pool
  // The duplicate keys (撞单) the lead holds: its phone's digits without a leading
  // +86/0086 (absent: too few digits to compare), and its normalised company and name.
  OptText phone_key = std::nullopt;
  OptText name_key = std::nullopt;
  OptId duplicate_of = std::nullopt;  // accepted with allow_duplicate although it matches this lead
  bool operator==(const LeadCreated&) const = default;
};
// The lead's fields changed; its duplicate keys are those after the edit.
struct LeadEdited {
  std::vector<FieldChange> changes;
  OptText phone_key;
  OptText name_key;
  OptId duplicate_of;  // accepted with allow_duplicate although the edit matches this lead
  bool operator==(const LeadEdited&) const = default;
};
struct LeadAssigned {
  Id owner_id;
  OptId previous_owner_id;
  AssignStrategy strategy = AssignStrategy::kManual;
  bool operator==(const LeadAssigned&) const = default;
};
struct LeadClaimed {
  Id owner_id;
  bool operator==(const LeadClaimed&) const = default;
};
struct LeadReleased {
  Id previous_owner_id;
  std::string reason;
  bool operator==(const LeadReleased&) const = default;
};
struct LeadRecycled {
  Id previous_owner_id;
  RecycleRule rule = RecycleRule::kNoFollowUp;
  bool operator==(const LeadRecycled&) const = default;
};
struct LeadInvalidated {
  std::string reason;
  bool operator==(const LeadInvalidated&) const = default;
};
struct LeadVoided {
  std::string reason;
  bool operator==(const LeadVoided&) const = default;
};
struct LeadConverted {
  Id customer_id;
  bool customer_created = false;
  OptId contact_id;
  OptId opportunity_id;
  bool operator==(const LeadConverted&) const = default;
};

// A recorded contact with a lead or a customer, on that record's stream.
struct FollowUpRecorded {
  Id follow_up_id;
  Channel channel = Channel::kCall;
  std::string note;
  std::optional<Time> next_at;
  bool operator==(const FollowUpRecorded&) const = default;
};

// A handover moved this record (lead, customer, opportunity or contract) to a successor.
struct RecordHandedOver {
  Id previous_owner_id;
  OptId owner_id;  // absent: to the pool (leads and customers) or to nobody
  bool operator==(const RecordHandedOver&) const = default;
};

// ---- customers and contacts (streams cus_..., ctc_...) ----------------------------------
struct CustomerCreated {
  Id customer_id;
  std::string name;
  OptText industry;
  OptText region;
  std::optional<Level> level;
  OptText phone;
  OptText address;
  OptId owner_id;        // absent: created into the pool
  OptId source_lead_id;  // present when a lead's conversion created it
  std::string name_key;  // the normalised name claimed in the unique index
  bool operator==(const CustomerCreated&) const = default;
};
// Present fields changed; an empty string clears an optional field.
struct CustomerUpdated {
  OptText name;
  OptText industry;
  OptText region;
  OptText level;
  OptText phone;
  OptText address;
  OptText name_key;  // present with `name`: the new normalised name
  bool operator==(const CustomerUpdated&) const = default;
};
struct CustomerLeadAttached {
  Id lead_id;
  bool operator==(const CustomerLeadAttached&) const = default;
};
struct CustomerClaimed {
  Id owner_id;
  bool operator==(const CustomerClaimed&) const = default;
};
struct CustomerReleased {
  Id previous_owner_id;
  std::string reason;
  bool operator==(const CustomerReleased&) const = default;
};
struct CustomerRecycled {
  Id previous_owner_id;
  RecycleRule rule = RecycleRule::kNoFollowUp;
  bool operator==(const CustomerRecycled&) const = default;
};
struct CustomerTransferred {
  Id owner_id;
  OptId previous_owner_id;
  bool operator==(const CustomerTransferred&) const = default;
};
struct CustomerLocked {
  std::string reason;
  bool operator==(const CustomerLocked&) const = default;
};
struct CustomerUnlocked {
  bool operator==(const CustomerUnlocked&) const = default;
};
struct ContactCreated {
  Id contact_id;
  Id customer_id;
  std::string name;
  OptText title;
  OptText phone;
  OptText email;
  bool decision_maker = false;
  bool operator==(const ContactCreated&) const = default;
};
struct ContactEdited {
  std::vector<FieldChange> changes;
  bool operator==(const ContactEdited&) const = default;
};

// An opportunity's or contract's owner follows its customer's: written on the deal's
// stream in the same command as the customer's claim, transfer, release or recycle.
// (A handover moves deals with RecordHandedOver.)
struct DealOwnerChanged {
  Id customer_id;
  OptId owner_id;  // absent: the customer went to the pool
  OptId previous_owner_id;
  bool operator==(const DealOwnerChanged&) const = default;
};

// A merge (合并客户): `from` is merged into the survivor in one command. Each contact,
// opportunity and contract of `from` gets RecordMoved on its own stream; then `from` gets
// CustomerMerged and the survivor CustomerAbsorbed. Their streams keep their history.
struct RecordMoved {
  Id customer_id;       // the survivor
  Id from_customer_id;  // the merged customer
  OptId owner_id;  // a deal's new owner: the survivor's (absent: in the pool); none for a contact
  bool operator==(const RecordMoved&) const = default;
};
struct CustomerMerged {
  Id into_id;
  bool operator==(const CustomerMerged&) const = default;
};
struct CustomerAbsorbed {
  Id from_id;
  bool operator==(const CustomerAbsorbed&) const = default;
};

// ---- opportunities (streams opp_...) ----------------------------------------------------
struct OpportunityCreated {
  Id opportunity_id;
  Id customer_id;
  std::string name;
  int64_t amount = 0;
  std::string currency;
  Date expected_close_date;
  Stage stage = Stage::kQualification;
  OptId owner_id;
  OptId source_lead_id;
  bool operator==(const OpportunityCreated&) const = default;
};
struct OpportunityEdited {
  std::vector<FieldChange> changes;
  bool operator==(const OpportunityEdited&) const = default;
};
struct OpportunityStageChanged {
  Stage stage = Stage::kQualification;
  Stage previous_stage = Stage::kQualification;
  bool operator==(const OpportunityStageChanged&) const = default;
};
struct OpportunityWon {
  std::string reason;
  OptId contract_id;
  bool operator==(const OpportunityWon&) const = default;
};
struct OpportunityLost {
  std::string reason;
  bool operator==(const OpportunityLost&) const = default;
};

// ---- contracts and payments (streams con_...) -------------------------------------------
struct PlannedInstallment {
  Date due_on;
  int64_t amount = 0;
  bool operator==(const PlannedInstallment&) const = default;
};
struct ContractSigned {
  Id contract_id;
  Id customer_id;
  OptId opportunity_id;
  std::string number;
  std::string title;
  int64_t amount = 0;
  std::string currency;
  Date signed_on;
  Id signed_by;  // credit for the deal; never changes
  OptId owner_id;
  std::vector<PlannedInstallment> installments;
  bool operator==(const ContractSigned&) const = default;
};
// How much of a payment went to which installment (0-based index in the plan).
struct Allocation {
  int32_t installment = 0;
  int64_t amount = 0;
  bool operator==(const Allocation&) const = default;
};
struct PaymentReceived {
  Id payment_id;
  int64_t amount = 0;
  Date received_on;
  OptText method;
  OptText reference;
  std::vector<Allocation> allocations;
  bool operator==(const PaymentReceived&) const = default;
};

// A payment taken back (冲销) from the installments it filled, on the contract's stream.
// Dashboards count it, negative, in the period of `reversed_on`.
struct PaymentReversed {
  Id payment_id;
  int64_t amount = 0;
  Date reversed_on;  // the business day it was recorded
  std::string reason;
  std::vector<Allocation> allocations;  // what it takes back from each installment
  bool operator==(const PaymentReversed&) const = default;
};

// ---- invoices (streams inv_...) ----------------------------------------------------------
struct InvoiceIssued {
  Id invoice_id;
  Id contract_id;
  Id customer_id;
  std::string number;
  int64_t amount = 0;
  std::string currency;
  Date issued_on;
  std::string kind;  // "vat_special" (专票) or "vat_normal" (普票)
  std::optional<int32_t> tax_rate_pct = std::nullopt;
  bool operator==(const InvoiceIssued&) const = default;
};
struct InvoiceVoided {
  std::string reason;
  bool operator==(const InvoiceVoided&) const = default;
};

// ---- personal tasks (streams task_...) ---------------------------------------------------
// A reminder a person set themself (提醒), optionally about a record.
struct TaskCreated {
  Id task_id;
  Id owner_id;  // the person who set it, and whose list it is on
  std::string title;
  Time due_at;
  OptId record_id;
  bool operator==(const TaskCreated&) const = default;
};
struct TaskCompleted {
  bool operator==(const TaskCompleted&) const = default;
};

using Event =
    std::variant<DepartmentCreated, StaffCreated, StaffDeparted, HandoverCompleted, PoolPolicySet,
                 TargetSet, LeadCreated, LeadAssigned, LeadClaimed, LeadReleased, LeadRecycled,
                 LeadInvalidated, LeadVoided, LeadConverted, FollowUpRecorded, RecordHandedOver,
                 CustomerCreated, CustomerUpdated, CustomerLeadAttached, CustomerClaimed,
                 CustomerReleased, CustomerRecycled, CustomerTransferred, CustomerLocked,
                 CustomerUnlocked, ContactCreated, OpportunityCreated, OpportunityStageChanged,
                 OpportunityWon, OpportunityLost, ContractSigned, PaymentReceived, DealOwnerChanged,
                 PasswordSet, StaffEdited, DepartmentEdited, LeadEdited, ContactEdited,
                 OpportunityEdited, PaymentReversed, InvoiceIssued, InvoiceVoided, TaskCreated,
                 TaskCompleted, RecordMoved, CustomerMerged, CustomerAbsorbed>;

// The event's type name as the log and the audit API show it ("LeadClaimed").
std::string_view EventTypeName(const Event& e);
// The inverse of EventTypeName over every type; nullopt for an unknown name.
std::optional<size_t> EventTypeIndex(std::string_view name);

// Facts about where and when an event was recorded, passed to every fold.
struct EventMeta {
  std::string_view stream;
  uint64_t version = 0;
  uint64_t position = 0;
  Time at;
  std::string_view actor;
};

// Well-known stream names and the actor of the server's own jobs.
inline constexpr std::string_view kPoolPolicyStream = "pool_policy";
inline constexpr std::string_view kTargetsStream = "targets";
inline constexpr std::string_view kSystemActor = "system";

}  // namespace crm::domain

#endif  // CRM_DOMAIN_EVENTS_H_
