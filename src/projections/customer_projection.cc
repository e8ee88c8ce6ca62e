#include "projections/customer_projection.h"

#include "domain/model.h"
#include "domain/overloaded.h"

namespace crm::projections {

namespace d = crm::domain;

CustomerProjection::CustomerProjection()
    : customers_("customers/customer/"),
      contacts_("customers/contact/"),
      opportunities_("customers/opportunity/"),
      contracts_("customers/contract/") {}

void CustomerProjection::SetCustomerOwner(views::CustomerRowT& row,
                                          const eventstore::RecordedEvent& ev,
                                          const std::string& owner, const std::string& reason) {
  int64_t at = ToMillis(ev.at);
  if (!row.owner_history.empty() && row.owner_history.back()->to == 0 && !row.owner_id.empty()) {
    row.owner_history.back()->to = at;
  }
  customer_owners_.Move(row.id, row.owner_id, owner);
  row.owner_id = owner;
  if (!owner.empty()) {
    auto period = std::make_unique<views::OwnerPeriodT>();
    period->owner_id = owner;
    period->from = at;
    period->reason = reason;
    row.owner_history.push_back(std::move(period));
    row.owned_since = at;
    row.pool_since = 0;
    row.pool_reason.clear();
  }
}

void CustomerProjection::ToPool(views::CustomerRowT& row, const eventstore::RecordedEvent& ev,
                                d::PoolReason reason) {
  row.previous_owner_id = row.owner_id;
  SetCustomerOwner(row, ev, "", "");
  row.owned_since = 0;
  row.pool_since = ToMillis(ev.at);
  row.pool_reason = std::string(d::Name(reason));
}

template <class TouchCustomer>
CustomerProjection::DealList CustomerProjection::SetDealOwner(const eventstore::RecordedEvent& ev,
                                                              const std::string& owner,
                                                              const std::string* moved_to,
                                                              TouchCustomer&& touch_customer) {
  auto set = [&](auto& row, auto& owners) {
    owners.Move(row.id, row.owner_id, owner);
    row.owner_id = owner;
    if (moved_to) row.customer_id = *moved_to;
    row.version = ev.version;
    row.updated_at = ToMillis(ev.at);
    touch_customer(row.customer_id);
  };
  if (auto* o = opportunities_.EditExisting(ev.stream)) {
    set(*o, opportunity_owners_);
    return &views::CustomerRowT::opportunity_ids;
  }
  if (auto* k = contracts_.EditExisting(ev.stream)) {
    set(*k, contract_owners_);
    return &views::CustomerRowT::contract_ids;
  }
  return nullptr;
}

void CustomerProjection::Apply(const eventstore::RecordedEvent& ev, Topics& touched) {
  const int64_t at = ToMillis(ev.at);
  std::string customer_id;  // the customer whose view changed
  auto customer = [&](const std::string& id) -> views::CustomerRowT* {
    customer_id = id;
    return customers_.EditExisting(id);
  };
  auto on_stream_customer = [&]() { return customer(ev.stream); };
  std::visit(
      overloaded{
          [&](const d::CustomerCreated& e) {
            auto& row = customers_.Edit(e.customer_id);
            customer_id = e.customer_id;
            row.id = e.customer_id;
            row.name = e.name;
            row.industry = OrEmpty(e.industry);
            row.region = OrEmpty(e.region);
            row.level = e.level ? std::string(d::Name(*e.level)) : "";
            row.phone = OrEmpty(e.phone);
            row.address = OrEmpty(e.address);
            row.created_at = at;
            row.created_by = ev.actor;
            row.created_position = ev.position;
            if (e.source_lead_id) row.source_lead_ids.push_back(*e.source_lead_id);
            if (e.owner_id) {
              SetCustomerOwner(row, ev, *e.owner_id, e.source_lead_id ? "converted" : "created");
            } else {
              customer_owners_.Move(row.id, "", "");  // the pool's index
              row.pool_since = at;
              row.pool_reason = std::string(d::Name(d::PoolReason::kCreated));
            }
          },
          [&](const d::CustomerUpdated& e) {
            auto* row = on_stream_customer();
            if (!row) return;
            if (e.name) row->name = *e.name;
            if (e.industry) row->industry = *e.industry;
            if (e.region) row->region = *e.region;
            if (e.level) row->level = *e.level;
            if (e.phone) row->phone = *e.phone;
            if (e.address) row->address = *e.address;
          },
          [&](const d::CustomerLeadAttached& e) {
            if (auto* row = on_stream_customer()) row->source_lead_ids.push_back(e.lead_id);
          },
          [&](const d::CustomerClaimed& e) {
            if (auto* row = on_stream_customer()) SetCustomerOwner(*row, ev, e.owner_id, "claimed");
          },
          [&](const d::CustomerReleased&) {
            if (auto* row = on_stream_customer()) ToPool(*row, ev, d::PoolReason::kReleased);
          },
          [&](const d::CustomerRecycled&) {
            if (auto* row = on_stream_customer()) ToPool(*row, ev, d::PoolReason::kRecycled);
          },
          [&](const d::CustomerTransferred& e) {
            if (auto* row = on_stream_customer())
              SetCustomerOwner(*row, ev, e.owner_id, "transferred");
          },
          [&](const d::CustomerLocked&) {
            if (auto* row = on_stream_customer()) row->locked = true;
          },
          [&](const d::CustomerUnlocked&) {
            if (auto* row = on_stream_customer()) row->locked = false;
          },
          [&](const d::FollowUpRecorded& e) {
            if (d::KindOfId(ev.stream) != d::RecordKind::kCustomer) return;
            auto* row = on_stream_customer();
            if (!row) return;
            PushFollowUp(row->follow_ups, e, ev);
            ++row->follow_up_count;
            row->last_follow_up_at = at;
          },
          [&](const d::RecordHandedOver& e) {
            switch (d::KindOfId(ev.stream)) {
              case d::RecordKind::kCustomer:
                if (auto* row = on_stream_customer()) {
                  if (e.owner_id)
                    SetCustomerOwner(*row, ev, *e.owner_id, "handover");
                  else
                    ToPool(*row, ev, d::PoolReason::kHandover);
                }
                break;
              case d::RecordKind::kOpportunity:
              case d::RecordKind::kContract:
                SetDealOwner(ev, OrEmpty(e.owner_id), nullptr, customer);
                break;
              default:
                break;
            }
          },
          [&](const d::DealOwnerChanged& e) {
            SetDealOwner(ev, OrEmpty(e.owner_id), nullptr, customer);
          },
          [&](const d::RecordMoved& e) {
            // The record leaves the merged customer's list for the survivor's.
            DealList list = nullptr;
            if (auto* c = contacts_.EditExisting(ev.stream)) {
              c->customer_id = e.customer_id;
              c->version = ev.version;
              list = &views::CustomerRowT::contact_ids;
            } else {
              list = SetDealOwner(ev, OrEmpty(e.owner_id), &e.customer_id, customer);
            }
            if (!list) return;
            if (auto* from = customers_.EditExisting(e.from_customer_id)) {
              std::erase(from->*list, ev.stream);
              Index(*from);
            }
            if (auto* row = customer(e.customer_id)) (row->*list).push_back(ev.stream);
          },
          [&](const d::CustomerMerged& e) {
            auto* row = on_stream_customer();
            if (!row) return;
            row->merged_into = e.into_id;
            customer_owners_.Remove(row->id, row->owner_id);  // in no list any more
          },
          [&](const d::CustomerAbsorbed& e) {
            auto* row = on_stream_customer();
            const auto* from = customers_.Find(e.from_id);
            if (!row || !from) return;
            row->merged_from.push_back(e.from_id);
            row->source_lead_ids.insert(row->source_lead_ids.end(), from->source_lead_ids.begin(),
                                        from->source_lead_ids.end());
            if (from->has_signed_contract) row->has_signed_contract = true;
            // Both customers' follow-ups, newest first, at most as many as one keeps.
            std::vector<std::unique_ptr<views::FollowUpRowT>> follow_ups;
            using FollowUps = std::vector<std::unique_ptr<views::FollowUpRowT>>;
            for (const FollowUps* list : {&std::as_const(row->follow_ups), &from->follow_ups}) {
              for (const auto& f : *list) {
                follow_ups.push_back(std::make_unique<views::FollowUpRowT>(*f));
              }
            }
            std::stable_sort(follow_ups.begin(), follow_ups.end(),
                             [](const auto& a, const auto& b) { return a->at > b->at; });
            if (follow_ups.size() > kKeptFollowUps) follow_ups.resize(kKeptFollowUps);
            row->follow_ups = std::move(follow_ups);
            row->follow_up_count += from->follow_up_count;
          },
          [&](const d::ContactCreated& e) {
            auto& c = contacts_.Edit(e.contact_id);
            c.id = e.contact_id;
            c.version = ev.version;
            c.customer_id = e.customer_id;
            c.name = e.name;
            c.title = OrEmpty(e.title);
            c.phone = OrEmpty(e.phone);
            c.email = OrEmpty(e.email);
            c.decision_maker = e.decision_maker;
            c.created_at = at;
            if (auto* row = customer(e.customer_id)) row->contact_ids.push_back(e.contact_id);
          },
          [&](const d::OpportunityCreated& e) {
            auto& o = opportunities_.Edit(e.opportunity_id);
            o.id = e.opportunity_id;
            o.version = ev.version;
            o.customer_id = e.customer_id;
            o.name = e.name;
            o.amount = e.amount;
            o.currency = e.currency;
            o.expected_close_date = ToDays(e.expected_close_date);
            o.stage = std::string(d::Name(e.stage));
            o.owner_id = OrEmpty(e.owner_id);
            o.created_at = at;
            o.created_position = ev.position;
            o.updated_at = at;
            o.source_lead_id = OrEmpty(e.source_lead_id);
            opportunity_owners_.Move(o.id, "", o.owner_id);
            if (auto* row = customer(e.customer_id))
              row->opportunity_ids.push_back(e.opportunity_id);
          },
          [&](const d::ContactEdited& e) {
            auto* c = contacts_.EditExisting(ev.stream);
            if (!c) return;
            SetEdited(e.changes, "name", c->name);
            SetEdited(e.changes, "title", c->title);
            SetEdited(e.changes, "phone", c->phone);
            SetEdited(e.changes, "email", c->email);
            if (const auto* dm = d::ChangeOf(e.changes, "decision_maker"))
              c->decision_maker = dm->new_value == "true";
            c->version = ev.version;
            customer(c->customer_id);
          },
          [&](const d::OpportunityEdited& e) {
            auto* o = opportunities_.EditExisting(ev.stream);
            if (!o) return;
            SetEdited(e.changes, "name", o->name);
            SetEdited(e.changes, "currency", o->currency);
            if (auto amount = d::EditedAmount(e.changes, "amount")) o->amount = *amount;
            if (auto day = d::EditedDate(e.changes, "expected_close_date"))
              o->expected_close_date = ToDays(*day);
            o->version = ev.version;
            o->updated_at = at;
            customer(o->customer_id);
          },
          [&](const d::OpportunityStageChanged& e) {
            if (auto* o = opportunities_.EditExisting(ev.stream)) {
              o->stage = std::string(d::Name(e.stage));
              o->version = ev.version;
              o->updated_at = at;
              customer(o->customer_id);
            }
          },
          [&](const d::OpportunityWon& e) {
            if (auto* o = opportunities_.EditExisting(ev.stream)) {
              o->stage = std::string(d::Name(d::Stage::kWon));
              o->close_reason = e.reason;
              o->contract_id = OrEmpty(e.contract_id);
              o->closed_at = at;
              o->version = ev.version;
              o->updated_at = at;
              customer(o->customer_id);
            }
          },
          [&](const d::OpportunityLost& e) {
            if (auto* o = opportunities_.EditExisting(ev.stream)) {
              o->stage = std::string(d::Name(d::Stage::kLost));
              o->close_reason = e.reason;
              o->closed_at = at;
              o->version = ev.version;
              o->updated_at = at;
              customer(o->customer_id);
            }
          },
          [&](const d::ContractSigned& e) {
            auto& k = contracts_.Edit(e.contract_id);
            k.id = e.contract_id;
            k.version = ev.version;
            k.customer_id = e.customer_id;
            k.opportunity_id = OrEmpty(e.opportunity_id);
            k.number = e.number;
            k.title = e.title;
            k.amount = e.amount;
            k.currency = e.currency;
            k.signed_on = ToDays(e.signed_on);
            k.signed_by = e.signed_by;
            k.owner_id = OrEmpty(e.owner_id);
            for (const auto& i : e.installments) {
              auto inst = std::make_unique<views::InstallmentRowT>();
              inst->due_on = ToDays(i.due_on);
              inst->amount = i.amount;
              k.installments.push_back(std::move(inst));
            }
            k.created_at = at;
            k.created_position = ev.position;
            k.updated_at = at;
            contract_owners_.Move(k.id, "", k.owner_id);
            if (auto* row = customer(e.customer_id)) {
              row->contract_ids.push_back(e.contract_id);
              row->has_signed_contract = true;
            }
          },
          [&](const d::PaymentReceived& e) {
            auto* k = contracts_.EditExisting(ev.stream);
            if (!k) return;
            k->paid += e.amount;
            d::ApplyAllocations(e.allocations, 1, k->installments,
                                [](auto& i) -> int64_t& { return i->paid; });
            auto pay = std::make_unique<views::PaymentRowT>();
            pay->id = e.payment_id;
            pay->amount = e.amount;
            pay->received_on = ToDays(e.received_on);
            pay->method = OrEmpty(e.method);
            pay->reference = OrEmpty(e.reference);
            pay->recorded_at = at;
            pay->recorded_by = ev.actor;
            k->payments.push_back(std::move(pay));
            k->version = ev.version;
            k->updated_at = at;
            customer(k->customer_id);
          },
          [&](const d::PaymentReversed& e) {
            auto* k = contracts_.EditExisting(ev.stream);
            if (!k) return;
            k->paid -= e.amount;
            d::ApplyAllocations(e.allocations, -1, k->installments,
                                [](auto& i) -> int64_t& { return i->paid; });
            for (auto& pay : k->payments) {
              if (pay->id != e.payment_id) continue;
              pay->reversed_at = at;
              pay->reversed_by = ev.actor;
              pay->reversed_on = ToDays(e.reversed_on);
              pay->reverse_reason = e.reason;
            }
            k->version = ev.version;
            k->updated_at = at;
            customer(k->customer_id);
          },
          [&](const d::InvoiceIssued& e) {
            auto* k = contracts_.EditExisting(e.contract_id);
            if (!k) return;
            auto inv = std::make_unique<views::InvoiceRowT>();
            inv->id = e.invoice_id;
            inv->version = ev.version;
            inv->number = e.number;
            inv->amount = e.amount;
            inv->currency = e.currency;
            inv->issued_on = ToDays(e.issued_on);
            inv->kind = e.kind;
            inv->tax_rate_pct = e.tax_rate_pct;
            inv->created_at = at;
            inv->created_by = ev.actor;
            k->invoices.push_back(std::move(inv));
            k->invoiced += e.amount;
            k->updated_at = at;
            invoice_contract_[e.invoice_id] = k->id;
            customer(k->customer_id);
          },
          [&](const d::InvoiceVoided& e) {
            auto* k = EditInvoiceContract(ev.stream);
            if (!k) return;
            for (auto& inv : k->invoices) {
              if (inv->id != ev.stream || inv->voided) continue;
              inv->voided = true;
              inv->void_reason = e.reason;
              inv->voided_at = at;
              inv->version = ev.version;
              k->invoiced -= inv->amount;
            }
            k->updated_at = at;
            customer(k->customer_id);
          },
          [](const auto&) {},
      },
      ev.event);
  // Every event of the customer's own streams counts, whatever its type: customer_history
  // snapshots the view at each multiple of its interval.
  if (const auto* owner = CustomerOfStream(ev.stream)) {
    customers_.EditExisting(owner->id)->event_count++;
  }
  if (customer_id.empty()) return;
  if (auto* row = customers_.EditExisting(customer_id)) {
    if (ev.stream == customer_id) row->version = ev.version;
    row->updated_at = at;
    Index(*row);
  }
  touched.insert("customer:" + customer_id);
  touched.insert("dashboard");
  if (d::KindOfId(ev.stream) == d::RecordKind::kCustomer) touched.insert("pool");
}

void CustomerProjection::Flush(LocalBatch& batch) {
  customers_.Flush(batch);
  contacts_.Flush(batch);
  opportunities_.Flush(batch);
  contracts_.Flush(batch);
}

Status CustomerProjection::Load(const LocalStore& store) {
  CRM_RETURN_IF_ERROR(customers_.Load(store));
  CRM_RETURN_IF_ERROR(contacts_.Load(store));
  CRM_RETURN_IF_ERROR(opportunities_.Load(store));
  CRM_RETURN_IF_ERROR(contracts_.Load(store));
  customer_owners_.Clear();
  opportunity_owners_.Clear();
  contract_owners_.Clear();
  search_.Clear();
  for (const auto& [id, r] : customers_.rows()) {
    if (r.merged_into.empty()) customer_owners_.Move(id, "", r.owner_id);
    Index(r);
  }
  for (const auto& [id, r] : opportunities_.rows()) opportunity_owners_.Move(id, "", r.owner_id);
  invoice_contract_.clear();
  for (const auto& [id, r] : contracts_.rows()) {
    contract_owners_.Move(id, "", r.owner_id);
    for (const auto& inv : r.invoices) invoice_contract_[inv->id] = id;
  }
  return Status::Ok();
}

void CustomerProjection::Clear() {
  customers_.Clear();
  contacts_.Clear();
  opportunities_.Clear();
  contracts_.Clear();
  customer_owners_.Clear();
  opportunity_owners_.Clear();
  contract_owners_.Clear();
  invoice_contract_.clear();
  search_.Clear();
}

std::pair<const views::InvoiceRowT*, const views::ContractRowT*> CustomerProjection::FindInvoice(
    const std::string& id) const {
  auto it = invoice_contract_.find(id);
  const views::ContractRowT* k =
      it == invoice_contract_.end() ? nullptr : contracts_.Find(it->second);
  if (!k) return {nullptr, nullptr};
  for (const auto& inv : k->invoices) {
    if (inv->id == id) return {inv.get(), k};
  }
  return {nullptr, nullptr};
}

views::ContractRowT* CustomerProjection::EditInvoiceContract(const std::string& invoice_id) {
  auto it = invoice_contract_.find(invoice_id);
  return it == invoice_contract_.end() ? nullptr : contracts_.EditExisting(it->second);
}

void CustomerProjection::Index(const views::CustomerRowT& row) {
  if (!row.merged_into.empty()) return search_.Put(row.id, {}, {});  // found by nobody
  std::vector<std::string_view> texts = {row.name, row.industry};
  std::vector<std::string_view> phones = {row.phone};
  for (const auto& id : row.contact_ids) {
    if (const auto* c = contacts_.Find(id)) {
      texts.insert(texts.end(), {c->name, c->email});
      phones.push_back(c->phone);
    }
  }
  search_.Put(row.id, texts, phones);
}

const views::CustomerRowT* CustomerProjection::CustomerOfStream(const std::string& stream) const {
  const std::string* customer_id = nullptr;
  switch (d::KindOfId(stream)) {
    case d::RecordKind::kCustomer:
      return customers_.Find(stream);
    case d::RecordKind::kContact:
      if (const auto* c = contacts_.Find(stream)) customer_id = &c->customer_id;
      break;
    case d::RecordKind::kOpportunity:
      if (const auto* o = opportunities_.Find(stream)) customer_id = &o->customer_id;
      break;
    case d::RecordKind::kContract:
      if (const auto* k = contracts_.Find(stream)) customer_id = &k->customer_id;
      break;
    case d::RecordKind::kInvoice:
      if (const auto* k = FindInvoice(stream).second) customer_id = &k->customer_id;
      break;
    default:
      break;
  }
  return customer_id ? customers_.Find(*customer_id) : nullptr;
}

std::string CustomerProjection::Snapshot(const std::string& customer_id) const {
  flatbuffers::FlatBufferBuilder fbb(1024);
  const auto* row = customers_.Find(customer_id);
  if (!row) return {};
  auto pack_all = [&](const auto& ids, const auto& rows) {
    using RowT = typename std::decay_t<decltype(rows)>::Row;
    std::vector<flatbuffers::Offset<typename RowT::TableType>> out;
    for (const auto& id : ids) {
      if (const auto* r = rows.Find(id)) out.push_back(RowT::TableType::Pack(fbb, r));
    }
    return fbb.CreateVector(out);
  };
  auto contacts = pack_all(row->contact_ids, contacts_);
  auto opportunities = pack_all(row->opportunity_ids, opportunities_);
  auto contracts = pack_all(row->contract_ids, contracts_);
  auto customer = views::CustomerRow::Pack(fbb, row);
  fbb.Finish(views::CreateCustomerSnapshot(fbb, customer, contacts, opportunities, contracts));
  return std::string(reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize());
}

bool CustomerProjection::Restore(std::string_view snapshot) {
  views::CustomerSnapshotT snap;
  if (!UnpackRow(snapshot, &snap) || !snap.customer) return false;
  // The id is copied before the row moves: `map.Edit(row.id) = std::move(row)` may move
  // the row (and empty its id) before the key is read.
  auto put = [](auto& rows, auto& row) {
    std::string id = row.id;
    rows.Edit(id) = std::move(row);
  };
  for (auto& c : snap.contacts) put(contacts_, *c);
  for (auto& o : snap.opportunities) {
    opportunity_owners_.Move(o->id, "", o->owner_id);
    put(opportunities_, *o);
  }
  for (auto& k : snap.contracts) {
    contract_owners_.Move(k->id, "", k->owner_id);
    for (const auto& inv : k->invoices) invoice_contract_[inv->id] = k->id;
    put(contracts_, *k);
  }
  if (snap.customer->merged_into.empty())
    customer_owners_.Move(snap.customer->id, "", snap.customer->owner_id);
  std::string id = snap.customer->id;
  put(customers_, *snap.customer);
  Index(*customers_.Find(id));
  return true;
}

bool CustomerProjection::DealVisible(const std::string& customer_id, const Visible& visible) const {
  const auto* c = customers_.Find(customer_id);
  return c && visible(c->owner_id);
}

Page<views::CustomerRowT> CustomerProjection::ListCustomers(const CustomerFilter& f,
                                                            const Visible& visible,
                                                            const std::string& cursor,
                                                            size_t limit) const {
  std::function<bool(const views::CustomerRowT&)> keep = [&](const views::CustomerRowT& r) {
    if (!r.merged_into.empty()) return false;
    if (f.pool_only && !r.owner_id.empty()) return false;
    if (f.level && r.level != *f.level) return false;
    if (f.region && r.region != *f.region) return false;
    return visible(r.owner_id);
  };
  return PageOfList(customer_owners_.SetsFor(f.owner_id, f.pool_only, f.owners), search_,
                    SearchQuery(f.q), customers_.rows(), cursor, limit, keep);
}

Page<views::OpportunityRowT> CustomerProjection::ListOpportunities(const OpportunityFilter& f,
                                                                   const Visible& visible,
                                                                   const std::string& cursor,
                                                                   size_t limit) const {
  std::function<bool(const views::OpportunityRowT&)> keep = [&](const views::OpportunityRowT& r) {
    if (f.stage && r.stage != *f.stage) return false;
    if (f.customer_id && r.customer_id != *f.customer_id) return false;
    return DealVisible(r.customer_id, visible);
  };
  if (f.owner_id) {
    return PageOfIds(opportunity_owners_.Of(*f.owner_id), opportunities_.rows(), cursor, limit,
                     keep);
  }
  return PageOf(opportunities_.rows(), cursor, limit, keep);
}

Page<views::ContractRowT> CustomerProjection::ListContracts(const ContractFilter& f,
                                                            const Visible& visible,
                                                            const std::string& cursor,
                                                            size_t limit) const {
  std::function<bool(const views::ContractRowT&)> keep = [&](const views::ContractRowT& r) {
    if (f.customer_id && r.customer_id != *f.customer_id) return false;
    if (f.status && ContractStatus(r) != *f.status) return false;
    return DealVisible(r.customer_id, visible);
  };
  if (f.owner_id)
    return PageOfIds(contract_owners_.Of(*f.owner_id), contracts_.rows(), cursor, limit, keep);
  return PageOf(contracts_.rows(), cursor, limit, keep);
}

std::optional<Time> RecycleAt(const views::CustomerRowT& row, const d::PoolPolicy& policy) {
  if (!row.merged_into.empty()) return std::nullopt;
  return d::RecycleAt(policy, true, !row.owner_id.empty(), row.locked, row.has_signed_contract,
                      FromMillis(row.owned_since), OptTime(row.last_follow_up_at));
}

std::vector<InstallmentStatus> Installments(const views::ContractRowT& c, Date today) {
  std::vector<InstallmentStatus> out;
  int64_t today_days = ToDays(today);
  for (const auto& i : c.installments) {
    InstallmentStatus s;
    s.due_on_days = i->due_on;
    s.amount = i->amount;
    s.paid = i->paid;
    if (i->paid >= i->amount) {
      s.status = "paid";
    } else if (i->due_on < today_days) {
      s.status = "overdue";
      s.days_overdue = today_days - i->due_on;
    } else {
      s.status = i->paid > 0 ? "partial" : "pending";
    }
    out.push_back(std::move(s));
  }
  return out;
}

std::string ContractStatus(const views::ContractRowT& c) {
  return c.paid >= c.amount ? "paid" : "active";
}

int64_t OverdueAmount(const views::ContractRowT& c, Date today) {
  int64_t sum = 0;
  for (const auto& s : Installments(c, today)) {
    if (s.status == "overdue") sum += s.amount - s.paid;
  }
  return sum;
}

}  // namespace crm::projections
