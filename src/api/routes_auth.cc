// Sign-in: passwords, sessions and sign-out (API.md "Sign-in").
#include <memory>

#include "api/body.h"
#include "api/handler_util.h"
#include "api/routes.h"
#include "domain/model.h"

namespace crm::api {

namespace d = crm::domain;

namespace {

// The one answer to a wrong email, a wrong password, a person without a password and a
// departed person alike: which of them it was is not the caller's to learn.
Error WrongCredentials() {
  return MakeError(ErrorKind::kUnauthorized, "unauthorized", "wrong email or password");
}

void SendTooMany(const CallPtr& call, int64_t seconds) {
  SendError(call,
            MakeError(ErrorKind::kTooManyRequests, "too_many_attempts",
                      "too many failed sign-ins; try again in " + std::to_string(seconds) + " s"),
            {{"Retry-After", std::to_string(seconds)}});
}

Error HashersBusy() { return Unavailable("too many sign-ins at once; try again in a moment"); }

// After the password check, on an I/O thread; `checked` is the hash the password matched.
void FinishSignIn(const Services& s, const CallPtr& call, const std::string& staff_id,
                  const std::string& email_key, bool match, const std::string& checked) {
  const std::string& address = call->req.remote_address;
  json staff;
  {
    ReadView view = s.read.Read();
    const auto* row = staff_id.empty() ? nullptr : view.org().FindStaff(staff_id);
    if (!row || row->departed) {
      match = false;
    } else {
      staff = {
          {"id", row->id},
          {"name", row->name},
          {"role", row->role},
          {"department_id", row->department_id.empty() ? json(nullptr) : json(row->department_id)}};
    }
  }
  if (!match) {
    int64_t wait = s.sign_in.Failed(email_key, address, s.clock.Now());
    if (wait > 0) return SendTooMany(call, wait);
    return SendError(call, WrongCredentials());
  }
  s.sign_in.Succeeded(email_key, address);
  const Services* sp = &s;
  std::string token = NewToken();
  // The session starts only if the password is still the one checked: a sign-in checked
  // against a password that an admin has just reset ends as the reset says.
  auto started = std::make_shared<bool>(false);
  auto start = [staff_id, checked, started,
                session = s.tokens.StartSession(staff_id, token)](writer::IndexEdit& index) {
    if (!PasswordStore::StillIs(index, staff_id, checked)) return;
    session(index);
    *started = true;
  };
  WriteIndex(
      s, staff_id, std::move(start),
      [sp, call, token, started, staff = std::move(staff)](Result<writer::WriteOutcome> out) {
        if (!out.ok()) return SendError(call, out.error());
        if (!*started) return SendError(call, WrongCredentials());
        SendJson(call, 201,
                 json{{"token", token},
                      {"staff", staff},
                      {"expires_at", FormatTime(sp->tokens.SessionExpiry(out->result.at))}});
      });
}

// Records that `id`'s password was set, then keeps `hash` as it (and ends the person's
// other sessions), on an I/O thread.
void SetPasswordCommand(const Services& s, const CallPtr& call, const std::string& id,
                        std::string hash) {
  CommandSpec spec;
  spec.success_status = 204;
  spec.if_match_stream = id;
  spec.auditors_may = true;  // an auditor sets their own password like anyone
  spec.build = [id](const d::Viewer&, const json&) -> Result<d::Command> {
    return d::Command(d::SetPassword{id});
  };
  // The request's digest is keyed: a plain hash of a body with passwords in it, kept with
  // the Idempotency-Key, could be tested against guesses by whoever copies the log.
  spec.secret_body = true;
  // The hash is kept in the commit of the event, so concurrent changes end as their events
  // do; a new password ends the person's other sessions (theirs, when they set it themself).
  spec.index = [set = PasswordStore::Set(id, std::move(hash)),
                end = s.tokens.EndSessions(id, call->req.authorization.substr(7))](
                   writer::IndexEdit& index) {
    set(index);
    end(index);
  };
  RunCommand(s, call, std::move(spec));
}

}  // namespace

void AddAuthRoutes(Router& r, Services& s) {
  r.Add("POST", "/api/v1/sessions", [&s](const CallPtr& call) {
    auto body = ParseObject(call->req.body);
    if (!body.ok()) return SendError(call, body.error());
    std::vector<FieldError> errors;
    Fields f(*body, errors);
    auto email = f.Text("email", true, 254);
    auto password = f.Secret("password", true, 1, 200);
    if (Status ok = FieldsOk(errors); !ok.ok()) return SendError(call, ok.error());
    // A standby cannot start a session: it says so before checking the password, so that
    // it is neither an oracle nor a second set of tries.
    if (auto refused = s.writer.Refusal()) return SendError(call, *refused);
    std::string key = d::EmailKey(*email);
    const std::string& address = call->req.remote_address;
    if (int64_t wait = s.sign_in.Begin(key, address, s.clock.Now())) {
      return SendTooMany(call, wait);
    }
    std::string staff_id;
    {
      ReadView view = s.read.Read();
      if (const auto* row = view.org().FindStaffByEmail(*email)) staff_id = row->id;
    }
    const Services* sp = &s;
    bool queued = s.passwords.Verify(
        staff_id, *password, [sp, call, staff_id, key](bool match, std::string checked) {
          sp->post([sp, call, staff_id, key, match, checked = std::move(checked)] {
            FinishSignIn(*sp, call, staff_id, key, match, checked);
          });
        });
    if (!queued) {
      s.sign_in.Abandoned(key, address);
      SendError(call, HashersBusy(), {{"Retry-After", "1"}});
    }
  });

  r.Add("DELETE", "/api/v1/sessions/current", [&s](const CallPtr& call) {
    auto viewer = Authenticate(s, call->req.authorization);
    if (!viewer.ok()) return SendError(call, viewer.error());
    WriteIndex(s, viewer->id, s.tokens.End(call->req.authorization.substr(7)),
               [call](Result<writer::WriteOutcome> out) {
                 if (!out.ok()) return SendError(call, out.error());
                 SendJson(call, 204, nullptr);
               });
  });

  r.Add("PUT", "/api/v1/staff/{id}/password", [&s](const CallPtr& call) {
    auto viewer = Authenticate(s, call->req.authorization);
    if (!viewer.ok()) return SendError(call, viewer.error());
    // As for a sign-in: a standby checks no current password and hashes nothing.
    if (auto refused = s.writer.Refusal()) return SendError(call, *refused);
    std::string id = call->req.params.at("id");
    auto body = ParseObject(call->req.body);
    if (!body.ok()) return SendError(call, body.error());
    std::vector<FieldError> errors;
    Fields f(*body, errors);
    auto password = f.Secret("password", true, 12, 200);
    auto current = f.Secret("current_password", false, 1, 200);
    // Refused before the costly hashing; the command's decider checks the same again.
    std::string email;
    {
      ReadView view = s.read.Read();
      const auto* row = view.org().FindStaff(id);
      if (!row) return SendError(call, NotFound("no staff member " + id));
      if (viewer->role != d::Role::kAdmin && viewer->id != id) {
        return SendError(call, Forbidden("only an admin, or the person themself, sets a password"));
      }
      if (row->departed) {
        return SendError(call, RuleRefused("staff_departed", id + " has departed"));
      }
      email = d::EmailKey(row->email);
    }
    // Changing one's own password takes the current one, so that a session left open
    // cannot take over the account.
    bool own = viewer->id == id && s.passwords.Has(id);
    if (own && !current && !f.Has("current_password")) {
      f.Fail("current_password", "is required to change your own password");
    }
    if (Status ok = FieldsOk(errors); !ok.ok()) return SendError(call, ok.error());

    const Services* sp = &s;
    auto hash_then_set = [sp, call, id, password = *password] {
      bool queued = sp->passwords.Hash(password, [sp, call, id](Result<std::string> hash) {
        sp->post([sp, call, id, hash = std::move(hash)]() mutable {
          if (!hash.ok()) return SendError(call, hash.error());
          SetPasswordCommand(*sp, call, id, std::move(hash).value());
        });
      });
      if (!queued) SendError(call, HashersBusy(), {{"Retry-After", "1"}});
    };
    if (!own) return hash_then_set();
    // The current password is checked like a sign-in, and its failures count as one.
    const std::string& address = call->req.remote_address;
    if (int64_t wait = s.sign_in.Begin(email, address, s.clock.Now())) {
      return SendTooMany(call, wait);
    }
    bool queued =
        s.passwords.Verify(id, *current, [sp, call, email, hash_then_set](bool match, std::string) {
          sp->post([sp, call, email, hash_then_set, match] {
            const std::string& from = call->req.remote_address;
            if (match) {
              sp->sign_in.Succeeded(email, from);
              return hash_then_set();
            }
            int64_t wait = sp->sign_in.Failed(email, from, sp->clock.Now());
            if (wait > 0) return SendTooMany(call, wait);
            SendError(call, ValidationFailed({{"current_password", "does not match"}}));
          });
        });
    if (!queued) {
      s.sign_in.Abandoned(email, address);
      SendError(call, HashersBusy(), {{"Retry-After", "1"}});
    }
  });
}

}  // namespace crm::api
