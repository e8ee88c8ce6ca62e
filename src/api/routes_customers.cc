// Customers (客户): create, list, the 360 view (now or as of a moment), edit, contacts,
// follow-ups, claim, release, transfer, merge, lock, and the timeline.
#include <algorithm>
#include <variant>

#include "api/body.h"
#include "api/event_json.h"
#include "api/handler_util.h"
#include "api/list_filters.h"
#include "api/request_parts.h"
#include "api/routes.h"
#include "api/views_json.h"

namespace crm::api {

namespace d = crm::domain;

namespace {

const std::vector<std::string> kLevels = {"A", "B", "C", "D"};

// The customer, or 404 when missing or invisible to `v`.
Result<const views::CustomerRowT*> VisibleCustomer(const ReadView& view, const d::Viewer& v,
                                                   const std::string& id) {
  const auto* row = view.customers().FindCustomer(id);
  if (!row || !VisibleTo(view, v)(row->owner_id)) return NotFound("no customer " + id);
  return row;
}

// The 360 view as it was at `as_of`. Under the read lock this only gathers what the
// replay needs; finding the position in the log and the replay run after the lock is
// released (Answer::unlocked).
Answer CustomerAsOf(const Services& s, const ReadView& view, const views::CustomerRowT& now,
                    AsOf as_of) {
  Answer answer;
  answer.unlocked = [&s, id = now.id, records = CustomerRecordIds(now, view.customers()),
                     as_of]() -> Result<Answer> {
    CRM_ASSIGN_OR_RETURN(uint64_t position, AsOfPosition(s.store, as_of));
    CRM_ASSIGN_OR_RETURN(
        auto then, Customer360AsOf(s.store, s.read.history(), id, records, position, s.utc_offset));
    return Answer{std::move(then.first), then.second};
  };
  return answer;
}

// Reads PATCH fields: present ones change; null clears an optional field.
Result<d::UpdateCustomer> ParsePatch(const std::string& id, const json& body) {
  std::vector<FieldError> errors;
  Fields f(body, errors);
  CheckPatchKeys(f, body, {"name", "industry", "region", "level", "phone", "address"});
  if (f.Has("owner_id")) f.Fail("owner_id", "change owners with transfer, claim or release");
  d::UpdateCustomer u;
  u.customer_id = id;
  u.name = PatchText(f, "name", false);
  u.industry = PatchText(f, "industry", true, 100);
  u.region = PatchText(f, "region", true, 100);
  u.phone = PatchText(f, "phone", true, 50);
  u.address = PatchText(f, "address", true, 500);
  if (f.Has("level")) {
    if (f.IsNull("level"))
      u.level = "";
    else if (auto level = f.OneOf("level", true, kLevels))
      u.level = *level;
  }
  CRM_RETURN_IF_ERROR(FieldsOk(errors));
  return u;
}

// The contacts of a customer, in the order they were added, a page after `cursor` (a
// contact id).
Answer ContactsPage(const ReadView& view, const views::CustomerRowT& row, const std::string& cursor,
                    size_t limit) {
  const auto& ids = row.contact_ids;
  auto it = ids.begin();
  if (!cursor.empty()) {
    it = std::find(ids.begin(), ids.end(), cursor);
    it = it == ids.end() ? ids.end() : std::next(it);
  }
  json items = json::array();
  std::optional<std::string> next;
  for (; it != ids.end(); ++it) {
    const auto* c = view.customers().FindContact(*it);
    if (!c) continue;
    if (items.size() == limit) {
      next = items.back()["id"].get<std::string>();
      break;
    }
    items.push_back(ContactJson(*c));
  }
  return Answer{ListJson(std::move(items), next), std::nullopt};
}

}  // namespace

void AddCustomerRoutes(Router& r, Services& s) {
  r.Add("POST", "/api/v1/customers", [&s](const CallPtr& call) {
    CommandSpec spec;
    spec.success_status = 201;
    spec.build = [&s](const d::Viewer&, const json& body) -> Result<d::Command> {
      std::vector<FieldError> errors;
      Fields f(body, errors);
      d::CreateCustomer c;
      c.customer_id = s.ids.New("cus");
      c.details = ReadCustomerDetails(f, true);
      c.owner_id = f.Text("owner_id", false, 64);
      CRM_RETURN_IF_ERROR(FieldsOk(errors));
      return d::Command(std::move(c));
    };
    RunCommand(s, call, std::move(spec));
  });

  r.Add("GET", "/api/v1/customers", [&s](const CallPtr& call) {
    RunQuery(s, call, ListParams(kCustomerFilterParams),
             [call](const d::Viewer& v, const ReadView& view) -> Result<Answer> {
               CRM_ASSIGN_OR_RETURN(size_t limit, LimitParam(call->req));
               auto f = CustomerFilterFrom(call->req, view, v);
               auto page = view.customers().ListCustomers(f, VisibleTo(view, v),
                                                          CursorParam(call->req), limit);
               return PageTextAnswer(page, [&](JsonWriter& w, const auto& row) {
                 AppendCustomerSummaryText(w, row, view.pool().policy());
               });
             });
  });

  r.Add("GET", "/api/v1/customers/{id}", [&s](const CallPtr& call) {
    RunQuery(
        s, call, {"as_of"}, [&s, call](const d::Viewer& v, const ReadView& view) -> Result<Answer> {
          CRM_ASSIGN_OR_RETURN(const auto* row,
                               VisibleCustomer(view, v, call->req.params.at("id")));
          if (auto as_of = OptParam(call->req, "as_of")) {
            CRM_ASSIGN_OR_RETURN(AsOf when, ParseAsOf(*as_of));
            return CustomerAsOf(s, view, *row, when);
          }
          return Answer{Customer360Json(*row, view.customers(), view.pool().policy(), Today(s)),
                        row->version};
        });
  });

  r.Add("PATCH", "/api/v1/customers/{id}", [&s](const CallPtr& call) {
    RunPathCommand(s, call, 200, [](const std::string& id, const json& body) -> Result<d::Command> {
      CRM_ASSIGN_OR_RETURN(d::UpdateCustomer u, ParsePatch(id, body));
      return d::Command(std::move(u));
    });
  });

  r.Add("GET", "/api/v1/customers/{id}/contacts", [&s](const CallPtr& call) {
    RunQuery(s, call, kPageParams,
             [call](const d::Viewer& v, const ReadView& view) -> Result<Answer> {
               CRM_ASSIGN_OR_RETURN(size_t limit, LimitParam(call->req));
               CRM_ASSIGN_OR_RETURN(const auto* row,
                                    VisibleCustomer(view, v, call->req.params.at("id")));
               return ContactsPage(view, *row, CursorParam(call->req), limit);
             });
  });

  r.Add("PATCH", "/api/v1/contacts/{id}", [&s](const CallPtr& call) {
    RunPathCommand(s, call, 200, [](const std::string& id, const json& body) -> Result<d::Command> {
      std::vector<FieldError> errors;
      Fields f(body, errors);
      CheckPatchKeys(f, body, {"name", "title", "phone", "email", "decision_maker"});
      d::EditContact c;
      c.contact_id = id;
      c.name = PatchText(f, "name", false);
      c.title = PatchText(f, "title", true, 100);
      c.phone = PatchText(f, "phone", true, 50);
      c.email = PatchEmail(f, "email");
      c.decision_maker = f.Boolean("decision_maker", false);
      CRM_RETURN_IF_ERROR(FieldsOk(errors));
      return d::Command(std::move(c));
    });
  });

  r.Add("POST", "/api/v1/customers/{id}/contacts", [&s](const CallPtr& call) {
    std::string contact_id = s.ids.New("ctc");
    std::string customer_id = call->req.params.at("id");
    RunPathCommand(
        s, call, 201,
        [contact_id](const std::string& id, const json& body) -> Result<d::Command> {
          std::vector<FieldError> errors;
          Fields f(body, errors);
          d::ContactDetails details = ReadContactDetails(f);
          CRM_RETURN_IF_ERROR(FieldsOk(errors));
          return d::Command(d::AddContact{id, contact_id, details});
        },
        [customer_id](const writer::CommandResult& res) {
          json j = DefaultReply(res);
          j["customer_id"] = customer_id;
          return j;
        });
  });

  r.Add("POST", "/api/v1/customers/{id}/follow-ups", [&s](const CallPtr& call) {
    std::string fup = s.ids.New("fup");
    RunPathCommand(
        s, call, 201,
        [fup](const std::string& id, const json& body) -> Result<d::Command> {
          CRM_ASSIGN_OR_RETURN(FollowUpParts p, ReadFollowUp(body));
          return d::Command(d::FollowUpCustomer{id, fup, p.channel, p.note, p.next_at});
        },
        [](const writer::CommandResult& res) { return FollowUpReply("customer_id", res); });
  });

  r.Add("POST", "/api/v1/customers/{id}/claim", [&s](const CallPtr& call) {
    RunPathCommand(s, call, 200, [](const std::string& id, const json&) -> Result<d::Command> {
      return d::Command(d::ClaimCustomer{id});
    });
  });

  r.Add("POST", "/api/v1/customers/{id}/release", [&s](const CallPtr& call) {
    RunPathCommand(s, call, 200, [](const std::string& id, const json& body) -> Result<d::Command> {
      CRM_ASSIGN_OR_RETURN(std::string reason, ReadReason(body));
      return d::Command(d::ReleaseCustomer{id, reason});
    });
  });

  r.Add("POST", "/api/v1/customers/{id}/transfer", [&s](const CallPtr& call) {
    RunPathCommand(s, call, 200, [](const std::string& id, const json& body) -> Result<d::Command> {
      std::vector<FieldError> errors;
      Fields f(body, errors);
      auto to = f.Text("to", true, 64);
      CRM_RETURN_IF_ERROR(FieldsOk(errors));
      return d::Command(d::TransferCustomer{id, *to});
    });
  });

  r.Add("POST", "/api/v1/customers/{id}/merge", [&s](const CallPtr& call) {
    RunPathCommand(s, call, 200, [](const std::string& id, const json& body) -> Result<d::Command> {
      std::vector<FieldError> errors;
      Fields f(body, errors);
      auto from = f.Text("from", true, 64);
      CRM_RETURN_IF_ERROR(FieldsOk(errors));
      return d::Command(d::MergeCustomers{id, *from});
    });
  });

  r.Add("POST", "/api/v1/customers/{id}/lock", [&s](const CallPtr& call) {
    RunPathCommand(s, call, 200, [](const std::string& id, const json& body) -> Result<d::Command> {
      CRM_ASSIGN_OR_RETURN(std::string reason, ReadReason(body, false));
      return d::Command(d::LockCustomer{id, reason});
    });
  });

  r.Add("POST", "/api/v1/customers/{id}/unlock", [&s](const CallPtr& call) {
    RunPathCommand(s, call, 200, [](const std::string& id, const json&) -> Result<d::Command> {
      return d::Command(d::UnlockCustomer{id});
    });
  });

  r.Add("GET", "/api/v1/customers/{id}/timeline", [&s](const CallPtr& call) {
    RunQuery(s, call, kPageParams,
             [&s, call](const d::Viewer& v, const ReadView& view) -> Result<Answer> {
               CRM_ASSIGN_OR_RETURN(const auto* row,
                                    VisibleCustomer(view, v, call->req.params.at("id")));
               CRM_ASSIGN_OR_RETURN(size_t limit, LimitParam(call->req));
               uint64_t before = 0;
               std::string cursor = CursorParam(call->req);
               if (!cursor.empty()) {
                 auto parsed = ParseU64(cursor);
                 if (!parsed) return InvalidField("cursor", "not a cursor this list gave");
                 before = *parsed;
               }
               // The page is read from the timeline's index and the log, without the lock.
               Answer answer;
               answer.unlocked = [&s, id = row->id, before, limit]() -> Result<Answer> {
                 auto positions = s.read.TimelinePositions(id, before, limit + 1);
                 bool more = positions.size() > limit;
                 if (more) positions.resize(limit);
                 json items = json::array();
                 for (uint64_t p : positions) {
                   CRM_ASSIGN_OR_RETURN(auto one, s.store.ReadAll(p, 1));
                   if (!one.empty()) items.push_back(EventJson(one.front()));
                 }
                 std::optional<std::string> next;
                 if (more && !positions.empty()) next = std::to_string(positions.back());
                 return Answer{ListJson(std::move(items), next), std::nullopt};
               };
               return answer;
             });
  });
}

}  // namespace crm::api
