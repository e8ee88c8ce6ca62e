// The business rules: `Decide(model, command, context)` returns the events a command
// causes, or the Error that names why it is refused. Pure: no I/O, no clock; the current
// time, the actor and the name normaliser arrive in the Context.
//
// Refusals, in the order they are checked:
//   404 not_found          the record does not exist or the actor may not see it
//   403 forbidden          the actor's role may not do this to a record it sees
//   400 validation_failed  a referenced record in the body is unknown or unsuitable
//   409 invalid_transition the record's state does not allow the command
//   409 duplicate_*        a unique name or number is taken
//   422 <rule>             a pool or money rule refuses
#ifndef CRM_DOMAIN_DECIDE_H_
#define CRM_DOMAIN_DECIDE_H_

#include <functional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "domain/commands.h"
#include "domain/model.h"
#include "domain/result.h"

namespace crm::domain {

struct Context {
  std::string actor;  // a staff id, or "system"
  Time now;
  // Maps a customer name to its unique key (NFKC, case folded, spaces folded).
  std::function<std::string(std::string_view)> normalize_name;
};

struct NewEvent {
  Id stream;
  Event event;
};

// An entry of a unique index claimed (or, with `release`, given up) by the decision,
// written in the same batch as its events.
struct UniqueKey {
  std::string scope;  // "customer_name", "contract_number", "staff_email", "lead_phone", ...
  std::string key;
  Id owner;
  bool release = false;
  // A claim the writer refuses when another record holds the key. Not exclusive: an index
  // entry written as it is (a duplicate key's first live lead, which may change hands).
  bool exclusive = true;
};

struct ConversionOutcome {
  Id customer_id;
  bool customer_created = false;
  OptId contact_id;
  OptId opportunity_id;
};
struct HandoverOutcome {
  int64_t leads = 0;
  int64_t customers = 0;
  int64_t opportunities = 0;
  int64_t contracts = 0;
};
struct Assignment {
  Id lead_id;
  Id owner_id;
};
struct AutoAssignOutcome {
  std::vector<Assignment> assignments;
  std::vector<Id> unassigned;  // leads no listed person could take (region, capacity)
};
struct RecycleOutcome {
  int64_t leads = 0;
  int64_t customers = 0;
  bool more = false;  // more were due than one sweep handles
};
// What became of each row of an import, in the order given: created (or, in a dry run,
// would be), a duplicate of a live lead (existing_id, possibly one the importer cannot
// see, as a 409 duplicate_lead names it) or of an earlier row, or refused (`refusal`).
struct ImportRowOutcome {
  OptId created;
  OptId duplicate_of;
  std::optional<Error> refusal;
};
struct ImportOutcome {
  std::vector<ImportRowOutcome> rows;
  int64_t created = 0;
};
using Outcome = std::variant<std::monostate, ConversionOutcome, HandoverOutcome, AutoAssignOutcome,
                             RecycleOutcome, ImportOutcome>;

struct Decision {
  std::vector<NewEvent> events;
  std::vector<UniqueKey> unique_keys;
  Id primary;     // the record the command is about; its version goes in the reply
  OptId created;  // what the command made that has no stream of its own (a follow-up, a payment)
  Outcome outcome;
};

Result<Decision> Decide(const Model& model, const Command& command, const Context& ctx);

// The unique-index scopes.
inline constexpr std::string_view kCustomerNameScope = "customer_name";
inline constexpr std::string_view kContractNumberScope = "contract_number";
inline constexpr std::string_view kStaffEmailScope = "staff_email";
inline constexpr std::string_view kInvoiceNumberScope = "invoice_number";
// A duplicate key of live leads (撞单) → the first of them (LeadDuplicateKeys).
inline constexpr std::string_view kLeadKeyScope = "lead_key";

// The error code for a clash in a unique scope: duplicate_customer,
// duplicate_contract_number, ...
std::string DuplicateCode(std::string_view scope);
// Whether a clash in `scope` may name the record holding the key (`existing_id`): a
// customer's name, as API.md requires (claim it, then convert into it); not a contract
// number, which would name a contract the caller may not see.
bool ClashNamesTheHolder(std::string_view scope);

}  // namespace crm::domain

#endif  // CRM_DOMAIN_DECIDE_H_
