// The two shapes every endpoint takes: a query (authenticate, wait for `min_position`,
// read the projections through a view that holds their lock) and a command
// (authenticate, validate, decide through the writer, answer once durable and applied to
// the read models).
#ifndef CRM_API_HANDLER_UTIL_H_
#define CRM_API_HANDLER_UTIL_H_

#include <nlohmann/json.hpp>

#include <functional>
#include <optional>
#include <string>

#include "api/http_types.h"
#include "api/json_text.h"
#include "api/services.h"
#include "domain/decide.h"
#include "domain/org.h"
#include "writer/command_record.h"

namespace crm::api {

using nlohmann::json;

void SendJson(const CallPtr& call, unsigned status, const json& body,
              std::vector<std::pair<std::string, std::string>> headers = {});
// The same with the body already JSON text.
void SendJsonText(const CallPtr& call, unsigned status, std::string text,
                  std::vector<std::pair<std::string, std::string>> headers = {});
void SendError(const CallPtr& call, const Error& error,
               std::vector<std::pair<std::string, std::string>> headers = {});

using ReadView = projections::ReadModels::View;

// The caller, from "Authorization: Bearer <token>": 401 for a missing, unknown or revoked
// token, an expired session or a departed person. Takes a read view of its own: call it
// without one. `use` = false re-checks a token without counting it as a session's use.
Result<domain::Viewer> Authenticate(const Services& s, const std::string& authorization,
                                    bool use = true);

struct Answer {
  Answer() = default;
  Answer(json body_in, std::optional<uint64_t> etag_in) : body(std::move(body_in)), etag(etag_in) {}

  json body;
  std::optional<std::string> text;  // when set, the body already as JSON text (list pages)
  std::optional<uint64_t> etag;     // the record's version, for GET of one record
  // When set, the answer is what this returns, called once the read lock is released:
  // for work that reads only the log or the local store (an as-of replay), so that it
  // never holds up the projections or the writer's answers.
  std::function<Result<Answer>()> unlocked;
};
// Runs with a read view (the projections' read lock held).
using QueryFn = std::function<Result<Answer>(const domain::Viewer&, const ReadView&)>;
// The query parameters a route takes besides `min_position`, which every query takes.
// Any other answers 400 validation_failed naming it, so that a mistyped filter never
// silently returns everything.
using QueryParams = std::vector<std::string_view>;
// The parameters of every list: its page.
inline const QueryParams kPageParams = {"limit", "cursor"};
// A route's own parameters, and its page's when it is a list.
QueryParams ListParams(QueryParams own);
void RunQuery(const Services& s, const CallPtr& call, QueryParams accepted, QueryFn fn);
// Runs `then` on an I/O thread once the read models have applied the request's
// `min_position` (at once without one); answers 400 for a malformed one and 503
// projection_lagging when it is not reached within 5 s.
void AfterMinPosition(const Services& s, const CallPtr& call, std::function<void()> then);
// 400 validation_failed naming every query parameter of `req` not in `accepted` (nor
// `min_position`).
Status RequireKnownParams(const HttpRequest& req, const QueryParams& accepted);

// The answer to a command, from what it came to.
using ReplyFn = std::function<json(const writer::CommandResult&)>;

struct CommandSpec {
  unsigned success_status = 200;
  // The stream `If-Match` refers to (the record in the path), if the endpoint has one.
  std::string if_match_stream;
  // Builds the command from the caller and the (object) body; validation errors out.
  std::function<Result<domain::Command>(const domain::Viewer&, const json& body)> build;
  // Instead of `build`, for a body that is not a JSON object (an upload): the command
  // from the caller and the whole request.
  std::function<Result<domain::Command>(const domain::Viewer&, const HttpRequest&)> build_upload;
  // The answer, the same for the first request and every retry with its key; by default
  // {"id", "version", "position"} of the command's primary record.
  ReplyFn reply;
  // Runs on an I/O thread once the outcome is known (before the answer is sent), e.g. to
  // clean up.
  std::function<void(const Result<writer::WriteOutcome>&)> after;
  // Adds to a successful answer what only the first request may see (a secret shown
  // once); `replayed` says whether this is a retry's answer.
  std::function<void(json& answer, bool replayed)> finish;
  // Index entries written in the same commit as the command's events (credentials:
  // api/token_store.h), not on a retry that replays the first answer.
  writer::IndexEffects index;
  // Auditors run no command, but this one (setting their own password).
  bool auditors_may = false;
  // The body holds secrets: what the Idempotency-Key keeps of the request is a keyed
  // digest (TokenStore::RequestDigest), not a plain hash someone could test guesses against.
  bool secret_body = false;
};
void RunCommand(const Services& s, const CallPtr& call, CommandSpec spec);

// Writes index entries alone (an index-only commit, through the writer: a standby answers
// not_leader), then calls `then` with the outcome on an I/O thread.
void WriteIndex(const Services& s, const std::string& actor, writer::IndexEffects index,
                std::function<void(Result<writer::WriteOutcome>)> then);

// A command on the record named by the path's {id}, with `If-Match` on its stream:
// `build(id, body)` makes the command; `reply` as in CommandSpec (empty: the default).
using PathBuild = std::function<Result<domain::Command>(const std::string& id, const json& body)>;
void RunPathCommand(const Services& s, const CallPtr& call, unsigned success_status,
                    PathBuild build, ReplyFn reply = {});

// The current business day.
Date Today(const Services& s);

// {"id", "version", "position"} for the command's primary record.
json DefaultReply(const writer::CommandResult& r);
// The version a command left a stream at, or null when it did not write it.
json VersionOf(const writer::CommandResult& r, const std::string& stream);

// A whole string of decimal digits as a number (positions, cursors); nullopt otherwise.
std::optional<uint64_t> ParseU64(std::string_view s);

// Query parameters.
Result<size_t> LimitParam(const HttpRequest& req);
std::string CursorParam(const HttpRequest& req);
std::optional<std::string> OptParam(const HttpRequest& req, const std::string& name);

// A list answer: {"items": [...], "next_cursor": ... | null}.
json ListJson(json items, const std::optional<std::string>& next_cursor);

// The answer to a list query: one page of rows, each as `to_json` renders it.
template <class Row, class ToJson>
Answer PageAnswer(const projections::Page<Row>& page, ToJson&& to_json) {
  json items = json::array();
  for (const Row* row : page.items) items.push_back(to_json(*row));
  return Answer{ListJson(std::move(items), page.next_cursor), std::nullopt};
}
// The same written straight as text by `append(writer, row)`: what ListJson would give.
template <class Row, class Append>
Answer PageTextAnswer(const projections::Page<Row>& page, Append&& append) {
  Answer answer;
  answer.text.emplace();
  JsonWriter w(*answer.text);
  w.BeginObject();
  w.Key("items");
  w.BeginArray();
  for (const Row* row : page.items) append(w, *row);
  w.EndArray();
  w.Key("next_cursor");
  page.next_cursor ? w.String(*page.next_cursor) : w.Null();
  w.EndObject();
  return answer;
}

// Whether `viewer` may see records owned by `owner` ("" = nobody). Valid while `view` is.
std::function<bool(const std::string&)> VisibleTo(const ReadView& view, const domain::Viewer& v);

// The owners whose records `v` may see ("": the pool), for lists to walk through the
// owner indexes; nullopt when `v` sees everyone's.
std::optional<std::vector<std::string>> VisibleOwners(const ReadView& view,
                                                      const domain::Viewer& v);

// Calls `lead` with each lead `staff_id` holds (owned, not converted or voided) and
// `customer` with each customer they own: what the pool rules may take back from them.
void ForEachHeld(const ReadView& view, const std::string& staff_id,
                 const std::function<void(const views::LeadRowT&)>& lead,
                 const std::function<void(const views::CustomerRowT&)>& customer);

// 403 unless `v` is an auditor or an admin, who read the log and the server's figures;
// `what` names what is refused ("the event log").
Status AuditorOrAdmin(const domain::Viewer& v, std::string_view what);

// A 400 validation_failed from collected field errors, or ok when there are none.
Status FieldsOk(std::vector<FieldError>& errors);

}  // namespace crm::api

#endif  // CRM_API_HANDLER_UTIL_H_
