// Customers (客户) and their contacts: create, edit, follow up, claim, release,
// transfer, merge, lock.
#include "domain/deciders.h"
#include "domain/rules.h"

namespace crm::domain::deciders {

using rules::RequireEditor;
using rules::RequireRole;
using rules::Single;
using rules::VisibleCustomer;

CRM_DECIDER(CreateCustomer) {
  CRM_RETURN_IF_ERROR(
      RequireRole(v, {Role::kAdmin, Role::kManager, Role::kSales}, "create customers"));
  const CustomerDetails& k = c.details;
  std::string name = k.name.value_or("");
  std::string key = ctx.normalize_name(name);
  if (auto it = m.customer_by_name.find(key); it != m.customer_by_name.end()) {
    return rules::DuplicateCustomer(m.customers.at(it->second));
  }
  CRM_ASSIGN_OR_RETURN(OptId owner, CreationOwner(m, v, c.owner_id, true));
  CustomerCreated e{c.customer_id, name,      k.industry, k.region,     k.level,
                    k.phone,       k.address, owner,      std::nullopt, key};
  Decision d = Single(c.customer_id, std::move(e));
  d.unique_keys.push_back({std::string(kCustomerNameScope), key, c.customer_id});
  return d;
}

CRM_DECIDER(UpdateCustomer) {
  CRM_ASSIGN_OR_RETURN(const CustomerRecord* cus, VisibleCustomer(m, v, c.customer_id));
  CRM_RETURN_IF_ERROR(RequireEditor(m, v, cus->own.owner_id, "edit a customer"));
  CRM_RETURN_IF_ERROR(rules::RequireOwnedCustomer(*cus));
  CustomerUpdated e{c.name, c.industry, c.region, c.level, c.phone, c.address, std::nullopt};
  Decision d;
  if (c.name) {
    std::string key = ctx.normalize_name(*c.name);
    if (key != cus->normalized_name) {
      auto it = m.customer_by_name.find(key);
      if (it != m.customer_by_name.end() && it->second != cus->id) {
        return rules::DuplicateCustomer(m.customers.at(it->second));
      }
      d.unique_keys.push_back(
          {std::string(kCustomerNameScope), cus->normalized_name, cus->id, true});
      d.unique_keys.push_back({std::string(kCustomerNameScope), key, cus->id});
    }
    e.name_key = key;
  }
  d.events.push_back({c.customer_id, std::move(e)});
  d.primary = c.customer_id;
  return d;
}

CRM_DECIDER(AddContact) {
  (void)ctx;
  CRM_ASSIGN_OR_RETURN(const CustomerRecord* cus, VisibleCustomer(m, v, c.customer_id));
  CRM_RETURN_IF_ERROR(RequireEditor(m, v, cus->own.owner_id, "add contacts to a customer"));
  CRM_RETURN_IF_ERROR(rules::RequireOwnedCustomer(*cus));
  const ContactDetails& k = c.details;
  return Single(c.contact_id, ContactCreated{c.contact_id, c.customer_id, k.name, k.title, k.phone,
                                             k.email, k.decision_maker});
}

CRM_DECIDER(EditContact) {
  (void)ctx;
  auto it = m.contacts.find(c.contact_id);
  if (it == m.contacts.end()) return NotFound("no contact " + c.contact_id);
  const ContactRecord& contact = it->second;
  auto cus = VisibleCustomer(m, v, contact.customer_id);
  if (!cus.ok()) return NotFound("no contact " + c.contact_id);
  CRM_RETURN_IF_ERROR(RequireEditor(m, v, (*cus)->own.owner_id, "edit a customer's contacts"));
  CRM_RETURN_IF_ERROR(rules::RequireOwnedCustomer(**cus));
  std::vector<FieldChange> changes;
  rules::Diff(changes, "name", contact.name, c.name);
  rules::Diff(changes, "title", contact.title, c.title);
  rules::Diff(changes, "phone", contact.phone, c.phone);
  rules::Diff(changes, "email", contact.email, c.email);
  auto flag = [](bool b) { return OptText(b ? "true" : "false"); };
  if (c.decision_maker && *c.decision_maker != contact.decision_maker) {
    changes.push_back({"decision_maker", flag(contact.decision_maker), flag(*c.decision_maker)});
  }
  Decision d;
  d.primary = c.contact_id;
  if (!changes.empty()) d.events.push_back({c.contact_id, ContactEdited{std::move(changes)}});
  return d;
}

CRM_DECIDER(FollowUpCustomer) {
  (void)ctx;
  CRM_ASSIGN_OR_RETURN(const CustomerRecord* cus, VisibleCustomer(m, v, c.customer_id));
  if (!cus->own.owner_id || *cus->own.owner_id != v.id) {
    return Forbidden("only the customer's owner records follow-ups");
  }
  Decision d =
      Single(c.customer_id, FollowUpRecorded{c.follow_up_id, c.channel, c.note, c.next_at});
  d.created = c.follow_up_id;
  return d;
}

CRM_DECIDER(ClaimCustomer) {
  CRM_ASSIGN_OR_RETURN(const CustomerRecord* cus, VisibleCustomer(m, v, c.customer_id));
  if (!CanOwnRecords(v.role)) {
    return Forbidden("the " + std::string(Name(v.role)) + " role may not claim customers");
  }
  if (cus->own.owner_id) {
    return RuleRefused("not_in_pool", "the customer is owned by " + *cus->own.owner_id);
  }
  CRM_RETURN_IF_ERROR(rules::CheckClaim(m, ctx, v, cus->own, true));
  Decision d = Single(c.customer_id, CustomerClaimed{v.id});
  rules::MoveDealsWithCustomer(*cus, v.id, d);
  return d;
}

CRM_DECIDER(ReleaseCustomer) {
  (void)ctx;
  CRM_ASSIGN_OR_RETURN(const CustomerRecord* cus, VisibleCustomer(m, v, c.customer_id));
  CRM_RETURN_IF_ERROR(RequireEditor(m, v, cus->own.owner_id, "release a customer"));
  if (!cus->own.owner_id) return InvalidTransition("the customer is in the pool");
  if (cus->locked) return InvalidTransition("the customer is locked");
  Decision d = Single(c.customer_id, CustomerReleased{*cus->own.owner_id, c.reason});
  rules::MoveDealsWithCustomer(*cus, std::nullopt, d);
  return d;
}

CRM_DECIDER(TransferCustomer) {
  (void)ctx;
  CRM_ASSIGN_OR_RETURN(const CustomerRecord* cus, VisibleCustomer(m, v, c.customer_id));
  CRM_RETURN_IF_ERROR(RequireRole(v, {Role::kAdmin, Role::kManager}, "transfer customers"));
  CRM_RETURN_IF_ERROR(RequireEditor(m, v, cus->own.owner_id, "transfer a customer"));
  CRM_RETURN_IF_ERROR(rules::CheckAssignee(m, v, c.to, "to"));
  if (cus->own.owner_id == c.to) return InvalidTransition("the customer is already theirs");
  CRM_RETURN_IF_ERROR(rules::CheckCapacity(m, c.to, 0, 1));
  Decision d = Single(c.customer_id, CustomerTransferred{c.to, cus->own.owner_id});
  rules::MoveDealsWithCustomer(*cus, c.to, d);
  return d;
}

CRM_DECIDER(MergeCustomers) {
  (void)ctx;
  CRM_ASSIGN_OR_RETURN(const CustomerRecord* into, VisibleCustomer(m, v, c.customer_id));
  CRM_RETURN_IF_ERROR(RequireRole(v, {Role::kAdmin, Role::kManager}, "merge customers"));
  CRM_RETURN_IF_ERROR(RequireEditor(m, v, into->own.owner_id, "merge customers"));
  if (c.from == c.customer_id) {
    return InvalidField("from", "a customer cannot be merged into itself");
  }
  auto found = VisibleCustomer(m, v, c.from);
  if (!found.ok()) {
    if (found.error().kind == ErrorKind::kNotFound) return InvalidField("from", "unknown customer");
    return std::move(found).error();  // merged already
  }
  const CustomerRecord& from = **found;
  CRM_RETURN_IF_ERROR(RequireEditor(m, v, from.own.owner_id, "merge customers"));
  // Neither may be in the pool: a pool customer is claimed or assigned first (its rules
  // apply), and a survivor in the pool would send the deals there without a release.
  CRM_RETURN_IF_ERROR(rules::RequireOwnedCustomer(*into));
  CRM_RETURN_IF_ERROR(rules::RequireOwnedCustomer(from));

  // Every record moves, each on its own stream; the deals take the survivor's owner.
  Decision d;
  d.primary = into->id;
  for (const Id& id : from.contacts) {
    d.events.push_back({id, RecordMoved{into->id, from.id, std::nullopt}});
  }
  for (const auto* deals : {&from.opportunities, &from.contracts}) {
    for (const Id& id : *deals) {
      d.events.push_back({id, RecordMoved{into->id, from.id, into->own.owner_id}});
    }
  }
  d.events.push_back({from.id, CustomerMerged{into->id}});
  d.events.push_back({into->id, CustomerAbsorbed{from.id}});
  // The merged customer's name is released: nobody inherits it.
  d.unique_keys.push_back({std::string(kCustomerNameScope), from.normalized_name, from.id, true});
  return d;
}

CRM_DECIDER(LockCustomer) {
  (void)ctx;
  CRM_ASSIGN_OR_RETURN(const CustomerRecord* cus, VisibleCustomer(m, v, c.customer_id));
  CRM_RETURN_IF_ERROR(RequireRole(v, {Role::kAdmin, Role::kManager}, "lock customers"));
  CRM_RETURN_IF_ERROR(RequireEditor(m, v, cus->own.owner_id, "lock a customer"));
  if (!cus->own.owner_id) return InvalidTransition("the customer is in the pool");
  if (cus->locked) return InvalidTransition("the customer is locked already");
  return Single(c.customer_id, CustomerLocked{c.reason});
}

CRM_DECIDER(UnlockCustomer) {
  (void)ctx;
  CRM_ASSIGN_OR_RETURN(const CustomerRecord* cus, VisibleCustomer(m, v, c.customer_id));
  CRM_RETURN_IF_ERROR(RequireRole(v, {Role::kAdmin, Role::kManager}, "unlock customers"));
  CRM_RETURN_IF_ERROR(RequireEditor(m, v, cus->own.owner_id, "unlock a customer"));
  CRM_RETURN_IF_ERROR(rules::RequireOwnedCustomer(*cus));
  if (!cus->locked) return InvalidTransition("the customer is not locked");
  return Single(c.customer_id, CustomerUnlocked{});
}

}  // namespace crm::domain::deciders
