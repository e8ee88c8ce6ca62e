// Live updates end to end: a real crmd, real WebSocket clients on loopback.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "e2e_fixture.h"
#include "ws_client.h"

namespace crm::testing {
namespace {

using std::chrono::milliseconds;

bool IsSnapshot(const json& m) { return m.value("type", "") == "snapshot"; }
bool IsUpdate(const json& m) { return m.value("type", "") == "update"; }

class LiveTest : public E2eTest {
 protected:
  // A socket authenticated by its first message, subscribed to `subscription`.
  std::unique_ptr<WsClient> Subscribe(const std::string& token, const json& subscription) {
    auto ws = std::make_unique<WsClient>(crmd_->port());
    EXPECT_TRUE(ws->ok());
    ws->Send({{"op", "auth"}, {"token", token}});
    auto hello = ws->Next();
    EXPECT_TRUE(hello && (*hello)["type"] == "authenticated") << (hello ? hello->dump() : "none");
    ws->Send(subscription);
    return ws;
  }
};

TEST_F(LiveTest, UpdatesReachTheirSubscribersAndNothingReachesThoseWhoMayNotSee) {
  auto [mgr, mgr_token] = Rep("boss", "manager");
  auto [r1, r1_token] = Rep("r1");
  std::string west = crmd_->Call("POST", "/api/v1/departments", {{"name", "West"}}).Json()["id"];
  auto [west_mgr, west_token] = Person("wboss", "manager", west);
  auto [r3, r3_token] = Person("r3", "sales", west);
  std::string cus =
      crmd_->Call("POST", "/api/v1/customers", {{"name", "Live Co"}}, r1_token).Json()["id"];

  // The manager authenticates with the upgrade's header, the others with a message.
  WsClient east(crmd_->port(), "Bearer " + mgr_token);
  ASSERT_TRUE(east.ok());
  east.Send({{"op", "subscribe"}, {"topic", "dashboard"}});
  auto east_snap = east.NextWhere(IsSnapshot);
  ASSERT_TRUE(east_snap);
  EXPECT_EQ((*east_snap)["topic"], "dashboard");
  auto west_ws = Subscribe(west_token, {{"op", "subscribe"}, {"topic", "dashboard"}});
  ASSERT_TRUE(west_ws->NextWhere(IsSnapshot));
  auto watcher = Subscribe(r1_token, {{"op", "subscribe"}, {"topic", "customer"}, {"id", cus}});
  auto cus_snap = watcher->NextWhere(IsSnapshot);
  ASSERT_TRUE(cus_snap);
  EXPECT_EQ((*cus_snap)["data"]["id"], cus);
  auto outsider = Subscribe(r3_token, {{"op", "subscribe"}, {"topic", "customer"}, {"id", cus}});

  // A lead of East: East's dashboard moves, West's does not.
  int before = (*east_snap)["data"]["leads"]["created"];
  std::string lead = Lead(r1_token);
  auto up = east.NextWhere([&](const json& m) {
    return IsUpdate(m) && m["data"]["leads"]["created"].get<int>() == before + 1;
  });
  ASSERT_TRUE(up) << "East's manager saw no update";
  EXPECT_GT((*up)["position"].get<uint64_t>(), (*east_snap)["position"].get<uint64_t>());
  // A follow-up on the customer reaches its owner, not the rep of another department.
  ASSERT_EQ(crmd_
                ->Call("POST", "/api/v1/customers/" + cus + "/follow-ups",
                       {{"channel", "call"}, {"note", "live note"}}, r1_token)
                .status,
            201);
  auto note = watcher->NextWhere([](const json& m) {
    return IsUpdate(m) && m["data"].dump().find("live note") != std::string::npos;
  });
  EXPECT_TRUE(note) << "the customer's update did not come";
  EXPECT_FALSE(west_ws->NextWhere(IsUpdate, milliseconds(800)))
      << "West's dashboard did not change, so nothing is sent";
  EXPECT_FALSE(outsider->NextWhere([](const json& m) { return IsSnapshot(m) || IsUpdate(m); },
                                   milliseconds(300)))
      << "an invisible customer yields nothing";

  // Revoking a token (a new one is issued) closes its sockets with 1008.
  ASSERT_EQ(crmd_->Call("POST", "/api/v1/staff/" + r1 + "/tokens").status, 201);
  auto rest = watcher->Next(milliseconds(5000));
  while (rest) rest = watcher->Next(milliseconds(5000));
  EXPECT_TRUE(watcher->closed());
  EXPECT_EQ(watcher->close_code(), 1008);
  // A bad token in the header is refused before the upgrade.
  WsClient bad(crmd_->port(), "Bearer nope");
  EXPECT_FALSE(bad.ok());
  // Unknown topics and feeds beyond the caller's role are refused, and the socket lives.
  east.Send({{"op", "subscribe"}, {"topic", "weather"}});
  auto refused = east.NextWhere([](const json& m) { return m["type"] == "error"; });
  ASSERT_TRUE(refused);
  EXPECT_EQ((*refused)["code"], "validation_failed");
  east.Send({{"op", "subscribe"}, {"topic", "events"}, {"after", 0}});
  auto forbidden = east.NextWhere([](const json& m) { return m["type"] == "error"; });
  ASSERT_TRUE(forbidden);
  EXPECT_EQ((*forbidden)["code"], "forbidden");
}

TEST_F(LiveTest, AHundredSubscribersOfOneScopeCostOneViewBuildPerChange) {
  auto [mgr, mgr_token] = Rep("boss", "manager");
  auto [rep, rep_token] = Rep("rep");
  constexpr int kClients = 100;
  std::vector<std::unique_ptr<WsClient>> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.push_back(std::make_unique<WsClient>(crmd_->port(), "Bearer " + mgr_token));
    ASSERT_TRUE(clients.back()->ok());
    clients.back()->Send({{"op", "subscribe"}, {"topic", "dashboard"}});
  }
  for (auto& c : clients) ASSERT_TRUE(c->NextWhere(IsSnapshot)) << "a snapshot did not come";
  EXPECT_EQ(Metric(*crmd_, "evcrm_websockets_open"), kClients);
  double builds = Metric(*crmd_, "evcrm_live_view_builds_total");
  for (int change = 1; change <= 3; ++change) {
    Lead(rep_token);
    for (auto& c : clients) ASSERT_TRUE(c->NextWhere(IsUpdate)) << "an update did not come";
    double now = Metric(*crmd_, "evcrm_live_view_builds_total");
    EXPECT_EQ(now - builds, 1) << "view builds for change " << change << " with " << kClients
                               << " subscribers";
    builds = now;
  }
  std::fprintf(stderr, "%d subscribers of one dashboard: 1 view build per change\n", kClients);
}

TEST_F(LiveTest, ABurstOfChangesIsShownByFewViewsTheLastOfWhichShowsEveryChange) {
  auto [rep, rep_token] = Rep("rep");
  WsClient ws(crmd_->port(), "Bearer " + rep_token);
  ASSERT_TRUE(ws.ok());
  ws.Send({{"op", "subscribe"}, {"topic", "dashboard"}});
  auto snap = ws.NextWhere(IsSnapshot);
  ASSERT_TRUE(snap);
  int before = (*snap)["data"]["leads"]["created"];
  // 8 writers, 25 leads each, at once.
  constexpr int kWriters = 8, kEach = 25;
  auto started = std::chrono::steady_clock::now();
  std::vector<std::thread> writers;
  std::atomic<int> created{0};
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, rep_token = rep_token, w] {
      for (int i = 0; i < kEach; ++i) {
        auto r = crmd_->Call("POST", "/api/v1/leads",
                             {{"name", "Burst " + std::to_string(w) + "-" + std::to_string(i)},
                              {"company", "Burst Co"}},
                             rep_token);
        if (r.status == 201) ++created;
      }
    });
  }
  for (auto& t : writers) t.join();
  ASSERT_EQ(created, kWriters * kEach);
  int updates = 0;
  auto last = ws.NextWhere([&](const json& m) {
    if (!IsUpdate(m)) return false;
    ++updates;
    return m["data"]["leads"]["created"].get<int>() == before + kWriters * kEach;
  });
  ASSERT_TRUE(last) << "no view showed the burst's last change";
  auto elapsed = std::chrono::steady_clock::now() - started;
  // Changed views are built at most every 20 ms (live.cc kViewEvery), the first at once.
  auto bound = elapsed / milliseconds(20) + 2;
  EXPECT_LE(updates, bound) << kWriters * kEach << " changes in "
                            << std::chrono::duration_cast<milliseconds>(elapsed).count() << " ms";
  EXPECT_FALSE(ws.NextWhere(IsUpdate, milliseconds(300))) << "nothing changed after the burst";
  std::fprintf(stderr, "%d changes in %lld ms: %d views\n", kWriters * kEach,
               static_cast<long long>(std::chrono::duration_cast<milliseconds>(elapsed).count()),
               updates);
}

TEST_F(LiveTest, TheEventsFeedIsGaplessAndAReaderThatStopsStaysBoundedThenIsClosed) {
  auto [auditor, auditor_token] = Rep("auditor", "auditor");
  auto [rep, rep_token] = Rep("rep");
  for (int i = 0; i < 20; ++i) Lead(rep_token);
  auto feed = Subscribe(auditor_token, {{"op", "subscribe"}, {"topic", "events"}, {"after", 0}});
  for (uint64_t p = 1; p <= 24; ++p) {  // admin, department, two people, 20 leads
    auto e = feed->NextWhere([](const json& m) { return m["type"] == "event"; });
    ASSERT_TRUE(e);
    ASSERT_EQ((*e)["position"], p) << "the feed has a gap";
    EXPECT_EQ((*e)["event"]["position"], p);
    EXPECT_EQ((*e)["event"]["hash"].get<std::string>().size(), 64u);
  }

  // The attentive client leaves the feed (it would be the stalled one during the flood,
  // since this test reads nothing meanwhile); a client with a small receive buffer
  // subscribes to everything, then never reads.
  feed->Send({{"op", "unsubscribe"}, {"topic", "events"}});
  WsClient stalled(crmd_->port(), "Bearer " + auditor_token, 4096);
  ASSERT_TRUE(stalled.ok());
  stalled.Send({{"op", "subscribe"}, {"topic", "events"}, {"after", 0}});
  stalled.Send({{"op", "subscribe"}, {"topic", "dashboard"}});
  stalled.Send({{"op", "subscribe"}, {"topic", "pool"}});
  // Enough events to fill the kernel's buffers many times over.
  std::vector<std::thread> writers;
  for (int w = 0; w < 8; ++w) {
    writers.emplace_back([&, rep_token = rep_token, w] {
      for (int i = 0; i < 1000; ++i) {
        crmd_->Call("POST", "/api/v1/leads",
                    NewLead("n" + std::to_string(w), std::string(200, 'x')), rep_token);
      }
    });
  }
  // What waits for sockets, sampled while the events pour in until the server gives up on
  // the stalled client (10 s without taking anything: its feed is closed with 1013 and what
  // waited for it is dropped); meanwhile the attentive client keeps reading (and so answers
  // the server's pings). The stalled client then reads again at once, however long the
  // flood still runs: it must find what its socket held, then the close frame, within the
  // server's grace (20 s).
  double most = 0;
  bool given_up = false;
  bool stalled_closed = false;
  int stalled_code = 0;
  double queued_after = 0;
  std::atomic<bool> flooding{true};
  std::thread sampler([&] {
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(90);
    while (!given_up && std::chrono::steady_clock::now() < until) {
      most = std::max(most, Metric(*crmd_, "evcrm_websocket_queued_bytes"));
      given_up = Metric(*crmd_, "evcrm_live_stalled_closes_total") >= 1;
      feed->Next(milliseconds(50));
    }
    if (given_up) {
      queued_after = Metric(*crmd_, "evcrm_websocket_queued_bytes");
      stalled.NextWhere([](const json&) { return false; }, std::chrono::seconds(15));
      stalled_closed = stalled.closed();
      stalled_code = stalled.close_code();
    }
    while (flooding) feed->Next(milliseconds(50));
  });
  for (auto& t : writers) t.join();
  flooding = false;
  sampler.join();
  uint64_t head = Http(crmd_->port(), "GET", "/health").Json()["position"];
  std::fprintf(stderr,
               "a reader that stopped, with %llu events behind it: at most %.0f bytes queued\n",
               static_cast<unsigned long long>(head), most);
  // Never more than a page of events (256) and one view per topic.
  EXPECT_GT(most, 0) << "the client should have stalled with something waiting";
  EXPECT_LT(most, 512 * 1024);
  ASSERT_TRUE(given_up) << "the stalled feed was not closed";
  EXPECT_LT(queued_after, 16 * 1024);
  EXPECT_TRUE(stalled_closed);
  EXPECT_EQ(stalled_code, 1013);
  // The attentive client is still served.
  feed->Send({{"op", "subscribe"}, {"topic", "pool"}});
  EXPECT_TRUE(feed->NextWhere(IsSnapshot));
}

TEST(LiveUpgradeTest, RequestsThatAskForAnUpgradeButAreAnsweredFreeTheirConnections) {
  eventstore::testing::TempDir dir;
  Crmd crmd(dir.sub("data"), {"--max-connections", "8"});
  ASSERT_TRUE(crmd.Start());
  // Upgrades asked of a plain route, and of the live route with a bad token: each is
  // answered, and its connection must leave the count when it closes.
  for (int i = 0; i < 20; ++i) {
    RawConnection c(crmd.port());
    std::string target = i % 2 ? "/health" : "/api/v1/live";
    c.Send("GET " + target +
           " HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
           "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
           "Authorization: Bearer nope\r\n\r\n");
    EXPECT_EQ(c.Read().status, i % 2 ? 200 : 401);
  }
  bool served = false;
  for (int i = 0; i < 50 && !served; ++i) {
    served = Http(crmd.port(), "GET", "/health").status == 200;
    if (!served) std::this_thread::sleep_for(milliseconds(100));
  }
  EXPECT_TRUE(served) << "connections were not given back";
  // Closed connections leave the count once the server has seen them close (this one and
  // the metrics request's own stay).
  double open = 0;
  for (int i = 0; i < 100; ++i) {
    open = Metric(crmd, "evcrm_http_connections");
    if (open <= 2) break;
    std::this_thread::sleep_for(milliseconds(100));
  }
  EXPECT_LE(open, 2);
}

}  // namespace
}  // namespace crm::testing
