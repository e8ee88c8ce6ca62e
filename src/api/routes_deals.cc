// Opportunities (商机), contracts (合同), payments and receivables (回款).
#include "api/body.h"
#include "api/handler_util.h"
#include "api/list_filters.h"
#include "api/request_parts.h"
#include "api/routes.h"
#include "api/views_json.h"

namespace crm::api {

namespace d = crm::domain;

namespace {

const std::vector<std::string> kOpenStages = {"qualification", "needs_analysis", "proposal",
                                              "negotiation"};
constexpr size_t kMaxInstallments = 240;

Result<d::SignContract> ParseContract(const json& body, writer::IdGenerator& ids) {
  std::vector<FieldError> errors;
  Fields f(body, errors);
  d::SignContract c;
  c.contract_id = ids.New("con");
  auto customer = f.Text("customer_id", true, 64);
  c.opportunity_id = f.Text("opportunity_id", false, 64);
  auto number = f.Text("number", true, 64);
  auto title = f.Text("title", true, 200);
  auto amount = f.Amount("amount", true);
  auto currency = f.Currency("currency", true);
  auto signed_on = f.DateField("signed_on", true);
  if (const json* plan = f.Array("installments", true)) {
    if (plan->empty()) f.Fail("installments", "must list at least one installment");
    if (plan->size() > kMaxInstallments) {
      f.Fail("installments", "must have at most " + std::to_string(kMaxInstallments) + " items");
    }
    for (size_t i = 0; i < plan->size() && i < kMaxInstallments; ++i) {
      std::string path = "installments[" + std::to_string(i) + "].";
      if (!(*plan)[i].is_object()) {
        f.Fail(path.substr(0, path.size() - 1), "must be an object");
        continue;
      }
      Fields inst((*plan)[i], errors, path);
      auto due = inst.DateField("due_on", true);
      auto part = inst.Amount("amount", true);
      if (due && part) c.installments.push_back({*due, *part});
    }
  }
  CRM_RETURN_IF_ERROR(FieldsOk(errors));
  c.customer_id = *customer;
  c.number = *number;
  c.title = *title;
  c.amount = *amount;
  c.currency = *currency;
  c.signed_on = *signed_on;
  return c;
}

json ReceivableJson(const views::ContractRowT& k, const projections::InstallmentStatus& i,
                    size_t index, const views::CustomerRowT* customer) {
  return json{{"contract_id", k.id},
              {"contract_number", k.number},
              {"customer_id", k.customer_id},
              {"customer_name", customer ? json(customer->name) : json(nullptr)},
              {"owner_id", TextOrNull(k.owner_id)},
              {"signed_by", k.signed_by},
              {"installment", index},
              {"due_on", DateJson(static_cast<int32_t>(i.due_on_days))},
              {"amount", i.amount},
              {"paid", i.paid},
              {"outstanding", i.amount - i.paid},
              {"currency", k.currency},
              {"status", i.status},
              {"days_overdue", i.days_overdue}};
}

}  // namespace

void AddDealRoutes(Router& r, Services& s) {
  // ---- opportunities ---------------------------------------------------------------------
  r.Add("POST", "/api/v1/opportunities", [&s](const CallPtr& call) {
    CommandSpec spec;
    spec.success_status = 201;
    spec.build = [&s](const d::Viewer&, const json& body) -> Result<d::Command> {
      std::vector<FieldError> errors;
      Fields f(body, errors);
      auto customer = f.Text("customer_id", true, 64);
      d::OpportunityDetails details = ReadOpportunityDetails(f);
      CRM_RETURN_IF_ERROR(FieldsOk(errors));
      return d::Command(d::CreateOpportunity{s.ids.New("opp"), *customer, details});
    };
    RunCommand(s, call, std::move(spec));
  });

  r.Add("GET", "/api/v1/opportunities", [&s](const CallPtr& call) {
    RunQuery(s, call, ListParams({"stage", "owner_id", "customer_id"}),
             [call](const d::Viewer& v, const ReadView& view) -> Result<Answer> {
               CRM_ASSIGN_OR_RETURN(size_t limit, LimitParam(call->req));
               projections::OpportunityFilter f;
               f.stage = OptParam(call->req, "stage");
               if (f.stage && !d::ParseStage(*f.stage))
                 return InvalidField("stage", "unknown stage");
               f.owner_id = OptParam(call->req, "owner_id");
               f.customer_id = OptParam(call->req, "customer_id");
               auto page = view.customers().ListOpportunities(f, VisibleTo(view, v),
                                                              CursorParam(call->req), limit);
               return PageAnswer(page, [](const auto& row) { return OpportunityJson(row); });
             });
  });

  r.Add("GET", "/api/v1/opportunities/{id}", [&s](const CallPtr& call) {
    RunQuery(s, call, {}, [call](const d::Viewer& v, const ReadView& view) -> Result<Answer> {
      const std::string& id = call->req.params.at("id");
      const auto* row = view.customers().FindOpportunity(id);
      if (!row || !view.customers().DealVisible(row->customer_id, VisibleTo(view, v))) {
        return NotFound("no opportunity " + id);
      }
      return Answer{OpportunityJson(*row), row->version};
    });
  });

  r.Add("PATCH", "/api/v1/opportunities/{id}", [&s](const CallPtr& call) {
    RunPathCommand(s, call, 200, [](const std::string& id, const json& body) -> Result<d::Command> {
      std::vector<FieldError> errors;
      Fields f(body, errors);
      CheckPatchKeys(f, body, {"name", "amount", "currency", "expected_close_date"});
      d::EditOpportunity c;
      c.opportunity_id = id;
      c.name = PatchText(f, "name", false);
      c.amount = f.Amount("amount", false);
      c.currency = f.Currency("currency", false);
      c.expected_close_date = f.DateField("expected_close_date", false);
      CRM_RETURN_IF_ERROR(FieldsOk(errors));
      return d::Command(std::move(c));
    });
  });

  r.Add("POST", "/api/v1/opportunities/{id}/stage", [&s](const CallPtr& call) {
    RunPathCommand(s, call, 200, [](const std::string& id, const json& body) -> Result<d::Command> {
      std::vector<FieldError> errors;
      Fields f(body, errors);
      auto stage = f.OneOf("stage", true, kOpenStages);
      CRM_RETURN_IF_ERROR(FieldsOk(errors));
      return d::Command(d::ChangeStage{id, *d::ParseStage(*stage)});
    });
  });

  r.Add("POST", "/api/v1/opportunities/{id}/win", [&s](const CallPtr& call) {
    RunPathCommand(s, call, 200, [](const std::string& id, const json& body) -> Result<d::Command> {
      CRM_ASSIGN_OR_RETURN(std::string reason, ReadReason(body, false));
      return d::Command(d::WinOpportunity{id, reason});
    });
  });

  r.Add("POST", "/api/v1/opportunities/{id}/lose", [&s](const CallPtr& call) {
    RunPathCommand(s, call, 200, [](const std::string& id, const json& body) -> Result<d::Command> {
      CRM_ASSIGN_OR_RETURN(std::string reason, ReadReason(body, false));
      return d::Command(d::LoseOpportunity{id, reason});
    });
  });

  // ---- contracts and payments ----------------------------------------------------------
  r.Add("POST", "/api/v1/contracts", [&s](const CallPtr& call) {
    CommandSpec spec;
    spec.success_status = 201;
    spec.build = [&s](const d::Viewer&, const json& body) -> Result<d::Command> {
      CRM_ASSIGN_OR_RETURN(d::SignContract c, ParseContract(body, s.ids));
      return d::Command(std::move(c));
    };
    RunCommand(s, call, std::move(spec));
  });

  r.Add("GET", "/api/v1/contracts", [&s](const CallPtr& call) {
    RunQuery(
        s, call, ListParams({"customer_id", "status", "owner_id"}),
        [&s, call](const d::Viewer& v, const ReadView& view) -> Result<Answer> {
          CRM_ASSIGN_OR_RETURN(size_t limit, LimitParam(call->req));
          projections::ContractFilter f;
          f.customer_id = OptParam(call->req, "customer_id");
          f.status = OptParam(call->req, "status");
          if (f.status && *f.status != "active" && *f.status != "paid") {
            return InvalidField("status", "must be active or paid");
          }
          f.owner_id = OptParam(call->req, "owner_id");
          auto page =
              view.customers().ListContracts(f, VisibleTo(view, v), CursorParam(call->req), limit);
          Date today = Today(s);
          return PageAnswer(page, [today](const auto& row) { return ContractJson(row, today); });
        });
  });

  r.Add("GET", "/api/v1/contracts/{id}", [&s](const CallPtr& call) {
    RunQuery(s, call, {}, [&s, call](const d::Viewer& v, const ReadView& view) -> Result<Answer> {
      const std::string& id = call->req.params.at("id");
      const auto* row = view.customers().FindContract(id);
      if (!row || !view.customers().DealVisible(row->customer_id, VisibleTo(view, v))) {
        return NotFound("no contract " + id);
      }
      return Answer{ContractJson(*row, Today(s)), row->version};
    });
  });

  r.Add("POST", "/api/v1/contracts/{id}/payments", [&s](const CallPtr& call) {
    std::string payment_id = s.ids.New("pay");
    std::string contract_id = call->req.params.at("id");
    RunPathCommand(
        s, call, 201,
        [payment_id](const std::string& id, const json& body) -> Result<d::Command> {
          std::vector<FieldError> errors;
          Fields f(body, errors);
          auto amount = f.Amount("amount", true);
          auto received = f.DateField("received_on", true);
          auto method = f.Text("method", false, 50);
          auto reference = f.Text("reference", false, 200);
          CRM_RETURN_IF_ERROR(FieldsOk(errors));
          return d::Command(
              d::RecordPayment{id, payment_id, *amount, *received, method, reference});
        },
        [](const writer::CommandResult& res) {
          // The contract is the record the command wrote; the payment is what it created.
          json j = DefaultReply(res);
          j["id"] = res.created.value_or("");
          j["contract_id"] = res.primary;
          return j;
        });
  });

  r.Add("GET", "/api/v1/receivables", [&s](const CallPtr& call) {
    RunQuery(s, call, ListParams(kReceivableFilterParams),
             [&s, call](const d::Viewer& v, const ReadView& view) -> Result<Answer> {
               CRM_ASSIGN_OR_RETURN(size_t limit, LimitParam(call->req));
               CRM_ASSIGN_OR_RETURN(auto f, ReceivableFilterFrom(call->req));
               // Paged by contract: the cursor is the last contract of the previous page.
               auto page = view.customers().ListContracts(f.contracts, VisibleTo(view, v),
                                                          CursorParam(call->req), limit);
               Date today = Today(s);
               json items = json::array();
               for (const auto* k : page.items) {
                 const auto* customer = view.customers().FindCustomer(k->customer_id);
                 ForEachReceivable(*k, today, f, [&](const auto& inst, size_t i) {
                   items.push_back(ReceivableJson(*k, inst, i, customer));
                 });
               }
               return Answer{ListJson(std::move(items), page.next_cursor), std::nullopt};
             });
  });

  r.Add("POST", "/api/v1/contracts/{id}/payments/{pay_id}/reverse", [&s](const CallPtr& call) {
    std::string payment_id = call->req.params.at("pay_id");
    RunPathCommand(
        s, call, 200,
        [payment_id](const std::string& id, const json& body) -> Result<d::Command> {
          CRM_ASSIGN_OR_RETURN(std::string reason, ReadReason(body));
          return d::Command(d::ReversePayment{id, payment_id, reason});
        },
        [](const writer::CommandResult& res) {
          json j = DefaultReply(res);
          j["id"] = res.created.value_or("");
          j["contract_id"] = res.primary;
          return j;
        });
  });

  r.Add("POST", "/api/v1/contracts/{id}/invoices", [&s](const CallPtr& call) {
    std::string invoice_id = s.ids.New("inv");
    RunPathCommand(
        s, call, 201,
        [invoice_id](const std::string& id, const json& body) -> Result<d::Command> {
          std::vector<FieldError> errors;
          Fields f(body, errors);
          d::IssueInvoice c;
          c.invoice_id = invoice_id;
          c.contract_id = id;
          c.number = f.Text("number", true, 64).value_or("");
          c.amount = f.Amount("amount", true).value_or(0);
          c.currency = f.Currency("currency", true).value_or("");
          c.issued_on = f.DateField("issued_on", true).value_or(Date{});
          c.kind = f.OneOf("kind", true, {"vat_special", "vat_normal"}).value_or("");
          if (auto rate = f.Integer("tax_rate_pct", false, 0, 100))
            c.tax_rate_pct = static_cast<int32_t>(*rate);
          CRM_RETURN_IF_ERROR(FieldsOk(errors));
          return d::Command(std::move(c));
        },
        [](const writer::CommandResult& res) {
          // The invoice is its own record: its id and version lead the answer.
          json j = DefaultReply(res);
          j["version"] = VersionOf(res, res.primary);
          return j;
        });
  });

  r.Add("POST", "/api/v1/invoices/{id}/void", [&s](const CallPtr& call) {
    RunPathCommand(s, call, 200, [](const std::string& id, const json& body) -> Result<d::Command> {
      CRM_ASSIGN_OR_RETURN(std::string reason, ReadReason(body));
      return d::Command(d::VoidInvoice{id, reason});
    });
  });

  r.Add("GET", "/api/v1/invoices/{id}", [&s](const CallPtr& call) {
    RunQuery(s, call, {}, [call](const d::Viewer& v, const ReadView& view) -> Result<Answer> {
      const std::string& id = call->req.params.at("id");
      auto [inv, k] = view.customers().FindInvoice(id);
      if (!inv || !view.customers().DealVisible(k->customer_id, VisibleTo(view, v))) {
        return NotFound("no invoice " + id);
      }
      return Answer{InvoiceJson(*inv, *k), inv->version};
    });
  });

  r.Add("GET", "/api/v1/invoices", [&s](const CallPtr& call) {
    RunQuery(s, call, ListParams({"contract_id", "customer_id"}),
             [call](const d::Viewer& v, const ReadView& view) -> Result<Answer> {
               CRM_ASSIGN_OR_RETURN(size_t limit, LimitParam(call->req));
               auto visible = VisibleTo(view, v);
               json items = json::array();
               if (auto contract_id = OptParam(call->req, "contract_id")) {
                 const auto* k = view.customers().FindContract(*contract_id);
                 if (k && view.customers().DealVisible(k->customer_id, visible)) {
                   for (const auto& inv : k->invoices) items.push_back(InvoiceJson(*inv, *k));
                 }
                 return Answer{ListJson(std::move(items), std::nullopt), std::nullopt};
               }
               // Paged by contract, as receivables: the cursor is the last contract read.
               projections::ContractFilter f;
               f.customer_id = OptParam(call->req, "customer_id");
               auto page =
                   view.customers().ListContracts(f, visible, CursorParam(call->req), limit);
               for (const auto* k : page.items) {
                 for (const auto& inv : k->invoices) items.push_back(InvoiceJson(*inv, *k));
               }
               return Answer{ListJson(std::move(items), page.next_cursor), std::nullopt};
             });
  });
}

}  // namespace crm::api
