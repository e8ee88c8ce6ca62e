// One event of every type, for codec, compatibility and projection tests.
#ifndef CRM_TESTS_EVENTSTORE_SAMPLE_EVENTS_H_
#define CRM_TESTS_EVENTSTORE_SAMPLE_EVENTS_H_

#include <vector>

#include "domain/events.h"

namespace crm::eventstore::testing {

using namespace crm::domain;

// Only ever append: tests/data/events_v1.bin holds the first 32, encoded by version 1.
// Every optional field is set somewhere.
inline std::vector<Event> OneOfEach() {
  Time t = *ParseTime("2026-11-22T08:00:00.250Z");
  Date d = *ParseDate("2026-12-31");
  PoolPolicy p{.recycle_no_follow_up = Seconds(86400),
               .recycle_no_deal = std::nullopt,
               .remind_before = Seconds(3600),
               .daily_claim_limit = 0,
               .previous_owner_block = Seconds(7),
               .max_owned_customers = 200,
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
      ContractSigned{"con_1",
                     "cus_1",
                     "opp_1",
                     "HT-1",
                     "Pilot",
                     1000,
                     "CNY",
                     d,
                     "stf_1",
                     "stf_2",
                     {{d, 400}, {d + std::chrono::days(30), 600}}},
      PaymentReceived{"pay_1", 500, d, "bank", "TX1", {{0, 400}, {1, 100}}},
      DealOwnerChanged{"cus_1", std::nullopt, "stf_2"},
      PasswordSet{"stf_1"},
      StaffEdited{{{"role", "sales", "manager"}, {"region", "east", std::nullopt}}},
      DepartmentEdited{{{"parent_id", std::nullopt, "dep_0"}}},
      LeadEdited{
          {{"phone", "138", "+86 139 0000 0001"}}, "13900000001", "蓝天 ltd\x1fma", "lead_0"},
      ContactEdited{{{"decision_maker", "true", "false"}}},
      OpportunityEdited{
          {{"amount", "500000", "650000"}, {"expected_close_date", "2026-12-31", "2027-01-15"}}},
      PaymentReversed{"pay_1", 500, d, "entered twice", {{0, 400}, {1, 100}}},
      InvoiceIssued{"inv_1", "con_1", "cus_1", "FP-0001", 1000, "CNY", d, "vat_special", 13},
      InvoiceVoided{"wrong title"},
      TaskCreated{"task_1", "stf_1", "call back about the quote", t, "lead_1"},
      TaskCompleted{},
      // Written since duplicate keys (撞单): the keys and the lead it duplicates.
      LeadCreated{"lead_2",
                  "Ma",
                  "蓝天 Ltd",
                  "138 0000 0001",
                  {},
                  {},
                  {},
                  "stf_1",
                  "13800000001",
                  "蓝天 ltd\x1fma",
                  "lead_1"},
      RecordMoved{"cus_1", "cus_2", "stf_1"},
      CustomerMerged{"cus_1"},
      CustomerAbsorbed{"cus_2"},
  };
}

}  // namespace crm::eventstore::testing

#endif  // CRM_TESTS_EVENTSTORE_SAMPLE_EVENTS_H_
