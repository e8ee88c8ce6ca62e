// The writer's lease on a real nats-server (eventstore/jetstream_lease.h): one node of
// several writes, a released lease is taken at once, a lease nobody renews is taken after
// its time, and never do two nodes count as the writer at the same moment.
#include "eventstore/jetstream_lease.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "nats_server.h"
#include "store_test_util.h"

namespace crm::eventstore::testing {
namespace {

using namespace std::chrono_literals;

class JetStreamLeaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!NatsServer::Installed()) GTEST_SKIP() << kNoNatsServer;
    ASSERT_TRUE(nats_.ok()) << "nats-server is installed but did not start";
  }

  std::unique_ptr<WriterLease> Lease(const std::string& node,
                                     std::function<bool()> may_lead = nullptr) {
    LeaseOptions o;
    o.servers = {nats_.url()};
    o.stream = "lease_test";
    o.node = node;
    o.url = "http://" + node;
    o.ttl = 1000ms;
    o.may_lead = std::move(may_lead);
    auto lease = WriterLease::Start(std::move(o));
    EXPECT_TRUE(lease.ok()) << lease.error().detail;
    return lease.ok() ? std::move(lease).value() : nullptr;
  }

  // Waits up to `limit` for `p`.
  template <typename P>
  static bool Within(std::chrono::milliseconds limit, P p) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      if (p()) return true;
      std::this_thread::sleep_for(5ms);
    }
    return p();
  }

  TempDir dir_;
  NatsServer nats_{dir_.sub("nats")};
};

TEST_F(JetStreamLeaseTest, OneNodeWritesAndAReleasedLeaseIsTakenAtOnce) {
  auto a = Lease("a");
  auto b = Lease("b");
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(Within(5s, [&] { return a->IsWriter() || b->IsWriter(); }));
  WriterLease* holder = a->IsWriter() ? a.get() : b.get();
  WriterLease* standby = holder == a.get() ? b.get() : a.get();
  EXPECT_FALSE(standby->IsWriter());
  ASSERT_TRUE(Within(2s, [&] { return standby->Writer().has_value(); }));
  EXPECT_EQ(standby->Writer()->node, holder == a.get() ? "a" : "b");
  EXPECT_EQ(standby->Writer()->url, holder == a.get() ? "http://a" : "http://b");
  // A holder that stops releases the lease: the standby takes it within a round (ttl/4),
  // long before the lease would have run out.
  auto t0 = std::chrono::steady_clock::now();
  holder->Stop();
  EXPECT_FALSE(holder->IsWriter());
  ASSERT_TRUE(Within(3s, [&] { return standby->IsWriter(); }));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 900ms);
  EXPECT_EQ(standby->GetStats().terms_taken, 1u);
}

TEST_F(JetStreamLeaseTest, ALeaseNobodyRenewsIsTakenOnlyAfterItsTime) {
  // A holder that died without releasing: its last claim, published by hand.
  auto c = JetStreamClient::Connect({{nats_.url()}, "ghost", 2000ms});
  ASSERT_TRUE(c.ok());
  JetStreamClient::StreamConfig config;
  config.name = "lease_test_writer";
  config.subject = "lease_test.writer";
  config.max_message = 4096;
  config.max_messages = 1000;
  ASSERT_TRUE((*c)->EnsureStream(config).ok());
  ASSERT_TRUE(
      (*c)->Publish("lease_test.writer", "node=ghost\nurl=http://ghost\nreleased=0\n", "ghost-1", 0)
          .ok());
  auto t0 = std::chrono::steady_clock::now();
  auto a = Lease("a");
  ASSERT_TRUE(a);
  ASSERT_TRUE(Within(1s, [&] { return a->Writer().has_value(); }));
  EXPECT_EQ(a->Writer()->node, "ghost");
  ASSERT_TRUE(Within(5s, [&] { return a->IsWriter(); }));
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 1000ms) << "taken before the lease ran out";
}

TEST_F(JetStreamLeaseTest, ANodeThatMayNotLeadGivesTheLeaseUp) {
  std::atomic<bool> a_may{true};
  auto a = Lease("a", [&] { return a_may.load(); });
  ASSERT_TRUE(a);
  ASSERT_TRUE(Within(5s, [&] { return a->IsWriter(); }));
  auto b = Lease("b");
  ASSERT_TRUE(b);
  a_may = false;  // as a halted writer would say
  ASSERT_TRUE(Within(3s, [&] { return b->IsWriter(); }));
  EXPECT_FALSE(a->IsWriter());
  EXPECT_EQ(a->GetStats().terms_lost, 1u);
}

TEST_F(JetStreamLeaseTest, NeverTwoWritersAtOnce) {
  std::vector<std::unique_ptr<WriterLease>> leases;
  for (const char* n : {"a", "b", "c"}) leases.push_back(Lease(n));
  // Each holder in turn stops (and stays stopped) while the others watch; sampled every
  // millisecond: a standby's IsWriter() may turn true only after the holder's turned false.
  std::atomic<bool> done{false};
  std::atomic<int> overlaps{0}, writer_seen{0};
  std::thread sampler([&] {
    while (!done) {
      int writers = 0;
      for (auto& l : leases) writers += l && l->IsWriter() ? 1 : 0;
      if (writers > 1) ++overlaps;
      if (writers == 1) ++writer_seen;
      std::this_thread::sleep_for(1ms);
    }
  });
  for (int round = 0; round < 4; ++round) {
    std::this_thread::sleep_for(700ms);
    for (auto& l : leases) {
      if (l->IsWriter()) {
        l->Stop();
        break;
      }
    }
    std::this_thread::sleep_for(300ms);
  }
  done = true;
  sampler.join();
  EXPECT_EQ(overlaps.load(), 0);
  EXPECT_GT(writer_seen.load(), 0);
}

}  // namespace
}  // namespace crm::eventstore::testing
