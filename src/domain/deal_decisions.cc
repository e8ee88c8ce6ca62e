// Opportunities (商机), contracts (合同) and payments (回款).
#include <algorithm>
#include <limits>

#include "domain/deciders.h"
#include "domain/rules.h"

namespace crm::domain::deciders {

using rules::RequireEditor;
using rules::RequireRole;
using rules::Single;

namespace {

// An open opportunity the viewer may work on.
Result<const OpportunityRecord*> EditableOpportunity(const Model& m, const Viewer& v, const Id& id,
                                                     std::string_view action) {
  CRM_ASSIGN_OR_RETURN(const OpportunityRecord* o, rules::VisibleOpportunity(m, v, id));
  if (!rules::MayEditDeal(m, v, o->customer_id)) {
    return Forbidden("only the customer's owner, their manager or an admin may " +
                     std::string(action));
  }
  CRM_RETURN_IF_ERROR(rules::RequireOwnedCustomer(m, o->customer_id));
  if (!IsOpen(o->stage)) {
    return InvalidTransition("the opportunity is " + std::string(Name(o->stage)));
  }
  return o;
}

// A customer named in a request body: unknown and invisible ones read the same.
Result<const CustomerRecord*> BodyCustomer(const Model& m, const Viewer& v, const Id& id) {
  auto found = rules::VisibleCustomer(m, v, id);
  if (!found.ok()) {
    bool merged = found.error().kind == ErrorKind::kConflict;
    return InvalidField("customer_id", merged ? found.error().detail : "unknown customer");
  }
  return *found;
}

}  // namespace

CRM_DECIDER(CreateOpportunity) {
  (void)ctx;
  CRM_ASSIGN_OR_RETURN(const CustomerRecord* cus, BodyCustomer(m, v, c.customer_id));
  CRM_RETURN_IF_ERROR(RequireEditor(m, v, cus->own.owner_id, "open opportunities for a customer"));
  const OpportunityDetails& k = c.details;
  Stage stage = k.stage.value_or(Stage::kQualification);
  if (!IsOpen(stage)) return InvalidField("stage", "a new opportunity is in an open stage");
  CRM_RETURN_IF_ERROR(rules::RequireOwnedCustomer(*cus));
  return Single(c.opportunity_id,
                OpportunityCreated{c.opportunity_id, c.customer_id, k.name, k.amount, k.currency,
                                   k.expected_close_date, stage, cus->own.owner_id, std::nullopt});
}

CRM_DECIDER(ChangeStage) {
  (void)ctx;
  CRM_ASSIGN_OR_RETURN(const OpportunityRecord* o,
                       EditableOpportunity(m, v, c.opportunity_id, "move an opportunity"));
  if (!IsOpen(c.stage)) return InvalidField("stage", "use /win or /lose to close");
  Decision d;
  d.primary = c.opportunity_id;
  if (o->stage != c.stage) {
    d.events.push_back({c.opportunity_id, OpportunityStageChanged{c.stage, o->stage}});
  }
  return d;
}

CRM_DECIDER(EditOpportunity) {
  (void)ctx;
  CRM_ASSIGN_OR_RETURN(const OpportunityRecord* o,
                       EditableOpportunity(m, v, c.opportunity_id, "edit an opportunity"));
  std::vector<FieldChange> changes;
  rules::Diff(changes, "name", o->name, c.name);
  if (c.amount && *c.amount != o->amount) {
    changes.push_back({"amount", std::to_string(o->amount), std::to_string(*c.amount)});
  }
  rules::Diff(changes, "currency", o->currency, c.currency);
  if (c.expected_close_date && *c.expected_close_date != o->expected_close_date) {
    changes.push_back({"expected_close_date", FormatDate(o->expected_close_date),
                       FormatDate(*c.expected_close_date)});
  }
  Decision d;
  d.primary = c.opportunity_id;
  if (!changes.empty()) {
    d.events.push_back({c.opportunity_id, OpportunityEdited{std::move(changes)}});
  }
  return d;
}

CRM_DECIDER(WinOpportunity) {
  (void)ctx;
  CRM_RETURN_IF_ERROR(EditableOpportunity(m, v, c.opportunity_id, "win an opportunity"));
  return Single(c.opportunity_id, OpportunityWon{c.reason, std::nullopt});
}

CRM_DECIDER(LoseOpportunity) {
  (void)ctx;
  CRM_RETURN_IF_ERROR(EditableOpportunity(m, v, c.opportunity_id, "lose an opportunity"));
  return Single(c.opportunity_id, OpportunityLost{c.reason});
}

CRM_DECIDER(SignContract) {
  (void)ctx;
  CRM_ASSIGN_OR_RETURN(const CustomerRecord* cus, BodyCustomer(m, v, c.customer_id));
  CRM_RETURN_IF_ERROR(RequireEditor(m, v, cus->own.owner_id, "sign contracts for a customer"));
  const OpportunityRecord* opp = nullptr;
  if (c.opportunity_id) {
    auto it = m.opportunities.find(*c.opportunity_id);
    if (it == m.opportunities.end() || it->second.customer_id != c.customer_id) {
      return InvalidField("opportunity_id", "no such opportunity of this customer");
    }
    opp = &it->second;
  }
  CRM_RETURN_IF_ERROR(rules::RequireOwnedCustomer(*cus));
  if (opp && opp->stage == Stage::kLost) return InvalidTransition("the opportunity is lost");
  int64_t planned = 0;
  for (const auto& i : c.installments) {
    if (i.amount > std::numeric_limits<int64_t>::max() - planned) {
      return RuleRefused("plan_mismatch", "the installments overflow");
    }
    planned += i.amount;
  }
  if (planned != c.amount) {
    return RuleRefused("plan_mismatch", "the installments add up to " + std::to_string(planned) +
                                            ", the contract amount is " + std::to_string(c.amount));
  }
  std::string key = ContractNumberKey(c.number);
  if (auto it = m.contract_by_number.find(key); it != m.contract_by_number.end()) {
    Error e = MakeError(ErrorKind::kConflict, "duplicate_contract_number",
                        "contract number " + c.number + " is already used");
    // Named only to who may see it: the number alone must not reveal another's contract.
    const ContractRecord& holder = m.contracts.at(it->second);
    if (rules::CanSeeDeal(m, v, holder.customer_id)) e.existing_id = it->second;
    return e;
  }
  // Credit goes to the customer's owner, whoever issues the command (the event's actor).
  Id signed_by = *cus->own.owner_id;
  Decision d =
      Single(c.contract_id, ContractSigned{c.contract_id, c.customer_id, c.opportunity_id, c.number,
                                           c.title, c.amount, c.currency, c.signed_on, signed_by,
                                           signed_by, c.installments});
  if (opp && IsOpen(opp->stage)) {
    d.events.push_back({opp->id, OpportunityWon{"contract signed", c.contract_id}});
  }
  d.unique_keys.push_back({std::string(kContractNumberScope), key, c.contract_id});
  return d;
}

CRM_DECIDER(RecordPayment) {
  (void)ctx;
  CRM_ASSIGN_OR_RETURN(const ContractRecord* k, rules::VisibleContract(m, v, c.contract_id));
  CRM_RETURN_IF_ERROR(RequireRole(v, {Role::kAdmin, Role::kFinance}, "record payments"));
  CRM_RETURN_IF_ERROR(rules::RequireOwnedCustomer(m, k->customer_id));
  if (c.amount > k->outstanding()) {
    return RuleRefused("overpayment", std::to_string(c.amount) + " is more than the " +
                                          std::to_string(k->outstanding()) + " " + k->currency +
                                          " outstanding");
  }
  // Earliest installment first.
  PaymentReceived e{c.payment_id, c.amount, c.received_on, c.method, c.reference, {}};
  int64_t left = c.amount;
  for (size_t i = 0; i < k->installments.size() && left > 0; ++i) {
    int64_t open = k->installments[i].amount - k->installments[i].paid;
    if (open <= 0) continue;
    int64_t take = std::min(open, left);
    e.allocations.push_back({static_cast<int32_t>(i), take});
    left -= take;
  }
  Decision d = Single(c.contract_id, std::move(e));
  d.created = c.payment_id;
  return d;
}

CRM_DECIDER(ReversePayment) {
  CRM_ASSIGN_OR_RETURN(const ContractRecord* k, rules::VisibleContract(m, v, c.contract_id));
  CRM_RETURN_IF_ERROR(RequireRole(v, {Role::kAdmin, Role::kFinance}, "reverse payments"));
  auto p = std::find_if(k->payments.begin(), k->payments.end(),
                        [&](const PaymentRecord& r) { return r.id == c.payment_id; });
  if (p == k->payments.end()) {
    return NotFound("no payment " + c.payment_id + " on contract " + c.contract_id);
  }
  if (p->reversed) return InvalidTransition("payment " + p->id + " is reversed already");
  CRM_RETURN_IF_ERROR(rules::RequireOwnedCustomer(m, k->customer_id));
  // Back out of exactly the installments it filled.
  Decision d =
      Single(c.contract_id, PaymentReversed{p->id, p->amount, BusinessDay(ctx.now, m.utc_offset),
                                            c.reason, p->allocations});
  d.created = p->id;
  return d;
}

CRM_DECIDER(IssueInvoice) {
  (void)ctx;
  CRM_ASSIGN_OR_RETURN(const ContractRecord* k, rules::VisibleContract(m, v, c.contract_id));
  CRM_RETURN_IF_ERROR(RequireRole(v, {Role::kAdmin, Role::kFinance}, "issue invoices"));
  std::vector<FieldError> errors;
  if (c.currency != k->currency) {
    errors.push_back({"currency", "the contract is in " + k->currency});
  }
  if (c.kind != "vat_special" && c.kind != "vat_normal") {
    errors.push_back({"kind", "must be vat_special or vat_normal"});
  }
  if (!errors.empty()) return ValidationFailed(std::move(errors));
  CRM_RETURN_IF_ERROR(rules::RequireOwnedCustomer(m, k->customer_id));
  std::string key = InvoiceNumberKey(c.number);
  if (auto it = m.invoice_by_number.find(key); it != m.invoice_by_number.end()) {
    Error e = MakeError(ErrorKind::kConflict, "duplicate_invoice_number",
                        "invoice number " + c.number + " is already used");
    e.existing_id = it->second;
    return e;
  }
  if (c.amount > k->amount - k->invoiced) {
    return RuleRefused("overinvoiced", std::to_string(k->invoiced) + " of " +
                                           std::to_string(k->amount) + " " + k->currency +
                                           " is invoiced already; at most " +
                                           std::to_string(k->amount - k->invoiced) + " more");
  }
  Decision d = Single(c.invoice_id,
                      InvoiceIssued{c.invoice_id, c.contract_id, k->customer_id, c.number, c.amount,
                                    c.currency, c.issued_on, c.kind, c.tax_rate_pct});
  d.unique_keys.push_back({std::string(kInvoiceNumberScope), key, c.invoice_id});
  return d;
}

CRM_DECIDER(VoidInvoice) {
  (void)ctx;
  auto it = m.invoices.find(c.invoice_id);
  const InvoiceRecord* inv = it == m.invoices.end() ? nullptr : &it->second;
  if (!inv || !rules::VisibleContract(m, v, inv->contract_id).ok()) {
    return NotFound("no invoice " + c.invoice_id);
  }
  CRM_RETURN_IF_ERROR(RequireRole(v, {Role::kAdmin, Role::kFinance}, "void invoices"));
  if (inv->voided) return InvalidTransition("invoice " + inv->number + " is voided already");
  // A voided invoice keeps its number: 作废 is not a reissue.
  return Single(c.invoice_id, InvoiceVoided{c.reason});
}

}  // namespace crm::domain::deciders
