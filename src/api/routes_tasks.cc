// Tasks (提醒): what a person must do, derived from the read models (follow-ups whose
// next_at has come, installments of their customers due within 7 days or overdue, their
// items due for recycle) and the tasks they set themselves.
#include <algorithm>

#include "api/body.h"
#include "api/handler_util.h"
#include "api/routes.h"
#include "projections/customer_projection.h"
#include "projections/lead_projection.h"

namespace crm::api {

namespace d = crm::domain;

namespace {

// How far ahead installments count as due.
constexpr std::chrono::days kInstallmentsAhead{7};

struct Item {
  std::string kind;
  Time due_at;
  std::string record_id;
  std::string title;
  std::string task_id;  // personal tasks only
};

std::optional<Time> NextFollowUp(const std::vector<std::unique_ptr<views::FollowUpRowT>>& list) {
  if (list.empty() || list.front()->next_at == 0) return std::nullopt;
  return FromMillis(list.front()->next_at);
}

}  // namespace

Result<nlohmann::json> TasksFor(const Services& s, const projections::ReadModels::View& view,
                                const d::Viewer& v, const std::optional<std::string>& due) {
  if (due && *due != "overdue" && *due != "today" && *due != "week") {
    return InvalidField("due", "must be overdue, today or week");
  }
  const Time now = s.clock.Now();
  const Date today = BusinessDay(now, s.utc_offset);
  const Time end_of_today = StartOfBusinessDay(today + std::chrono::days(1), s.utc_offset);
  // What is due by `until`; without `due`, every open item (a follow-up once its next_at
  // has come, a personal task whenever it is due).
  std::optional<Time> until;
  if (due) {
    until = *due == "overdue" ? now : *due == "today" ? end_of_today : now + std::chrono::days(7);
  }
  auto in_scope = [&](Time at) { return !until || at <= *until; };
  auto follow_up_due = [&](Time at) { return at <= until.value_or(now); };

  const d::PoolPolicy& policy = view.pool().policy();
  const Time recycle_horizon = now + policy.remind_before.value_or(Seconds(0));
  std::vector<Item> items;
  ForEachHeld(
      view, v.id,
      [&](const views::LeadRowT& row) {
        std::string title = row.name + " · " + row.company;
        if (row.next_follow_up_at && follow_up_due(FromMillis(row.next_follow_up_at))) {
          items.push_back({"follow_up", FromMillis(row.next_follow_up_at), row.id, title, ""});
        }
        if (auto at = projections::RecycleAt(row, policy);
            at && *at <= recycle_horizon && in_scope(*at)) {
          items.push_back({"recycle", *at, row.id, title, ""});
        }
      },
      [&](const views::CustomerRowT& row) {
        auto next = NextFollowUp(row.follow_ups);
        if (next && follow_up_due(*next)) {
          items.push_back({"follow_up", *next, row.id, row.name, ""});
        }
        if (auto at = projections::RecycleAt(row, policy);
            at && *at <= recycle_horizon && in_scope(*at)) {
          items.push_back({"recycle", *at, row.id, row.name, ""});
        }
      });
  for (const auto& id : view.customers().ContractsOf(v.id)) {
    const auto* k = view.customers().FindContract(id);
    if (!k) continue;
    for (const auto& inst : projections::Installments(*k, today)) {
      if (inst.status == "paid") continue;
      Date due_on = FromDays(static_cast<int32_t>(inst.due_on_days));
      if (due_on > today + kInstallmentsAhead) continue;
      Time at = StartOfBusinessDay(due_on, s.utc_offset);
      if (!in_scope(at)) continue;
      // The title names the contract and the day; the amounts are the contract's to show.
      items.push_back({"installment", at, k->id, k->number + " · " + FormatDate(due_on), ""});
    }
  }
  for (const auto& id : view.org().OpenTasksOf(v.id)) {
    const auto* t = view.org().FindTask(id);
    if (!t || !in_scope(FromMillis(t->due_at))) continue;
    items.push_back({"task", FromMillis(t->due_at), t->record_id, t->title, t->id});
  }
  std::sort(items.begin(), items.end(), [](const Item& a, const Item& b) {
    return std::tie(a.due_at, a.kind, a.record_id, a.task_id) <
           std::tie(b.due_at, b.kind, b.record_id, b.task_id);
  });
  nlohmann::json list = nlohmann::json::array();
  for (const auto& i : items) {
    nlohmann::json j = {
        {"kind", i.kind},
        {"due_at", FormatTime(i.due_at)},
        {"record_id", i.record_id.empty() ? nlohmann::json(nullptr) : nlohmann::json(i.record_id)},
        {"title", i.title},
        {"overdue", i.due_at < now}};
    if (!i.task_id.empty()) j["task_id"] = i.task_id;
    list.push_back(std::move(j));
  }
  return nlohmann::json{{"staff_id", v.id}, {"count", list.size()}, {"items", std::move(list)}};
}

void AddTaskRoutes(Router& r, Services& s) {
  r.Add("GET", "/api/v1/tasks/me", [&s](const CallPtr& call) {
    RunQuery(s, call, {"due"},
             [&s, call](const d::Viewer& v, const ReadView& view) -> Result<Answer> {
               CRM_ASSIGN_OR_RETURN(nlohmann::json body,
                                    TasksFor(s, view, v, OptParam(call->req, "due")));
               return Answer{std::move(body), std::nullopt};
             });
  });

  r.Add("POST", "/api/v1/tasks", [&s](const CallPtr& call) {
    CommandSpec spec;
    spec.success_status = 201;
    spec.build = [&s](const d::Viewer&, const json& body) -> Result<d::Command> {
      std::vector<FieldError> errors;
      Fields f(body, errors);
      d::CreateTask c;
      c.task_id = s.ids.New("task");
      c.title = f.Text("title", true, 500).value_or("");
      c.due_at = f.TimeField("due_at", true).value_or(Time{});
      c.record_id = f.Text("record_id", false, 64);
      CRM_RETURN_IF_ERROR(FieldsOk(errors));
      return d::Command(std::move(c));
    };
    RunCommand(s, call, std::move(spec));
  });

  r.Add("POST", "/api/v1/tasks/{id}/done", [&s](const CallPtr& call) {
    RunPathCommand(s, call, 200, [](const std::string& id, const json&) -> Result<d::Command> {
      return d::Command(d::CompleteTask{id});
    });
  });
}

}  // namespace crm::api
