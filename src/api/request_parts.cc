#include "api/request_parts.h"

#include <algorithm>

#include "api/handler_util.h"

namespace crm::api {

namespace d = crm::domain;

namespace {
const std::vector<std::string> kChannels = {"call", "visit", "email", "message", "other"};
const std::vector<std::string> kLevels = {"A", "B", "C", "D"};
const std::vector<std::string> kOpenStages = {"qualification", "needs_analysis", "proposal",
                                              "negotiation"};
}  // namespace

Result<std::string> ReadReason(const json& body, bool required) {
  std::vector<FieldError> errors;
  Fields f(body, errors);
  auto reason = f.Text("reason", required, 1000);
  CRM_RETURN_IF_ERROR(FieldsOk(errors));
  return reason.value_or("");
}

Result<FollowUpParts> ReadFollowUp(const json& body) {
  std::vector<FieldError> errors;
  Fields f(body, errors);
  auto channel = f.OneOf("channel", true, kChannels);
  auto note = f.Text("note", true, 5000);
  auto next_at = f.TimeField("next_at", false);
  CRM_RETURN_IF_ERROR(FieldsOk(errors));
  return FollowUpParts{*d::ParseChannel(*channel), *note, next_at};
}

json FollowUpReply(const char* parent_field, const writer::CommandResult& res) {
  json j = DefaultReply(res);
  j[parent_field] = res.primary;
  j["id"] = res.created.value_or("");
  return j;
}

d::CustomerDetails ReadCustomerDetails(Fields& f, bool name_required) {
  d::CustomerDetails c;
  c.name = f.Text("name", name_required);
  c.industry = f.Text("industry", false, 100);
  c.region = f.Text("region", false, 100);
  if (auto level = f.OneOf("level", false, kLevels)) c.level = d::ParseLevel(*level);
  c.phone = f.Text("phone", false, 50);
  c.address = f.Text("address", false, 500);
  return c;
}

d::ContactDetails ReadContactDetails(Fields& f) {
  d::ContactDetails c;
  c.name = f.Text("name", true).value_or("");
  c.title = f.Text("title", false, 100);
  c.phone = f.Text("phone", false, 50);
  c.email = f.Email("email", false);
  c.decision_maker = f.Boolean("decision_maker", false).value_or(false);
  return c;
}

d::OpportunityDetails ReadOpportunityDetails(Fields& f) {
  d::OpportunityDetails o;
  o.name = f.Text("name", true).value_or("");
  o.amount = f.Amount("amount", true).value_or(0);
  o.currency = f.Currency("currency", true).value_or("");
  o.expected_close_date = f.DateField("expected_close_date", true).value_or(Date{});
  if (auto stage = f.OneOf("stage", false, kOpenStages)) o.stage = d::ParseStage(*stage);
  return o;
}

void CheckPatchKeys(Fields& f, const json& body, const std::vector<std::string>& editable,
                    const std::vector<std::string>& also) {
  bool any = false;
  for (const auto& [key, value] : body.items()) {
    bool edits = std::find(editable.begin(), editable.end(), key) != editable.end();
    any = any || edits;
    if (!edits && std::find(also.begin(), also.end(), key) == also.end()) {
      std::string names;
      for (const auto& e : editable) names += (names.empty() ? "" : ", ") + e;
      f.Fail(key, "is not a field an edit changes (" + names + ")");
    }
  }
  if (!any) f.Fail("body", "name at least one field to change");
}

std::optional<std::string> PatchText(Fields& f, const char* name, bool clearable, size_t max_len) {
  if (!f.Has(name)) return std::nullopt;
  if (f.IsNull(name)) {
    if (clearable) return std::string();
    f.Fail(name, "cannot be cleared");
    return std::nullopt;
  }
  return f.Text(name, !clearable, max_len).value_or("");
}

std::optional<std::string> PatchEmail(Fields& f, const char* name) {
  if (!f.Has(name)) return std::nullopt;
  if (f.IsNull(name)) return std::string();
  return f.Email(name, false).value_or("");
}

}  // namespace crm::api
