// Sign-in: sessions and their idle expiry, the failed-attempt limiter, passwords, and the
// console's page and files, from the unit up to a real crmd.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <regex>
#include <thread>

#include "api/sign_in_limiter.h"
#include "api/token_store.h"
#include "e2e_fixture.h"
#include "eventstore/rocks_event_store.h"
#include "eventstore/sha256.h"
#include "projections/local_store.h"
#include "writer/clock.h"
#include "writer/writer.h"

namespace crm::testing {
namespace {

using namespace std::chrono_literals;

Time T0() { return *ParseTime("2026-11-20T02:00:00Z"); }

// ---- sessions ---------------------------------------------------------------------------

// Tokens live in the log's index, written through a real writer (index-only commits).
class SessionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    log_ = std::move(eventstore::OpenRocksEventStore({dir_.sub("log"), false})).value();
    writer_ = std::move(writer::Writer::Open(*log_, clock_, ids_, {})).value();
    auto store = projections::LocalStore::Open(dir_.sub("local"));
    ASSERT_TRUE(store.ok());
    local_ = std::move(store).value();
    Restart();
  }
  void TearDown() override {
    writer_->Close();
    log_->Close();
  }
  // A restarted node, or another node of the same log: it knows only what the log has.
  void Restart() { tokens_ = std::make_unique<api::TokenStore>(*log_, *writer_, *local_, clock_); }
  // Commits `effects` alone, after whatever the writer has queued (a session's use).
  void Apply(writer::IndexEffects effects) {
    writer::WriteRequest req;
    req.actor = "system";
    req.index = std::move(effects);
    auto done = writer_->Execute(std::move(req));
    ASSERT_TRUE(done.ok()) << done.error().detail;
  }
  std::string Start(const std::string& staff_id) {
    std::string token = api::NewToken();
    Apply(tokens_->StartSession(staff_id, token));
    return token;
  }
  std::optional<std::string> Index(std::string_view scope, std::string_view key) {
    return log_->ReadIndex(eventstore::Index::kUnique, scope, key).value();
  }

  eventstore::testing::TempDir dir_;
  writer::FakeClock clock_{T0()};
  writer::IdGenerator ids_{clock_};
  std::unique_ptr<eventstore::EventStore> log_;
  std::unique_ptr<writer::Writer> writer_;
  std::unique_ptr<projections::LocalStore> local_;
  std::unique_ptr<api::TokenStore> tokens_;
};

TEST_F(SessionTest, ASessionLastsWhileUsedAndEndsTwelveHoursAfterItsLastUse) {
  std::string s = Start("stf_a");
  // Used every 11 hours for two days: still valid.
  for (int i = 0; i < 4; ++i) {
    clock_.Advance(11h);
    EXPECT_EQ(tokens_->Lookup(s), "stf_a") << "use " << i;
  }
  clock_.Advance(12h);
  EXPECT_EQ(tokens_->Lookup(s), std::nullopt);
  Apply({});  // the writer drops it
  EXPECT_EQ(Index("$session", api::TokenHash(s)), std::nullopt);
  clock_.Advance(-13h);  // and it stays gone, even were the clock to step back
  EXPECT_EQ(tokens_->Lookup(s), std::nullopt);
  EXPECT_EQ(log_->Head(), 0u) << "sessions are index entries, never events";
}

TEST_F(SessionTest, ReCheckingASessionIsNotUse) {
  std::string s = Start("stf_a");
  clock_.Advance(11h);
  EXPECT_EQ(tokens_->Lookup(s, /*use=*/false), "stf_a");
  clock_.Advance(1h);
  EXPECT_EQ(tokens_->Lookup(s, /*use=*/false), std::nullopt);
}

TEST_F(SessionTest, AnotherNodeKnowsTheLastUseTheLogRecordedAtMostTenMinutesOld) {
  std::string s = Start("stf_a");
  clock_.Advance(5h);
  ASSERT_EQ(tokens_->Lookup(s), "stf_a");  // recorded: > 10 min since the last
  Apply({});                               // (the record is written by the writer)
  clock_.Advance(9min);
  ASSERT_EQ(tokens_->Lookup(s), "stf_a");  // this node's memory only
  Apply({});
  Restart();
  // The other node counts from the use recorded, 9 min before the last: 12 h from T0+5h.
  clock_.Advance(12h - 9min - 1ms);
  EXPECT_EQ(tokens_->Lookup(s, false), "stf_a");
  clock_.Advance(1ms);
  EXPECT_EQ(tokens_->Lookup(s, false), std::nullopt);
}

TEST_F(SessionTest, SignOutEndsOneSessionAndRevokingEndsEveryTokenOfThePerson) {
  Apply(tokens_->Issue("stf_a", "api-token-of-a"));
  std::string a = Start("stf_a"), b = Start("stf_a"), other = Start("stf_b");
  Apply(tokens_->End(a));
  EXPECT_EQ(tokens_->Lookup(a), std::nullopt);
  EXPECT_EQ(tokens_->Lookup(b), "stf_a");
  Apply(tokens_->Revoke("stf_a"));
  EXPECT_EQ(tokens_->Lookup(b), std::nullopt);
  EXPECT_EQ(tokens_->Lookup("api-token-of-a"), std::nullopt);
  EXPECT_EQ(tokens_->Lookup(other), "stf_b");
  EXPECT_EQ(Index("$sessions-of", "stf_a"), std::nullopt);
  EXPECT_EQ(Index("$token-of", "stf_a"), std::nullopt);
}

TEST_F(SessionTest, SigningOutWithAnApiTokenEndsIt) {
  Apply(tokens_->Issue("stf_a", "api-token-of-a"));
  Apply(tokens_->End("api-token-of-a"));
  EXPECT_EQ(tokens_->Lookup("api-token-of-a"), std::nullopt);
  EXPECT_EQ(Index("$token-of", "stf_a"), std::nullopt);
  Apply(tokens_->End("never-issued"));  // nothing to end: nothing happens
}

TEST_F(SessionTest, ANewApiTokenEndsThePersonsSessionsAndTheirEarlierToken) {
  Apply(tokens_->Issue("stf_a", "first"));
  std::string s = Start("stf_a");
  Apply(tokens_->Issue("stf_a", "reissued"));
  EXPECT_EQ(tokens_->Lookup(s), std::nullopt);
  EXPECT_EQ(tokens_->Lookup("first"), std::nullopt);
  EXPECT_EQ(tokens_->Lookup("reissued"), "stf_a");
}

TEST_F(SessionTest, APersonHasAtMostTenSessionsTheLeastRecentlyUsedGo) {
  std::vector<std::string> tokens;
  for (int i = 0; i < 10; ++i) {
    tokens.push_back(Start("stf_a"));
    clock_.Advance(1min);
  }
  ASSERT_EQ(tokens_->Lookup(tokens[0]), "stf_a");  // the first is now the most recent
  clock_.Advance(1min);
  std::string eleventh = Start("stf_a");
  EXPECT_EQ(tokens_->Lookup(tokens[1]), std::nullopt) << "the least recently used";
  EXPECT_EQ(tokens_->Lookup(tokens[0]), "stf_a");
  EXPECT_EQ(tokens_->Lookup(eleventh), "stf_a");
  auto hashes = Index("$sessions-of", "stf_a");
  ASSERT_TRUE(hashes);
  EXPECT_EQ(std::count(hashes->begin(), hashes->end(), ' '), 9) << *hashes;
  EXPECT_EQ(Index("$session", api::TokenHash(tokens[1])), std::nullopt);
}

TEST_F(SessionTest, RequestDigestsAreKeyedAndStable) {
  std::string a = tokens_->RequestDigest("PUT /x\n", "{\"password\":\"p\"}");
  EXPECT_EQ(a.size(), 32u);
  EXPECT_NE(a, eventstore::Sha256("PUT /x\n", "{\"password\":\"p\"}"));
  Restart();
  EXPECT_EQ(tokens_->RequestDigest("PUT /x\n", "{\"password\":\"p\"}"), a);
}

TEST_F(SessionTest, EndingAPersonsSessionsKeepsTheOneAsked) {
  std::string mine = Start("stf_a"), phone = Start("stf_a");
  Apply(tokens_->EndSessions("stf_a", mine));
  EXPECT_EQ(tokens_->Lookup(mine), "stf_a");
  EXPECT_EQ(tokens_->Lookup(phone), std::nullopt);
  EXPECT_EQ(Index("$sessions-of", "stf_a"), api::TokenHash(mine));
}

TEST_F(SessionTest, ApiTokensDoNotExpireAndSignInsSweepAPersonsExpiredSessions) {
  Apply(tokens_->Issue("stf_a", "api-token-of-a"));
  std::vector<std::string> old;
  for (int i = 0; i < 3; ++i) old.push_back(Start("stf_a"));
  clock_.Advance(24h * 30);
  EXPECT_EQ(tokens_->Lookup("api-token-of-a"), "stf_a");
  std::string fresh = Start("stf_a");
  for (const auto& token : old) {
    EXPECT_EQ(Index("$session", api::TokenHash(token)), std::nullopt) << "expired ones go";
  }
  EXPECT_EQ(Index("$sessions-of", "stf_a"), api::TokenHash(fresh));
}

TEST_F(SessionTest, OnlyHashesOfTokensAreStored) {
  std::string s = Start("stf_a");
  const std::string api_token = api::NewToken();
  Apply(tokens_->Issue("stf_b", api_token));
  EXPECT_EQ(Index("$token", api::TokenHash(api_token)), "stf_b");
  EXPECT_EQ(Index("$token-of", "stf_b"), api::TokenHash(api_token));
  // Neither token is anywhere in the index, as a key or as a value.
  size_t entries = 0;
  ASSERT_TRUE(eventstore::ScanIndexes(*log_, [&](const eventstore::IndexWrite& w) {
                ++entries;
                for (const std::string& token : {s, api_token}) {
                  EXPECT_EQ(w.key.find(token), std::string::npos) << w.scope;
                  EXPECT_EQ(w.value.value_or("").find(token), std::string::npos) << w.scope;
                }
                return true;
              }).ok());
  EXPECT_EQ(entries, 4u) << "$session, $sessions-of, $token, $token-of";
}

TEST_F(SessionTest, AnAdminTokenFromTheEnvironmentIsIssuedOnlyToAnAdminWithoutOne) {
  auto issue = tokens_->IssueIfNone("stf_admin", "from-the-environment");
  bool issued = false;
  Apply([&](writer::IndexEdit& index) { issued = issue(index); });
  EXPECT_TRUE(issued);
  EXPECT_EQ(tokens_->Lookup("from-the-environment"), "stf_admin");
  Apply(tokens_->Issue("stf_admin", "rotated"));
  Apply([&](writer::IndexEdit& index) { issued = issue(index); });
  EXPECT_FALSE(issued) << "a token the admin has is not replaced";
  EXPECT_EQ(tokens_->Lookup("from-the-environment"), std::nullopt);
  EXPECT_EQ(tokens_->Lookup("rotated"), "stf_admin");
}

TEST_F(SessionTest, OnlyReservedScopesMayBeWrittenBesideACommand) {
  writer::WriteRequest req;
  req.actor = "system";
  req.index = [](writer::IndexEdit& index) { index.Put("staff_email", "a@x", "stf_a"); };
  auto refused = writer_->Execute(std::move(req));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(Index("staff_email", "a@x"), std::nullopt);
}

TEST_F(SessionTest, CredentialsOfTheLocalStoreMoveIntoTheLog) {
  // What an earlier version kept: an API token, a session and a password hash.
  projections::LocalBatch legacy;
  legacy.Put("auth/token/" + api::TokenHash("old-api-token"), "stf_a");
  legacy.Put("auth/staff/stf_a", api::TokenHash("old-api-token"));
  int64_t used = ToMillis(T0() - 1h);
  legacy.Put("auth/session/" + api::TokenHash("old-session"), "stf_b " + std::to_string(used));
  legacy.Put("auth/staff-session/stf_b/" + api::TokenHash("old-session"), "");
  legacy.Put("auth/password/stf_a", "7 $argon2id$v=19$m=65536,t=2,p=1$c2FsdA$aGFzaA");
  ASSERT_TRUE(local_->Write(legacy, true).ok());
  auto moved = tokens_->TakeOverLocalCredentials();
  ASSERT_TRUE(moved.ok()) << moved.error().detail;
  EXPECT_EQ(*moved, 3u);
  Restart();
  EXPECT_EQ(tokens_->Lookup("old-api-token"), "stf_a");
  EXPECT_EQ(tokens_->Lookup("old-session", false), "stf_b");
  clock_.Advance(11h);  // the session's idle time counts from its last use, 1 h before T0
  EXPECT_EQ(tokens_->Lookup("old-session", false), std::nullopt);
  EXPECT_EQ(Index("$password", "stf_a"), "$argon2id$v=19$m=65536,t=2,p=1$c2FsdA$aGFzaA");
  auto left = local_->Dump("auth/");
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].first, "auth/request-key");
  EXPECT_EQ(*tokens_->TakeOverLocalCredentials(), 0u) << "nothing left to move";
  // Revoked since; then a crash loses the local deletion, and the old entries are back:
  // they are not moved again over the revocation, only deleted.
  Apply(tokens_->Revoke("stf_a"));
  ASSERT_TRUE(local_->Write(legacy, true).ok());
  EXPECT_EQ(*tokens_->TakeOverLocalCredentials(), 0u);
  EXPECT_EQ(tokens_->Lookup("old-api-token"), std::nullopt);
  EXPECT_EQ(local_->Dump("auth/").size(), 1u);
}

// ---- the limiter ------------------------------------------------------------------------

TEST(SignInLimiterTest, TheFifthFailureForAnEmailLocksItForAMinuteThenLongerEachTime) {
  api::SignInLimiter limiter;
  Time t = T0();
  for (int i = 0; i < 4; ++i) EXPECT_EQ(limiter.Failed("a@x", "10.0.0.1", t), 0) << i;
  EXPECT_EQ(limiter.Failed("a@x", "10.0.0.1", t), 60);
  EXPECT_EQ(limiter.Begin("a@x", "10.0.0.9", t + 59s), 1) << "from any address";
  EXPECT_EQ(limiter.Begin("b@x", "10.0.0.1", t), 0) << "other emails are heard";
  limiter.Abandoned("b@x", "10.0.0.1");
  t += 60s;
  EXPECT_EQ(limiter.Begin("a@x", "10.0.0.1", t), 0);
  limiter.Abandoned("a@x", "10.0.0.1");
  for (int i = 0; i < 4; ++i) limiter.Failed("a@x", "10.0.0.1", t);
  EXPECT_EQ(limiter.Failed("a@x", "10.0.0.1", t), 120) << "the second lockout doubles";
  // A quiet while forgives: the count and the doubling start again.
  t += 120s + 16min;
  for (int i = 0; i < 4; ++i) EXPECT_EQ(limiter.Failed("a@x", "10.0.0.1", t), 0);
  EXPECT_EQ(limiter.Failed("a@x", "10.0.0.1", t), 60);
}

TEST(SignInLimiterTest, AttemptsInFlightCountSoABurstGetsNoMoreTries) {
  api::SignInLimiter limiter;
  Time t = T0();
  for (int i = 0; i < 5; ++i) EXPECT_EQ(limiter.Begin("a@x", "10.0.0.1", t), 0) << i;
  EXPECT_EQ(limiter.Begin("a@x", "10.0.0.1", t), 1) << "five are being checked already";
  EXPECT_EQ(limiter.Begin("b@x", "10.0.0.1", t), 0) << "another email is heard";
  limiter.Abandoned("b@x", "10.0.0.1");
  for (int i = 0; i < 4; ++i) EXPECT_EQ(limiter.Failed("a@x", "10.0.0.1", t), 0);
  EXPECT_EQ(limiter.Failed("a@x", "10.0.0.1", t), 60);
  EXPECT_EQ(limiter.Begin("a@x", "10.0.0.1", t), 60);
  // A success frees its reservation and starts the email's count again.
  EXPECT_EQ(limiter.Begin("c@x", "10.0.0.2", t), 0);
  limiter.Succeeded("c@x", "10.0.0.2");
  for (int i = 0; i < 5; ++i) EXPECT_EQ(limiter.Begin("c@x", "10.0.0.2", t), 0) << i;
}

TEST(SignInLimiterTest, LockoutsNeverExceedFifteenMinutes) {
  api::SignInLimiter limiter;
  Time t = T0();
  int64_t last = 0;
  for (int round = 0; round < 8; ++round) {
    for (int i = 0; i < 5; ++i) last = limiter.Failed("a@x", "10.0.0.1", t);
    t += std::chrono::seconds(last);
  }
  EXPECT_EQ(last, 15 * 60);
}

TEST(SignInLimiterTest, ASuccessClearsTheEmailsCountButNotTheAddresss) {
  api::SignInLimiter limiter;
  Time t = T0();
  for (int i = 0; i < 4; ++i) limiter.Failed("a@x", "10.0.0.1", t);
  limiter.Succeeded("a@x", "10.0.0.1");
  for (int i = 0; i < 4; ++i) EXPECT_EQ(limiter.Failed("a@x", "10.0.0.1", t), 0);
  // Twenty failures from one address lock it, whatever the emails.
  for (int i = 0; i < 10; ++i) EXPECT_EQ(limiter.Failed("u" + std::to_string(i), "10.0.0.1", t), 0);
  limiter.Succeeded("a@x", "10.0.0.1");
  EXPECT_EQ(limiter.Failed("z@x", "10.0.0.1", t), 0);
  EXPECT_EQ(limiter.Failed("y@x", "10.0.0.1", t), 60) << "the 20th from the address";
  EXPECT_EQ(limiter.Begin("fresh@x", "10.0.0.1", t), 60);
  EXPECT_EQ(limiter.Begin("fresh@x", "10.0.0.2", t), 0);
}

TEST(SignInLimiterTest, FailuresOutsideTheWindowDoNotAddUp) {
  api::SignInLimiter limiter;
  Time t = T0();
  for (int i = 0; i < 4; ++i) limiter.Failed("a@x", "10.0.0.1", t);
  t += 16min;
  EXPECT_EQ(limiter.Failed("a@x", "10.0.0.1", t), 0);
}

TEST(SignInLimiterTest, KeysStayBoundedAndLockedKeysAreKeptFirst) {
  api::SignInLimiter::Limits limits;
  limits.max_keys = 100;
  api::SignInLimiter limiter(limits);
  Time t = T0();
  for (int i = 0; i < 5; ++i) limiter.Failed("locked@x", "10.0.0.1", t);
  for (int i = 0; i < 1000; ++i)
    limiter.Failed("u" + std::to_string(i) + "@x", "10.1." + std::to_string(i), t);
  EXPECT_EQ(limiter.Begin("locked@x", "10.0.0.7", t), 60);
}

// ---- against a real crmd ----------------------------------------------------------------

class SignInTest : public E2eTest {
 protected:
  HttpResult SignIn(const std::string& email, const std::string& password) {
    return crmd_->Call("POST", "/api/v1/sessions", {{"email", email}, {"password", password}}, "-");
  }
  HttpResult SetPassword(const std::string& id, json body, const std::string& token = "") {
    return crmd_->Call("PUT", "/api/v1/staff/" + id + "/password", body, token);
  }
  // A person with a password; returns {id, API token}.
  std::pair<std::string, std::string> WithPassword(const std::string& name, const std::string& role,
                                                   const std::string& password) {
    auto [id, token] = Rep(name, role);
    auto r = SetPassword(id, {{"password", password}});
    EXPECT_EQ(r.status, 204) << r.body;
    return {id, token};
  }
};

TEST_F(SignInTest, APersonSignsInWithEmailAndPasswordAndTheTokenWorks) {
  auto [id, token] = WithPassword("wang", "manager", "correct horse battery");
  auto r = SignIn("Wang@Example.com", "correct horse battery");
  ASSERT_EQ(r.status, 201) << r.body;
  auto j = r.Json();
  EXPECT_EQ(j["staff"]["id"], id);
  EXPECT_EQ(j["staff"]["name"], "wang");
  EXPECT_EQ(j["staff"]["role"], "manager");
  EXPECT_EQ(j["staff"]["department_id"], dept_);
  auto expires = ParseTime(j["expires_at"].get<std::string>());
  ASSERT_TRUE(expires.has_value()) << j.dump();
  auto hours = std::chrono::duration_cast<std::chrono::minutes>(
      *expires - std::chrono::time_point_cast<Millis>(std::chrono::system_clock::now()));
  EXPECT_NEAR(hours.count(), 12 * 60, 2);
  auto me = crmd_->Call("GET", "/api/v1/staff/" + id, nullptr, j["token"]);
  EXPECT_EQ(me.status, 200) << me.body;
  EXPECT_EQ(crmd_->Call("GET", "/api/v1/staff/" + id, nullptr, token).status, 200)
      << "the API token still works beside the session";
}

TEST_F(SignInTest, EveryWrongSignInAnswersTheSameGeneric401) {
  auto [id, token] = WithPassword("wang", "sales", "correct horse battery");
  auto [departed, t2] = WithPassword("li", "sales", "another good password");
  Rep("zhang");  // no password
  auto gone = crmd_->Call("POST", "/api/v1/staff/" + departed + "/handover",
                          {{"to", "pool"}, {"depart", true}});
  ASSERT_EQ(gone.status, 200) << gone.body;
  std::vector<HttpResult> answers = {SignIn("nobody@example.com", "correct horse battery"),
                                     SignIn("wang@example.com", "wrong horse battery"),
                                     SignIn("zhang@example.com", "correct horse battery"),
                                     SignIn("li@example.com", "another good password")};
  for (const auto& a : answers) {
    EXPECT_EQ(a.status, 401);
    EXPECT_EQ(a.body, answers[0].body);
  }
  EXPECT_EQ(answers[0].Json()["code"], "unauthorized");
  EXPECT_EQ(answers[0].Json()["detail"], "wrong email or password");
}

TEST_F(SignInTest, FiveFailuresForAnEmailAnswer429WithRetryAfterEvenForTheRightPassword) {
  WithPassword("wang", "sales", "correct horse battery");
  for (int i = 0; i < 4; ++i)
    EXPECT_EQ(SignIn("wang@example.com", "guess " + std::to_string(i)).status, 401);
  auto fifth = SignIn("wang@example.com", "guess 5");
  ASSERT_EQ(fifth.status, 429) << fifth.body;
  EXPECT_EQ(fifth.Json()["code"], "too_many_attempts");
  EXPECT_EQ(fifth.Header("retry-after"), "60");
  auto right = SignIn("wang@example.com", "correct horse battery");
  EXPECT_EQ(right.status, 429);
  int retry = std::stoi(right.Header("retry-after"));
  EXPECT_GE(retry, 1);
  EXPECT_LE(retry, 60);
  EXPECT_EQ(SignIn("admin@localhost", "wrong but another email").status, 401)
      << "one email's lockout is not everyone's";
}

TEST_F(SignInTest, GuessesSentAllAtOnceGetNoMoreTriesThanGuessesSentInTurn) {
  WithPassword("wang", "sales", "correct horse battery");
  std::vector<int> statuses(24);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < statuses.size(); ++i) {
    threads.emplace_back(
        [&, i] { statuses[i] = SignIn("wang@example.com", "guess " + std::to_string(i)).status; });
  }
  for (auto& t : threads) t.join();
  int unauthorized = 0, too_many = 0;
  for (int s : statuses) {
    unauthorized += s == 401;
    too_many += s == 429;
  }
  EXPECT_LE(unauthorized, 4) << "at most four wrong guesses are told so; the fifth locks";
  EXPECT_EQ(unauthorized + too_many, static_cast<int>(statuses.size()));
}

TEST_F(SignInTest, TwentyFailuresFromOneAddressLockTheAddress) {
  for (int i = 0; i < 19; ++i) {
    EXPECT_EQ(SignIn("u" + std::to_string(i) + "@example.com", "whatever it is").status, 401);
  }
  auto r = SignIn("u19@example.com", "whatever it is");
  EXPECT_EQ(r.status, 429) << r.body;
  EXPECT_EQ(SignIn("admin@localhost", "whatever it is").status, 429);
}

TEST_F(SignInTest, BadSignInBodiesAreValidationErrors) {
  auto r = crmd_->Call("POST", "/api/v1/sessions", {{"email", 7}}, "-");
  ASSERT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(r.Json()["errors"].size(), 2u) << r.body;
  EXPECT_EQ(crmd_->Call("POST", "/api/v1/sessions", nullptr, "-").status, 400);
}

TEST_F(SignInTest, SignOutEndsThatTokenOnly) {
  WithPassword("wang", "sales", "correct horse battery");
  std::string a = SignIn("wang@example.com", "correct horse battery").Json()["token"];
  std::string b = SignIn("wang@example.com", "correct horse battery").Json()["token"];
  auto out = crmd_->Call("DELETE", "/api/v1/sessions/current", nullptr, a);
  EXPECT_EQ(out.status, 204);
  EXPECT_EQ(out.body, "");
  EXPECT_EQ(crmd_->Call("GET", "/api/v1/staff", nullptr, a).status, 401);
  EXPECT_EQ(crmd_->Call("GET", "/api/v1/staff", nullptr, b).status, 200);
  EXPECT_EQ(crmd_->Call("DELETE", "/api/v1/sessions/current", nullptr, a).status, 401);
  EXPECT_EQ(crmd_->Call("DELETE", "/api/v1/sessions/current", nullptr, "-").status, 401);
}

TEST_F(SignInTest, SessionsSurviveARestart) {
  WithPassword("wang", "sales", "correct horse battery");
  std::string s = SignIn("wang@example.com", "correct horse battery").Json()["token"];
  ASSERT_EQ(crmd_->Stop(), 0);
  ASSERT_TRUE(crmd_->Start());
  EXPECT_EQ(crmd_->Call("GET", "/api/v1/staff", nullptr, s).status, 200);
}

// The admin who signed out their only API token gets CRMD_ADMIN_TOKEN back at the next
// start; an admin who has one keeps theirs (a rotated token is not undone by a restart).
TEST_F(SignInTest, TheEnvironmentsAdminTokenComesBackOnlyToAnAdminWithoutOne) {
  ASSERT_EQ(crmd_->Call("DELETE", "/api/v1/sessions/current").status, 204);
  EXPECT_EQ(crmd_->Call("GET", "/api/v1/staff").status, 401);
  ASSERT_EQ(crmd_->Stop(), 0);
  ASSERT_TRUE(crmd_->Start());
  auto staff = crmd_->Call("GET", "/api/v1/staff");
  ASSERT_EQ(staff.status, 200) << staff.body;
  std::string admin;
  const json rows = staff.Json()["items"];
  for (const auto& row : rows) {
    if (row["email"] == "admin@localhost") admin = row["id"].get<std::string>();
  }
  ASSERT_FALSE(admin.empty()) << staff.body;
  auto rotated = crmd_->Call("POST", "/api/v1/staff/" + admin + "/tokens");
  ASSERT_EQ(rotated.status, 201) << rotated.body;
  ASSERT_EQ(crmd_->Stop(), 0);
  ASSERT_TRUE(crmd_->Start());
  EXPECT_EQ(crmd_->Call("GET", "/api/v1/staff").status, 401);
  EXPECT_EQ(crmd_->Call("GET", "/api/v1/staff", nullptr, rotated.Json()["token"]).status, 200);
}

TEST_F(SignInTest, WhoSetsWhosePassword) {
  auto [mgr, mgr_token] = Rep("li", "manager");
  auto [rep, rep_token] = Rep("wang");
  auto [aud, aud_token] = Rep("sun", "auditor");
  const json pw = {{"password", "a good long password"}};
  // An admin sets anyone's; a person their own (an auditor too); a manager not their rep's.
  EXPECT_EQ(SetPassword(rep, pw, mgr_token).status, 403);
  EXPECT_EQ(SetPassword(rep, pw, rep_token).status, 204);
  EXPECT_EQ(SetPassword(aud, pw, aud_token).status, 204);
  EXPECT_EQ(SetPassword(mgr, pw).status, 204);
  EXPECT_EQ(SetPassword("stf_nobody", pw).status, 404);
  // Changing one's own takes the current one.
  auto missing = SetPassword(rep, {{"password", "a newer long password"}}, rep_token);
  ASSERT_EQ(missing.status, 400) << missing.body;
  EXPECT_EQ(missing.Json()["errors"][0]["field"], "current_password");
  auto wrong = SetPassword(
      rep, {{"password", "a newer long password"}, {"current_password", "nope"}}, rep_token);
  ASSERT_EQ(wrong.status, 400) << wrong.body;
  EXPECT_EQ(wrong.Json()["errors"][0]["message"], "does not match");
  EXPECT_EQ(SetPassword(rep,
                        {{"password", "a newer long password"},
                         {"current_password", "a good long password"}},
                        rep_token)
                .status,
            204);
  EXPECT_EQ(SignIn("wang@example.com", "a newer long password").status, 201);
  EXPECT_EQ(SignIn("wang@example.com", "a good long password").status, 401);
  // 12 to 200 characters (characters, not bytes: 12 of 中 are 36 bytes and enough).
  EXPECT_EQ(SetPassword(rep, {{"password", "short"}}).status, 400);
  EXPECT_EQ(SetPassword(rep, {{"password", std::string(201, 'x')}}).status, 400);
  EXPECT_EQ(SetPassword(rep, {{"password", "中中中中中中中中中中中中"}}).status, 204);
  EXPECT_EQ(SignIn("wang@example.com", "中中中中中中中中中中中中").status, 201);
  // Nothing for a departed person.
  ASSERT_EQ(
      crmd_->Call("POST", "/api/v1/staff/" + rep + "/handover", {{"to", "pool"}, {"depart", true}})
          .status,
      200);
  auto departed = SetPassword(rep, pw);
  EXPECT_EQ(departed.status, 422);
  EXPECT_EQ(departed.Json()["code"], "staff_departed");
}

TEST_F(SignInTest, ARetriedResetDoesNotUndoALaterChange) {
  auto [rep, rep_token] = Rep("wang");
  const json reset = {{"password", "set by the admin first"}};
  auto first = crmd_->Call("PUT", "/api/v1/staff/" + rep + "/password", reset, "",
                           {{"Idempotency-Key", "reset-1"}});
  ASSERT_EQ(first.status, 204) << first.body;
  ASSERT_EQ(SetPassword(rep,
                        {{"password", "then chosen by wang"},
                         {"current_password", "set by the admin first"}},
                        rep_token)
                .status,
            204);
  // The admin's client retries its request (the answer was lost, say): the same answer,
  // and wang's own password stays.
  auto retry = crmd_->Call("PUT", "/api/v1/staff/" + rep + "/password", reset, "",
                           {{"Idempotency-Key", "reset-1"}});
  EXPECT_EQ(retry.status, 204) << retry.body;
  EXPECT_EQ(SignIn("wang@example.com", "then chosen by wang").status, 201);
  EXPECT_EQ(SignIn("wang@example.com", "set by the admin first").status, 401);
  // The same key with another password is another request.
  auto other =
      crmd_->Call("PUT", "/api/v1/staff/" + rep + "/password",
                  {{"password", "a different password"}}, "", {{"Idempotency-Key", "reset-1"}});
  EXPECT_EQ(other.status, 422) << other.body;
  EXPECT_EQ(other.Json()["code"], "idempotency_key_reused");
}

TEST_F(SignInTest, ANewPasswordEndsThePersonsOtherSessions) {
  auto [rep, rep_token] = WithPassword("wang", "sales", "a good long password");
  std::string laptop = SignIn("wang@example.com", "a good long password").Json()["token"];
  std::string phone = SignIn("wang@example.com", "a good long password").Json()["token"];
  ASSERT_EQ(SetPassword(rep,
                        {{"password", "a newer long password"},
                         {"current_password", "a good long password"}},
                        laptop)
                .status,
            204);
  EXPECT_EQ(crmd_->Call("GET", "/api/v1/staff", nullptr, laptop).status, 200);
  EXPECT_EQ(crmd_->Call("GET", "/api/v1/staff", nullptr, phone).status, 401);
  // An admin's reset ends every session of the person.
  ASSERT_EQ(SetPassword(rep, {{"password", "reset by the admin"}}).status, 204);
  EXPECT_EQ(crmd_->Call("GET", "/api/v1/staff", nullptr, laptop).status, 401);
}

// The files under `dir` whose bytes contain `needle`.
std::vector<std::string> FilesContaining(const std::string& dir, const std::string& needle) {
  std::vector<std::string> found;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    std::ifstream in(e.path(), std::ios::binary);
    std::string bytes(std::istreambuf_iterator<char>(in), {});
    if (bytes.find(needle) != std::string::npos) found.push_back(e.path().string());
  }
  return found;
}

TEST_F(SignInTest, TheLogRecordsThatAPasswordWasSetAndByWhomButNeverThePasswordOrItsHash) {
  const std::string password = "zebra-quartz-unique-91";
  auto [rep, rep_token] = Rep("wang");
  // With an Idempotency-Key, whose record keeps a digest of the request: a keyed one, not
  // a plain hash of a body with the password in it.
  const std::string body = json{{"password", password}}.dump();
  const std::string head = "PUT /api/v1/staff/" + rep + "/password\n";
  auto put = Http(crmd_->port(), "PUT", "/api/v1/staff/" + rep + "/password", body,
                  {{"Authorization", "Bearer " + crmd_->token()}, {"Idempotency-Key", "k1"}});
  ASSERT_EQ(put.status, 204) << put.body;
  json admin, staff = crmd_->Call("GET", "/api/v1/staff").Json()["items"];
  for (const auto& p : staff) {
    if (p["email"] == "admin@localhost") admin = p["id"];
  }
  auto events = crmd_->Call("GET", "/api/v1/events?limit=500");
  ASSERT_EQ(events.status, 200);
  json set, items = events.Json()["items"];
  for (const auto& e : items) {
    if (e["type"] == "PasswordSet" && e["stream"] == rep) set = e;
  }
  ASSERT_FALSE(set.is_null()) << events.body;
  EXPECT_EQ(set["actor"], admin);
  EXPECT_EQ(set["data"], json({{"staff_id", rep}}));
  EXPECT_EQ(events.body.find("$argon2id$"), std::string::npos) << "no event shows the hash";
  ASSERT_EQ(SignIn("wang@example.com", password).status, 201);
  ASSERT_EQ(crmd_->Stop(), 0);  // everything flushed
  const std::string data = dir_.sub("data");
  using Files = std::vector<std::string>;
  EXPECT_EQ(FilesContaining(data, password), Files{});
  EXPECT_EQ(FilesContaining(data, eventstore::Sha256(head, body)), Files{});
  EXPECT_EQ(FilesContaining(data + "/readmodels", "$argon2id$"), Files{});
  EXPECT_FALSE(FilesContaining(data + "/log", "$argon2id$").empty())
      << "the hash is in the log's index, beside the tokens";
  std::string said = crmd_->stderr_text();
  EXPECT_EQ(said.find(password), std::string::npos);
  EXPECT_EQ(said.find("$argon2id$"), std::string::npos);
}

// ---- the console's page and files -------------------------------------------------------

TEST_F(SignInTest, TheConsolePageCarriesItsSecurityHeadersAndIsRevalidated) {
  {
    auto page = Http(crmd_->port(), "GET", "/");
    ASSERT_EQ(page.status, 200);
    EXPECT_EQ(page.Header("content-type"), "text/html; charset=utf-8");
    std::string csp = page.Header("content-security-policy");
    EXPECT_NE(csp.find("default-src 'self'"), std::string::npos) << csp;
    EXPECT_NE(csp.find("connect-src 'self'"), std::string::npos) << csp;
    EXPECT_NE(csp.find("frame-ancestors 'none'"), std::string::npos) << csp;
    EXPECT_EQ(csp.find("unsafe"), std::string::npos) << csp;
    EXPECT_EQ(page.Header("x-content-type-options"), "nosniff");
    EXPECT_EQ(page.Header("referrer-policy"), "no-referrer");
    EXPECT_EQ(page.Header("cache-control"), "no-cache");
    const std::string etag = page.Header("etag");
    for (std::string tags : {etag, "W/" + etag, "\"other\", " + etag, std::string("*")}) {
      auto again = Http(crmd_->port(), "GET", "/", "", {{"If-None-Match", tags}});
      EXPECT_EQ(again.status, 304) << tags;
      EXPECT_EQ(again.body, "");
    }
    EXPECT_EQ(Http(crmd_->port(), "GET", "/", "", {{"If-None-Match", "\"other\""}}).status, 200);
  }
}

TEST_F(SignInTest, EveryFileThePageNamesIsServedForGoodUnderItsBuild) {
  auto page = Http(crmd_->port(), "GET", "/");
  ASSERT_EQ(page.status, 200);
  EXPECT_EQ(page.body.find("%BUILD%"), std::string::npos);
  EXPECT_EQ(page.body.find("<script>"), std::string::npos) << "no inline script";
  std::regex ref(R"re((?:src|href)="(/console/([0-9a-f]{16})/[^"]+)")re");
  int files = 0;
  for (std::sregex_iterator it(page.body.begin(), page.body.end(), ref), end; it != end; ++it) {
    std::string path = (*it)[1];
    std::string other_build = "/console/0000000000000000/" + path.substr(26);
    auto f = Http(crmd_->port(), "GET", path);
    EXPECT_EQ(f.status, 200) << path;
    EXPECT_EQ(f.Header("cache-control"), "public, max-age=31536000, immutable") << path;
    EXPECT_EQ(f.Header("x-content-type-options"), "nosniff") << path;
    EXPECT_FALSE(f.Header("etag").empty()) << path;
    EXPECT_EQ(Http(crmd_->port(), "GET", path, "", {{"If-None-Match", f.Header("etag")}}).status,
              304);
    EXPECT_EQ(Http(crmd_->port(), "GET", other_build).status, 404) << other_build;
    ++files;
  }
  EXPECT_GE(files, 2) << page.body;
}

TEST_F(SignInTest, NothingOutsideTheConsoleIsServedAsAFile) {
  auto page = Http(crmd_->port(), "GET", "/");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(page.body, m, std::regex("/console/([0-9a-f]{16})/")));
  std::string base = "/console/" + m[1].str() + "/";
  for (std::string path : {"../../CMakeLists.txt", "..%2f..%2fCMakeLists.txt", "index.html",
                           ".hidden", "pages/../app.js", "nope.js", "%2e%2e/app.js"}) {
    auto r = Http(crmd_->port(), "GET", base + path);
    EXPECT_EQ(r.status, 404) << path << ": " << r.body.substr(0, 200);
  }
}

}  // namespace
}  // namespace crm::testing
