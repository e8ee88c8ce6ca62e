#include "eventstore/event_codec.h"

#include <flatbuffers/flatbuffers.h>

#include "domain/overloaded.h"
#include "eventstore/coding.h"
#include "eventstore/flat_optional.h"
#include "schemas/events_generated.h"

namespace crm::eventstore {
namespace {

namespace d = crm::domain;
namespace s = crm::schema;
using flatbuffers::FlatBufferBuilder;
using flatbuffers::Offset;
using flatbuffers::String;

// The union's members are in the order of the domain's variant, one past NONE.
static_assert(static_cast<size_t>(s::Payload::MAX) == std::variant_size_v<d::Event>,
              "schemas/events.fbs Payload and domain::Event must list the same events");

// ---- encoding helpers -------------------------------------------------------------------
class Enc {
 public:
  explicit Enc(FlatBufferBuilder& fbb) : fbb_(fbb) {}
  Offset<String> Str(const std::string& v) { return fbb_.CreateString(v); }
  Offset<String> Str(const std::optional<std::string>& v) {
    return v ? fbb_.CreateString(*v) : Offset<String>();
  }
  FlatBufferBuilder& fbb() { return fbb_; }

 private:
  FlatBufferBuilder& fbb_;
};

template <class E, class D>
E Cast(D v) {
  return static_cast<E>(static_cast<uint8_t>(v));
}

Offset<flatbuffers::Vector<Offset<s::FieldChange>>> Changes(
    Enc& e, const std::vector<d::FieldChange>& changes) {
  std::vector<Offset<s::FieldChange>> out;
  out.reserve(changes.size());
  for (const auto& c : changes) {
    out.push_back(
        s::CreateFieldChange(e.fbb(), e.Str(c.field), e.Str(c.old_value), e.Str(c.new_value)));
  }
  return e.fbb().CreateVector(out);
}

std::pair<s::Payload, Offset<void>> EncodePayload(FlatBufferBuilder& fbb, const d::Event& ev) {
  Enc e(fbb);
  auto tag = static_cast<s::Payload>(ev.index() + 1);
  Offset<void> off = std::visit(
      overloaded{
          [&](const d::DepartmentCreated& x) {
            return s::CreateDepartmentCreated(fbb, e.Str(x.department_id), e.Str(x.name),
                                              e.Str(x.parent_id))
                .Union();
          },
          [&](const d::StaffCreated& x) {
            return s::CreateStaffCreated(fbb, e.Str(x.staff_id), e.Str(x.name), e.Str(x.email),
                                         Cast<s::Role>(x.role), e.Str(x.department_id),
                                         e.Str(x.region))
                .Union();
          },
          [&](const d::StaffDeparted& x) {
            return s::CreateStaffDeparted(fbb, e.Str(x.staff_id)).Union();
          },
          [&](const d::HandoverCompleted& x) {
            return s::CreateHandoverCompleted(fbb, e.Str(x.staff_id), e.Str(x.to_staff_id),
                                              x.depart, x.leads, x.customers, x.opportunities,
                                              x.contracts)
                .Union();
          },
          [&](const d::PoolPolicySet& x) {
            const d::PoolPolicy& p = x.policy;
            return s::CreatePoolPolicySet(fbb, ToFlat(p.recycle_no_follow_up),
                                          ToFlat(p.recycle_no_deal), ToFlat(p.remind_before),
                                          ToFlat(p.daily_claim_limit),
                                          ToFlat(p.previous_owner_block),
                                          ToFlat(p.max_owned_customers), ToFlat(p.max_owned_leads))
                .Union();
          },
          [&](const d::TargetSet& x) {
            return s::CreateTargetSet(fbb, e.Str(x.period.ToString()), e.Str(x.staff_id),
                                      e.Str(x.department_id), x.amount, e.Str(x.currency))
                .Union();
          },
          [&](const d::LeadCreated& x) {
            return s::CreateLeadCreated(fbb, e.Str(x.lead_id), e.Str(x.name), e.Str(x.company),
                                        e.Str(x.phone), e.Str(x.email), e.Str(x.source),
                                        e.Str(x.region), e.Str(x.owner_id), e.Str(x.phone_key),
                                        e.Str(x.name_key), e.Str(x.duplicate_of))
                .Union();
          },
          [&](const d::LeadEdited& x) {
            return s::CreateLeadEdited(fbb, Changes(e, x.changes), e.Str(x.phone_key),
                                       e.Str(x.name_key), e.Str(x.duplicate_of))
                .Union();
          },
          [&](const d::StaffEdited& x) {
            return s::CreateStaffEdited(fbb, Changes(e, x.changes)).Union();
          },
          [&](const d::DepartmentEdited& x) {
            return s::CreateDepartmentEdited(fbb, Changes(e, x.changes)).Union();
          },
          [&](const d::ContactEdited& x) {
            return s::CreateContactEdited(fbb, Changes(e, x.changes)).Union();
          },
          [&](const d::OpportunityEdited& x) {
            return s::CreateOpportunityEdited(fbb, Changes(e, x.changes)).Union();
          },
          [&](const d::LeadAssigned& x) {
            return s::CreateLeadAssigned(fbb, e.Str(x.owner_id), e.Str(x.previous_owner_id),
                                         Cast<s::AssignStrategy>(x.strategy))
                .Union();
          },
          [&](const d::LeadClaimed& x) {
            return s::CreateLeadClaimed(fbb, e.Str(x.owner_id)).Union();
          },
          [&](const d::LeadReleased& x) {
            return s::CreateLeadReleased(fbb, e.Str(x.previous_owner_id), e.Str(x.reason)).Union();
          },
          [&](const d::LeadRecycled& x) {
            return s::CreateLeadRecycled(fbb, e.Str(x.previous_owner_id),
                                         Cast<s::RecycleRule>(x.rule))
                .Union();
          },
          [&](const d::LeadInvalidated& x) {
            return s::CreateLeadInvalidated(fbb, e.Str(x.reason)).Union();
          },
          [&](const d::LeadVoided& x) { return s::CreateLeadVoided(fbb, e.Str(x.reason)).Union(); },
          [&](const d::LeadConverted& x) {
            return s::CreateLeadConverted(fbb, e.Str(x.customer_id), x.customer_created,
                                          e.Str(x.contact_id), e.Str(x.opportunity_id))
                .Union();
          },
          [&](const d::FollowUpRecorded& x) {
            flatbuffers::Optional<int64_t> next = flatbuffers::nullopt;
            if (x.next_at) next = ToMillis(*x.next_at);
            return s::CreateFollowUpRecorded(fbb, e.Str(x.follow_up_id),
                                             Cast<s::Channel>(x.channel), e.Str(x.note), next)
                .Union();
          },
          [&](const d::RecordHandedOver& x) {
            return s::CreateRecordHandedOver(fbb, e.Str(x.previous_owner_id), e.Str(x.owner_id))
                .Union();
          },
          [&](const d::CustomerCreated& x) {
            flatbuffers::Optional<s::Level> level = flatbuffers::nullopt;
            if (x.level) level = Cast<s::Level>(*x.level);
            return s::CreateCustomerCreated(fbb, e.Str(x.customer_id), e.Str(x.name),
                                            e.Str(x.industry), e.Str(x.region), level,
                                            e.Str(x.phone), e.Str(x.address), e.Str(x.owner_id),
                                            e.Str(x.source_lead_id), e.Str(x.name_key))
                .Union();
          },
          [&](const d::CustomerUpdated& x) {
            return s::CreateCustomerUpdated(fbb, e.Str(x.name), e.Str(x.industry), e.Str(x.region),
                                            e.Str(x.level), e.Str(x.phone), e.Str(x.address),
                                            e.Str(x.name_key))
                .Union();
          },
          [&](const d::CustomerLeadAttached& x) {
            return s::CreateCustomerLeadAttached(fbb, e.Str(x.lead_id)).Union();
          },
          [&](const d::CustomerClaimed& x) {
            return s::CreateCustomerClaimed(fbb, e.Str(x.owner_id)).Union();
          },
          [&](const d::CustomerReleased& x) {
            return s::CreateCustomerReleased(fbb, e.Str(x.previous_owner_id), e.Str(x.reason))
                .Union();
          },
          [&](const d::CustomerRecycled& x) {
            return s::CreateCustomerRecycled(fbb, e.Str(x.previous_owner_id),
                                             Cast<s::RecycleRule>(x.rule))
                .Union();
          },
          [&](const d::CustomerTransferred& x) {
            return s::CreateCustomerTransferred(fbb, e.Str(x.owner_id), e.Str(x.previous_owner_id))
                .Union();
          },
          [&](const d::CustomerLocked& x) {
            return s::CreateCustomerLocked(fbb, e.Str(x.reason)).Union();
          },
          [&](const d::CustomerUnlocked&) { return s::CreateCustomerUnlocked(fbb).Union(); },
          [&](const d::ContactCreated& x) {
            return s::CreateContactCreated(fbb, e.Str(x.contact_id), e.Str(x.customer_id),
                                           e.Str(x.name), e.Str(x.title), e.Str(x.phone),
                                           e.Str(x.email), x.decision_maker)
                .Union();
          },
          [&](const d::OpportunityCreated& x) {
            return s::CreateOpportunityCreated(
                       fbb, e.Str(x.opportunity_id), e.Str(x.customer_id), e.Str(x.name), x.amount,
                       e.Str(x.currency), ToDays(x.expected_close_date), Cast<s::Stage>(x.stage),
                       e.Str(x.owner_id), e.Str(x.source_lead_id))
                .Union();
          },
          [&](const d::OpportunityStageChanged& x) {
            return s::CreateOpportunityStageChanged(fbb, Cast<s::Stage>(x.stage),
                                                    Cast<s::Stage>(x.previous_stage))
                .Union();
          },
          [&](const d::OpportunityWon& x) {
            return s::CreateOpportunityWon(fbb, e.Str(x.reason), e.Str(x.contract_id)).Union();
          },
          [&](const d::OpportunityLost& x) {
            return s::CreateOpportunityLost(fbb, e.Str(x.reason)).Union();
          },
          [&](const d::ContractSigned& x) {
            std::vector<s::PlannedInstallment> plan;
            for (const auto& i : x.installments) plan.emplace_back(ToDays(i.due_on), i.amount);
            return s::CreateContractSigned(fbb, e.Str(x.contract_id), e.Str(x.customer_id),
                                           e.Str(x.opportunity_id), e.Str(x.number), e.Str(x.title),
                                           x.amount, e.Str(x.currency), ToDays(x.signed_on),
                                           e.Str(x.signed_by), e.Str(x.owner_id),
                                           fbb.CreateVectorOfStructs(plan))
                .Union();
          },
          [&](const d::PaymentReceived& x) {
            std::vector<s::Allocation> alloc;
            for (const auto& a : x.allocations) alloc.emplace_back(a.installment, a.amount);
            return s::CreatePaymentReceived(fbb, e.Str(x.payment_id), x.amount,
                                            ToDays(x.received_on), e.Str(x.method),
                                            e.Str(x.reference), fbb.CreateVectorOfStructs(alloc))
                .Union();
          },
          [&](const d::PaymentReversed& x) {
            std::vector<s::Allocation> alloc;
            for (const auto& a : x.allocations) alloc.emplace_back(a.installment, a.amount);
            return s::CreatePaymentReversed(fbb, e.Str(x.payment_id), x.amount,
                                            ToDays(x.reversed_on), e.Str(x.reason),
                                            fbb.CreateVectorOfStructs(alloc))
                .Union();
          },
          [&](const d::InvoiceIssued& x) {
            return s::CreateInvoiceIssued(fbb, e.Str(x.invoice_id), e.Str(x.contract_id),
                                          e.Str(x.customer_id), e.Str(x.number), x.amount,
                                          e.Str(x.currency), ToDays(x.issued_on), e.Str(x.kind),
                                          x.tax_rate_pct)
                .Union();
          },
          [&](const d::TaskCreated& x) {
            return s::CreateTaskCreated(fbb, e.Str(x.task_id), e.Str(x.owner_id), e.Str(x.title),
                                        ToMillis(x.due_at), e.Str(x.record_id))
                .Union();
          },
          [&](const d::TaskCompleted&) { return s::CreateTaskCompleted(fbb).Union(); },
          [&](const d::RecordMoved& x) {
            return s::CreateRecordMoved(fbb, e.Str(x.customer_id), e.Str(x.from_customer_id),
                                        e.Str(x.owner_id))
                .Union();
          },
          [&](const d::CustomerMerged& x) {
            return s::CreateCustomerMerged(fbb, e.Str(x.into_id)).Union();
          },
          [&](const d::CustomerAbsorbed& x) {
            return s::CreateCustomerAbsorbed(fbb, e.Str(x.from_id)).Union();
          },
          [&](const d::InvoiceVoided& x) {
            return s::CreateInvoiceVoided(fbb, e.Str(x.reason)).Union();
          },
          [&](const d::PasswordSet& x) {
            return s::CreatePasswordSet(fbb, e.Str(x.staff_id)).Union();
          },
          [&](const d::DealOwnerChanged& x) {
            return s::CreateDealOwnerChanged(fbb, e.Str(x.customer_id), e.Str(x.owner_id),
                                             e.Str(x.previous_owner_id))
                .Union();
          },
      },
      ev);
  return {tag, off};
}

// ---- decoding helpers -------------------------------------------------------------------
std::string Str(const String* s) { return s ? s->str() : std::string(); }
std::optional<std::string> Opt(const String* s) {
  return s ? std::optional<std::string>(s->str()) : std::nullopt;
}
template <class D, class E>
D Enum(E v) {
  return static_cast<D>(static_cast<uint8_t>(v));
}

std::vector<d::FieldChange> Changes(const flatbuffers::Vector<Offset<s::FieldChange>>* changes) {
  std::vector<d::FieldChange> out;
  if (!changes) return out;
  for (const auto* c : *changes) {
    out.push_back({Str(c->field()), Opt(c->old_value()), Opt(c->new_value())});
  }
  return out;
}

Error Corrupt(std::string detail) {
  return MakeError(ErrorKind::kInternal, "corrupt_event", std::move(detail));
}

Result<d::Event> DecodePayload(const s::Envelope& env) {
  using P = s::Payload;
  switch (env.payload_type()) {
    case P::DepartmentCreated: {
      auto x = env.payload_as_DepartmentCreated();
      return d::Event(
          d::DepartmentCreated{Str(x->department_id()), Str(x->name()), Opt(x->parent_id())});
    }
    case P::StaffCreated: {
      auto x = env.payload_as_StaffCreated();
      return d::Event(d::StaffCreated{Str(x->staff_id()), Str(x->name()), Str(x->email()),
                                      Enum<d::Role>(x->role()), Opt(x->department_id()),
                                      Opt(x->region())});
    }
    case P::StaffDeparted:
      return d::Event(d::StaffDeparted{Str(env.payload_as_StaffDeparted()->staff_id())});
    case P::HandoverCompleted: {
      auto x = env.payload_as_HandoverCompleted();
      return d::Event(d::HandoverCompleted{Str(x->staff_id()), Opt(x->to_staff_id()), x->depart(),
                                           x->leads(), x->customers(), x->opportunities(),
                                           x->contracts()});
    }
    case P::PoolPolicySet: {
      auto x = env.payload_as_PoolPolicySet();
      d::PoolPolicy p;
      p.recycle_no_follow_up = SecondsFromFlat(x->recycle_no_follow_up_s());
      p.recycle_no_deal = SecondsFromFlat(x->recycle_no_deal_s());
      p.remind_before = SecondsFromFlat(x->remind_before_s());
      p.daily_claim_limit = FromFlat(x->daily_claim_limit());
      p.previous_owner_block = SecondsFromFlat(x->previous_owner_block_s());
      p.max_owned_customers = FromFlat(x->max_owned_customers());
      p.max_owned_leads = FromFlat(x->max_owned_leads());
      return d::Event(d::PoolPolicySet{p});
    }
    case P::TargetSet: {
      auto x = env.payload_as_TargetSet();
      auto period = ParsePeriod(Str(x->period()));
      if (!period) return Corrupt("TargetSet with a bad period");
      return d::Event(d::TargetSet{*period, Opt(x->staff_id()), Opt(x->department_id()),
                                   x->amount(), Str(x->currency())});
    }
    case P::LeadCreated: {
      auto x = env.payload_as_LeadCreated();
      return d::Event(d::LeadCreated{Str(x->lead_id()), Str(x->name()), Str(x->company()),
                                     Opt(x->phone()), Opt(x->email()), Opt(x->source()),
                                     Opt(x->region()), Opt(x->owner_id()), Opt(x->phone_key()),
                                     Opt(x->name_key()), Opt(x->duplicate_of())});
    }
    case P::LeadEdited: {
      auto x = env.payload_as_LeadEdited();
      return d::Event(d::LeadEdited{Changes(x->changes()), Opt(x->phone_key()), Opt(x->name_key()),
                                    Opt(x->duplicate_of())});
    }
    case P::StaffEdited:
      return d::Event(d::StaffEdited{Changes(env.payload_as_StaffEdited()->changes())});
    case P::DepartmentEdited:
      return d::Event(d::DepartmentEdited{Changes(env.payload_as_DepartmentEdited()->changes())});
    case P::ContactEdited:
      return d::Event(d::ContactEdited{Changes(env.payload_as_ContactEdited()->changes())});
    case P::OpportunityEdited:
      return d::Event(d::OpportunityEdited{Changes(env.payload_as_OpportunityEdited()->changes())});
    case P::LeadAssigned: {
      auto x = env.payload_as_LeadAssigned();
      return d::Event(d::LeadAssigned{Str(x->owner_id()), Opt(x->previous_owner_id()),
                                      Enum<d::AssignStrategy>(x->strategy())});
    }
    case P::LeadClaimed:
      return d::Event(d::LeadClaimed{Str(env.payload_as_LeadClaimed()->owner_id())});
    case P::LeadReleased: {
      auto x = env.payload_as_LeadReleased();
      return d::Event(d::LeadReleased{Str(x->previous_owner_id()), Str(x->reason())});
    }
    case P::LeadRecycled: {
      auto x = env.payload_as_LeadRecycled();
      return d::Event(
          d::LeadRecycled{Str(x->previous_owner_id()), Enum<d::RecycleRule>(x->rule())});
    }
    case P::LeadInvalidated:
      return d::Event(d::LeadInvalidated{Str(env.payload_as_LeadInvalidated()->reason())});
    case P::LeadVoided:
      return d::Event(d::LeadVoided{Str(env.payload_as_LeadVoided()->reason())});
    case P::LeadConverted: {
      auto x = env.payload_as_LeadConverted();
      return d::Event(d::LeadConverted{Str(x->customer_id()), x->customer_created(),
                                       Opt(x->contact_id()), Opt(x->opportunity_id())});
    }
    case P::FollowUpRecorded: {
      auto x = env.payload_as_FollowUpRecorded();
      std::optional<Time> next;
      if (x->next_at_ms()) next = FromMillis(*x->next_at_ms());
      return d::Event(d::FollowUpRecorded{Str(x->follow_up_id()), Enum<d::Channel>(x->channel()),
                                          Str(x->note()), next});
    }
    case P::RecordHandedOver: {
      auto x = env.payload_as_RecordHandedOver();
      return d::Event(d::RecordHandedOver{Str(x->previous_owner_id()), Opt(x->owner_id())});
    }
    case P::CustomerCreated: {
      auto x = env.payload_as_CustomerCreated();
      std::optional<d::Level> level;
      if (x->level()) level = Enum<d::Level>(*x->level());
      return d::Event(d::CustomerCreated{Str(x->customer_id()), Str(x->name()), Opt(x->industry()),
                                         Opt(x->region()), level, Opt(x->phone()),
                                         Opt(x->address()), Opt(x->owner_id()),
                                         Opt(x->source_lead_id()), Str(x->name_key())});
    }
    case P::CustomerUpdated: {
      auto x = env.payload_as_CustomerUpdated();
      return d::Event(d::CustomerUpdated{Opt(x->name()), Opt(x->industry()), Opt(x->region()),
                                         Opt(x->level()), Opt(x->phone()), Opt(x->address()),
                                         Opt(x->name_key())});
    }
    case P::CustomerLeadAttached:
      return d::Event(
          d::CustomerLeadAttached{Str(env.payload_as_CustomerLeadAttached()->lead_id())});
    case P::CustomerClaimed:
      return d::Event(d::CustomerClaimed{Str(env.payload_as_CustomerClaimed()->owner_id())});
    case P::CustomerReleased: {
      auto x = env.payload_as_CustomerReleased();
      return d::Event(d::CustomerReleased{Str(x->previous_owner_id()), Str(x->reason())});
    }
    case P::CustomerRecycled: {
      auto x = env.payload_as_CustomerRecycled();
      return d::Event(
          d::CustomerRecycled{Str(x->previous_owner_id()), Enum<d::RecycleRule>(x->rule())});
    }
    case P::CustomerTransferred: {
      auto x = env.payload_as_CustomerTransferred();
      return d::Event(d::CustomerTransferred{Str(x->owner_id()), Opt(x->previous_owner_id())});
    }
    case P::CustomerLocked:
      return d::Event(d::CustomerLocked{Str(env.payload_as_CustomerLocked()->reason())});
    case P::CustomerUnlocked:
      return d::Event(d::CustomerUnlocked{});
    case P::ContactCreated: {
      auto x = env.payload_as_ContactCreated();
      return d::Event(d::ContactCreated{Str(x->contact_id()), Str(x->customer_id()), Str(x->name()),
                                        Opt(x->title()), Opt(x->phone()), Opt(x->email()),
                                        x->decision_maker()});
    }
    case P::OpportunityCreated: {
      auto x = env.payload_as_OpportunityCreated();
      return d::Event(d::OpportunityCreated{
          Str(x->opportunity_id()), Str(x->customer_id()), Str(x->name()), x->amount(),
          Str(x->currency()), FromDays(x->expected_close_date()), Enum<d::Stage>(x->stage()),
          Opt(x->owner_id()), Opt(x->source_lead_id())});
    }
    case P::OpportunityStageChanged: {
      auto x = env.payload_as_OpportunityStageChanged();
      return d::Event(d::OpportunityStageChanged{Enum<d::Stage>(x->stage()),
                                                 Enum<d::Stage>(x->previous_stage())});
    }
    case P::OpportunityWon: {
      auto x = env.payload_as_OpportunityWon();
      return d::Event(d::OpportunityWon{Str(x->reason()), Opt(x->contract_id())});
    }
    case P::OpportunityLost:
      return d::Event(d::OpportunityLost{Str(env.payload_as_OpportunityLost()->reason())});
    case P::ContractSigned: {
      auto x = env.payload_as_ContractSigned();
      std::vector<d::PlannedInstallment> plan;
      if (x->installments()) {
        for (const auto* i : *x->installments()) {
          plan.push_back({FromDays(i->due_on()), i->amount()});
        }
      }
      return d::Event(d::ContractSigned{Str(x->contract_id()), Str(x->customer_id()),
                                        Opt(x->opportunity_id()), Str(x->number()), Str(x->title()),
                                        x->amount(), Str(x->currency()), FromDays(x->signed_on()),
                                        Str(x->signed_by()), Opt(x->owner_id()), std::move(plan)});
    }
    case P::PaymentReceived: {
      auto x = env.payload_as_PaymentReceived();
      std::vector<d::Allocation> alloc;
      if (x->allocations()) {
        for (const auto* a : *x->allocations()) alloc.push_back({a->installment(), a->amount()});
      }
      return d::Event(d::PaymentReceived{Str(x->payment_id()), x->amount(),
                                         FromDays(x->received_on()), Opt(x->method()),
                                         Opt(x->reference()), std::move(alloc)});
    }
    case P::PaymentReversed: {
      auto x = env.payload_as_PaymentReversed();
      std::vector<d::Allocation> alloc;
      if (x->allocations()) {
        for (const auto* a : *x->allocations()) alloc.push_back({a->installment(), a->amount()});
      }
      return d::Event(d::PaymentReversed{Str(x->payment_id()), x->amount(),
                                         FromDays(x->reversed_on()), Str(x->reason()),
                                         std::move(alloc)});
    }
    case P::InvoiceIssued: {
      auto x = env.payload_as_InvoiceIssued();
      return d::Event(d::InvoiceIssued{Str(x->invoice_id()), Str(x->contract_id()),
                                       Str(x->customer_id()), Str(x->number()), x->amount(),
                                       Str(x->currency()), FromDays(x->issued_on()), Str(x->kind()),
                                       x->tax_rate_pct()});
    }
    case P::TaskCreated: {
      auto x = env.payload_as_TaskCreated();
      return d::Event(d::TaskCreated{Str(x->task_id()), Str(x->owner_id()), Str(x->title()),
                                     FromMillis(x->due_at_ms()), Opt(x->record_id())});
    }
    case P::TaskCompleted:
      return d::Event(d::TaskCompleted{});
    case P::RecordMoved: {
      auto x = env.payload_as_RecordMoved();
      return d::Event(
          d::RecordMoved{Str(x->customer_id()), Str(x->from_customer_id()), Opt(x->owner_id())});
    }
    case P::CustomerMerged:
      return d::Event(d::CustomerMerged{Str(env.payload_as_CustomerMerged()->into_id())});
    case P::CustomerAbsorbed:
      return d::Event(d::CustomerAbsorbed{Str(env.payload_as_CustomerAbsorbed()->from_id())});
    case P::InvoiceVoided:
      return d::Event(d::InvoiceVoided{Str(env.payload_as_InvoiceVoided()->reason())});
    case P::PasswordSet:
      return d::Event(d::PasswordSet{Str(env.payload_as_PasswordSet()->staff_id())});
    case P::DealOwnerChanged: {
      auto x = env.payload_as_DealOwnerChanged();
      return d::Event(d::DealOwnerChanged{Str(x->customer_id()), Opt(x->owner_id()),
                                          Opt(x->previous_owner_id())});
    }
    case P::NONE:
      break;
  }
  return Corrupt("unknown event type " + std::to_string(static_cast<int>(env.payload_type())));
}

}  // namespace

std::string EncodeEnvelope(const EnvelopeHeader& h, const domain::Event& event) {
  FlatBufferBuilder fbb(256);
  auto [type, payload] = EncodePayload(fbb, event);
  auto stream = fbb.CreateString(h.stream);
  auto actor = fbb.CreateString(h.actor);
  auto command = fbb.CreateString(h.command_id);
  auto correlation = fbb.CreateString(h.correlation_id);
  auto env = s::CreateEnvelope(fbb, h.position, stream, h.version, ToMillis(h.at), actor, command,
                               correlation, type, payload);
  s::FinishEnvelopeBuffer(fbb, env);
  return std::string(reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize());
}

Status DecodeEnvelope(std::string_view bytes, EnvelopeHeader* header, domain::Event* event) {
  AlignedBytes aligned(bytes);
  flatbuffers::Verifier verifier(aligned.data(), aligned.size());
  if (!s::VerifyEnvelopeBuffer(verifier)) return Corrupt("not a valid envelope");
  const s::Envelope* env = s::GetEnvelope(aligned.data());
  header->position = env->position();
  header->stream = env->stream()->str();
  header->version = env->version();
  header->at = FromMillis(env->timestamp_ms());
  header->actor = Str(env->actor());
  header->command_id = Str(env->command_id());
  header->correlation_id = Str(env->correlation_id());
  if (!event) return Status::Ok();
  auto decoded = DecodePayload(*env);
  if (!decoded.ok()) return std::move(decoded).error();
  *event = std::move(decoded).value();
  return Status::Ok();
}

}  // namespace crm::eventstore
