#include "eventstore/event_codec.h"

#include <gtest/gtest.h>

#include <set>

namespace crm::eventstore {
namespace {

using namespace crm::domain;

// One event of every type, with every optional field set somewhere.
std::vector<Event> OneOfEach() {
  Time t = *ParseTime("2026-11-22T08:00:00.250Z");
  Date d = *ParseDate("2026-12-31");
  PoolPolicy p{.recycle_no_follow_up = Seconds(86400), .recycle_no_deal = std::nullopt,
               .remind_before = Seconds(3600), .daily_claim_limit = 0,
               .previous_owner_block = Seconds(7), .max_owned_customers = 200,
               .max_owned_leads = std::nullopt};
  return {
      DepartmentCreated{"dep_1", "东区 East", "dep_0"},
      StaffCreated{"stf_1", "王 Wang", "w@x", Role::kFinance, "dep_1", "east"},
      StaffDeparted{"stf_1"},
      HandoverCompleted{"stf_1", std::nullopt, true, 3, 2, 1, 1},
      PoolPolicySet{p},
      TargetSet{Period{2026, 11}, "stf_1", std::nullopt, 2000000, "CNY"},
      LeadCreated{"lead_1", "Ma", "蓝天 Ltd", "138", "m@x", "web", "east", std::nullopt},
      LeadAssigned{"stf_2", "stf_1", AssignStrategy::kRegion},
      LeadClaimed{"stf_2"},
      LeadReleased{"stf_2", "not mine"},
      LeadRecycled{"stf_2", RecycleRule::kNoFollowUp},
      LeadInvalidated{"wrong number"},
      LeadVoided{"spam"},
      LeadConverted{"cus_1", true, "ctc_1", std::nullopt},
      FollowUpRecorded{"fup_1", Channel::kVisit, "met the CFO", t},
      RecordHandedOver{"stf_1", std::nullopt},
      CustomerCreated{"cus_1", "Acme", "retail", "east", Level::kB, "1", "Road 1", "stf_1",
                      "lead_1", "acme"},
      CustomerUpdated{"Acme 2", std::nullopt, "", "A", std::nullopt, std::nullopt, "acme 2"},
      CustomerLeadAttached{"lead_2"},
      CustomerClaimed{"stf_2"},
      CustomerReleased{"stf_2", "x"},
      CustomerRecycled{"stf_2", RecycleRule::kNoDeal},
      CustomerTransferred{"stf_3", "stf_2"},
      CustomerLocked{"key account"},
      CustomerUnlocked{},
      ContactCreated{"ctc_1", "cus_1", "Liu", "CFO", "139", std::nullopt, true},
      OpportunityCreated{"opp_1", "cus_1", "Pilot", 500000, "CNY", d, Stage::kProposal, "stf_1",
                         "lead_1"},
      OpportunityStageChanged{Stage::kNegotiation, Stage::kProposal},
      OpportunityWon{"signed", "con_1"},
      OpportunityLost{"price"},
      ContractSigned{"con_1", "cus_1", "opp_1", "HT-1", "Pilot", 1000, "CNY", d, "stf_1", "stf_2",
                     {{d, 400}, {d + std::chrono::days(30), 600}}},
      PaymentReceived{"pay_1", 500, d, "bank", "TX1", {{0, 400}, {1, 100}}},
  };
}

TEST(EventCodecTest, EveryEventTypeRoundTrips) {
  auto events = OneOfEach();
  std::set<size_t> types;
  uint64_t pos = 0;
  for (const auto& e : events) {
    types.insert(e.index());
    EnvelopeHeader h{++pos, "stream_" + std::to_string(pos), 7, *ParseTime("2026-11-22T08:00:00Z"),
                     "stf_1", "cmd_1", "req_1"};
    std::string bytes = EncodeEnvelope(h, e);
    EnvelopeHeader h2;
    Event e2;
    ASSERT_TRUE(DecodeEnvelope(bytes, &h2, &e2).ok()) << EventTypeName(e);
    EXPECT_TRUE(e2 == e) << EventTypeName(e) << " changed in the round trip";
    EXPECT_EQ(h2.position, h.position);
    EXPECT_EQ(h2.stream, h.stream);
    EXPECT_EQ(h2.version, 7u);
    EXPECT_EQ(h2.at, h.at);
    EXPECT_EQ(h2.actor, "stf_1");
    EXPECT_EQ(h2.command_id, "cmd_1");
    EXPECT_EQ(h2.correlation_id, "req_1");
  }
  EXPECT_EQ(types.size(), std::variant_size_v<Event>) << "a type is missing from OneOfEach";
}

TEST(EventCodecTest, GarbageIsRefusedNotTrusted) {
  EnvelopeHeader h;
  Event e;
  auto s = DecodeEnvelope("definitely not a flatbuffer", &h, &e);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, "corrupt_event");
  std::string bytes = EncodeEnvelope({1, "lead_1", 1, Time{}, "a", "c", "r"}, LeadVoided{"x"});
  bytes.resize(bytes.size() / 2);
  EXPECT_FALSE(DecodeEnvelope(bytes, &h, &e).ok());
}

}  // namespace
}  // namespace crm::eventstore
