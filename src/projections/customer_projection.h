// Customers (客户) and what hangs off them: contacts, opportunities, contracts with
// their payment plans and payments. The customer 360 view is rendered from these rows;
// `as_of` views fold a fresh instance over a customer's streams only.
#ifndef CRM_PROJECTIONS_CUSTOMER_PROJECTION_H_
#define CRM_PROJECTIONS_CUSTOMER_PROJECTION_H_

#include "domain/policy.h"
#include "projections/projection.h"
#include "projections/row_map.h"
#include "projections/search_index.h"
#include "projections/view_util.h"

namespace crm::projections {

struct CustomerFilter {
  std::optional<std::string> owner_id;
  std::optional<std::string> level;
  std::optional<std::string> region;
  std::string q;  // in the name, industry or phone, or a contact's name, e-mail or phone
  bool pool_only = false;
  // As LeadFilter::owners.
  std::optional<std::vector<std::string>> owners;
};
struct OpportunityFilter {
  std::optional<std::string> stage;
  std::optional<std::string> owner_id;
  std::optional<std::string> customer_id;
};
struct ContractFilter {
  std::optional<std::string> customer_id;
  std::optional<std::string> status;  // active | paid
  std::optional<std::string> owner_id;
};

class CustomerProjection final : public Projection {
 public:
  CustomerProjection();
  std::string_view name() const override { return "customers"; }
  void Apply(const eventstore::RecordedEvent& event, Topics& touched) override;
  void Flush(LocalBatch& batch) override;
  Status Load(const LocalStore& store) override;
  void Clear() override;

  const views::CustomerRowT* FindCustomer(const std::string& id) const {
    return customers_.Find(id);
  }
  const views::ContactRowT* FindContact(const std::string& id) const { return contacts_.Find(id); }
  const views::OpportunityRowT* FindOpportunity(const std::string& id) const {
    return opportunities_.Find(id);
  }
  const views::ContractRowT* FindContract(const std::string& id) const {
    return contracts_.Find(id);
  }

  const std::map<std::string, views::CustomerRowT>& customers() const { return customers_.rows(); }
  const std::map<std::string, views::OpportunityRowT>& opportunities() const {
    return opportunities_.rows();
  }
  const std::map<std::string, views::ContractRowT>& contracts() const { return contracts_.rows(); }

  const std::set<std::string>& CustomersOf(const std::string& owner) const {
    return customer_owners_.Of(owner);
  }
  const std::set<std::string>& OpportunitiesOf(const std::string& owner) const {
    return opportunity_owners_.Of(owner);
  }
  const std::set<std::string>& ContractsOf(const std::string& owner) const {
    return contract_owners_.Of(owner);
  }

  // The invoice and the contract that holds it; nullptr when there is no such invoice.
  std::pair<const views::InvoiceRowT*, const views::ContractRowT*> FindInvoice(
      const std::string& id) const;

  // The customer whose view events of `stream` change: the customer itself, or the
  // customer of a contact, opportunity, contract or invoice. nullptr for other streams.
  const views::CustomerRowT* CustomerOfStream(const std::string& stream) const;

  // The customer's rows (customer, contacts, opportunities, contracts) as a
  // views::CustomerSnapshot; empty when there is no such customer.
  std::string Snapshot(const std::string& customer_id) const;
  // Adds the rows of a Snapshot (into an empty projection, for an as-of view). False when
  // the bytes are not a snapshot.
  bool Restore(std::string_view snapshot);

  // `visible(owner)` is the data-permission rule for a record owner ("" = none).
  using Visible = std::function<bool(const std::string&)>;
  // Opportunities and contracts belong to their customer: visible exactly when it is.
  bool DealVisible(const std::string& customer_id, const Visible& visible) const;

  Page<views::CustomerRowT> ListCustomers(const CustomerFilter& f, const Visible& visible,
                                          const std::string& cursor, size_t limit) const;
  Page<views::OpportunityRowT> ListOpportunities(const OpportunityFilter& f, const Visible& visible,
                                                 const std::string& cursor, size_t limit) const;
  Page<views::ContractRowT> ListContracts(const ContractFilter& f, const Visible& visible,
                                          const std::string& cursor, size_t limit) const;

 private:
  void SetCustomerOwner(views::CustomerRowT& row, const eventstore::RecordedEvent& ev,
                        const std::string& owner, const std::string& reason);
  void ToPool(views::CustomerRowT& row, const eventstore::RecordedEvent& ev,
              domain::PoolReason reason);
  // The opportunity or contract on `ev`'s stream now belongs to `owner` ("" = nobody), and
  // to customer `moved_to` when given (a merge). Returns the customer's list the deal is
  // in (nullptr: no such deal).
  using DealList = std::vector<std::string> views::CustomerRowT::*;
  template <class TouchCustomer>
  DealList SetDealOwner(const eventstore::RecordedEvent& ev, const std::string& owner,
                        const std::string* moved_to, TouchCustomer&& touch_customer);

  // The contract holding invoice `id`, for its edit; nullptr when none.
  views::ContractRowT* EditInvoiceContract(const std::string& invoice_id);

  // Indexes the customer's name, industry and phone and its contacts' for search.
  void Index(const views::CustomerRowT& row);

  RowMap<views::CustomerRowT> customers_;
  RowMap<views::ContactRowT> contacts_;
  RowMap<views::OpportunityRowT> opportunities_;
  RowMap<views::ContractRowT> contracts_;
  OwnerIndex customer_owners_;
  OwnerIndex opportunity_owners_;
  OwnerIndex contract_owners_;
  std::unordered_map<std::string, std::string> invoice_contract_;  // invoice → its contract
  SearchIndex search_;
};

// When the pool rules will recycle the customer, if ever.
std::optional<Time> RecycleAt(const views::CustomerRowT& row, const domain::PoolPolicy& policy);

// Contract money, as of business day `today`.
struct InstallmentStatus {
  int64_t due_on_days = 0;
  int64_t amount = 0;
  int64_t paid = 0;
  std::string status;  // pending | partial | paid | overdue
  int64_t days_overdue = 0;
};
std::vector<InstallmentStatus> Installments(const views::ContractRowT& c, Date today);
// "active" until fully paid, then "paid".
std::string ContractStatus(const views::ContractRowT& c);
// What is still unpaid of installments past due.
int64_t OverdueAmount(const views::ContractRowT& c, Date today);

}  // namespace crm::projections

#endif  // CRM_PROJECTIONS_CUSTOMER_PROJECTION_H_
