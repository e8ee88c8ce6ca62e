// The pool (公海): its policy, what is in it, and each rep's counters.
#include "api/body.h"
#include "api/handler_util.h"
#include "api/routes.h"
#include "api/views_json.h"

namespace crm::api {

namespace d = crm::domain;

namespace {

// A pool rule spans at most ten years: longer is a mistake, and dates computed from it
// must stay writable.
constexpr Seconds kLongestRule = std::chrono::days(3650);

// Reads the whole policy: every field present, null where the rule is off.
Result<d::PoolPolicy> ParsePolicy(const json& body) {
  std::vector<FieldError> errors;
  Fields f(body, errors);
  d::PoolPolicy p;
  auto duration = [&](const char* name, std::optional<Seconds>& out) {
    if (!f.Has(name)) return f.Fail(name, "is required (null turns the rule off)");
    if (f.IsNull(name)) return;
    const json& v = body.at(name);
    auto parsed = v.is_string() ? ParseDuration(v.get<std::string>()) : std::nullopt;
    if (!parsed || parsed->count() <= 0) {
      return f.Fail(name, "must be a positive ISO 8601 duration such as P15D or PT12H, or null");
    }
    if (*parsed > kLongestRule) return f.Fail(name, "must be at most P3650D (ten years), or null");
    out = *parsed;
  };
  auto count = [&](const char* name, std::optional<int32_t>& out) {
    if (!f.Has(name)) return f.Fail(name, "is required (null turns the rule off)");
    if (f.IsNull(name)) return;
    auto n = f.Integer(name, true, 0, 1'000'000);
    if (n) out = static_cast<int32_t>(*n);
  };
  duration("recycle_no_follow_up", p.recycle_no_follow_up);
  duration("recycle_no_deal", p.recycle_no_deal);
  duration("remind_before", p.remind_before);
  count("daily_claim_limit", p.daily_claim_limit);
  duration("previous_owner_block", p.previous_owner_block);
  count("max_owned_customers", p.max_owned_customers);
  count("max_owned_leads", p.max_owned_leads);
  CRM_RETURN_IF_ERROR(FieldsOk(errors));
  return p;
}

// Pool lists walk leads first, then customers; the cursor says where: "L<id>" or "C<id>".
json PoolPage(const ReadView& view, const d::Viewer& v, const HttpRequest& req,
              const std::optional<std::string>& kind, size_t limit) {
  std::string cursor = CursorParam(req);
  auto visible = VisibleTo(view, v);
  json items = json::array();
  std::optional<std::string> next;
  bool leads_done = cursor.size() > 0 && cursor[0] == 'C';
  if ((!kind || *kind == "lead") && !leads_done) {
    projections::LeadFilter f;
    f.pool_only = true;
    f.region = OptParam(req, "region");
    f.q = OptParam(req, "q").value_or("");
    auto page = view.leads().List(f, visible, cursor.empty() ? "" : cursor.substr(1), limit);
    for (const auto* row : page.items) items.push_back(PoolLeadJson(*row));
    if (page.next_cursor) return ListJson(std::move(items), "L" + *page.next_cursor);
    cursor.clear();
  }
  if ((!kind || *kind == "customer") && items.size() < limit) {
    projections::CustomerFilter f;
    f.pool_only = true;
    f.region = OptParam(req, "region");
    f.q = OptParam(req, "q").value_or("");
    auto page = view.customers().ListCustomers(f, visible, leads_done ? cursor.substr(1) : "",
                                               limit - items.size());
    for (const auto* row : page.items) items.push_back(PoolCustomerJson(*row));
    if (page.next_cursor) next = "C" + *page.next_cursor;
  }
  return ListJson(std::move(items), next);
}

}  // namespace

json PoolJson(const ReadView& view, const d::Viewer& v) {
  return PoolPage(view, v, HttpRequest{}, std::nullopt, 50);
}

void AddPoolRoutes(Router& r, Services& s) {
  r.Add("GET", "/api/v1/pool/policy", [&s](const CallPtr& call) {
    RunQuery(s, call, {}, [](const d::Viewer&, const ReadView& view) -> Result<Answer> {
      json j = PolicyJson(view.pool().policy());
      j["version"] = view.pool().policy_version();
      return Answer{std::move(j), view.pool().policy_version()};
    });
  });

  r.Add("PUT", "/api/v1/pool/policy", [&s](const CallPtr& call) {
    CommandSpec spec;
    spec.if_match_stream = std::string(d::kPoolPolicyStream);
    spec.build = [](const d::Viewer& v, const json& body) -> Result<d::Command> {
      if (v.role != d::Role::kAdmin) return Forbidden("only admins change the pool policy");
      CRM_ASSIGN_OR_RETURN(d::PoolPolicy p, ParsePolicy(body));
      return d::Command(d::SetPoolPolicy{p});
    };
    RunCommand(s, call, std::move(spec));
  });

  r.Add("GET", "/api/v1/pool", [&s](const CallPtr& call) {
    RunQuery(s, call, ListParams({"kind", "region", "q"}),
             [call](const d::Viewer& v, const ReadView& view) -> Result<Answer> {
               CRM_ASSIGN_OR_RETURN(size_t limit, LimitParam(call->req));
               auto kind = OptParam(call->req, "kind");
               if (kind && *kind != "lead" && *kind != "customer") {
                 return InvalidField("kind", "must be lead or customer");
               }
               return Answer{PoolPage(view, v, call->req, kind, limit), std::nullopt};
             });
  });

  r.Add("GET", "/api/v1/pool/me", [&s](const CallPtr& call) {
    RunQuery(s, call, {}, [&s](const d::Viewer& v, const ReadView& view) -> Result<Answer> {
      const d::PoolPolicy& p = view.pool().policy();
      Time now = s.clock.Now();
      Date today = BusinessDay(now, s.utc_offset);
      Time horizon = now + p.remind_before.value_or(Seconds(0));
      json due = json::array();
      auto remind = [&](std::optional<Time> at, json item) {
        if (!at || *at > horizon) return;
        item["recycle_at"] = FormatTime(*at);
        due.push_back(std::move(item));
      };
      int64_t owned_leads = 0;
      int64_t owned_customers = 0;
      ForEachHeld(
          view, v.id,
          [&](const views::LeadRowT& row) {
            ++owned_leads;
            remind(
                projections::RecycleAt(row, p),
                {{"kind", "lead"}, {"id", row.id}, {"name", row.name}, {"company", row.company}});
          },
          [&](const views::CustomerRowT& row) {
            ++owned_customers;
            remind(projections::RecycleAt(row, p),
                   {{"kind", "customer"}, {"id", row.id}, {"name", row.name}});
          });
      std::sort(due.begin(), due.end(), [](const json& a, const json& b) {
        return a["recycle_at"].get<std::string>() < b["recycle_at"].get<std::string>();
      });
      auto num = [](const std::optional<int32_t>& n) { return n ? json(*n) : json(nullptr); };
      return Answer{json{{"staff_id", v.id},
                         {"claims_today", view.pool().ClaimsOn(v.id, today)},
                         {"daily_claim_limit", num(p.daily_claim_limit)},
                         {"owned_customers", owned_customers},
                         {"max_owned_customers", num(p.max_owned_customers)},
                         {"owned_leads", owned_leads},
                         {"max_owned_leads", num(p.max_owned_leads)},
                         {"remind_before",
                          p.remind_before ? json(FormatDuration(*p.remind_before)) : json(nullptr)},
                         {"due_for_recycle", std::move(due)}},
                    std::nullopt};
    });
  });
}

}  // namespace crm::api
