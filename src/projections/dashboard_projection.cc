#include "projections/dashboard_projection.h"

#include <algorithm>

#include "domain/overloaded.h"
#include "domain/vocabulary.h"

namespace crm::projections {

namespace d = crm::domain;

namespace {

std::string PeriodKey(const Period& p, const std::string& staff) {
  return p.ToString() + "/" + staff;
}

int LeadStateIndex(const std::string& state) {
  for (size_t i = 0; i < kLeadStates.size(); ++i) {
    if (state == kLeadStates[i]) return static_cast<int>(i);
  }
  return -1;
}

void AddTo(Money& m, const std::string& currency, int64_t amount) {
  if (amount == 0) return;
  auto it = m.try_emplace(currency, 0).first;
  it->second += amount;
  if (it->second == 0) m.erase(it);
}

void AddAll(Money& into, const Money& from) {
  for (const auto& [currency, amount] : from) AddTo(into, currency, amount);
}

bool StartsWith(const std::string& s, std::string_view prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

}  // namespace

void AddMoney(std::vector<std::unique_ptr<views::MoneyRowT>>& list, const std::string& currency,
              int64_t amount) {
  for (auto& m : list) {
    if (m->currency == currency) {
      m->amount += amount;
      return;
    }
  }
  auto m = std::make_unique<views::MoneyRowT>();
  m->currency = currency;
  m->amount = amount;
  list.push_back(std::move(m));
}

DashboardProjection::DashboardProjection(const LeadProjection& leads,
                                         const CustomerProjection& customers, Seconds utc_offset)
    : leads_(leads),
      customers_(customers),
      utc_offset_(utc_offset),
      periods_("dashboard/period/"),
      targets_("dashboard/target/") {}

Period DashboardProjection::PeriodOfTime(Time t) const {
  return crm::PeriodOf(BusinessDay(t, utc_offset_));
}

views::DashboardPeriodRowT& DashboardProjection::PeriodRow(const Period& period,
                                                           const std::string& staff) {
  auto& row = periods_.Edit(PeriodKey(period, staff));
  if (row.period.empty()) {
    row.period = period.ToString();
    row.staff_id = staff;
  }
  return row;
}

void DashboardProjection::Apply(const eventstore::RecordedEvent& e, Topics& touched) {
  Period now = PeriodOfTime(e.at);
  bool changed = true;
  std::visit(
      overloaded{
          [&](const d::LeadCreated& x) { ++PeriodRow(now, x.owner_id.value_or("")).leads_created; },
          [&](const d::LeadAssigned& x) { ++PeriodRow(now, x.owner_id).leads_assigned; },
          [&](const d::LeadClaimed& x) { ++PeriodRow(now, x.owner_id).claimed; },
          [&](const d::CustomerClaimed& x) { ++PeriodRow(now, x.owner_id).claimed; },
          [&](const d::LeadRecycled& x) { ++PeriodRow(now, x.previous_owner_id).recycled; },
          [&](const d::CustomerRecycled& x) { ++PeriodRow(now, x.previous_owner_id).recycled; },
          [&](const d::LeadConverted&) {
            const auto* lead = leads_.Find(e.stream);
            ++PeriodRow(now, lead ? lead->owner_id : "").leads_converted;
          },
          [&](const d::ContractSigned& x) {
            auto& row = PeriodRow(crm::PeriodOf(x.signed_on), x.signed_by);
            ++row.contracts_signed;
            AddMoney(row.contract_amount, x.currency, x.amount);
          },
          [&](const d::PaymentReceived& x) {
            const auto* contract = customers_.FindContract(e.stream);
            if (!contract) return;
            auto& row = PeriodRow(crm::PeriodOf(x.received_on), contract->signed_by);
            ++row.payments;
            AddMoney(row.received, contract->currency, x.amount);
          },
          [&](const d::PaymentReversed& x) {
            // In the period of the reversal's own business day, not the payment's.
            const auto* contract = customers_.FindContract(e.stream);
            if (!contract) return;
            auto& row = PeriodRow(crm::PeriodOf(x.reversed_on), contract->signed_by);
            ++row.reversals;
            AddMoney(row.received, contract->currency, -x.amount);
          },
          [&](const d::TargetSet& x) {
            std::string key =
                x.period.ToString() +
                (x.staff_id ? "/s/" + *x.staff_id : "/d/" + x.department_id.value_or(""));
            auto& row = targets_.Edit(key);
            row.period = x.period.ToString();
            row.staff_id = x.staff_id.value_or("");
            row.department_id = x.department_id.value_or("");
            row.amount = x.amount;
            row.currency = x.currency;
            row.set_at = ToMillis(e.at);
          },
          [&](const auto&) { changed = false; },
      },
      e.event);
  for (std::string_view prefix : {"lead_", "cus_", "opp_", "con_"}) {
    if (StartsWith(e.stream, prefix)) {
      Recount(e.stream);
      changed = true;
    }
  }
  if (changed) touched.insert("dashboard");
}

DashboardProjection::Part DashboardProjection::PartOf(const std::string& record) const {
  Part p;
  if (StartsWith(record, "lead_")) {
    if (const auto* row = leads_.Find(record)) {
      p.owner = row->owner_id;
      p.lead_state = LeadStateIndex(row->state);
    }
  } else if (StartsWith(record, "cus_")) {
    if (const auto* row = customers_.FindCustomer(record)) {
      p.owner = row->owner_id;
      p.pool_customer = row->owner_id.empty();
    }
  } else if (StartsWith(record, "opp_")) {
    if (const auto* row = customers_.FindOpportunity(record)) {
      p.owner = row->owner_id;
      auto stage = d::ParseStage(row->stage);
      p.stage = stage ? static_cast<int>(*stage) : -1;
      p.currency = row->currency;
      p.amount = row->amount;
    }
  } else if (StartsWith(record, "con_")) {
    if (const auto* row = customers_.FindContract(record)) {
      p.owner = row->owner_id;
      p.currency = row->currency;
      p.outstanding = row->amount - row->paid;
      for (const auto& i : row->installments) {
        if (i->amount > i->paid) p.unpaid.emplace_back(i->due_on, i->amount - i->paid);
      }
    }
  }
  return p;
}

void DashboardProjection::Add(const Part& part, int sign) {
  OwnerState& o = owners_[part.owner];
  if (part.lead_state >= 0) o.leads[part.lead_state] += sign;
  if (part.pool_customer) o.pool_customers += sign;
  if (part.stage >= 0) {
    auto& s = o.stages[part.stage];
    s.count += sign;
    AddTo(s.amount, part.currency, sign * part.amount);
    AddTo(s.weighted, part.currency,
          sign * (part.amount * d::Probability(static_cast<d::Stage>(part.stage)) / 100));
  }
  AddTo(o.outstanding, part.currency, sign * part.outstanding);
  for (const auto& [due, unpaid] : part.unpaid) {
    Money& m = o.unpaid_by_due[due];
    AddTo(m, part.currency, sign * unpaid);
    if (m.empty()) o.unpaid_by_due.erase(due);
  }
}

void DashboardProjection::Recount(const std::string& record) {
  if (const Part* was = parts_.Find(record)) Add(*was, -1);
  Part now = PartOf(record);
  Add(now, +1);
  parts_[record] = std::move(now);
}

void DashboardProjection::Flush(LocalBatch& batch) {
  periods_.Flush(batch);
  targets_.Flush(batch);
}

Status DashboardProjection::Load(const LocalStore& store) {
  CRM_RETURN_IF_ERROR(periods_.Load(store));
  CRM_RETURN_IF_ERROR(targets_.Load(store));
  parts_.clear();
  owners_.clear();
  // The state figures, from the rows the lead and customer projections loaded.
  for (const auto& [id, row] : leads_.rows()) Recount(id);
  for (const auto& [id, row] : customers_.customers()) Recount(id);
  for (const auto& [id, row] : customers_.opportunities()) Recount(id);
  for (const auto& [id, row] : customers_.contracts()) Recount(id);
  return Status::Ok();
}

void DashboardProjection::Clear() {
  periods_.Clear();
  targets_.Clear();
  parts_.clear();
  owners_.clear();
}

const views::DashboardPeriodRowT* DashboardProjection::PeriodOf(const Period& period,
                                                                const std::string& staff) const {
  return periods_.Find(PeriodKey(period, staff));
}

const views::TargetRowT* DashboardProjection::TargetOf(const Period& period,
                                                       const std::string& staff) const {
  return targets_.Find(period.ToString() + "/s/" + staff);
}

DashboardFigures DashboardProjection::Sum(const Period& period,
                                          const std::vector<std::string>& people,
                                          Date today) const {
  DashboardFigures f;
  int32_t today_days = ToDays(today);
  for (const auto& person : people) {
    if (const auto* p = PeriodOf(period, person)) {
      f.leads_created += p->leads_created;
      f.leads_assigned += p->leads_assigned;
      f.leads_converted += p->leads_converted;
      f.claimed += p->claimed;
      f.recycled += p->recycled;
      f.contracts_signed += p->contracts_signed;
      for (const auto& m : p->contract_amount) AddTo(f.contract_amount, m->currency, m->amount);
      f.payments += p->payments;
      for (const auto& m : p->received) AddTo(f.received, m->currency, m->amount);
    }
    auto it = owners_.find(person);
    if (it == owners_.end()) continue;
    const OwnerState& o = it->second;
    for (size_t i = 0; i < o.leads.size(); ++i) f.leads_by_state[i] += o.leads[i];
    for (size_t i = 0; i < kStageCount; ++i) {
      f.by_stage[i].count += o.stages[i].count;
      AddAll(f.by_stage[i].amount, o.stages[i].amount);
      AddAll(f.by_stage[i].weighted, o.stages[i].weighted);
    }
    AddAll(f.outstanding, o.outstanding);
    for (auto due = o.unpaid_by_due.begin();
         due != o.unpaid_by_due.end() && due->first < today_days; ++due) {
      AddAll(f.overdue, due->second);
    }
  }
  // Open stages make the forecast.
  for (d::Stage s : {d::Stage::kQualification, d::Stage::kNeedsAnalysis, d::Stage::kProposal,
                     d::Stage::kNegotiation}) {
    AddAll(f.forecast, f.by_stage[static_cast<size_t>(s)].weighted);
  }
  // The pool is everyone's to see: its size is the same in every scope.
  if (auto pool = owners_.find(""); pool != owners_.end()) {
    f.pool_leads = pool->second.leads[0];
    f.pool_customers = pool->second.pool_customers;
  }
  return f;
}

}  // namespace crm::projections
