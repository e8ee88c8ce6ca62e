#include "api/views_json.h"

#include "api/handler_util.h"
#include "api/json_text.h"
#include "domain/time.h"
#include "projections/view_util.h"

namespace crm::api {

namespace d = crm::domain;

json TimeOrNull(int64_t ms) { return ms == 0 ? json(nullptr) : json(FormatTime(FromMillis(ms))); }
json TextOrNull(const std::string& s) { return s.empty() ? json(nullptr) : json(s); }
json DateJson(int32_t days) { return FormatDate(FromDays(days)); }

json MoneyJson(const Money& m) {
  json j = json::object();
  for (const auto& [currency, amount] : m) j[currency] = amount;
  return j;
}

json StaffJson(const views::StaffRowT& r) {
  return json{{"id", r.id},
              {"name", r.name},
              {"email", r.email},
              {"role", r.role},
              {"department_id", TextOrNull(r.department_id)},
              {"region", TextOrNull(r.region)},
              {"departed", r.departed},
              {"departed_at", TimeOrNull(r.departed_at)},
              {"created_at", TimeOrNull(r.created_at)},
              {"version", r.version}};
}

json DepartmentTreeJson(const projections::OrgProjection& org) {
  std::map<std::string, std::vector<const views::DepartmentRowT*>> children;
  for (const auto& [id, row] : org.departments()) children[row.parent_id].push_back(&row);
  std::function<json(const std::string&)> build = [&](const std::string& parent) {
    json list = json::array();
    for (const auto* row : children[parent]) {
      size_t members = 0;
      for (const auto& [sid, s] : org.staff()) members += s.department_id == row->id && !s.departed;
      list.push_back(json{{"id", row->id},
                          {"name", row->name},
                          {"parent_id", TextOrNull(row->parent_id)},
                          {"staff_count", members},
                          {"created_at", TimeOrNull(row->created_at)},
                          {"version", row->version},
                          {"children", build(row->id)}});
    }
    return list;
  };
  return json{{"items", build("")}};
}

json PolicyJson(const d::PoolPolicy& p) {
  auto dur = [](const std::optional<Seconds>& s) {
    return s ? json(FormatDuration(*s)) : json(nullptr);
  };
  auto num = [](const std::optional<int32_t>& n) { return n ? json(*n) : json(nullptr); };
  return json{{"recycle_no_follow_up", dur(p.recycle_no_follow_up)},
              {"recycle_no_deal", dur(p.recycle_no_deal)},
              {"remind_before", dur(p.remind_before)},
              {"daily_claim_limit", num(p.daily_claim_limit)},
              {"previous_owner_block", dur(p.previous_owner_block)},
              {"max_owned_customers", num(p.max_owned_customers)},
              {"max_owned_leads", num(p.max_owned_leads)}};
}

namespace {

json TimeJson(const std::optional<Time>& t) { return t ? json(FormatTime(*t)) : json(nullptr); }

// The fields of an object, written into a json value.
class ValueFields {
 public:
  explicit ValueFields(json& j) : j_(j) {}
  // The object whose fields `fields(f)` writes.
  template <class Fn>
  static json Object(Fn&& fields) {
    json o = json::object();
    ValueFields f(o);
    fields(f);
    return o;
  }
  void Text(const char* key, const std::string& v) { j_[key] = v; }
  void TextOrNull(const char* key, const std::string& v) { j_[key] = api::TextOrNull(v); }
  void TimeOrNull(const char* key, int64_t ms) { j_[key] = api::TimeOrNull(ms); }
  void TimeOrNull(const char* key, const std::optional<Time>& t) { j_[key] = TimeJson(t); }
  void Int(const char* key, int64_t v) { j_[key] = v; }
  void UInt(const char* key, uint64_t v) { j_[key] = v; }
  void Bool(const char* key, bool v) { j_[key] = v; }
  template <class Items, class Fields>
  void Objects(const char* key, const Items& items, Fields&& fields) {
    json list = json::array();
    for (const auto& item : items) {
      list.push_back(Object([&](ValueFields& f) { fields(f, *item); }));
    }
    j_[key] = std::move(list);
  }

 private:
  json& j_;
};

// The same fields written as JSON text, in the order given: each object's fields must come
// in ascending order of their keys, so that the text is what JsonText gives for the value.
class TextFields {
 public:
  explicit TextFields(JsonWriter& w) : w_(w) {}
  // Writes the object whose fields `fields(f)` writes.
  template <class Fn>
  static void Object(JsonWriter& w, Fn&& fields) {
    w.BeginObject();
    TextFields f(w);
    fields(f);
    w.EndObject();
  }
  void Text(const char* key, const std::string& v) {
    w_.Key(key);
    w_.String(v);
  }
  void TextOrNull(const char* key, const std::string& v) {
    w_.Key(key);
    v.empty() ? w_.Null() : w_.String(v);
  }
  void TimeOrNull(const char* key, int64_t ms) {
    TimeOrNull(key, ms == 0 ? std::nullopt : std::optional<Time>(FromMillis(ms)));
  }
  void TimeOrNull(const char* key, const std::optional<Time>& t) {
    w_.Key(key);
    t ? w_.String(FormatTime(*t)) : w_.Null();
  }
  void Int(const char* key, int64_t v) {
    w_.Key(key);
    w_.Int(v);
  }
  void UInt(const char* key, uint64_t v) {
    w_.Key(key);
    w_.UInt(v);
  }
  void Bool(const char* key, bool v) {
    w_.Key(key);
    w_.Bool(v);
  }
  template <class Items, class Fields>
  void Objects(const char* key, const Items& items, Fields&& fields) {
    w_.Key(key);
    w_.BeginArray();
    for (const auto& item : items) {
      Object(w_, [&](TextFields& f) { fields(f, *item); });
    }
    w_.EndArray();
  }

 private:
  JsonWriter& w_;
};

// A follow-up's fields, in ascending order of their keys (see TextFields).
template <class Fields>
void FollowUpFields(Fields& f, const views::FollowUpRowT& u) {
  f.TimeOrNull("at", u.at);
  f.Text("by", u.by);
  f.Text("channel", u.channel);
  f.Text("id", u.id);
  f.TimeOrNull("next_at", u.next_at);
  f.Text("note", u.note);
}

json FollowUpsJson(const std::vector<std::unique_ptr<views::FollowUpRowT>>& list) {
  json out = json::array();
  for (const auto& u : list) {
    out.push_back(ValueFields::Object([&](ValueFields& f) { FollowUpFields(f, *u); }));
  }
  return out;
}

// A lead's fields, in ascending order of their keys (see TextFields).
template <class Fields>
void LeadFields(Fields& o, const views::LeadRowT& r, const d::PoolPolicy& policy) {
  bool owned = projections::IsOwnedLead(r);
  bool in_pool = r.owner_id.empty() && r.state == "unassigned";
  o.Text("company", r.company);
  o.TextOrNull("contact_id", r.contact_id);
  o.TimeOrNull("created_at", r.created_at);
  o.Text("created_by", r.created_by);
  o.TextOrNull("customer_id", r.customer_id);
  o.TextOrNull("duplicate_of", r.duplicate_of);
  o.TextOrNull("email", r.email);
  o.Int("follow_up_count", r.follow_up_count);
  o.Objects("follow_ups", r.follow_ups,
            [](auto& f, const views::FollowUpRowT& u) { FollowUpFields(f, u); });
  o.Text("id", r.id);
  o.Bool("in_pool", in_pool);
  o.TimeOrNull("last_follow_up_at", r.last_follow_up_at);
  o.Text("name", r.name);
  o.TimeOrNull("next_follow_up_at", r.next_follow_up_at);
  o.TextOrNull("opportunity_id", r.opportunity_id);
  o.TimeOrNull("owned_since", owned ? r.owned_since : 0);
  o.TextOrNull("owner_id", r.owner_id);
  o.TextOrNull("phone", r.phone);
  o.TextOrNull("pool_reason", in_pool ? r.pool_reason : std::string());
  o.TimeOrNull("pool_since", in_pool ? r.pool_since : 0);
  o.TextOrNull("previous_owner_id", r.previous_owner_id);
  o.TimeOrNull("recycle_at", projections::RecycleAt(r, policy));
  o.TextOrNull("region", r.region);
  o.TextOrNull("source", r.source);
  o.Text("state", r.state);
  o.TextOrNull("state_reason", r.state_reason);
  o.TimeOrNull("updated_at", r.updated_at);
  o.UInt("version", r.version);
}

}  // namespace

json LeadJson(const views::LeadRowT& r, const d::PoolPolicy& policy) {
  return ValueFields::Object([&](ValueFields& f) { LeadFields(f, r, policy); });
}

void AppendLeadText(JsonWriter& w, const views::LeadRowT& r, const d::PoolPolicy& policy) {
  TextFields::Object(w, [&](TextFields& f) { LeadFields(f, r, policy); });
}

json PoolLeadJson(const views::LeadRowT& r) {
  return json{{"kind", "lead"},
              {"id", r.id},
              {"name", r.name},
              {"company", r.company},
              {"region", TextOrNull(r.region)},
              {"source", TextOrNull(r.source)},
              {"since", TimeOrNull(r.pool_since)},
              {"reason", r.pool_reason},
              {"previous_owner_id", TextOrNull(r.previous_owner_id)},
              {"version", r.version}};
}

json PoolCustomerJson(const views::CustomerRowT& r) {
  return json{{"kind", "customer"},
              {"id", r.id},
              {"name", r.name},
              {"industry", TextOrNull(r.industry)},
              {"region", TextOrNull(r.region)},
              {"level", TextOrNull(r.level)},
              {"since", TimeOrNull(r.pool_since)},
              {"reason", r.pool_reason},
              {"previous_owner_id", TextOrNull(r.previous_owner_id)},
              {"version", r.version}};
}

namespace {

// A customer's list fields, in ascending order of their keys (see TextFields).
template <class Fields>
void CustomerSummaryFields(Fields& o, const views::CustomerRowT& r, const d::PoolPolicy& policy) {
  o.TextOrNull("address", r.address);
  o.TimeOrNull("created_at", r.created_at);
  o.Text("id", r.id);
  o.Bool("in_pool", r.owner_id.empty() && r.merged_into.empty());
  o.TextOrNull("industry", r.industry);
  o.TimeOrNull("last_follow_up_at", r.last_follow_up_at);
  o.TextOrNull("level", r.level);
  o.Bool("locked", r.locked);
  o.TextOrNull("merged_into", r.merged_into);
  o.Text("name", r.name);
  o.TextOrNull("owner_id", r.owner_id);
  o.TextOrNull("phone", r.phone);
  o.TimeOrNull("recycle_at", projections::RecycleAt(r, policy));
  o.TextOrNull("region", r.region);
  o.TimeOrNull("updated_at", r.updated_at);
  o.UInt("version", r.version);
}

}  // namespace

json CustomerSummaryJson(const views::CustomerRowT& r, const d::PoolPolicy& policy) {
  return ValueFields::Object([&](ValueFields& f) { CustomerSummaryFields(f, r, policy); });
}

void AppendCustomerSummaryText(JsonWriter& w, const views::CustomerRowT& r,
                               const d::PoolPolicy& policy) {
  TextFields::Object(w, [&](TextFields& f) { CustomerSummaryFields(f, r, policy); });
}

json ContactJson(const views::ContactRowT& r) {
  return json{{"id", r.id},
              {"version", r.version},
              {"customer_id", r.customer_id},
              {"name", r.name},
              {"title", TextOrNull(r.title)},
              {"phone", TextOrNull(r.phone)},
              {"email", TextOrNull(r.email)},
              {"decision_maker", r.decision_maker},
              {"created_at", TimeOrNull(r.created_at)}};
}

json OpportunityJson(const views::OpportunityRowT& r) {
  auto stage = d::ParseStage(r.stage);
  return json{{"id", r.id},
              {"version", r.version},
              {"customer_id", r.customer_id},
              {"name", r.name},
              {"stage", r.stage},
              {"probability", stage ? d::Probability(*stage) : 0},
              {"amount", r.amount},
              {"currency", r.currency},
              {"expected_close_date", DateJson(r.expected_close_date)},
              {"owner_id", TextOrNull(r.owner_id)},
              {"source_lead_id", TextOrNull(r.source_lead_id)},
              {"contract_id", TextOrNull(r.contract_id)},
              {"close_reason", TextOrNull(r.close_reason)},
              {"closed_at", TimeOrNull(r.closed_at)},
              {"created_at", TimeOrNull(r.created_at)},
              {"updated_at", TimeOrNull(r.updated_at)}};
}

json InvoiceJson(const views::InvoiceRowT& inv, const views::ContractRowT& k) {
  return json{{"id", inv.id},
              {"version", inv.version},
              {"contract_id", k.id},
              {"contract_number", k.number},
              {"customer_id", k.customer_id},
              {"number", inv.number},
              {"amount", inv.amount},
              {"currency", inv.currency},
              {"issued_on", DateJson(inv.issued_on)},
              {"kind", inv.kind},
              {"tax_rate_pct", inv.tax_rate_pct ? json(*inv.tax_rate_pct) : json(nullptr)},
              {"status", inv.voided ? "voided" : "issued"},
              {"void_reason", TextOrNull(inv.void_reason)},
              {"voided_at", TimeOrNull(inv.voided_at)},
              {"created_at", TimeOrNull(inv.created_at)},
              {"created_by", inv.created_by}};
}

json ContractJson(const views::ContractRowT& r, Date today) {
  json installments = json::array();
  for (const auto& i : projections::Installments(r, today)) {
    installments.push_back(json{{"due_on", DateJson(static_cast<int32_t>(i.due_on_days))},
                                {"amount", i.amount},
                                {"paid", i.paid},
                                {"status", i.status},
                                {"days_overdue", i.days_overdue}});
  }
  json payments = json::array();
  for (const auto& p : r.payments) {
    json reversal = nullptr;
    if (p->reversed_at) {
      reversal = json{{"at", TimeOrNull(p->reversed_at)},
                      {"by", p->reversed_by},
                      {"on", DateJson(p->reversed_on)},
                      {"reason", p->reverse_reason}};
    }
    payments.push_back(json{{"id", p->id},
                            {"amount", p->amount},
                            {"received_on", DateJson(p->received_on)},
                            {"method", TextOrNull(p->method)},
                            {"reference", TextOrNull(p->reference)},
                            {"recorded_at", TimeOrNull(p->recorded_at)},
                            {"recorded_by", p->recorded_by},
                            {"reversed", p->reversed_at != 0},
                            {"reversal", std::move(reversal)}});
  }
  json invoices = json::array();
  for (const auto& inv : r.invoices) invoices.push_back(InvoiceJson(*inv, r));
  return json{{"id", r.id},
              {"version", r.version},
              {"customer_id", r.customer_id},
              {"opportunity_id", TextOrNull(r.opportunity_id)},
              {"number", r.number},
              {"title", r.title},
              {"amount", r.amount},
              {"currency", r.currency},
              {"paid", r.paid},
              {"outstanding", r.amount - r.paid},
              {"overdue", projections::OverdueAmount(r, today)},
              {"status", projections::ContractStatus(r)},
              {"signed_on", DateJson(r.signed_on)},
              {"signed_by", r.signed_by},
              {"owner_id", TextOrNull(r.owner_id)},
              {"installments", std::move(installments)},
              {"payments", std::move(payments)},
              {"invoiced", r.invoiced},
              {"invoices", std::move(invoices)},
              {"created_at", TimeOrNull(r.created_at)},
              {"updated_at", TimeOrNull(r.updated_at)}};
}

json Customer360Json(const views::CustomerRowT& r, const projections::CustomerProjection& p,
                     const d::PoolPolicy& policy, Date today) {
  json j = CustomerSummaryJson(r, policy);
  json history = json::array();
  for (const auto& h : r.owner_history) {
    history.push_back(json{{"owner_id", h->owner_id},
                           {"from", TimeOrNull(h->from)},
                           {"to", TimeOrNull(h->to)},
                           {"reason", h->reason}});
  }
  j["owner_history"] = std::move(history);
  j["source_lead_ids"] = r.source_lead_ids;
  j["merged_from"] = r.merged_from;
  json contacts = json::array();
  for (const auto& id : r.contact_ids) {
    if (const auto* c = p.FindContact(id)) contacts.push_back(ContactJson(*c));
  }
  j["contacts"] = std::move(contacts);
  j["follow_ups"] = FollowUpsJson(r.follow_ups);
  j["follow_up_count"] = r.follow_up_count;
  json opportunities = json::array();
  for (const auto& id : r.opportunity_ids) {
    if (const auto* o = p.FindOpportunity(id)) opportunities.push_back(OpportunityJson(*o));
  }
  j["opportunities"] = std::move(opportunities);
  Money contracted, paid, outstanding, overdue, invoiced, invoiced_unpaid, paid_uninvoiced;
  json contracts = json::array();
  for (const auto& id : r.contract_ids) {
    const auto* k = p.FindContract(id);
    if (!k) continue;
    contracts.push_back(ContractJson(*k, today));
    contracted[k->currency] += k->amount;
    paid[k->currency] += k->paid;
    outstanding[k->currency] += k->amount - k->paid;
    overdue[k->currency] += projections::OverdueAmount(*k, today);
    invoiced[k->currency] += k->invoiced;
    invoiced_unpaid[k->currency] += std::max<int64_t>(0, k->invoiced - k->paid);
    paid_uninvoiced[k->currency] += std::max<int64_t>(0, k->paid - k->invoiced);
  }
  j["contracts"] = std::move(contracts);
  j["totals"] = json{{"contracted", MoneyJson(contracted)},
                     {"paid", MoneyJson(paid)},
                     {"outstanding", MoneyJson(outstanding)},
                     {"overdue", MoneyJson(overdue)},
                     {"invoiced", MoneyJson(invoiced)},
                     {"invoiced_unpaid", MoneyJson(invoiced_unpaid)},
                     {"paid_uninvoiced", MoneyJson(paid_uninvoiced)}};
  j["pool_since"] = r.owner_id.empty() ? TimeOrNull(r.pool_since) : json(nullptr);
  j["pool_reason"] = r.owner_id.empty() ? TextOrNull(r.pool_reason) : json(nullptr);
  j["previous_owner_id"] = TextOrNull(r.previous_owner_id);
  j["owned_since"] = r.owner_id.empty() ? json(nullptr) : TimeOrNull(r.owned_since);
  return j;
}

Result<AsOf> ParseAsOf(const std::string& as_of) {
  if (auto pos = ParseU64(as_of)) return AsOf(*pos);
  if (auto t = ParseTime(as_of)) return AsOf(*t);
  return InvalidField("as_of", "must be a log position or an RFC 3339 time");
}

Result<uint64_t> AsOfPosition(const eventstore::EventStore& store, const AsOf& as_of) {
  if (const auto* pos = std::get_if<uint64_t>(&as_of)) return std::min(*pos, store.Head());
  return store.PositionAt(std::get<Time>(as_of));
}

std::vector<std::string> CustomerRecordIds(const views::CustomerRowT& row,
                                           const projections::CustomerProjection& p) {
  std::vector<std::string> records = row.contact_ids;
  records.insert(records.end(), row.opportunity_ids.begin(), row.opportunity_ids.end());
  records.insert(records.end(), row.contract_ids.begin(), row.contract_ids.end());
  for (const auto& id : row.contract_ids) {
    if (const auto* k = p.FindContract(id)) {
      for (const auto& inv : k->invoices) records.push_back(inv->id);
    }
  }
  // The customers merged into it, and theirs (their streams hold their past).
  std::vector<std::string> merged = row.merged_from;
  for (size_t i = 0; i < merged.size(); ++i) {
    records.push_back(merged[i]);
    if (const auto* m = p.FindCustomer(merged[i])) {
      merged.insert(merged.end(), m->merged_from.begin(), m->merged_from.end());
    }
  }
  // A merged customer's records have moved to the survivor; their streams hold its past.
  if (!row.merged_into.empty()) {
    if (const auto* into = p.FindCustomer(row.merged_into)) {
      auto theirs = CustomerRecordIds(*into, p);
      records.insert(records.end(), theirs.begin(), theirs.end());
    }
  }
  return records;
}

Result<std::pair<json, uint64_t>> Customer360AsOf(
    const eventstore::EventStore& store, const projections::CustomerHistoryProjection& history,
    const std::string& id, const std::vector<std::string>& record_ids, uint64_t position,
    Seconds utc_offset) {
  CRM_ASSIGN_OR_RETURN(auto then,
                       projections::CustomerAsOf(store, history, id, record_ids, position));
  const auto* row = then->rows.FindCustomer(id);
  json j = Customer360Json(*row, then->rows, then->policy, BusinessDay(then->at, utc_offset));
  j["as_of"] = {{"position", position}, {"at", FormatTime(then->at)}};
  return std::make_pair(std::move(j), row->version);
}

}  // namespace crm::api
