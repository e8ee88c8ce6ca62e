// Departments, staff, tokens, portfolio and handover.
#include "api/body.h"
#include "api/handler_util.h"
#include "api/request_parts.h"
#include "api/routes.h"
#include "api/views_json.h"

namespace crm::api {

namespace d = crm::domain;

namespace {

const std::vector<std::string> kRoles = {"admin", "manager", "sales", "finance", "auditor"};

// 404 for an unknown staff member.
Result<const views::StaffRowT*> StaffRow(const ReadView& view, const std::string& id) {
  const auto* row = view.org().FindStaff(id);
  if (!row) return NotFound("no staff member " + id);
  return row;
}

json Portfolio(const ReadView& view, const std::string& staff_id) {
  json leads = json::array(), customers = json::array(), opportunities = json::array(),
       contracts = json::array();
  for (const auto& id : view.leads().OwnedBy(staff_id)) {
    const auto* row = view.leads().Find(id);
    if (row && projections::IsOwnedLead(*row)) leads.push_back(id);
  }
  // Deals belong to their customer: a handover moves every one of them, open or closed.
  for (const auto& id : view.customers().CustomersOf(staff_id)) {
    customers.push_back(id);
    if (const auto* row = view.customers().FindCustomer(id)) {
      for (const auto& opp : row->opportunity_ids) opportunities.push_back(opp);
      for (const auto& con : row->contract_ids) contracts.push_back(con);
    }
  }
  json counts = {{"leads", leads.size()},
                 {"customers", customers.size()},
                 {"opportunities", opportunities.size()},
                 {"contracts", contracts.size()}};
  return json{{"staff_id", staff_id},
              {"counts", std::move(counts)},
              {"leads", std::move(leads)},
              {"customers", std::move(customers)},
              {"opportunities", std::move(opportunities)},
              {"contracts", std::move(contracts)}};
}

}  // namespace

void AddOrgRoutes(Router& r, Services& s) {
  r.Add("POST", "/api/v1/departments", [&s](const CallPtr& call) {
    CommandSpec spec;
    spec.success_status = 201;
    spec.build = [&s](const d::Viewer&, const json& body) -> Result<d::Command> {
      std::vector<FieldError> errors;
      Fields f(body, errors);
      auto name = f.Text("name", true, 100);
      auto parent = f.Text("parent_id", false, 64);
      CRM_RETURN_IF_ERROR(FieldsOk(errors));
      return d::Command(d::CreateDepartment{s.ids.New("dep"), *name, parent});
    };
    RunCommand(s, call, std::move(spec));
  });

  r.Add("PATCH", "/api/v1/departments/{id}", [&s](const CallPtr& call) {
    RunPathCommand(s, call, 200, [](const std::string& id, const json& body) -> Result<d::Command> {
      std::vector<FieldError> errors;
      Fields f(body, errors);
      CheckPatchKeys(f, body, {"name", "parent_id"});
      d::EditDepartment c;
      c.department_id = id;
      c.name = PatchText(f, "name", false, 100);
      if (f.Has("parent_id"))
        c.parent_id = f.IsNull("parent_id") ? d::OptId() : f.Text("parent_id", true, 64);
      CRM_RETURN_IF_ERROR(FieldsOk(errors));
      return d::Command(std::move(c));
    });
  });

  r.Add("PATCH", "/api/v1/staff/{id}", [&s](const CallPtr& call) {
    RunPathCommand(s, call, 200, [](const std::string& id, const json& body) -> Result<d::Command> {
      std::vector<FieldError> errors;
      Fields f(body, errors);
      CheckPatchKeys(f, body, {"name", "email", "role", "department_id", "region"});
      d::EditStaff c;
      c.staff_id = id;
      c.name = PatchText(f, "name", false, 100);
      if (f.Has("email")) c.email = f.Email("email", true);
      if (auto role = f.OneOf("role", false, kRoles)) c.role = d::ParseRole(*role);
      c.department_id = PatchText(f, "department_id", false, 64);
      c.region = PatchText(f, "region", true, 100);
      CRM_RETURN_IF_ERROR(FieldsOk(errors));
      return d::Command(std::move(c));
    });
  });

  r.Add("GET", "/api/v1/departments", [&s](const CallPtr& call) {
    RunQuery(s, call, {}, [](const d::Viewer&, const ReadView& view) -> Result<Answer> {
      return Answer{DepartmentTreeJson(view.org()), std::nullopt};
    });
  });

  r.Add("POST", "/api/v1/staff", [&s](const CallPtr& call) {
    auto viewer = Authenticate(s, call->req.authorization);
    if (viewer.ok() && viewer->role != d::Role::kAdmin) {
      return SendError(call, Forbidden("only admins create staff"));
    }
    std::string staff_id = s.ids.New("stf");
    std::string token = NewToken();
    CommandSpec spec;
    spec.success_status = 201;
    // The token is stored in the commit that creates the person.
    spec.index = s.tokens.Issue(staff_id, token);
    spec.build = [staff_id](const d::Viewer&, const json& body) -> Result<d::Command> {
      std::vector<FieldError> errors;
      Fields f(body, errors);
      auto name = f.Text("name", true, 100);
      auto email = f.Email("email", true);
      auto role = f.OneOf("role", true, kRoles);
      auto department = f.Text("department_id", true, 64);
      auto region = f.Text("region", false, 100);
      CRM_RETURN_IF_ERROR(FieldsOk(errors));
      return d::Command(
          d::CreateStaff{staff_id, *name, *email, *d::ParseRole(*role), department, region});
    };
    spec.reply = [](const writer::CommandResult& res) {
      json j = DefaultReply(res);
      j["token"] = nullptr;  // what is stored for a retry: tokens are never stored in clear
      return j;
    };
    spec.finish = [token](json& answer, bool replayed) {
      if (!replayed)
        answer["token"] = token;
      else
        answer["token_redacted"] = true;  // shown once; issue a new one with /tokens
    };
    RunCommand(s, call, std::move(spec));
  });

  r.Add("GET", "/api/v1/staff", [&s](const CallPtr& call) {
    RunQuery(s, call, kPageParams,
             [call](const d::Viewer&, const ReadView& view) -> Result<Answer> {
               CRM_ASSIGN_OR_RETURN(size_t limit, LimitParam(call->req));
               auto page = projections::PageOf<views::StaffRowT>(
                   view.org().staff(), CursorParam(call->req), limit,
                   [](const views::StaffRowT&) { return true; });
               return PageAnswer(page, [](const auto& row) { return StaffJson(row); });
             });
  });

  r.Add("GET", "/api/v1/staff/{id}", [&s](const CallPtr& call) {
    RunQuery(s, call, {}, [call](const d::Viewer&, const ReadView& view) -> Result<Answer> {
      CRM_ASSIGN_OR_RETURN(const auto* row, StaffRow(view, call->req.params.at("id")));
      return Answer{StaffJson(*row), row->version};
    });
  });

  r.Add("POST", "/api/v1/staff/{id}/tokens", [&s](const CallPtr& call) {
    auto viewer = Authenticate(s, call->req.authorization);
    if (!viewer.ok()) return SendError(call, viewer.error());
    if (viewer->role != d::Role::kAdmin)
      return SendError(call, Forbidden("only admins issue tokens"));
    std::string id = call->req.params.at("id");
    Status found = Status::Ok();
    {
      ReadView view = s.read.Read();
      auto row = StaffRow(view, id);
      if (!row.ok())
        found = row.error();
      else if ((*row)->departed)
        found = RuleRefused("staff_departed", id + " has departed");
    }
    if (!found.ok()) return SendError(call, found.error());
    std::string token = NewToken();
    WriteIndex(
        s, viewer->id, s.tokens.Issue(id, token),
        [call, id, token](Result<writer::WriteOutcome> out) {
          if (!out.ok()) return SendError(call, out.error());
          SendJson(
              call, 201,
              json{{"staff_id", id}, {"token", token}, {"position", out->result.last_position}});
        });
  });

  r.Add("GET", "/api/v1/staff/{id}/portfolio", [&s](const CallPtr& call) {
    RunQuery(s, call, {}, [call](const d::Viewer& v, const ReadView& view) -> Result<Answer> {
      std::string id = call->req.params.at("id");
      CRM_RETURN_IF_ERROR(StaffRow(view, id));
      if (!d::HasPowerOver(view.org().tree(), v, id)) {
        return Forbidden("only an admin, or a manager over " + id + ", sees their portfolio");
      }
      return Answer{Portfolio(view, id), std::nullopt};
    });
  });

  r.Add("POST", "/api/v1/staff/{id}/handover", [&s](const CallPtr& call) {
    std::string id = call->req.params.at("id");
    auto departs = std::make_shared<bool>(false);
    CommandSpec spec;
    spec.if_match_stream = id;
    spec.build = [id, departs](const d::Viewer&, const json& body) -> Result<d::Command> {
      std::vector<FieldError> errors;
      Fields f(body, errors);
      auto to = f.Text("to", true, 64);
      auto depart = f.Boolean("depart", false);
      CRM_RETURN_IF_ERROR(FieldsOk(errors));
      d::OptId successor;
      if (*to != "pool") successor = *to;
      *departs = depart.value_or(false);
      return d::Command(d::Handover{id, successor, *departs});
    };
    spec.reply = [](const writer::CommandResult& res) {
      const auto& out = std::get<d::HandoverOutcome>(res.outcome);
      json j = DefaultReply(res);
      j["staff_id"] = res.primary;
      j["moved"] = {{"leads", out.leads},
                    {"customers", out.customers},
                    {"opportunities", out.opportunities},
                    {"contracts", out.contracts}};
      return j;
    };
    // A departed person's tokens go with them, in the same commit (authentication refuses
    // them anyway).
    spec.index = [departs, revoke = s.tokens.Revoke(id)](writer::IndexEdit& index) {
      if (*departs) revoke(index);
    };
    RunCommand(s, call, std::move(spec));
  });
}

}  // namespace crm::api
