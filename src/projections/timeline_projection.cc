#include "projections/timeline_projection.h"

#include "domain/model.h"
#include "eventstore/coding.h"

namespace crm::projections {

namespace d = crm::domain;

namespace {
const std::string kEntryPrefix = "timeline/entry/";
const std::string kOwnerPrefix = "timeline/owner/";
const std::string kMergedPrefix = "timeline/merged/";
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
  else if (const auto* moved = std::get_if<d::RecordMoved>(&ev.event))
    customer = moved->customer_id;
  if (const auto* merged = std::get_if<d::CustomerMerged>(&ev.event)) {
    merged_into_[ev.stream] = merged->into_id;
    pending_merges_.emplace_back(ev.stream, merged->into_id);
  }
  if (const auto* absorbed = std::get_if<d::CustomerAbsorbed>(&ev.event)) {
    // The survivor's timeline takes the merged customer's whole past.
    std::string prefix = kEntryPrefix + absorbed->from_id + "/";
    std::vector<uint64_t> past;
    if (store_) {
      store_->Scan(prefix, {}, false, [&](std::string_view key, std::string_view) {
        past.push_back(eventstore::GetFixed64(key.substr(prefix.size())));
        return true;
      });
    }
    for (const auto& [c, pos] : pending_entries_) {
      if (c == absorbed->from_id) past.push_back(pos);
    }
    for (uint64_t pos : past) pending_entries_.emplace_back(ev.stream, pos);
  }
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
  for (auto& [from, into] : pending_merges_) batch.Put(kMergedPrefix + from, into);
  pending_merges_.clear();
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
  store.Scan(kMergedPrefix, {}, false, [&](std::string_view key, std::string_view value) {
    merged_into_[std::string(key.substr(kMergedPrefix.size()))] = std::string(value);
    return true;
  });
  return Status::Ok();
}

void TimelineProjection::Clear() {
  owner_of_.clear();
  merged_into_.clear();
  pending_merges_.clear();
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
  if (it == owner_of_.end()) return {};
  // A record left behind on a merged customer (an invoice of a moved contract) belongs
  // to the survivor.
  std::string customer = it->second;
  for (auto m = merged_into_.find(customer); m != merged_into_.end();
       m = merged_into_.find(customer)) {
    customer = m->second;
  }
  return customer;
}

}  // namespace crm::projections
