// Every command the business accepts. A command is a request; `Decide` turns it into
// events or refuses it. Ids of records a command creates are chosen by the caller before
// deciding, so that a decision is a pure function of (model, command, context).
#ifndef CRM_DOMAIN_COMMANDS_H_
#define CRM_DOMAIN_COMMANDS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "domain/events.h"

namespace crm::domain {

// ---- organisation -----------------------------------------------------------------------
struct CreateDepartment {
  Id department_id;
  std::string name;
  OptId parent_id;
};
struct CreateStaff {
  Id staff_id;
  std::string name;
  std::string email;
  Role role = Role::kSales;
  OptId department_id;  // required but for the bootstrap admin
  OptText region;
};
// Moves everything `staff_id` owns to `to` (nullopt: the pool) in one step.
struct Handover {
  Id staff_id;
  OptId to;
  bool depart = false;
};
// Records that `staff_id`'s password was set; the hash itself is kept outside the log.
struct SetPassword {
  Id staff_id;
};
struct SetPoolPolicy {
  PoolPolicy policy;
};
struct SetTarget {
  Period period;
  OptId staff_id;
  OptId department_id;
  int64_t amount = 0;
  std::string currency;
};

// Edits (PATCH): a present field changes; for an optional text field, an empty string
// clears it. The event names only the fields whose value differs.
struct EditStaff {
  Id staff_id;
  OptText name = std::nullopt;
  OptText email = std::nullopt;
  std::optional<Role> role = std::nullopt;
  OptId department_id = std::nullopt;
  OptText region = std::nullopt;
};
struct EditDepartment {
  Id department_id;
  OptText name = std::nullopt;
  std::optional<OptId> parent_id = std::nullopt;  // present: move it (nullopt inside: to the top)
};

// ---- leads ------------------------------------------------------------------------------
struct CreateLead {
  Id lead_id;
  std::string name;
  std::string company;
  OptText phone;
  OptText email;
  OptText source;
  OptText region;
  OptId owner_id;
  bool allow_duplicate = false;  // accept it although it matches a live lead (撞单)
};
// Creates many leads in one command (导入线索): each as CreateLead would, except that a
// duplicate (撞单) of a live lead, or of an earlier row, is skipped and reported rather
// than refusing the whole import. A dry run decides the same and records nothing.
inline constexpr size_t kMaxImportRows = 10000;
struct ImportLeads {
  std::vector<CreateLead> leads;
  bool dry_run = false;
};
struct EditLead {
  Id lead_id;
  OptText name = std::nullopt;
  OptText company = std::nullopt;
  OptText phone = std::nullopt;
  OptText email = std::nullopt;
  OptText source = std::nullopt;
  OptText region = std::nullopt;
  bool allow_duplicate = false;
};
struct AssignLead {
  Id lead_id;
  Id owner_id;
};
struct AutoAssignLeads {
  std::optional<std::vector<Id>> lead_ids;  // nullopt: every unassigned lead visible to the actor
  AssignStrategy strategy = AssignStrategy::kRoundRobin;
  std::vector<Id> staff_ids;
};
struct ClaimLead {
  Id lead_id;
};
struct ReleaseLead {
  Id lead_id;
  std::string reason;
};
struct FollowUpLead {
  Id lead_id;
  Id follow_up_id;
  Channel channel = Channel::kCall;
  std::string note;
  std::optional<Time> next_at;
};
struct InvalidateLead {
  Id lead_id;
  std::string reason;
};
struct VoidLead {
  Id lead_id;
  std::string reason;
};
struct CustomerDetails {
  OptText name = std::nullopt;
  OptText industry = std::nullopt;
  OptText region = std::nullopt;
  std::optional<Level> level = std::nullopt;
  OptText phone = std::nullopt;
  OptText address = std::nullopt;
};
struct ContactDetails {
  std::string name;
  OptText title;
  OptText phone;
  OptText email;
  bool decision_maker = false;
};
struct OpportunityDetails {
  std::string name;
  int64_t amount = 0;
  std::string currency;
  Date expected_close_date;
  std::optional<Stage> stage;
};
struct ConvertLead {
  Id lead_id;
  std::optional<CustomerDetails> customer;  // at most one of customer, customer_id
  OptId customer_id;
  std::optional<ContactDetails> contact;
  std::optional<OpportunityDetails> opportunity;
  // Ids for the records the conversion may create.
  Id new_customer_id;
  Id new_contact_id;
  Id new_opportunity_id;
};
// The pool rules' sweep, run by the system actor: recycles what is due, at most
// `max_items` records per command.
struct RecycleDue {
  int32_t max_items = 1000;
};

// ---- customers --------------------------------------------------------------------------
struct CreateCustomer {
  Id customer_id;
  CustomerDetails details;  // name required
  OptId owner_id;
};
struct UpdateCustomer {
  Id customer_id;
  // Present fields change; an empty string clears an optional field.
  OptText name;
  OptText industry;
  OptText region;
  OptText level;
  OptText phone;
  OptText address;
};
struct AddContact {
  Id customer_id;
  Id contact_id;
  ContactDetails details;
};
struct EditContact {
  Id contact_id;
  OptText name = std::nullopt;
  OptText title = std::nullopt;
  OptText phone = std::nullopt;
  OptText email = std::nullopt;
  std::optional<bool> decision_maker = std::nullopt;
};
struct FollowUpCustomer {
  Id customer_id;
  Id follow_up_id;
  Channel channel = Channel::kCall;
  std::string note;
  std::optional<Time> next_at;
};
struct ClaimCustomer {
  Id customer_id;
};
struct ReleaseCustomer {
  Id customer_id;
  std::string reason;
};
struct TransferCustomer {
  Id customer_id;
  Id to;
};
// Merges `from` into `customer_id` (合并客户): every record of `from` moves to the survivor.
struct MergeCustomers {
  Id customer_id;
  Id from;
};
struct LockCustomer {
  Id customer_id;
  std::string reason;
};
struct UnlockCustomer {
  Id customer_id;
};

// ---- opportunities and contracts ----------------------------------------------------------
struct CreateOpportunity {
  Id opportunity_id;
  Id customer_id;
  OpportunityDetails details;
};
struct EditOpportunity {
  Id opportunity_id;
  OptText name = std::nullopt;
  std::optional<int64_t> amount = std::nullopt;
  OptText currency = std::nullopt;
  std::optional<Date> expected_close_date = std::nullopt;
};
struct ChangeStage {
  Id opportunity_id;
  Stage stage = Stage::kQualification;
};
struct WinOpportunity {
  Id opportunity_id;
  std::string reason;
};
struct LoseOpportunity {
  Id opportunity_id;
  std::string reason;
};
struct SignContract {
  Id contract_id;
  Id customer_id;
  OptId opportunity_id;
  std::string number;
  std::string title;
  int64_t amount = 0;
  std::string currency;
  Date signed_on;
  std::vector<PlannedInstallment> installments;
};
struct RecordPayment {
  Id contract_id;
  Id payment_id;
  int64_t amount = 0;
  Date received_on;
  OptText method;
  OptText reference;
};

struct ReversePayment {
  Id contract_id;
  Id payment_id;
  std::string reason;
};
struct IssueInvoice {
  Id invoice_id;
  Id contract_id;
  std::string number;
  int64_t amount = 0;
  std::string currency;
  Date issued_on;
  std::string kind;  // vat_special, vat_normal
  std::optional<int32_t> tax_rate_pct = std::nullopt;
};
struct VoidInvoice {
  Id invoice_id;
  std::string reason;
};

struct CreateTask {
  Id task_id;
  std::string title;
  Time due_at;
  OptId record_id = std::nullopt;
};
struct CompleteTask {
  Id task_id;
};

using Command =
    std::variant<CreateDepartment, CreateStaff, Handover, SetPoolPolicy, SetTarget, CreateLead,
                 AssignLead, AutoAssignLeads, ClaimLead, ReleaseLead, FollowUpLead, InvalidateLead,
                 VoidLead, ConvertLead, RecycleDue, CreateCustomer, UpdateCustomer, AddContact,
                 FollowUpCustomer, ClaimCustomer, ReleaseCustomer, TransferCustomer, LockCustomer,
                 UnlockCustomer, CreateOpportunity, ChangeStage, WinOpportunity, LoseOpportunity,
                 SignContract, RecordPayment, SetPassword, EditStaff, EditDepartment, EditLead,
                 EditContact, EditOpportunity, ReversePayment, IssueInvoice, VoidInvoice,
                 CreateTask, CompleteTask, MergeCustomers, ImportLeads>;

}  // namespace crm::domain

#endif  // CRM_DOMAIN_COMMANDS_H_
