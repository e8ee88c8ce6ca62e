#include "projections/timeline_projection.h"

#include "domain/model.h"
#include "eventstore/coding.h"

namespace crm::projections {

namespace d = crm::domain;

namespace {
const std::string kEntryPrefix = "timeline/entry/";
const std::string kOwnerPrefix = "timeline/owner/";
}  // namespace

void TimelineProjection::Apply(const eventstore::RecordedEvent& ev, Topics& touched) {
  std::string customer;
  if (const auto* c = std::get_if<d::ContactCreated>(&ev.event))
    customer = c->customer_id;
  else if (const auto* o = std::get_if<d::OpportunityCreated>(&ev.event))
    customer = o->customer_id;
  else if (const auto* k = std::get_if<d::ContractSigned>(&ev.event))
    customer = k->customer_id;
  else if (const auto* inv = std::get_if<d::InvoiceIssued>(&ev.event))
    customer = inv->customer_id;
  if (!customer.empty()) {
    owner_of_[ev.stream] = customer;
    pending_owners_.emplace_back(ev.stream, customer);
  } else if (const auto* lc = std::get_if<d::LeadConverted>(&ev.event)) {
    customer = lc->customer_id;
  } else if (d::KindOfId(ev.stream) == d::RecordKind::kCustomer) {
    customer = ev.stream;
  } else {
    customer = CustomerOf(ev.stream);
  }
  if (customer.empty()) return;
  pending_entries_.emplace_back(customer, ev.position);
  touched.insert("customer:" + customer);
}

void TimelineProjection::Flush(LocalBatch& batch) {
  for (auto& [record, customer] : pending_owners_) batch.Put(kOwnerPrefix + record, customer);
  for (auto& [customer, pos] : pending_entries_) {
    batch.Put(kEntryPrefix + customer + "/" + eventstore::Fixed64Key(pos), "");
  }
  pending_owners_.clear();
  pending_entries_.clear();
}

Status TimelineProjection::Load(const LocalStore& store) {
  Clear();
  store.Scan(kOwnerPrefix, {}, false, [&](std::string_view key, std::string_view value) {
    owner_of_[std::string(key.substr(kOwnerPrefix.size()))] = std::string(value);
    return true;
  });
  return Status::Ok();
}

void TimelineProjection::Clear() {
  owner_of_.clear();
  pending_owners_.clear();
  pending_entries_.clear();
}

std::vector<uint64_t> TimelineProjection::Positions(const std::string& customer_id, uint64_t before,
                                                    size_t limit) const {
  std::vector<uint64_t> out;
  if (!store_) return out;
  std::string prefix = kEntryPrefix + customer_id + "/";
  std::string from = before ? eventstore::Fixed64Key(before) : std::string();
  store_->Scan(prefix, from, true, [&](std::string_view key, std::string_view) {
    out.push_back(eventstore::GetFixed64(key.substr(prefix.size())));
    return out.size() < limit;
  });
  return out;
}

std::string TimelineProjection::CustomerOf(const std::string& record_id) const {
  auto it = owner_of_.find(record_id);
  return it == owner_of_.end() ? std::string() : it->second;
}

}  // namespace crm::projections
