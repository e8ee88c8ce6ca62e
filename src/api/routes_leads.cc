// Leads (线索).
#include "api/body.h"
#include "api/handler_util.h"
#include "api/request_parts.h"
#include "api/routes.h"
#include "api/views_json.h"

namespace crm::api {

namespace d = crm::domain;

namespace {

const std::vector<std::string> kLeadStates = {"unassigned", "pending",   "following",
                                              "invalid",    "converted", "voided"};
const std::vector<std::string> kStrategies = {"round_robin", "least_loaded", "region"};

// A command whose body is {"reason": "..."}.
template <class Cmd>
void ReasonCommand(Services& s, const CallPtr& call) {
  RunPathCommand(s, call, 200, [](const std::string& id, const json& body) -> Result<d::Command> {
    CRM_ASSIGN_OR_RETURN(std::string reason, ReadReason(body));
    return d::Command(Cmd{id, reason});
  });
}

}  // namespace

void AddLeadRoutes(Router& r, Services& s) {
  r.Add("POST", "/api/v1/leads", [&s](const CallPtr& call) {
    CommandSpec spec;
    spec.success_status = 201;
    spec.build = [&s](const d::Viewer&, const json& body) -> Result<d::Command> {
      std::vector<FieldError> errors;
      Fields f(body, errors);
      d::CreateLead c;
      c.lead_id = s.ids.New("lead");
      auto name = f.Text("name", true);
      auto company = f.Text("company", true);
      c.phone = f.Text("phone", false, 50);
      c.email = f.Email("email", false);
      c.source = f.Text("source", false, 100);
      c.region = f.Text("region", false, 100);
      c.owner_id = f.Text("owner_id", false, 64);
      c.allow_duplicate = f.Boolean("allow_duplicate", false).value_or(false);
      CRM_RETURN_IF_ERROR(FieldsOk(errors));
      c.name = *name;
      c.company = *company;
      return d::Command(std::move(c));
    };
    RunCommand(s, call, std::move(spec));
  });

  r.Add("GET", "/api/v1/leads", [&s](const CallPtr& call) {
    RunQuery(s, call, ListParams({"state", "owner_id", "region", "q"}),
             [call](const d::Viewer& v, const ReadView& view) -> Result<Answer> {
               CRM_ASSIGN_OR_RETURN(size_t limit, LimitParam(call->req));
               projections::LeadFilter f;
               f.state = OptParam(call->req, "state");
               if (f.state && !d::ParseLeadState(*f.state)) {
                 return InvalidField("state",
                                     "must be one of unassigned, pending, following, invalid, "
                                     "converted, voided");
               }
               f.owner_id = OptParam(call->req, "owner_id");
               f.region = OptParam(call->req, "region");
               f.q = OptParam(call->req, "q").value_or("");
               f.owners = VisibleOwners(view, v);
               auto page = view.leads().List(f, VisibleTo(view, v), CursorParam(call->req), limit);
               return PageTextAnswer(page, [&](JsonWriter& w, const auto& row) {
                 AppendLeadText(w, row, view.pool().policy());
               });
             });
  });

  r.Add("GET", "/api/v1/leads/{id}", [&s](const CallPtr& call) {
    RunQuery(s, call, {}, [call](const d::Viewer& v, const ReadView& view) -> Result<Answer> {
      const std::string& id = call->req.params.at("id");
      const auto* row = view.leads().Find(id);
      if (!row || !VisibleTo(view, v)(row->owner_id)) return NotFound("no lead " + id);
      return Answer{LeadJson(*row, view.pool().policy()), row->version};
    });
  });

  r.Add("PATCH", "/api/v1/leads/{id}", [&s](const CallPtr& call) {
    RunPathCommand(s, call, 200, [](const std::string& id, const json& body) -> Result<d::Command> {
      std::vector<FieldError> errors;
      Fields f(body, errors);
      CheckPatchKeys(f, body, {"name", "company", "phone", "email", "source", "region"},
                     {"allow_duplicate"});
      d::EditLead c;
      c.lead_id = id;
      c.name = PatchText(f, "name", false);
      c.company = PatchText(f, "company", false);
      c.phone = PatchText(f, "phone", true, 50);
      c.email = PatchEmail(f, "email");
      c.source = PatchText(f, "source", true, 100);
      c.region = PatchText(f, "region", true, 100);
      c.allow_duplicate = f.Boolean("allow_duplicate", false).value_or(false);
      CRM_RETURN_IF_ERROR(FieldsOk(errors));
      return d::Command(std::move(c));
    });
  });

  r.Add("POST", "/api/v1/leads/{id}/assign", [&s](const CallPtr& call) {
    RunPathCommand(s, call, 200, [](const std::string& id, const json& body) -> Result<d::Command> {
      std::vector<FieldError> errors;
      Fields f(body, errors);
      auto owner = f.Text("owner_id", true, 64);
      CRM_RETURN_IF_ERROR(FieldsOk(errors));
      return d::Command(d::AssignLead{id, *owner});
    });
  });

  r.Add("POST", "/api/v1/leads/assign-auto", [&s](const CallPtr& call) {
    CommandSpec spec;
    spec.build = [](const d::Viewer&, const json& body) -> Result<d::Command> {
      std::vector<FieldError> errors;
      Fields f(body, errors);
      auto leads = f.Strings("lead_ids", false, 5000);
      auto strategy = f.OneOf("strategy", true, kStrategies);
      auto staff = f.Strings("staff_ids", true, 500);
      if (staff && staff->empty()) f.Fail("staff_ids", "must name at least one person");
      CRM_RETURN_IF_ERROR(FieldsOk(errors));
      return d::Command(d::AutoAssignLeads{leads, *d::ParseAssignStrategy(*strategy), *staff});
    };
    spec.reply = [](const writer::CommandResult& res) {
      const auto& out = std::get<d::AutoAssignOutcome>(res.outcome);
      json assignments = json::array();
      for (const auto& a : out.assignments) {
        assignments.push_back({{"lead_id", a.lead_id},
                               {"owner_id", a.owner_id},
                               {"version", VersionOf(res, a.lead_id)}});
      }
      return json{{"assignments", std::move(assignments)},
                  {"unassigned", out.unassigned},
                  {"position", res.last_position}};
    };
    RunCommand(s, call, std::move(spec));
  });

  r.Add("POST", "/api/v1/leads/{id}/claim", [&s](const CallPtr& call) {
    RunPathCommand(s, call, 200, [](const std::string& id, const json&) -> Result<d::Command> {
      return d::Command(d::ClaimLead{id});
    });
  });

  r.Add("POST", "/api/v1/leads/{id}/release",
        [&s](const CallPtr& call) { ReasonCommand<d::ReleaseLead>(s, call); });
  r.Add("POST", "/api/v1/leads/{id}/invalidate",
        [&s](const CallPtr& call) { ReasonCommand<d::InvalidateLead>(s, call); });
  r.Add("POST", "/api/v1/leads/{id}/void",
        [&s](const CallPtr& call) { ReasonCommand<d::VoidLead>(s, call); });

  r.Add("POST", "/api/v1/leads/{id}/follow-ups", [&s](const CallPtr& call) {
    std::string id = call->req.params.at("id");
    std::string fup = s.ids.New("fup");
    CommandSpec spec;
    spec.success_status = 201;
    spec.if_match_stream = id;
    spec.build = [id, fup](const d::Viewer&, const json& body) -> Result<d::Command> {
      CRM_ASSIGN_OR_RETURN(FollowUpParts p, ReadFollowUp(body));
      return d::Command(d::FollowUpLead{id, fup, p.channel, p.note, p.next_at});
    };
    spec.reply = [](const writer::CommandResult& res) { return FollowUpReply("lead_id", res); };
    RunCommand(s, call, std::move(spec));
  });

  r.Add("POST", "/api/v1/leads/{id}/convert", [&s](const CallPtr& call) {
    std::string id = call->req.params.at("id");
    CommandSpec spec;
    spec.if_match_stream = id;
    spec.build = [&s, id](const d::Viewer&, const json& body) -> Result<d::Command> {
      std::vector<FieldError> errors;
      Fields f(body, errors);
      d::ConvertLead c;
      c.lead_id = id;
      c.new_customer_id = s.ids.New("cus");
      c.new_contact_id = s.ids.New("ctc");
      c.new_opportunity_id = s.ids.New("opp");
      if (f.Has("customer") && f.Has("customer_id") && !f.IsNull("customer") &&
          !f.IsNull("customer_id")) {
        f.Fail("customer_id", "give at most one of customer and customer_id");
      }
      c.customer_id = f.Text("customer_id", false, 64);
      if (const json* cus = f.Object("customer", false)) {
        Fields cf(*cus, errors, "customer.");
        c.customer = ReadCustomerDetails(cf, false);
      }
      if (const json* ctc = f.Object("contact", false)) {
        Fields cf(*ctc, errors, "contact.");
        c.contact = ReadContactDetails(cf);
      }
      if (const json* opp = f.Object("opportunity", false)) {
        Fields of(*opp, errors, "opportunity.");
        c.opportunity = ReadOpportunityDetails(of);
      }
      CRM_RETURN_IF_ERROR(FieldsOk(errors));
      return d::Command(std::move(c));
    };
    spec.reply = [](const writer::CommandResult& res) {
      const auto& out = std::get<d::ConversionOutcome>(res.outcome);
      json j = DefaultReply(res);
      j["customer_id"] = out.customer_id;
      j["customer_created"] = out.customer_created;
      j["contact_id"] = out.contact_id ? json(*out.contact_id) : json(nullptr);
      j["opportunity_id"] = out.opportunity_id ? json(*out.opportunity_id) : json(nullptr);
      return j;
    };
    RunCommand(s, call, std::move(spec));
  });
}

}  // namespace crm::api
