// Targets and the dashboard: the month's business of the people the caller may see.
#include <algorithm>

#include "api/body.h"
#include "api/handler_util.h"
#include "api/routes.h"
#include "api/views_json.h"

namespace crm::api {

namespace d = crm::domain;

namespace {

// The people a dashboard sums, as the caller may see them: a sales rep themself; a
// manager the people of their department subtree; finance, auditors and admins everyone,
// and the records nobody owns (""). `department_id` narrows it to a subtree, which must
// lie within what the caller sees.
Result<std::vector<std::string>> DashboardScope(const ReadView& view, const d::Viewer& v,
                                                const std::optional<std::string>& department_id) {
  const auto& org = view.org();
  std::optional<std::string> root;  // nullopt: the whole company
  if (v.role == d::Role::kSales) {
    if (department_id) return Forbidden("a sales rep's dashboard is their own");
    return std::vector<std::string>{v.id};
  }
  if (department_id) {
    if (!org.FindDepartment(*department_id)) return NotFound("no department " + *department_id);
    if (v.role == d::Role::kManager &&
        !(v.department_id && org.tree().InSubtree(*department_id, *v.department_id))) {
      return Forbidden(*department_id + " is not a department you manage");
    }
    root = department_id;
  } else if (v.role == d::Role::kManager) {
    if (!v.department_id) return std::vector<std::string>{v.id};
    root = v.department_id;
  }
  std::vector<std::string> people;
  if (!root) people.push_back("");  // the pool's records, for the company-wide view
  for (const auto& [id, row] : org.staff()) {
    if (!root || (!row.department_id.empty() && org.tree().InSubtree(row.department_id, *root))) {
      people.push_back(id);
    }
  }
  return people;
}

json LeaderboardJson(const ReadView& view, const Period& period,
                     const std::vector<std::string>& people) {
  const auto& dash = view.dashboard();
  struct Entry {
    json j;
    double attainment;
    int64_t received;
  };
  std::vector<Entry> entries;
  for (const auto& id : people) {
    const auto* staff = view.org().FindStaff(id);
    if (!staff) continue;
    const auto* row = dash.PeriodOf(period, id);
    const auto* target = dash.TargetOf(period, id);
    // Those who sell, and anyone with business or a target this month.
    bool sells = staff->role == "sales" || staff->role == "manager";
    if (!sells && !target &&
        !(row && (row->contracts_signed > 0 || row->payments > 0 || row->reversals > 0)))
      continue;
    Money contracts, received, goal;
    if (row) {
      for (const auto& m : row->contract_amount) contracts[m->currency] += m->amount;
      for (const auto& m : row->received) received[m->currency] += m->amount;
    }
    double attainment = 0;
    if (target) {
      goal[target->currency] = target->amount;
      if (target->amount > 0) {
        auto got = received.find(target->currency);
        attainment = got == received.end()
                         ? 0.0
                         : static_cast<double>(got->second) / static_cast<double>(target->amount);
      }
    }
    int64_t sort_received = received.empty() ? 0 : received.begin()->second;
    if (target && received.count(target->currency)) sort_received = received[target->currency];
    entries.push_back({json{{"staff_id", id},
                            {"name", staff->name},
                            {"contracts", MoneyJson(contracts)},
                            {"received", MoneyJson(received)},
                            {"target", MoneyJson(goal)},
                            {"attainment", attainment}},
                       attainment, sort_received});
  }
  // Best first: attainment, then what was received, then by id for a stable order.
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    if (a.attainment != b.attainment) return a.attainment > b.attainment;
    if (a.received != b.received) return a.received > b.received;
    return a.j["staff_id"] < b.j["staff_id"];
  });
  json board = json::array();
  for (auto& e : entries) board.push_back(std::move(e.j));
  return board;
}

json DashboardJson(const ReadView& view, const Period& period,
                   const std::vector<std::string>& people, Date today) {
  projections::DashboardFigures f = view.dashboard().Sum(period, people, today);
  json by_state = json::object();
  for (size_t i = 0; i < projections::kLeadStates.size(); ++i) {
    by_state[projections::kLeadStates[i]] = f.leads_by_state[i];
  }
  json by_stage = json::array();
  for (size_t i = 0; i < projections::kStageCount; ++i) {
    by_stage.push_back({{"stage", std::string(d::Name(static_cast<d::Stage>(i)))},
                        {"count", f.by_stage[i].count},
                        {"amount", MoneyJson(f.by_stage[i].amount)},
                        {"weighted", MoneyJson(f.by_stage[i].weighted)}});
  }
  double rate = f.leads_created == 0
                    ? 0.0
                    : static_cast<double>(f.leads_converted) / static_cast<double>(f.leads_created);
  return json{
      {"period", period.ToString()},
      {"position", view.position()},
      {"leads",
       {{"created", f.leads_created},
        {"assigned", f.leads_assigned},
        {"converted", f.leads_converted},
        {"conversion_rate", rate},
        {"by_state", std::move(by_state)}}},
      {"pool",
       {{"leads", f.pool_leads},
        {"customers", f.pool_customers},
        {"claimed", f.claimed},
        {"recycled", f.recycled}}},
      {"pipeline", {{"by_stage", std::move(by_stage)}, {"forecast", MoneyJson(f.forecast)}}},
      {"contracts", {{"signed", f.contracts_signed}, {"amount", MoneyJson(f.contract_amount)}}},
      {"payments", {{"count", f.payments}, {"received", MoneyJson(f.received)}}},
      {"receivables",
       {{"outstanding", MoneyJson(f.outstanding)}, {"overdue", MoneyJson(f.overdue)}}},
      {"leaderboard", LeaderboardJson(view, period, people)}};
}

}  // namespace

Result<json> DashboardFor(const Services& s, const ReadView& view, const d::Viewer& v,
                          const std::optional<std::string>& period_text,
                          const std::optional<std::string>& department_id) {
  Date today = Today(s);
  std::optional<Period> period;
  if (period_text) {
    period = ParsePeriod(*period_text);
    if (!period) return InvalidField("period", "must be a month, YYYY-MM");
  } else {
    period = PeriodOf(today);
  }
  CRM_ASSIGN_OR_RETURN(auto people, DashboardScope(view, v, department_id));
  return DashboardJson(view, *period, people, today);
}

void AddDashboardRoutes(Router& r, Services& s) {
  r.Add("GET", "/api/v1/dashboard", [&s](const CallPtr& call) {
    RunQuery(s, call, {"period", "department_id"},
             [&s, call](const d::Viewer& v, const ReadView& view) -> Result<Answer> {
               CRM_ASSIGN_OR_RETURN(json body,
                                    DashboardFor(s, view, v, OptParam(call->req, "period"),
                                                 OptParam(call->req, "department_id")));
               return Answer{std::move(body), std::nullopt};
             });
  });

  r.Add("PUT", "/api/v1/targets", [&s](const CallPtr& call) {
    // The answer echoes the target set; a retry with the same key has the same body.
    auto target = std::make_shared<json>();
    CommandSpec spec;
    spec.build = [target](const d::Viewer&, const json& body) -> Result<d::Command> {
      std::vector<FieldError> errors;
      Fields f(body, errors);
      d::SetTarget c;
      if (auto p = f.Text("period", true, 7)) {
        if (auto period = ParsePeriod(*p))
          c.period = *period;
        else
          f.Fail("period", "must be a month, YYYY-MM");
      }
      c.staff_id = f.Text("staff_id", false, 64);
      c.department_id = f.Text("department_id", false, 64);
      if (c.staff_id.has_value() == c.department_id.has_value()) {
        f.Fail("staff_id", "name exactly one of staff_id and department_id");
      }
      c.amount = f.Amount("amount", true).value_or(0);
      c.currency = f.Currency("currency", true).value_or("");
      CRM_RETURN_IF_ERROR(FieldsOk(errors));
      *target = {{"period", c.period.ToString()}, {"amount", c.amount}, {"currency", c.currency}};
      if (c.staff_id) (*target)["staff_id"] = *c.staff_id;
      if (c.department_id) (*target)["department_id"] = *c.department_id;
      return d::Command(std::move(c));
    };
    spec.reply = [target](const writer::CommandResult& result) {
      json j = *target;
      j["position"] = result.last_position;
      return j;
    };
    RunCommand(s, call, std::move(spec));
  });
}

}  // namespace crm::api
