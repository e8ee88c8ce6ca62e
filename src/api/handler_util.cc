#include "api/handler_util.h"

#include <algorithm>
#include <charconv>
#include <functional>
#include <memory>

#include "api/body.h"
#include "api/json_text.h"
#include "api/problem.h"
#include "api/text.h"
#include "eventstore/sha256.h"

namespace crm::api {
namespace {

using Steady = std::chrono::steady_clock;
// How long a query waits for `min_position`, and a command's answer for the read models.
constexpr auto kMinPositionWait = std::chrono::seconds(5);
constexpr auto kReadYourWriteWait = std::chrono::seconds(2);
// The most of an X-Correlation-Id kept with a command's events, in bytes.
constexpr size_t kMaxCorrelationId = 200;

// `"7"`, `W/"7"` or `7` → 7.
std::optional<uint64_t> ParseETag(std::string_view s) {
  if (s.substr(0, 2) == "W/") s.remove_prefix(2);
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = s.substr(1, s.size() - 2);
  return ParseU64(s);
}

void Answered(const Services& s, const CallPtr& call, const Result<Answer>& answer,
              uint64_t position) {
  if (!answer.ok()) return SendError(call, answer.error());
  std::vector<std::pair<std::string, std::string>> headers = {
      {"X-Position", std::to_string(position)}};
  if (answer->etag) headers.emplace_back("ETag", "\"" + std::to_string(*answer->etag) + "\"");
  (void)s;
  if (answer->text) return SendJsonText(call, 200, *answer->text, std::move(headers));
  SendJson(call, 200, answer->body, std::move(headers));
}

void QueryAs(const Services& s, const CallPtr& call, const domain::Viewer& viewer,
             const QueryFn& fn) {
  Result<Answer> answer = Internal("no answer");
  uint64_t position = 0;
  {
    ReadView view = s.read.Read();
    position = view.position();
    try {
      answer = fn(viewer, view);
    } catch (const std::exception& e) {
      answer = Internal(e.what());
    }
  }
  if (answer.ok() && answer->unlocked) {
    try {
      answer = answer->unlocked();
    } catch (const std::exception& e) {
      answer = Internal(e.what());
    }
  }
  Answered(s, call, answer, position);
}

// Authenticates again (after a wait, the token may have been revoked), then answers.
void QueryNow(const Services& s, const CallPtr& call, const QueryFn& fn) {
  auto viewer = Authenticate(s, call->req.authorization, false);
  if (!viewer.ok()) return SendError(call, viewer.error());
  QueryAs(s, call, *viewer, fn);
}

}  // namespace

void SendJson(const CallPtr& call, unsigned status, const json& body,
              std::vector<std::pair<std::string, std::string>> headers) {
  if (status == 204) {
    HttpResponse r;
    r.status = status;
    r.content_type.clear();  // No Content: no body, so no type
    r.headers = std::move(headers);
    return call->respond(std::move(r));
  }
  SendJsonText(call, status, JsonText(body), std::move(headers));
}

void SendJsonText(const CallPtr& call, unsigned status, std::string text,
                  std::vector<std::pair<std::string, std::string>> headers) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(text);
  r.headers = std::move(headers);
  call->respond(std::move(r));
}

void SendError(const CallPtr& call, const Error& error,
               std::vector<std::pair<std::string, std::string>> headers) {
  HttpResponse r;
  r.headers = std::move(headers);
  r.status = static_cast<unsigned>(HttpStatus(error.kind));
  r.body = ProblemJson(error);
  r.content_type = "application/problem+json";
  call->respond(std::move(r));
}

Result<domain::Viewer> Authenticate(const Services& s, const std::string& authorization, bool use) {
  auto unauthorized = [](std::string detail) {
    return MakeError(ErrorKind::kUnauthorized, "unauthorized", std::move(detail));
  };
  std::string_view h = authorization;
  if (h.size() < 7 || (h.substr(0, 7) != "Bearer " && h.substr(0, 7) != "bearer ")) {
    return unauthorized("send Authorization: Bearer <token>");
  }
  auto staff_id = s.tokens.Lookup(std::string(h.substr(7)), use);
  if (!staff_id) return unauthorized("unknown, revoked or expired token");
  ReadView view = s.read.Read();
  const auto* row = view.org().FindStaff(*staff_id);
  if (!row || row->departed) return unauthorized("unknown or revoked token");
  auto viewer = view.org().ViewerOf(*staff_id);
  if (!viewer) return unauthorized("unknown or revoked token");
  return *viewer;
}

QueryParams ListParams(QueryParams own) {
  own.insert(own.end(), kPageParams.begin(), kPageParams.end());
  return own;
}

Status RequireKnownParams(const HttpRequest& req, const QueryParams& accepted) {
  std::vector<FieldError> errors;
  for (const auto& [name, value] : req.query) {
    if (name == "min_position") continue;
    if (std::find(accepted.begin(), accepted.end(), name) != accepted.end()) continue;
    std::string known;
    for (std::string_view a : accepted) known += (known.empty() ? "" : ", ") + std::string(a);
    errors.push_back({name, "is not a parameter of this query" +
                                (known.empty() ? std::string(" (it takes none but min_position)")
                                               : " (it takes " + known + ", min_position)")});
  }
  return FieldsOk(errors);
}

void RunQuery(const Services& s, const CallPtr& call, QueryParams accepted, QueryFn fn) {
  // Authenticate first, so that an anonymous caller learns nothing and cannot hold a
  // min_position wait open.
  auto viewer = Authenticate(s, call->req.authorization);
  if (!viewer.ok()) return SendError(call, viewer.error());
  if (Status known = RequireKnownParams(call->req, accepted); !known.ok()) {
    return SendError(call, known.error());
  }
  if (!OptParam(call->req, "min_position")) return QueryAs(s, call, *viewer, fn);
  const Services* sp = &s;
  AfterMinPosition(s, call, [sp, call, fn = std::move(fn)] { QueryNow(*sp, call, fn); });
}

void AfterMinPosition(const Services& s, const CallPtr& call, std::function<void()> then) {
  auto min = OptParam(call->req, "min_position");
  if (!min) return then();
  auto position = ParseU64(*min);
  if (!position) return SendError(call, InvalidField("min_position", "must be a log position"));
  const Services* sp = &s;
  s.read.runner().WhenApplied(
      *position, Steady::now() + kMinPositionWait,
      [sp, call, then = std::move(then), position](bool reached) {
        if (!reached) {
          return SendError(call, MakeError(ErrorKind::kUnavailable, "projection_lagging",
                                           "the read model has not reached " +
                                               std::to_string(*position) + " within 5 s"));
        }
        sp->post(then);
      });
}

json VersionOf(const writer::CommandResult& r, const std::string& stream) {
  for (const auto& [s, v] : r.versions) {
    if (s == stream) return v;
  }
  return nullptr;
}

json DefaultReply(const writer::CommandResult& r) {
  return json{{"id", r.primary},
              {"version", r.primary_version ? json(r.primary_version) : json(nullptr)},
              {"position", r.last_position}};
}

void RunCommand(const Services& s, const CallPtr& call, CommandSpec spec) {
  auto viewer = Authenticate(s, call->req.authorization);
  if (!viewer.ok()) return SendError(call, viewer.error());
  if (viewer->role == domain::Role::kAuditor && !spec.auditors_may) {
    return SendError(call, Forbidden("auditors read; they run no command"));
  }
  Result<domain::Command> command = Internal("no command");
  if (spec.build_upload) {
    command = spec.build_upload(*viewer, call->req);
  } else {
    auto body = ParseObject(call->req.body);
    if (!body.ok()) return SendError(call, body.error());
    command = spec.build(*viewer, *body);
  }
  if (!command.ok()) return SendError(call, command.error());

  writer::WriteRequest req;
  req.command = std::move(command).value();
  req.actor = viewer->id;
  req.index = std::move(spec.index);
  if (!IsStorableHeaderValue(call->req.correlation_id)) {
    return SendError(
        call, InvalidField("X-Correlation-Id", "must be UTF-8 text without control characters"));
  }
  // Kept with every event of the command; longer ids are cut on a character boundary.
  req.correlation_id = std::string(CutUtf8(call->req.correlation_id, kMaxCorrelationId));
  if (!call->req.if_match.empty()) {
    auto version = ParseETag(call->req.if_match);
    if (!version || spec.if_match_stream.empty()) {
      return SendError(call, InvalidField("If-Match", "must be a version such as \"7\""));
    }
    req.expected_version = {spec.if_match_stream, *version};
  }
  if (call->req.idempotency_key) {
    const std::string& key = *call->req.idempotency_key;
    if (key.empty() || !IsStorableHeaderValue(key) || CodePoints(key) > 200) {
      return SendError(call,
                       InvalidField("Idempotency-Key", "must be 1 to 200 characters of text"));
    }
    req.idempotency_key = key;
    // The request is the route and the body's bytes as sent: hashing the parsed body
    // would mean serialising it again, which recurses over whatever the client nested.
    // The query is part of the request (an import's dry_run): in its decoded, sorted
    // form, and only when there is one, so that the hashes of query-less commands stay
    // what they were.
    std::string head = call->req.method + " " + call->req.path;
    char sep = '?';
    for (const auto& [k, v] : call->req.query) {
      head += sep + k + "=" + v;
      sep = '&';
    }
    head += "\n";
    req.request_hash = spec.secret_body ? s.tokens.RequestDigest(head, call->req.body)
                                        : eventstore::Sha256(head, call->req.body);
  }
  // What follows the outcome runs on the I/O threads: `done` runs on the writer thread,
  // which must not wait.
  const Services* sp = &s;
  auto conclude = std::make_shared<std::function<void(Result<writer::WriteOutcome>)>>(
      [sp, call, status = spec.success_status,
       reply = spec.reply ? std::move(spec.reply) : DefaultReply, after = std::move(spec.after),
       finish = std::move(spec.finish)](Result<writer::WriteOutcome> outcome) {
        if (after) after(outcome);
        if (!outcome.ok()) return SendError(call, outcome.error());
        auto done = std::make_shared<writer::WriteOutcome>(std::move(outcome).value());
        // Answer once the read models show the change, so that the caller's next read does.
        sp->read.runner().WhenApplied(done->result.last_position,
                                      Steady::now() + kReadYourWriteWait,
                                      [call, status, reply, finish, done](bool) {
                                        json reply_body = reply(done->result);
                                        if (finish) finish(reply_body, done->replayed);
                                        SendJson(call, status, reply_body);
                                      });
      });
  s.writer.Submit(std::move(req), [sp, conclude](Result<writer::WriteOutcome> outcome) {
    sp->post(
        [conclude, outcome = std::move(outcome)]() mutable { (*conclude)(std::move(outcome)); });
  });
}

void WriteIndex(const Services& s, const std::string& actor, writer::IndexEffects index,
                std::function<void(Result<writer::WriteOutcome>)> then) {
  writer::WriteRequest req;
  req.actor = actor;
  req.index = std::move(index);
  const Services* sp = &s;
  s.writer.Submit(std::move(req), [sp, then = std::move(then)](Result<writer::WriteOutcome> out) {
    sp->post([then, out = std::move(out)]() mutable { then(std::move(out)); });
  });
}

void RunPathCommand(const Services& s, const CallPtr& call, unsigned success_status,
                    PathBuild build, ReplyFn reply) {
  std::string id = call->req.params.at("id");
  CommandSpec spec;
  spec.success_status = success_status;
  spec.if_match_stream = id;
  spec.build = [id, build = std::move(build)](const domain::Viewer&, const json& body) {
    return build(id, body);
  };
  spec.reply = std::move(reply);
  RunCommand(s, call, std::move(spec));
}

Date Today(const Services& s) { return BusinessDay(s.clock.Now(), s.utc_offset); }

std::optional<uint64_t> ParseU64(std::string_view s) {
  uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

Result<size_t> LimitParam(const HttpRequest& req) {
  auto v = OptParam(req, "limit");
  if (!v) return size_t{50};
  auto n = ParseU64(*v);
  if (!n || *n < 1 || *n > 500) return InvalidField("limit", "must be from 1 to 500");
  return static_cast<size_t>(*n);
}

std::string CursorParam(const HttpRequest& req) { return OptParam(req, "cursor").value_or(""); }

std::optional<std::string> OptParam(const HttpRequest& req, const std::string& name) {
  auto it = req.query.find(name);
  if (it == req.query.end() || it->second.empty()) return std::nullopt;
  return it->second;
}

json ListJson(json items, const std::optional<std::string>& next_cursor) {
  return json{{"items", std::move(items)},
              {"next_cursor", next_cursor ? json(*next_cursor) : json(nullptr)}};
}

std::function<bool(const std::string&)> VisibleTo(const ReadView& view, const domain::Viewer& v) {
  const domain::OrgTree* tree = &view.org().tree();
  return [tree, v](const std::string& owner) {
    return domain::CanSee(*tree, v,
                          owner.empty() ? std::nullopt : std::optional<std::string>(owner));
  };
}

std::optional<std::vector<std::string>> VisibleOwners(const ReadView& view,
                                                      const domain::Viewer& v) {
  if (domain::SeesEveryone(v)) return std::nullopt;
  std::vector<std::string> owners{""};  // the pool, which everyone sees
  for (const auto& [id, row] : view.org().staff()) {
    if (domain::CanSee(view.org().tree(), v, id)) owners.push_back(id);
  }
  return owners;
}

void ForEachHeld(const ReadView& view, const std::string& staff_id,
                 const std::function<void(const views::LeadRowT&)>& lead,
                 const std::function<void(const views::CustomerRowT&)>& customer) {
  for (const auto& id : view.leads().OwnedBy(staff_id)) {
    const auto* row = view.leads().Find(id);
    if (row && projections::IsOwnedLead(*row)) lead(*row);
  }
  for (const auto& id : view.customers().CustomersOf(staff_id)) {
    if (const auto* row = view.customers().FindCustomer(id)) customer(*row);
  }
}

Status AuditorOrAdmin(const domain::Viewer& v, std::string_view what) {
  if (v.role == domain::Role::kAuditor || v.role == domain::Role::kAdmin) return Status::Ok();
  return Forbidden(std::string(what) + " are for auditors and admins");
}

Status FieldsOk(std::vector<FieldError>& errors) {
  if (errors.empty()) return Status::Ok();
  return ValidationFailed(std::move(errors));
}

}  // namespace crm::api
