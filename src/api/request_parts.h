// Pieces of request bodies that several endpoints share.
#ifndef CRM_API_REQUEST_PARTS_H_
#define CRM_API_REQUEST_PARTS_H_

#include <nlohmann/json.hpp>

#include "api/body.h"
#include "domain/commands.h"
#include "domain/decide.h"
#include "writer/command_record.h"

namespace crm::api {

// {"reason": "..."}: at most 1000 characters; "" when optional and absent.
Result<std::string> ReadReason(const json& body, bool required = true);

struct FollowUpParts {
  domain::Channel channel = domain::Channel::kCall;
  std::string note;
  std::optional<Time> next_at;
};
// {"channel", "note", "next_at"?}
Result<FollowUpParts> ReadFollowUp(const json& body);
// {"id": "fup_..", "<parent_field>": the record, "version", "position"}
json FollowUpReply(const char* parent_field, const writer::CommandResult& res);

// Customer fields {name, industry, region, level, phone, address}; problems go to `f`.
domain::CustomerDetails ReadCustomerDetails(Fields& f, bool name_required);
// {name, title?, phone?, email?, decision_maker?}
domain::ContactDetails ReadContactDetails(Fields& f);
// {name, amount, currency, expected_close_date, stage?}
domain::OpportunityDetails ReadOpportunityDetails(Fields& f);

// ---- PATCH bodies: a present field changes; null clears a field that may be empty.
// Fails every key of the body outside `editable` and `also` (flags such as
// allow_duplicate), and a body that names no editable field.
void CheckPatchKeys(Fields& f, const json& body, const std::vector<std::string>& editable,
                    const std::vector<std::string>& also = {});
// A text field: absent → nullopt; null → "" when `clearable` (an error otherwise); else
// the text, which must not be empty unless `clearable`.
std::optional<std::string> PatchText(Fields& f, const char* name, bool clearable,
                                     size_t max_len = 200);
// The same for an email address.
std::optional<std::string> PatchEmail(Fields& f, const char* name);

}  // namespace crm::api

#endif  // CRM_API_REQUEST_PARTS_H_
