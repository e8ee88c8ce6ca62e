#include "projections/customer_history.h"

#include <algorithm>

#include "domain/events.h"
#include "eventstore/coding.h"

namespace crm::projections {

namespace d = crm::domain;

namespace {

std::string Prefix(const std::string& customer_id) { return "history/" + customer_id + "/"; }

}  // namespace

CustomerHistoryProjection::CustomerHistoryProjection(const CustomerProjection& customers,
                                                     const LocalStore* store)
    : customers_(customers), store_(store) {}

void CustomerHistoryProjection::Apply(const eventstore::RecordedEvent& ev, Topics&) {
  const auto* row = customers_.CustomerOfStream(ev.stream);
  if (!row) return;
  // A merge snapshots the survivor too: what it absorbed was folded on other streams,
  // which a replay from an earlier snapshot would not bring in.
  bool merge = std::holds_alternative<d::CustomerAbsorbed>(ev.event);
  if (row->event_count % kSnapshotEvery != 0 && !merge) return;
  pending_.emplace_back(Prefix(row->id) + eventstore::Fixed64Key(ev.position),
                        customers_.Snapshot(row->id));
}

void CustomerHistoryProjection::Flush(LocalBatch& batch) {
  for (auto& [key, value] : pending_) batch.Put(std::move(key), std::move(value));
  pending_.clear();
}

Status CustomerHistoryProjection::Load(const LocalStore&) {
  pending_.clear();
  return Status::Ok();
}

void CustomerHistoryProjection::Clear() { pending_.clear(); }

std::optional<std::pair<uint64_t, std::string>> CustomerHistoryProjection::Latest(
    const std::string& customer_id, uint64_t position) const {
  std::optional<std::pair<uint64_t, std::string>> out;
  if (!store_) return out;
  std::string prefix = Prefix(customer_id);
  // Descending from just past `position` (exclusive): the first key is the latest at or
  // before it.
  uint64_t bound = position < UINT64_MAX ? position + 1 : position;
  store_->Scan(prefix, eventstore::Fixed64Key(bound), true,
               [&](std::string_view key, std::string_view value) {
                 out.emplace(eventstore::GetFixed64(key.substr(prefix.size())), std::string(value));
                 return false;
               });
  return out;
}

Result<std::unique_ptr<CustomerThen>> CustomerAsOf(const eventstore::EventStore& store,
                                                   const CustomerHistoryProjection& history,
                                                   const std::string& customer_id,
                                                   const std::vector<std::string>& record_ids,
                                                   uint64_t position) {
  auto then = std::make_unique<CustomerThen>();
  uint64_t from = 0;
  if (auto snapshot = history.Latest(customer_id, position)) {
    if (!then->rows.Restore(snapshot->second)) {
      return Internal("the snapshot of " + customer_id + " at " + std::to_string(snapshot->first) +
                      " is corrupt");
    }
    from = snapshot->first;
  }
  std::vector<eventstore::RecordedEvent> events;
  std::vector<std::string> streams = {customer_id};
  streams.insert(streams.end(), record_ids.begin(), record_ids.end());
  std::sort(streams.begin(), streams.end());
  streams.erase(std::unique(streams.begin(), streams.end()), streams.end());
  for (const auto& stream : streams) {
    CRM_ASSIGN_OR_RETURN(auto part, store.ReadStreamBetween(stream, from, position, SIZE_MAX));
    std::move(part.begin(), part.end(), std::back_inserter(events));
  }
  std::sort(events.begin(), events.end(),
            [](const auto& a, const auto& b) { return a.position < b.position; });
  Topics ignored;
  for (const auto& e : events) then->rows.Apply(e, ignored);
  then->replayed = events.size();
  // The pool policy then (its stream is short: one event per change).
  CRM_ASSIGN_OR_RETURN(auto policy,
                       store.ReadStreamBetween(d::kPoolPolicyStream, 0, position, SIZE_MAX));
  for (const auto& e : policy) {
    if (const auto* set = std::get_if<d::PoolPolicySet>(&e.event)) then->policy = set->policy;
  }
  if (!then->rows.FindCustomer(customer_id)) {
    return NotFound("customer " + customer_id + " did not exist at position " +
                    std::to_string(position));
  }
  if (position >= 1) {
    CRM_ASSIGN_OR_RETURN(auto at, store.ReadAll(std::min(position, store.Head()), 1));
    if (!at.empty()) then->at = at.front().at;
  }
  return then;
}

}  // namespace crm::projections
