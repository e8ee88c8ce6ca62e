// Errors as RFC 9457 problem+json.
#ifndef CRM_API_PROBLEM_H_
#define CRM_API_PROBLEM_H_

#include <string>

#include "domain/result.h"

namespace crm::api {

int HttpStatus(ErrorKind kind);
// {"type": "urn:evcrm:error:<code>", "title", "status", "code", "detail", "errors"?,
//  "existing_id"?}
std::string ProblemJson(const Error& e);

}  // namespace crm::api

#endif  // CRM_API_PROBLEM_H_
