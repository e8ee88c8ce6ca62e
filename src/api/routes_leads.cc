// Leads (线索).
#include <algorithm>
#include <map>

#include "api/body.h"
#include "api/csv.h"
#include "api/handler_util.h"
#include "api/list_filters.h"
#include "api/request_parts.h"
#include "api/routes.h"
#include "api/text.h"
#include "api/views_json.h"

namespace crm::api {

namespace d = crm::domain;

namespace {

const std::vector<std::string> kStrategies = {"round_robin", "least_loaded", "region"};

// The fields of a new lead, as POST /leads and an import's rows give them.
void ReadNewLead(Fields& f, d::CreateLead& c) {
  auto name = f.Text("name", true);
  auto company = f.Text("company", true);
  c.phone = f.Text("phone", false, 50);
  c.email = f.Email("email", false);
  c.source = f.Text("source", false, 100);
  c.region = f.Text("region", false, 100);
  c.name = name.value_or("");
  c.company = company.value_or("");
}

// ---- import (导入) ----

const std::vector<std::string> kImportFields = {"name",  "company", "phone",
                                                "email", "source",  "region"};
// A CSV header → the lead field it names: English, or Chinese as spreadsheets say it.
const std::map<std::string, std::string, std::less<>> kImportHeaders = {
    {"name", "name"},      {"姓名", "name"},        {"联系人", "name"}, {"company", "company"},
    {"公司", "company"},   {"公司名称", "company"}, {"phone", "phone"}, {"电话", "phone"},
    {"手机", "phone"},     {"手机号", "phone"},     {"email", "email"}, {"邮箱", "email"},
    {"电子邮箱", "email"}, {"source", "source"},    {"来源", "source"}, {"region", "region"},
    {"地区", "region"},    {"区域", "region"}};

// One row of an upload before it is decided: its number and its body (a lead's fields).
struct UploadRow {
  size_t number = 0;
  json body;
};

// The rows of a CSV upload: a header row naming the columns, then one lead per row; empty
// rows are skipped. 400 for the whole file when it cannot be read or its header is wrong.
Result<std::vector<UploadRow>> CsvRows(std::string_view bytes) {
  CRM_ASSIGN_OR_RETURN(std::string text, DecodeUpload(bytes));
  CRM_ASSIGN_OR_RETURN(auto records, ParseCsv(text, d::kMaxImportRows + 1));
  if (records.empty()) return InvalidField("body", "the file is empty: it needs a header row");
  std::vector<std::string> columns;  // the field of each column; "" for an unnamed one
  std::vector<FieldError> errors;
  for (size_t i = 0; i < records[0].fields.size(); ++i) {
    std::string header = d::LowerAscii(TrimSpace(records[0].fields[i]));
    auto it = kImportHeaders.find(header);
    if (header.empty()) {
      columns.emplace_back();
    } else if (it == kImportHeaders.end()) {
      errors.push_back({"column " + std::to_string(i + 1),
                        "'" + header +
                            "' is not a lead field: name (姓名), company (公司), phone (电话), "
                            "email (邮箱), source (来源) or region (地区)"});
      columns.emplace_back();
    } else if (std::find(columns.begin(), columns.end(), it->second) != columns.end()) {
      errors.push_back({"column " + std::to_string(i + 1), "a second " + it->second + " column"});
      columns.emplace_back();
    } else {
      columns.push_back(it->second);
    }
  }
  for (const char* needed : {"name", "company"}) {
    if (std::find(columns.begin(), columns.end(), needed) == columns.end()) {
      errors.push_back({"header", std::string("the header row names no ") + needed + " column"});
    }
  }
  CRM_RETURN_IF_ERROR(FieldsOk(errors));
  std::vector<UploadRow> rows;
  for (size_t r = 1; r < records.size(); ++r) {
    UploadRow row{records[r].number, json::object()};
    bool empty = true;
    for (size_t i = 0; i < records[r].fields.size(); ++i) {
      std::string value = TrimSpace(records[r].fields[i]);
      if (value.empty()) continue;
      empty = false;
      if (i < columns.size() && !columns[i].empty()) {
        row.body[columns[i]] = std::move(value);
      } else {
        // A value under no header: kept under its column, so that the row is refused.
        row.body["column " + std::to_string(i + 1)] = std::move(value);
      }
    }
    if (!empty) rows.push_back(std::move(row));
  }
  return rows;
}

// The rows of a JSON upload: an array of lead bodies, numbered from 1.
Result<std::vector<UploadRow>> JsonRows(std::string_view bytes) {
  CRM_ASSIGN_OR_RETURN(json array, ParseJson(bytes, d::kMaxImportRows, "rows"));
  if (!array.is_array()) {
    return MakeError(ErrorKind::kMalformed, "malformed_json",
                     "a JSON import is an array of lead bodies");
  }
  std::vector<UploadRow> rows;
  for (size_t i = 0; i < array.size(); ++i) rows.push_back({i + 1, std::move(array[i])});
  return rows;
}

// What an import decided before the writer saw it, for its answer.
struct ImportPlan {
  bool dry_run = false;
  size_t rows = 0;
  std::vector<size_t> numbers;   // the row number of each lead of the command
  json invalid = json::array();  // rows refused before deciding: {row, errors}
};

json RowErrorsJson(const std::vector<FieldError>& fields) {
  json errors = json::array();
  for (const auto& f : fields) errors.push_back({{"field", f.field}, {"message", f.message}});
  return errors;
}

json ImportReply(const ImportPlan& plan, const writer::CommandResult& r) {
  json duplicates = json::array();
  json invalid = plan.invalid;
  json created = json::array();
  std::map<std::string, size_t> row_of;  // lead id → its row, for duplicates of a row
  if (const auto* out = std::get_if<d::ImportOutcome>(&r.outcome)) {
    for (size_t i = 0; i < out->rows.size() && i < plan.numbers.size(); ++i) {
      const d::ImportRowOutcome& o = out->rows[i];
      size_t number = plan.numbers[i];
      if (o.created) {
        row_of[*o.created] = number;
        if (!plan.dry_run) created.push_back({{"row", number}, {"id", *o.created}});
      } else if (o.duplicate_of) {
        json dup = {{"row", number}, {"existing_id", *o.duplicate_of}};
        if (auto it = row_of.find(*o.duplicate_of); it != row_of.end()) {
          // A duplicate of an earlier row of the file: in a dry run its lead does not exist.
          dup["same_as_row"] = it->second;
          if (plan.dry_run) dup["existing_id"] = nullptr;
        }
        duplicates.push_back(std::move(dup));
      } else if (o.refusal) {
        std::vector<FieldError> fields = o.refusal->fields;
        if (fields.empty()) fields.push_back({"", o.refusal->detail});
        invalid.push_back({{"row", number}, {"errors", RowErrorsJson(fields)}});
      }
    }
  }
  std::sort(invalid.begin(), invalid.end(),
            [](const json& a, const json& b) { return a["row"] < b["row"]; });
  // In a dry run, `created` counts what would be created.
  json answer = {{"dry_run", plan.dry_run},       {"rows", plan.rows},
                 {"created", row_of.size()},      {"duplicates", std::move(duplicates)},
                 {"invalid", std::move(invalid)}, {"position", r.last_position}};
  if (!plan.dry_run) answer["leads"] = std::move(created);
  return answer;
}

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
      ReadNewLead(f, c);
      c.owner_id = f.Text("owner_id", false, 64);
      c.allow_duplicate = f.Boolean("allow_duplicate", false).value_or(false);
      CRM_RETURN_IF_ERROR(FieldsOk(errors));
      return d::Command(std::move(c));
    };
    RunCommand(s, call, std::move(spec));
  });

  // Import: a CSV file (UTF-8, UTF-16 or GB18030) or a JSON array of lead bodies. Rows are
  // checked here as POST /leads checks a body; the valid ones go to the writer as one
  // command, which skips duplicates (撞单) and reports each row; a dry run decides the same
  // and records nothing. The leads go to the importer (a rep) or the pool.
  r.Add("POST", "/api/v1/leads/import", [&s](const CallPtr& call) {
    auto plan = std::make_shared<ImportPlan>();
    CommandSpec spec;
    spec.build_upload = [&s, plan](const d::Viewer&, const HttpRequest& req) -> Result<d::Command> {
      CRM_RETURN_IF_ERROR(RequireKnownParams(req, {"dry_run"}));
      auto dry_run = OptParam(req, "dry_run");
      if (dry_run && *dry_run != "true" && *dry_run != "false") {
        return InvalidField("dry_run", "must be true or false");
      }
      plan->dry_run = dry_run == "true";
      bool is_json = d::LowerAscii(req.content_type).starts_with("application/json");
      CRM_ASSIGN_OR_RETURN(auto rows, is_json ? JsonRows(req.body) : CsvRows(req.body));
      plan->rows = rows.size();
      d::ImportLeads c;
      c.dry_run = plan->dry_run;
      for (auto& row : rows) {
        std::vector<FieldError> errors;
        if (!row.body.is_object()) {
          errors.push_back({"", "a row is an object of lead fields"});
        } else {
          Fields f(row.body, errors);
          for (const auto& [key, value] : row.body.items()) {
            if (std::find(kImportFields.begin(), kImportFields.end(), key) == kImportFields.end())
              f.Fail(key,
                     "is not a field an import sets (name, company, phone, email, source, "
                     "region)");
          }
          d::CreateLead lead;
          lead.lead_id = s.ids.New("lead");
          ReadNewLead(f, lead);
          if (errors.empty()) {
            c.leads.push_back(std::move(lead));
            plan->numbers.push_back(row.number);
            continue;
          }
        }
        plan->invalid.push_back({{"row", row.number}, {"errors", RowErrorsJson(errors)}});
      }
      return d::Command(std::move(c));
    };
    spec.reply = [plan](const writer::CommandResult& res) { return ImportReply(*plan, res); };
    RunCommand(s, call, std::move(spec));
  });

  r.Add("GET", "/api/v1/leads", [&s](const CallPtr& call) {
    RunQuery(s, call, ListParams(kLeadFilterParams),
             [call](const d::Viewer& v, const ReadView& view) -> Result<Answer> {
               CRM_ASSIGN_OR_RETURN(size_t limit, LimitParam(call->req));
               CRM_ASSIGN_OR_RETURN(auto f, LeadFilterFrom(call->req, view, v));
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
