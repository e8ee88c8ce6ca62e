// A random story over the whole domain for tests that compare two ways of building the
// same state (a rebuild and a live build; a snapshot and a fold): random commands, most of
// them sensible, some refused, until every event type has occurred.
#ifndef CRM_TESTS_WRITER_STORY_H_
#define CRM_TESTS_WRITER_STORY_H_

#include <cstdio>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "domain/time.h"
#include "writer/clock.h"
#include "writer/writer.h"

namespace crm::writer::testing {

namespace d = crm::domain;
using std::chrono::hours;

// Where the story's business days start.
inline const Seconds kStoryOffset = hours(8);

// Drives random commands, most of them sensible, some refused.
class Story {
 public:
  Story(writer::Writer& commands, writer::FakeClock& clock, uint32_t seed)
      : commands_(commands), clock_(clock), rng_(seed) {}

  void Setup() {
    admin_ = Do("system", d::CreateStaff{"stf_admin", "Admin", "a@x", d::Role::kAdmin, {}, {}});
    Do("stf_admin", d::CreateDepartment{"dep_a", "A", {}});
    Do("stf_admin", d::CreateDepartment{"dep_b", "B", "dep_a"});
    Do("stf_admin", d::CreateDepartment{"dep_c", "C", "dep_a"});
    Do("stf_admin", d::CreateStaff{"stf_mgr", "M", "m@x", d::Role::kManager, "dep_a", {}});
    for (int i = 0; i < 4; ++i) {
      std::string id = "stf_rep" + std::to_string(i);
      Do("stf_admin", d::CreateStaff{id, "R" + std::to_string(i), id + "@x", d::Role::kSales,
                                     i % 2 ? "dep_a" : "dep_b", i % 2 ? "east" : "west"});
      reps_.push_back(id);
    }
    Do("stf_admin", d::CreateStaff{"stf_fin", "F", "f@x", d::Role::kFinance, "dep_a", {}});
    Do("stf_fin", d::SetPassword{"stf_fin"});
  }

  void Step() {
    clock_.Advance(Millis(Pick(1, 3 * 3600 * 1000)));  // up to three hours pass
    std::string rep = PickOf(reps_);
    std::string actor = Pick(0, 1) == 0 ? "stf_mgr" : rep;
    switch (Pick(0, 49)) {
      case 0:
      case 1:
      case 2: {
        std::string id = NewId("lead");
        d::OptId owner;
        if (Pick(0, 1)) owner = PickOf(reps_);
        // Phones from a small set meet now and then (撞单): refused, or recorded anyway.
        Do(owner ? "stf_admin" : actor, d::CreateLead{id,
                                                      "L" + id,
                                                      "Co " + std::to_string(Pick(0, 40)),
                                                      Phone(),
                                                      {},
                                                      "web",
                                                      Pick(0, 1) ? "east" : "west",
                                                      owner,
                                                      Pick(0, 1) == 0});
        leads_.push_back(id);
        break;
      }
      case 34:
        if (!leads_.empty()) {
          d::EditLead e{.lead_id = PickOf(leads_)};
          if (Pick(0, 1)) e.phone = Pick(0, 3) ? Phone() : d::OptText("");
          if (Pick(0, 1)) e.region = Pick(0, 1) ? "north" : "";
          if (Pick(0, 2) == 0) e.name = "Renamed " + std::to_string(Pick(0, 9));
          e.allow_duplicate = Pick(0, 1) == 0;
          Do(actor, e);
        }
        break;
      case 35:
        if (!opps_.empty()) {
          // The newest is the likeliest to be open still.
          d::EditOpportunity e{.opportunity_id = Pick(0, 1) ? opps_.back() : PickOf(opps_)};
          e.amount = 1000 * Pick(1, 99);
          if (Pick(0, 3) == 0) e.currency = "USD";
          if (Pick(0, 1)) e.expected_close_date = Date{} + std::chrono::days(Pick(20000, 21000));
          Do("stf_mgr", e);
        }
        break;
      case 36:
        if (!contacts_.empty()) {
          Do(actor, d::EditContact{.contact_id = PickOf(contacts_),
                                   .title = Pick(0, 1) ? "CFO" : "",
                                   .decision_maker = Pick(0, 1) == 0});
        }
        break;
      case 37:
        // A rep moves between the departments, or changes region: visibility follows.
        Do("stf_admin", d::EditStaff{.staff_id = rep,
                                     .department_id = Pick(0, 1) ? "dep_a" : "dep_b",
                                     .region = Pick(0, 1) ? "east" : ""});
        break;
      case 38:
        // It stays in the manager's subtree, under dep_a or dep_c (or, refused, under itself).
        Do("stf_admin", d::EditDepartment{.department_id = "dep_b",
                                          .name = "B " + std::to_string(Pick(0, 9)),
                                          .parent_id = d::OptId(Pick(0, 4) == 0 ? "dep_b"
                                                                : Pick(0, 1)    ? "dep_a"
                                                                                : "dep_c")});
        break;
      case 3:
        if (!leads_.empty()) Do(rep, d::ClaimLead{PickOf(leads_)});
        break;
      case 4:
      case 31:
        if (!leads_.empty()) Do(actor, d::ReleaseLead{PickOf(leads_), "r"});
        break;
      case 5:
      case 6:
        if (!leads_.empty())
          Do(rep, d::FollowUpLead{PickOf(leads_), NewId("fup"), d::Channel::kCall, "n", {}});
        break;
      case 7:
        if (!leads_.empty()) Do("stf_mgr", d::AssignLead{PickOf(leads_), rep});
        break;
      case 8:
        if (!leads_.empty()) Do(actor, d::InvalidateLead{PickOf(leads_), "x"});
        break;
      case 9:
        if (!leads_.empty() && Pick(0, 1) == 0) Do(actor, d::VoidLead{PickOf(leads_), "x"});
        break;
      case 10:
      case 29: {
        if (leads_.empty()) break;
        d::ConvertLead c;
        c.lead_id = PickOf(leads_);
        Do("stf_mgr", d::ClaimLead{c.lead_id});  // a pool lead is claimed first
        c.new_customer_id = NewId("cus");
        c.new_contact_id = NewId("ctc");
        c.new_opportunity_id = NewId("opp");
        c.contact = d::ContactDetails{"C", {}, {}, {}, true};
        if (!customers_.empty() && Pick(0, 2) == 0) c.customer_id = PickOf(customers_);
        if (Pick(0, 1))
          c.opportunity = d::OpportunityDetails{"O", 1000 * Pick(1, 9), "CNY", Date{}, {}};
        auto dec = Do("stf_mgr", c);
        if (dec) {
          const auto& out = std::get<d::ConversionOutcome>(dec->result.outcome);
          if (out.customer_created) customers_.push_back(out.customer_id);
          if (out.opportunity_id) opps_.push_back(*out.opportunity_id);
          if (out.contact_id) contacts_.push_back(*out.contact_id);
        }
        break;
      }
      case 11:
      case 12: {
        std::string id = NewId("cus");
        // A manager's customer goes to the pool unless it names an owner; deals wait for one.
        d::OptId owner;
        if (actor == "stf_mgr" && Pick(0, 2)) owner = PickOf(reps_);
        Do(actor, d::CreateCustomer{
                      id, d::CustomerDetails{.name = "Cus " + std::to_string(Pick(0, 60))}, owner});
        customers_.push_back(id);
        break;
      }
      case 13:
        if (!customers_.empty())
          Do(actor, d::UpdateCustomer{PickOf(customers_), {}, "mining", {}, "B", {}, {}});
        break;
      case 14:
        if (!customers_.empty()) Do(rep, d::ClaimCustomer{PickOf(customers_)});
        break;
      case 15:
        if (!customers_.empty()) Do(actor, d::ReleaseCustomer{PickOf(customers_), "r"});
        break;
      case 16:
        if (!customers_.empty())
          Do("stf_mgr", d::TransferCustomer{PickOf(customers_), PickOf(reps_)});
        break;
      case 17:
        if (!customers_.empty()) {
          const std::string& id = PickOf(customers_);
          if (Do("stf_mgr", d::LockCustomer{id, "vip"})) locked_.push_back(id);
        }
        break;
      case 18:
        if (!locked_.empty()) Do("stf_mgr", d::UnlockCustomer{PickOf(locked_)});
        break;
      case 19:
        if (!customers_.empty())
          Do(rep,
             d::FollowUpCustomer{PickOf(customers_), NewId("fup"), d::Channel::kVisit, "v", {}});
        break;
      case 20: {
        if (customers_.empty()) break;
        std::string id = NewId("opp");
        Do(actor, d::CreateOpportunity{id, PickOf(customers_), {"O", 5000, "CNY", Date{}, {}}});
        opps_.push_back(id);
        break;
      }
      case 33:
        if (!opps_.empty())
          Do("stf_mgr", d::ChangeStage{PickOf(opps_), static_cast<d::Stage>(Pick(0, 3))});
        break;
      case 21:
        if (!opps_.empty())
          Do(actor, d::ChangeStage{PickOf(opps_), static_cast<d::Stage>(Pick(0, 3))});
        [[fallthrough]];
      case 22:
      case 32:
        if (!opps_.empty()) {
          if (Pick(0, 1))
            Do(actor, d::WinOpportunity{PickOf(opps_), "w"});
          else
            Do(actor, d::LoseOpportunity{PickOf(opps_), "l"});
        }
        break;
      case 23:
      case 42:
      case 43: {
        if (customers_.empty()) break;
        std::string id = NewId("con");
        int64_t a = 100 * Pick(1, 50), b = 100 * Pick(1, 50);
        Date day = BusinessDay(clock_.Now(), kStoryOffset);
        d::OptId opp;
        if (!opps_.empty() && Pick(0, 1)) opp = PickOf(opps_);
        Do(actor, d::SignContract{id,
                                  PickOf(customers_),
                                  opp,
                                  id,
                                  "T",
                                  a + b,
                                  "CNY",
                                  day,
                                  {{day + std::chrono::days(Pick(-5, 5)), a},
                                   {day + std::chrono::days(30), b}}});
        contracts_.push_back(id);
        break;
      }
      case 24:
      case 30:
      case 44:
      case 45:
        if (!contracts_.empty()) {
          const std::string& contract = PickOf(contracts_);
          std::string id = NewId("pay");
          if (Do("stf_fin", d::RecordPayment{contract,
                                             id,
                                             100 * Pick(1, 40),
                                             BusinessDay(clock_.Now(), kStoryOffset),
                                             "bank",
                                             {}}))
            payments_.emplace_back(contract, id);
        }
        break;
      case 39:
        // A payment entered by mistake is taken back (冲销); now and then twice, refused.
        if (!payments_.empty()) {
          const auto& [contract, payment] =
              payments_[static_cast<size_t>(Pick(0, static_cast<int64_t>(payments_.size()) - 1))];
          Do("stf_fin", d::ReversePayment{contract, payment, "entered twice"});
        }
        break;
      case 40:
        if (!contracts_.empty()) {
          std::string id = NewId("inv");
          if (Do("stf_fin",
                 d::IssueInvoice{id, PickOf(contracts_), "FP-" + std::to_string(Pick(0, 400)),
                                 100 * Pick(1, 60), "CNY", BusinessDay(clock_.Now(), kStoryOffset),
                                 Pick(0, 1) ? "vat_special" : "vat_normal", 13}))
            invoices_.push_back(id);
        }
        break;
      case 46: {
        // A rep sets themself a reminder, about one of their leads now and then.
        std::string id = NewId("task");
        d::OptId about;
        if (!leads_.empty() && Pick(0, 1)) about = PickOf(leads_);
        if (Do(rep, d::CreateTask{id, "call back", clock_.Now() + hours(Pick(1, 72)), about}))
          tasks_.emplace_back(rep, id);
        break;
      }
      case 47:
        if (!tasks_.empty()) {
          const auto& [owner, id] =
              tasks_[static_cast<size_t>(Pick(0, static_cast<int64_t>(tasks_.size()) - 1))];
          Do(owner, d::CompleteTask{id});
        }
        break;
      case 41:
        if (!invoices_.empty()) Do("stf_fin", d::VoidInvoice{PickOf(invoices_), "wrong title"});
        break;
      case 48:
        // Two records of one company are merged (合并客户); now and then refused (the same
        // customer, one merged already, one the manager may not act on).
        if (customers_.size() >= 2 && Pick(0, 2) == 0) {
          std::string into = PickOf(customers_), from = PickOf(customers_);
          if (Do(Pick(0, 1) ? "stf_admin" : "stf_mgr", d::MergeCustomers{into, from})) {
            // Gone from the story's customers, which would otherwise fill with merged ones.
            std::erase(customers_, from);
          }
        }
        break;
      case 49: {
        // A small list is imported, its phones meeting live leads' and each other's now and
        // then; sometimes only previewed.
        d::ImportLeads import;
        import.dry_run = Pick(0, 3) == 0;
        for (int i = 0, n = static_cast<int>(Pick(1, 4)); i < n; ++i) {
          std::string id = NewId("lead");
          import.leads.push_back(d::CreateLead{id,
                                               "I" + id,
                                               "Co " + std::to_string(Pick(0, 40)),
                                               Phone(),
                                               {},
                                               "import",
                                               "east",
                                               {},
                                               false});
          if (!import.dry_run) leads_.push_back(id);
        }
        Do(actor, std::move(import));
        break;
      }
      case 25: {
        d::PoolPolicy p;
        if (Pick(0, 1)) p.recycle_no_follow_up = hours(Pick(1, 48));
        if (Pick(0, 1)) p.recycle_no_deal = hours(Pick(24, 96));
        if (Pick(0, 1)) p.daily_claim_limit = Pick(1, 5);
        if (Pick(0, 1)) p.previous_owner_block = hours(Pick(1, 24));
        if (Pick(0, 2) == 0) p.max_owned_leads = Pick(3, 30);
        if (Pick(0, 2) == 0) p.max_owned_customers = Pick(3, 30);
        Do("stf_admin", d::SetPoolPolicy{p});
        break;
      }
      case 26:
        Do("system", d::RecycleDue{1000});
        break;
      case 27:
        if (Pick(0, 5) == 0) {
          std::string from = PickOf(reps_), to = PickOf(reps_);
          Do("stf_mgr", d::Handover{from, Pick(0, 2) == 0 ? d::OptId() : d::OptId(to), false});
        }
        break;
      case 28:
        Do("stf_mgr", d::SetTarget{Period{2026, static_cast<unsigned>(Pick(10, 12))},
                                   PickOf(reps_),
                                   {},
                                   100000 * Pick(1, 9),
                                   "CNY"});
        break;
    }
  }

  // The last act: the caps are lifted, and a rep leaves, handing everything to a colleague.
  void Finale() {
    Do("stf_admin", d::SetPoolPolicy{d::PoolPolicy{.recycle_no_follow_up = hours(24 * 30)}});
    // Acts every story ends with, whatever the dice said before: two records of one
    // company, the second with a contact and an invoiced (then voided) contract, merged.
    std::string a = NewId("cus"), b = NewId("cus"), contract = NewId("con"), inv = NewId("inv");
    Date day = BusinessDay(clock_.Now(), kStoryOffset);
    Do("stf_admin", d::CreateCustomer{a, d::CustomerDetails{.name = "Finale " + a}, reps_[1]});
    Do("stf_admin", d::CreateCustomer{b, d::CustomerDetails{.name = "Finale " + b}, reps_[1]});
    Do(reps_[1], d::AddContact{b, NewId("ctc"), {"C", {}, {}, {}, false}});
    Do(reps_[1], d::SignContract{contract, b, {}, contract, "T", 1000, "CNY", day, {{day, 1000}}});
    Do("stf_fin", d::IssueInvoice{inv, contract, "FIN-" + inv, 500, "CNY", day, "vat_normal", 13});
    Do("stf_fin", d::VoidInvoice{inv, "wrong title"});
    Do("stf_admin", d::MergeCustomers{a, b});
    Do("stf_mgr", d::Handover{reps_[0], reps_[1], true});
  }

  size_t accepted() const { return accepted_; }

 private:
  std::optional<writer::WriteOutcome> Do(const std::string& actor, d::Command c) {
    size_t kind = c.index();
    auto out = commands_.Execute({.command = std::move(c), .actor = actor});
    if (!out.ok()) {
      if (std::getenv("STORY_DEBUG"))
        std::fprintf(stderr, "command %zu refused: %s %s\n", kind, out.error().code.c_str(),
                     out.error().detail.c_str());
      return std::nullopt;
    }
    ++accepted_;
    return std::move(out).value();
  }
  int64_t Pick(int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng_);
  }
  const std::string& PickOf(const std::vector<std::string>& v) {
    return v[static_cast<size_t>(Pick(0, static_cast<int64_t>(v.size()) - 1))];
  }
  std::string Phone() { return "+86 139 0000 " + std::to_string(1000 + Pick(0, 60)); }
  std::string NewId(const std::string& prefix) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%s_%08d", prefix.c_str(), ++counter_);
    return buf;
  }

  writer::Writer& commands_;
  writer::FakeClock& clock_;
  std::mt19937 rng_;
  int counter_ = 0;
  size_t accepted_ = 0;
  std::optional<writer::WriteOutcome> admin_;
  std::vector<std::string> reps_, leads_, customers_, opps_, contracts_, contacts_, locked_,
      invoices_;
  std::vector<std::pair<std::string, std::string>> payments_;  // (contract, payment)
  std::vector<std::pair<std::string, std::string>> tasks_;     // (owner, task)
};

}  // namespace crm::writer::testing

#endif  // CRM_TESTS_WRITER_STORY_H_
