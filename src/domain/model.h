// The decision model: what the business rules need to know about every record, folded
// from the log by `Evolve`. The single writer keeps one `Model` in memory and decides
// every command against it (DESIGN.md, "The write path"); tests build one from events.
//
// Only what a rule reads is kept here: names and notes live in the read models.
#ifndef CRM_DOMAIN_MODEL_H_
#define CRM_DOMAIN_MODEL_H_

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "domain/events.h"
#include "domain/org.h"
#include "domain/policy.h"

namespace crm::domain {

struct StaffMember {
  Id id;
  std::string name;
  std::string email;
  Role role = Role::kSales;
  OptId department_id;
  OptText region;
  bool departed = false;

  bool operator==(const StaffMember&) const = default;
};

struct Department {
  Id id;
  std::string name;
  OptId parent_id;

  bool operator==(const Department&) const = default;
};

// Ownership shared by leads and customers: who has it, since when, and when each
// previous owner lost it (for the previous-owner block).
struct Ownership {
  OptId owner_id;
  Time owned_since;
  std::optional<Time> last_follow_up_at;
  std::map<Id, Time> lost_at;

  bool operator==(const Ownership&) const = default;
};

struct LeadRecord {
  Id id;
  LeadState state = LeadState::kUnassigned;
  Ownership own;
  std::string name;
  std::string company;
  OptText phone;
  OptText email;
  OptText source;
  OptText region;
  OptText phone_key;  // the duplicate keys (LeadCreated)
  OptText name_key;

  bool operator==(const LeadRecord&) const = default;
};

struct CustomerRecord {
  Id id;
  std::string name;
  std::string normalized_name;
  Ownership own;
  OptText region;
  bool locked = false;
  bool has_signed_contract = false;
  // Its contacts and deals, in the order they were made or moved in. A deal's owner is
  // always the customer's.
  std::vector<Id> contacts;
  std::vector<Id> opportunities;
  std::vector<Id> contracts;
  // Set once it was merged into another customer: it holds nothing and takes no command.
  OptId merged_into;

  bool operator==(const CustomerRecord&) const = default;
};

struct ContactRecord {
  Id id;
  Id customer_id;
  std::string name;
  OptText title;
  OptText phone;
  OptText email;
  bool decision_maker = false;

  bool operator==(const ContactRecord&) const = default;
};

struct OpportunityRecord {
  Id id;
  Id customer_id;
  OptId owner_id;  // the customer's owner
  Stage stage = Stage::kQualification;
  int64_t amount = 0;
  std::string currency;
  std::string name;
  Date expected_close_date;

  bool operator==(const OpportunityRecord&) const = default;
};

struct InstallmentRecord {
  Date due_on;
  int64_t amount = 0;
  int64_t paid = 0;

  bool operator==(const InstallmentRecord&) const = default;
};

struct PaymentRecord {
  Id id;
  int64_t amount = 0;
  std::vector<Allocation> allocations;
  bool reversed = false;

  bool operator==(const PaymentRecord&) const = default;
};

struct ContractRecord {
  Id id;
  Id customer_id;
  OptId owner_id;  // the customer's owner
  Id signed_by;
  std::string number;
  int64_t amount = 0;
  std::string currency;
  int64_t paid = 0;
  std::vector<InstallmentRecord> installments;
  std::vector<PaymentRecord> payments;  // in the order received, reversed ones too
  int64_t invoiced = 0;                 // by invoices not voided
  int64_t outstanding() const { return amount - paid; }

  bool operator==(const ContractRecord&) const = default;
};

struct InvoiceRecord {
  Id id;
  Id contract_id;
  std::string number;
  int64_t amount = 0;
  bool voided = false;

  bool operator==(const InvoiceRecord&) const = default;
};

struct TaskRecord {
  Id id;
  Id owner_id;
  bool done = false;

  bool operator==(const TaskRecord&) const = default;
};

// What one person owns, for the capacity rules and a handover: leads in
// pending/following/invalid, and customers (whose deals go with them).
struct Holdings {
  std::set<Id> leads;
  std::set<Id> customers;

  bool operator==(const Holdings&) const = default;
};

struct Model {
  explicit Model(Seconds utc_offset_in = std::chrono::hours(8)) : utc_offset(utc_offset_in) {}

  Seconds utc_offset;  // where a business day starts (daily claim limits)
  OrgTree org;
  std::map<Id, Department> departments;
  std::map<Id, StaffMember> staff;
  std::map<std::string, Id> staff_by_email;  // lower-cased email → staff
  PoolPolicy policy;
  std::map<Id, LeadRecord> leads;
  std::map<Id, CustomerRecord> customers;
  std::map<Id, ContactRecord> contacts;
  std::map<Id, OpportunityRecord> opportunities;
  std::map<Id, ContractRecord> contracts;
  std::map<std::string, Id> customer_by_name;  // normalised name → customer
  std::map<std::string, Id> contract_by_number;
  std::map<Id, InvoiceRecord> invoices;
  std::map<std::string, Id> invoice_by_number;  // InvoiceNumberKey → invoice
  std::map<Id, TaskRecord> tasks;
  std::map<Id, Holdings> holdings;
  // Claims per person on their latest claiming business day.
  struct ClaimDay {
    Date day;
    int32_t count = 0;
    bool operator==(const ClaimDay&) const = default;
  };
  std::map<Id, ClaimDay> claims;

  // Owned items that a pool rule may recycle, by when their clocks started, so that
  // RecycleDue reads only what is due (it adds the policy's durations when it runs, so a
  // new policy needs no new index). Kept by Evolve; derived from the records above.
  //   by_follow_up: leads in an owned state and unlocked, unsigned customers, at
  //                 max(owned since, last follow-up) (recycle_no_follow_up);
  //   by_owned:     unlocked, unsigned customers at owned since (recycle_no_deal).
  struct RecycleClocks {
    std::set<std::pair<Time, Id>> by_follow_up;
    std::set<std::pair<Time, Id>> by_owned;
    bool operator==(const RecycleClocks&) const = default;
  };
  RecycleClocks recycle;
  // Live leads (neither voided nor converted) by each duplicate key they hold
  // (LeadDuplicateKeys), for 撞单. Kept by Evolve; derived from the leads.
  std::map<std::string, std::set<Id>> lead_by_key;

  const StaffMember* FindStaff(const Id& id) const;
  const Holdings& HoldingsOf(const Id& staff_id) const;
  int32_t ClaimsOn(const Id& staff_id, Date day) const;
  // The viewer for an actor id; nullopt when unknown. `system` is the server's jobs.
  std::optional<Viewer> ViewerOf(std::string_view actor) const;

  // Two models are equal when they hold the same facts (tests: a snapshot against a fold).
  bool operator==(const Model&) const = default;
};

// The unique key of a contract number: ASCII letters upper-cased.
std::string ContractNumberKey(std::string_view number);
// The unique key of an invoice number: ASCII letters upper-cased, as contract numbers.
std::string InvoiceNumberKey(std::string_view number);
// The unique key of an email: ASCII letters lower-cased.
std::string EmailKey(std::string_view email);

// Folds one event into the model.
void Evolve(Model& model, const EventMeta& meta, const Event& event);

// Builds what Evolve keeps derived from the records (`model.recycle`,
// `model.lead_by_key`), which must be empty: for a model loaded from elsewhere than
// Evolve (a snapshot).
void IndexDerived(Model& model);

// The keys under which a lead is found in `Model::lead_by_key`: "phone:<digits>" and
// "name:<normalised company and name>", none once it is voided or converted.
std::vector<std::string> LeadDuplicateKeys(const LeadRecord& lead);
// A phone's duplicate key: its digits without a leading +86 or 0086; nullopt when fewer
// than 5 digits remain (nothing to compare).
OptText PhoneKey(std::string_view phone);

// Adds `sign` (1: a payment, -1: its reversal) times each allocation to the paid amount of
// the installment it names; `paid(installment)` is that amount. Allocations naming no
// installment of `installments` are ignored. For the model and the read side alike.
template <class Installments, class PaidOf>
void ApplyAllocations(const std::vector<Allocation>& allocations, int64_t sign,
                      Installments& installments, PaidOf&& paid) {
  for (const auto& a : allocations) {
    if (a.installment >= 0 && static_cast<size_t>(a.installment) < installments.size()) {
      paid(installments[static_cast<size_t>(a.installment)]) += sign * a.amount;
    }
  }
}

// The new value of `field`, when `changes` changed it (nullptr otherwise).
const FieldChange* ChangeOf(const std::vector<FieldChange>& changes, std::string_view field);
// The new amount (minor units) or date that `changes` set in `field`, when it changed it
// to one.
std::optional<int64_t> EditedAmount(const std::vector<FieldChange>& changes,
                                    std::string_view field);
std::optional<Date> EditedDate(const std::vector<FieldChange>& changes, std::string_view field);

// What kind of record a stream id names, by its prefix.
enum class RecordKind {
  kLead,
  kCustomer,
  kContact,
  kOpportunity,
  kContract,
  kStaff,
  kDepartment,
  kInvoice,
  kTask,
  kOther
};
RecordKind KindOfId(std::string_view id);

// When the pool rules will recycle an owned item, if ever under `policy`.
std::optional<Time> LeadRecycleAt(const LeadRecord& lead, const PoolPolicy& policy);
std::optional<Time> CustomerRecycleAt(const CustomerRecord& customer, const PoolPolicy& policy,
                                      RecycleRule* rule = nullptr);
// Shared by the read side, which keeps the same facts in its own rows.
std::optional<Time> RecycleAt(const PoolPolicy& policy, bool is_customer, bool owned, bool locked,
                              bool has_signed_contract, Time owned_since,
                              std::optional<Time> last_follow_up_at, RecycleRule* rule = nullptr);

}  // namespace crm::domain

#endif  // CRM_DOMAIN_MODEL_H_
