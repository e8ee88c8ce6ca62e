// crmd with its log on a NATS JetStream stream (--store jetstream), end to end: a real
// nats-server and real crmd processes on loopback. A second node follows the stream into
// its own copy and read models while the first serves commands; a node started on an
// empty data dir rebuilds the whole log from the stream; every copy verifies to the same
// head hash and its read models equal a rebuild; a restarted writer continues the log.
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "../eventstore/nats_server.h"
#include "e2e_fixture.h"

namespace crm::testing {
namespace {

using eventstore::testing::NatsServer;

class JetStreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!NatsServer::Installed()) GTEST_SKIP() << eventstore::testing::kNoNatsServer;
    ASSERT_TRUE(nats_.ok()) << "nats-server is installed but did not start";
  }

  std::unique_ptr<Crmd> Node(const std::string& name, const std::string& stream = "crm_test") {
    return std::make_unique<Crmd>(
        dir_.sub(name), std::vector<std::string>{"--store", "jetstream", "--nats", nats_.url(),
                                                 "--stream", stream, "--node", name});
  }

  // `crmctl migrate` with `args`; its JSON report ({} when it failed).
  json Migrate(const std::string& args) {
    int rc = -1;
    std::string out = RunTool(CrmctlPath() + " migrate " + args + " --nats " + nats_.url() + " 2>" +
                                  dir_.sub("migrate.stderr"),
                              &rc);
    EXPECT_EQ(rc, 0) << out;
    json report = json::parse(out, nullptr, false);
    return report.is_object() ? report : json::object();
  }

  // The head hash `crmctl verify` computes on a stopped node's copy.
  std::string VerifiedHash(const std::string& name) {
    int rc = -1;
    std::string out =
        RunTool(CrmctlPath() + " verify --data-dir " + dir_.sub(name) + " 2>/dev/null", &rc);
    EXPECT_EQ(rc, 0) << out;
    json report = json::parse(out, nullptr, false);
    return report.is_object() ? report.value("head_hash", "") : "";
  }

  // The node's /health, or {} when it does not answer (killed, or starting).
  static json Health(Crmd& node) {
    json h = node.Call("GET", "/health", nullptr, "-").Json();
    return h.is_object() ? h : json::object();
  }

  // A department and a sales rep in it, Wang (wang@example.com), made on `node`: the
  // rep's {id, API token}.
  static std::pair<std::string, std::string> SalesRep(Crmd& node) {
    auto dept = node.Call("POST", "/api/v1/departments", {{"name", "East"}});
    EXPECT_EQ(dept.status, 201) << dept.body;
    auto rep = node.Call("POST", "/api/v1/staff",
                         {{"name", "Wang"},
                          {"email", "wang@example.com"},
                          {"role", "sales"},
                          {"department_id", dept.Json().value("id", "")}});
    EXPECT_EQ(rep.status, 201) << rep.body;
    json made = rep.Json();
    return {made.value("id", ""), made.value("token", "")};
  }

  // Waits until the node's read models have applied `position`.
  static bool Reaches(Crmd& node, uint64_t position) {
    for (int i = 0; i < 200; ++i) {
      json h = Health(node);
      bool all = h.value("position", uint64_t{0}) >= position;
      const json projections = h.contains("projections") ? h["projections"] : json::object();
      for (const auto& [name, cp] : projections.items()) all = all && cp >= position;
      if (all) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }

  eventstore::testing::TempDir dir_;
  NatsServer nats_{dir_.sub("nats")};
};

TEST_F(JetStreamTest, NodesFollowTheStreamAndEveryCopyEndsWithTheSameVerifiedLog) {
  auto a = Node("a");
  ASSERT_TRUE(a->Start()) << a->stderr_text();
  json health = Health(*a);
  EXPECT_EQ(health["log"]["store"], "jetstream") << health.dump();
  EXPECT_EQ(health["log"]["stream"], "crm_test");
  EXPECT_EQ(health["log"]["node"], "a");

  const auto [rep_id, token] = SalesRep(*a);
  ASSERT_FALSE(HasFailure());
  std::vector<std::string> leads;
  for (int i = 0; i < 20; ++i) {
    auto r = a->Call("POST", "/api/v1/leads", NewLead("Ma", "Blue Sky"), token);
    ASSERT_EQ(r.status, 201) << r.body;
    leads.push_back(r.Json()["id"]);
  }
  // An Idempotency-Key's record travels with its commit: a retry answers the first result.
  const json keyed = NewLead("Zhao", "Red Sea");
  auto first = a->Call("POST", "/api/v1/leads", keyed, token, {{"Idempotency-Key", "k-1"}});
  ASSERT_EQ(first.status, 201) << first.body;

  // A second node, started now, catches up from the stream and then follows it.
  auto b = Node("b");
  ASSERT_TRUE(b->Start()) << b->stderr_text();
  uint64_t head = Health(*a)["position"];
  EXPECT_TRUE(Reaches(*b, head)) << Health(*b).dump();
  for (int i = 0; i < 10; ++i) {
    auto r = a->Call("POST", "/api/v1/leads/" + leads[static_cast<size_t>(i)] + "/follow-ups",
                     {{"channel", "call"}, {"note", "called"}}, token);
    ASSERT_EQ(r.status, 201) << r.body;
  }
  head = Health(*a)["position"];
  ASSERT_TRUE(Reaches(*b, head)) << Health(*b).dump();
  EXPECT_EQ(Health(*b)["log"]["sequence"], Health(*a)["log"]["sequence"]);

  // The retry, on the writer, after the follower took the record too.
  auto again = a->Call("POST", "/api/v1/leads", keyed, token, {{"Idempotency-Key", "k-1"}});
  EXPECT_EQ(again.status, 201);
  EXPECT_EQ(again.Json()["id"], first.Json()["id"]);
  EXPECT_EQ(Health(*a)["position"], head) << "a replay writes nothing";

  // A backup of the standby while it serves: its copy of the log, at the same head.
  int rc = -1;
  std::string made = RunTool(CrmctlPath() + " backup --data-dir " + dir_.sub("b") + " --to " +
                                 dir_.sub("b-backup") + " 2>&1",
                             &rc);
  ASSERT_EQ(rc, 0) << made;
  json manifest = json::parse(made, nullptr, false);
  ASSERT_TRUE(manifest.is_object()) << made;
  EXPECT_EQ(manifest["head"], head);

  ASSERT_EQ(a->Stop(), 0);
  ASSERT_EQ(b->Stop(), 0);
  // A third node on an empty data dir rebuilds everything from the stream alone.
  auto c = Node("c");
  ASSERT_TRUE(c->Start()) << c->stderr_text();
  EXPECT_TRUE(Reaches(*c, head)) << Health(*c).dump();
  ASSERT_EQ(c->Stop(), 0);
  const std::string hash = VerifiedHash("a");
  EXPECT_EQ(hash.size(), 64u);
  EXPECT_EQ(VerifiedHash("b"), hash);
  EXPECT_EQ(VerifiedHash("c"), hash);
  EXPECT_EQ(manifest["head_hash"], hash);
  for (const char* node : {"a", "b", "c"}) ExpectDataDirSound(dir_.sub(node));

  // The writer, restarted, resumes from its copy and continues the log densely.
  ASSERT_TRUE(a->Start()) << a->stderr_text();
  auto more = a->Call("POST", "/api/v1/leads", NewLead("Sun", "Green Hill"), token);
  ASSERT_EQ(more.status, 201) << more.body;
  EXPECT_EQ(Health(*a)["position"], head + 1);
  auto verified = a->Call("GET", "/api/v1/audit/verify");
  EXPECT_EQ(verified.Json()["ok"], true) << verified.body;
  EXPECT_EQ(verified.Json()["head_position"], head + 1);
}

// Two nodes, one writer: the standby serves reads and answers commands 503 not_leader
// naming the writer; commands sent under a concurrent load survive the writer being
// SIGKILLed again and again: every 2xx answer is in the log once, on the surviving node,
// the positions are dense, the chain verifies and the read models equal a rebuild.
TEST_F(JetStreamTest, TheWriterFailsOverAndNothingAcknowledgedIsLost) {
  // Three NATS servers, the stream replicated on all three.
  NatsServer cluster(dir_.sub("cluster"), 3);
  ASSERT_TRUE(cluster.ok()) << "the 3-node NATS cluster did not form";
  const std::vector<std::string> names = {"a", "b"};
  std::vector<std::unique_ptr<Crmd>> nodes;
  for (const auto& name : names) {
    nodes.push_back(std::make_unique<Crmd>(
        dir_.sub(name), std::vector<std::string>{"--store", "jetstream", "--nats", cluster.url(),
                                                 "--stream", "crm_failover", "--replicas", "3",
                                                 "--node", name, "--writer-lease-ms", "1500"}));
  }
  ASSERT_TRUE(nodes[0]->Start()) << nodes[0]->stderr_text();
  ASSERT_TRUE(nodes[1]->Start()) << nodes[1]->stderr_text();
  // Which node writes, as the nodes themselves say (-1: none yet). The clients ask too, so
  // whether a node runs is kept here, not read from the Crmd being restarted.
  std::array<std::atomic<bool>, 2> alive{true, true};
  auto writer = [&]() -> int {
    for (size_t i = 0; i < nodes.size(); ++i) {
      if (alive[i] && Health(*nodes[i]).value("role", "") == "writer") {
        return static_cast<int>(i);
      }
    }
    return -1;
  };
  // A writer within 30 s (one may step down while a NATS server is away).
  auto wait_for_writer = [&] {
    int found = -1;
    for (int i = 0; i < 600 && (found = writer()) < 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return found;
  };
  const int w = wait_for_writer();
  ASSERT_GE(w, 0);
  Crmd& standby = *nodes[static_cast<size_t>(1 - w)];
  ASSERT_EQ(Health(standby)["writer"]["node"], names[static_cast<size_t>(w)])
      << Health(standby).dump();
  auto refused = standby.Call("POST", "/api/v1/leads", NewLead());
  EXPECT_EQ(refused.status, 503) << refused.body;
  EXPECT_EQ(refused.Json()["code"], "not_leader");
  EXPECT_NE(refused.Json()["detail"].get<std::string>().find(names[static_cast<size_t>(w)]),
            std::string::npos)
      << refused.body;
  // The standby serves reads, with the admin token of the environment.
  EXPECT_EQ(standby.Call("GET", "/api/v1/staff").status, 200);

  // The load: two clients, each creating leads with an Idempotency-Key, retrying a command
  // without an answer (or refused while no node writes) on whichever node writes.
  std::atomic<bool> stop{false};
  std::mutex mu;
  std::set<std::string> acknowledged;  // lead ids answered 2xx
  std::atomic<int> answered{0}, retried{0};
  std::array<std::atomic<int>, 2> answered_by{0, 0};  // 2xx per node
  auto client = [&](int c) {
    for (int n = 0; !stop; ++n) {
      const std::string key = "c" + std::to_string(c) + "-" + std::to_string(n);
      const json body = NewLead("Load", "Fail Over");
      for (int attempt = 0; attempt < 400 && !stop; ++attempt) {
        int target = writer();
        if (target < 0) target = alive[0] ? 0 : 1;
        auto r = nodes[static_cast<size_t>(target)]->Call("POST", "/api/v1/leads", body, "",
                                                          {{"Idempotency-Key", key}});
        if (r.status == 201) {
          std::lock_guard<std::mutex> lock(mu);
          acknowledged.insert(r.Json()["id"].get<std::string>());
          ++answered;
          ++answered_by[static_cast<size_t>(target)];
          break;
        }
        // Anything else must be a refusal that wrote nothing, or no answer (killed).
        EXPECT_TRUE(r.status == 0 || r.status == 503) << r.status << " " << r.body;
        ++retried;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    }
  };
  std::vector<std::thread> clients;
  // Whatever ends the test, the clients stop first.
  struct Joiner {
    std::atomic<bool>& stop;
    std::vector<std::thread>& threads;
    ~Joiner() {
      stop = true;
      for (auto& t : threads) {
        if (t.joinable()) t.join();
      }
    }
  } joiner{stop, clients};
  clients.emplace_back(client, 1);
  clients.emplace_back(client, 2);
  std::vector<double> failovers;  // seconds from a kill to the next 2xx
  for (int kill = 0; kill < 3; ++kill) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    if (kill == 1) {
      // One NATS server dies (the stream keeps its quorum of two) and comes back.
      const int before = answered.load();
      cluster.Kill(1);
      std::this_thread::sleep_for(std::chrono::milliseconds(3000));
      ASSERT_TRUE(cluster.Restart(1));
      for (int i = 0; i < 3000 && answered.load() == before; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      ASSERT_GT(answered.load(), before) << "no command succeeded around the NATS kill";
    }
    const int killed = wait_for_writer();
    ASSERT_GE(killed, 0) << "no writer for 30 s";
    // The failover is over when the other node answers a command.
    const size_t other = 1 - static_cast<size_t>(killed);
    const int before = answered_by[other].load();
    auto t0 = std::chrono::steady_clock::now();
    alive[static_cast<size_t>(killed)] = false;
    nodes[static_cast<size_t>(killed)]->Kill();
    while (answered_by[other].load() == before &&
           std::chrono::steady_clock::now() - t0 < std::chrono::seconds(30)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    failovers.push_back(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    ASSERT_GT(answered_by[other].load(), before)
        << "the other node answered no command within 30 s of the kill";
    // The killed node comes back as a standby.
    ASSERT_TRUE(nodes[static_cast<size_t>(killed)]->Start())
        << nodes[static_cast<size_t>(killed)]->stderr_text();
    alive[static_cast<size_t>(killed)] = true;
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  stop = true;
  for (auto& t : clients) t.join();
  std::string times;
  for (double f : failovers) times += std::to_string(f) + " s ";
  std::printf("failover: %d commands acknowledged, %d retried, first 2xx after a kill: %s\n",
              answered.load(), retried.load(), times.c_str());

  // Every acknowledged lead, once, on every node.
  const int last_writer = wait_for_writer();
  ASSERT_GE(last_writer, 0);
  const uint64_t head = Health(*nodes[static_cast<size_t>(last_writer)])["position"];
  for (auto& node : nodes) {
    ASSERT_TRUE(Reaches(*node, head)) << Health(*node).dump();
    auto verified = node->Call("GET", "/api/v1/audit/verify");
    EXPECT_EQ(verified.Json()["ok"], true) << verified.body;
    EXPECT_EQ(verified.Json()["head_position"], head) << "dense: as many events as positions";
    EXPECT_EQ(verified.Json()["events"], head);
    for (const auto& id : acknowledged) {
      auto r = node->Call("GET", "/api/v1/leads/" + id);
      EXPECT_EQ(r.status, 200) << id << " " << r.body;
    }
  }
  // Exactly once: the log's leads of the load are the acknowledged ones, and at most one
  // more per client (a command in flight when the load stopped).
  std::set<std::string> logged;
  std::string cursor;
  do {
    auto page = nodes[0]->Call("GET", "/api/v1/events?type=LeadCreated&limit=500" +
                                          (cursor.empty() ? "" : "&cursor=" + cursor));
    ASSERT_EQ(page.status, 200) << page.body;
    json j = page.Json();
    for (const auto& e : j["items"]) {
      if (e["data"].value("company", "") == "Fail Over") {
        EXPECT_TRUE(logged.insert(e["stream"].get<std::string>()).second);
      }
    }
    cursor = j["next_cursor"].is_string() ? j["next_cursor"].get<std::string>() : "";
  } while (!cursor.empty());
  for (const auto& id : acknowledged) EXPECT_TRUE(logged.count(id)) << id;
  EXPECT_LE(logged.size(), acknowledged.size() + 2);
  for (auto& node : nodes) ASSERT_EQ(node->Stop(), 0);
  EXPECT_EQ(VerifiedHash("a"), VerifiedHash("b"));
  for (const auto& name : names) ExpectDataDirSound(dir_.sub(name));
}

// A company that outgrows one machine moves its RocksDB log onto a stream with crmctl
// migrate: positions, hashes, tokens and passwords come along; the data dir goes on as the
// first node's copy, a second node rebuilds from the stream alone; and back again.
TEST_F(JetStreamTest, CrmctlMigratesALogIntoAStreamAndBackWithItsCredentials) {
  Crmd single(dir_.sub("single"), {}, "adm_migrate_token_0123456789");
  ASSERT_TRUE(single.Start()) << single.stderr_text();
  const auto [rep_id, token] = SalesRep(single);
  ASSERT_FALSE(HasFailure());
  const std::string password = "a long secret 123";
  ASSERT_EQ(
      single.Call("PUT", "/api/v1/staff/" + rep_id + "/password", {{"password", password}}).status,
      204);
  auto lead = single.Call("POST", "/api/v1/leads", NewLead("Ma", "Blue Sky"), token);
  ASSERT_EQ(lead.status, 201) << lead.body;
  const std::string lead_id = lead.Json()["id"];
  ASSERT_EQ(single.Stop(), 0);
  const std::string hash = VerifiedHash("single");

  json to = Migrate("--to-stream --data-dir " + dir_.sub("single") + " --stream crm_moved");
  EXPECT_EQ(to["head_hash"], hash) << to.dump();
  EXPECT_GE(to.value("index_entries", 0), 4) << "two tokens, two passwords at least";
  // Another migration into the same stream is refused: it holds a log already.
  int rc = -1;
  RunTool(CrmctlPath() + " migrate --to-stream --data-dir " + dir_.sub("single") +
              " --stream crm_moved --nats " + nats_.url() + " >/dev/null 2>&1",
          &rc);
  EXPECT_NE(rc, 0);
  // The data dir is now a copy of the stream: served alone, it would part from it.
  Crmd alone(dir_.sub("single"));
  EXPECT_FALSE(alone.Start());
  EXPECT_NE(alone.stderr_text().find("copy of a JetStream stream"), std::string::npos)
      << alone.stderr_text();

  // It goes on as a node of the stream; another node rebuilds everything from the stream.
  auto a = std::make_unique<Crmd>(
      dir_.sub("single"), std::vector<std::string>{"--store", "jetstream", "--nats", nats_.url(),
                                                   "--stream", "crm_moved", "--node", "a"});
  ASSERT_TRUE(a->Start()) << a->stderr_text();
  auto b = Node("b", "crm_moved");
  ASSERT_TRUE(b->Start()) << b->stderr_text();
  uint64_t head = Health(*a)["position"];
  ASSERT_TRUE(Reaches(*b, head)) << Health(*b).dump();
  for (Crmd* node : {a.get(), b.get()}) {
    // The token issued before the move works on both nodes, and so does the password.
    auto read = node->Call("GET", "/api/v1/leads/" + lead_id, nullptr, token);
    EXPECT_EQ(read.status, 200) << read.body;
    auto signed_in = node->Call("POST", "/api/v1/sessions",
                                {{"email", "wang@example.com"}, {"password", password}}, "-");
    auto wrong = node->Call("POST", "/api/v1/sessions",
                            {{"email", "wang@example.com"}, {"password", "not the password"}}, "-");
    // A standby records nothing, so only the writer answers a sign-in; a standby says so
    // before it checks the password, right or wrong.
    if (Health(*node).value("role", "") == "writer") {
      EXPECT_EQ(signed_in.status, 201) << signed_in.body;
      EXPECT_EQ(wrong.status, 401) << wrong.body;
    } else {
      EXPECT_EQ(signed_in.status, 503) << signed_in.body;
      EXPECT_EQ(wrong.status, 503) << wrong.body;
      EXPECT_EQ(wrong.Json()["code"], "not_leader") << wrong.body;
    }
    EXPECT_EQ(node->Call("GET", "/api/v1/staff", nullptr, "adm_migrate_token_0123456789").status,
              200);
  }
  auto more = a->Call("POST", "/api/v1/leads", NewLead("Sun", "Green Hill"), token);
  ASSERT_EQ(more.status, 201) << more.body;
  head = Health(*a)["position"];
  ASSERT_TRUE(Reaches(*b, head)) << Health(*b).dump();
  ASSERT_EQ(a->Stop(), 0);
  ASSERT_EQ(b->Stop(), 0);
  const std::string moved_hash = VerifiedHash("b");
  EXPECT_EQ(VerifiedHash("single"), moved_hash);

  // And back: a log of its own, served by a plain crmd with everything it had.
  json back = Migrate("--from-stream --data-dir " + dir_.sub("back") + " --stream crm_moved");
  EXPECT_EQ(back["head_hash"], moved_hash) << back.dump();
  EXPECT_EQ(VerifiedHash("back"), moved_hash);
  Crmd home(dir_.sub("back"));
  ASSERT_TRUE(home.Start()) << home.stderr_text();
  EXPECT_EQ(home.Call("GET", "/api/v1/leads/" + lead_id, nullptr, token).status, 200);
  auto signed_in = home.Call("POST", "/api/v1/sessions",
                             {{"email", "wang@example.com"}, {"password", password}}, "-");
  EXPECT_EQ(signed_in.status, 201) << signed_in.body;
  auto last = home.Call("POST", "/api/v1/leads", NewLead("Li", "Far East"), token);
  EXPECT_EQ(last.status, 201) << last.body;
  ASSERT_EQ(home.Stop(), 0);
  ExpectDataDirSound(dir_.sub("back"));
}

TEST_F(JetStreamTest, AStoreFlagWithoutServersIsRefused) {
  Crmd bad(dir_.sub("bad"), {"--store", "jetstream"});
  EXPECT_FALSE(bad.Start());
  EXPECT_NE(bad.stderr_text().find("--store jetstream and --nats go together"), std::string::npos)
      << bad.stderr_text();
  // A stream name NATS would refuse is refused at once, not after retries.
  Crmd dotted(dir_.sub("dotted"),
              {"--store", "jetstream", "--nats", nats_.url(), "--stream", "a.b"});
  EXPECT_FALSE(dotted.Start());
  EXPECT_NE(dotted.stderr_text().find("letters, digits, - and _"), std::string::npos)
      << dotted.stderr_text();
  // A plain RocksDB data dir is not taken for a copy of a stream.
  Crmd plain(dir_.sub("plain"));
  ASSERT_TRUE(plain.Start());
  ASSERT_EQ(plain.Stop(), 0);
  Crmd onto(dir_.sub("plain"), {"--store", "jetstream", "--nats", nats_.url()});
  EXPECT_FALSE(onto.Start());
  EXPECT_NE(onto.stderr_text().find("not a copy of a stream"), std::string::npos)
      << onto.stderr_text();
}

}  // namespace
}  // namespace crm::testing
