// Errors as RFC 9457 problem+json.
#ifndef CRM_API_PROBLEM_H_
#define CRM_API_PROBLEM_H_

#include <string>
#include <vector>

#include "domain/result.h"

namespace crm::api {

// Every problem `code` the server answers with: its status, title and when it is used.
struct ProblemCode {
  const char* code;
  int status;
  const char* title;
  const char* when;
};
const std::vector<ProblemCode>& ProblemCodes();

int HttpStatus(ErrorKind kind);
// The title of `code` from ProblemCodes(), else the reason phrase of `status`.
std::string TitleOf(const std::string& code, int status);
// {"type": "urn:evcrm:error:<code>", "title", "status", "code", "detail", "errors"?,
//  "existing_id"?}
std::string ProblemJson(const Error& e);

}  // namespace crm::api

#endif  // CRM_API_PROBLEM_H_
