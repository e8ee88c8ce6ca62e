#include "domain/decide.h"

#include "domain/deciders.h"
#include "domain/rules.h"

namespace crm::domain {

Result<Decision> Decide(const Model& model, const Command& command, const Context& ctx) {
  CRM_ASSIGN_OR_RETURN(Viewer viewer, rules::Actor(model, ctx));
  return std::visit([&](const auto& c) { return deciders::DecideFor(model, viewer, ctx, c); },
                    command);
}

std::string DuplicateCode(std::string_view scope) {
  if (scope == kCustomerNameScope) return "duplicate_customer";
  if (scope == kContractNumberScope) return "duplicate_contract_number";
  return "duplicate_" + std::string(scope);
}

bool ClashNamesTheHolder(std::string_view scope) { return scope == kCustomerNameScope; }

}  // namespace crm::domain
