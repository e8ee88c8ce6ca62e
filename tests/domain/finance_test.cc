// Payment reversals (冲销) and invoices (发票), as stories.
#include "spec.h"

namespace crm::domain::testing {
namespace {

class FinanceTest : public Spec {
 protected:
  void SetUp() override {
    Spec::SetUp();
    Do("stf_rep1", CreateCustomer{"cus_1", CustomerDetails{.name = "Acme"}, {}});
    Do("stf_rep1", SignContract{"con_1",
                                "cus_1",
                                {},
                                "HT-1",
                                "T",
                                1000,
                                "CNY",
                                On("2026-11-01"),
                                {{On("2026-11-10"), 400}, {On("2026-12-10"), 600}}});
  }
  IssueInvoice Invoice(const std::string& id, const std::string& number, int64_t amount) {
    return IssueInvoice{id, "con_1", number, amount, "CNY", On("2026-11-20"), "vat_special", 13};
  }
};

TEST_F(FinanceTest, AReversalTakesThePaymentBackFromTheInstallmentsItFilled) {
  Do("stf_fin", RecordPayment{"con_1", "pay_1", 500, On("2026-11-20"), {}, {}});  // 400 + 100
  Do("stf_fin", RecordPayment{"con_1", "pay_2", 500, On("2026-11-21"), {}, {}});  // 500: paid
  auto d = When("stf_fin", ReversePayment{"con_1", "pay_1", "entered twice"});
  // Recorded on the business day it happens (10:00 on 2026-11-20 in Beijing).
  ThenEvents(
      d, {{"con_1", PaymentReversed{
                        "pay_1", 500, On("2026-11-20"), "entered twice", {{0, 400}, {1, 100}}}}});
  EXPECT_EQ(d->created, "pay_1");
  Given("con_1", d->events[0].event, "stf_fin");
  const ContractRecord& k = model_.contracts.at("con_1");
  EXPECT_EQ(k.paid, 500);
  EXPECT_EQ(k.installments[0].paid, 0);
  EXPECT_EQ(k.installments[1].paid, 500);
  // Active again: what it took back can be paid again, and no more.
  ThenError(When("stf_fin", RecordPayment{"con_1", "pay_3", 501, On("2026-11-22"), {}, {}}),
            ErrorKind::kRule, "overpayment");
  EXPECT_TRUE(When("stf_fin", RecordPayment{"con_1", "pay_3", 500, On("2026-11-22"), {}, {}}).ok());
}

TEST_F(FinanceTest, APaymentIsReversedAtMostOnceByFinanceOrAnAdmin) {
  Do("stf_fin", RecordPayment{"con_1", "pay_1", 500, On("2026-11-20"), {}, {}});
  ThenError(When("stf_rep1", ReversePayment{"con_1", "pay_1", "x"}), ErrorKind::kForbidden,
            "forbidden");
  ThenError(When("stf_mgr", ReversePayment{"con_1", "pay_1", "x"}), ErrorKind::kForbidden,
            "forbidden");
  ThenError(When("stf_fin", ReversePayment{"con_1", "pay_9", "x"}), ErrorKind::kNotFound,
            "not_found");
  Do("stf_admin", ReversePayment{"con_1", "pay_1", "x"});
  ThenError(When("stf_fin", ReversePayment{"con_1", "pay_1", "x"}), ErrorKind::kConflict,
            "invalid_transition");
}

TEST_F(FinanceTest, InvoicesNeverAddUpToMoreThanTheContractAndNumbersAreUnique) {
  auto d = When("stf_fin", Invoice("inv_1", "fp-001", 600));
  ThenEvents(d, {{"inv_1", InvoiceIssued{"inv_1", "con_1", "cus_1", "fp-001", 600, "CNY",
                                         On("2026-11-20"), "vat_special", 13}}});
  ASSERT_EQ(d->unique_keys.size(), 1u);
  EXPECT_EQ(d->unique_keys[0].key, "FP-001");
  Given("inv_1", d->events[0].event, "stf_fin");
  auto twice = When("stf_fin", Invoice("inv_2", "FP-001", 100));
  ThenError(twice, ErrorKind::kConflict, "duplicate_invoice_number");
  EXPECT_EQ(twice.error().existing_id, "inv_1");
  ThenError(When("stf_fin", Invoice("inv_2", "FP-002", 401)), ErrorKind::kRule, "overinvoiced");
  Do("stf_fin", Invoice("inv_2", "FP-002", 400));
  EXPECT_EQ(model_.contracts.at("con_1").invoiced, 1000);
  // Voided, an invoice frees its amount but keeps its number.
  Do("stf_fin", VoidInvoice{"inv_1", "wrong title"});
  EXPECT_EQ(model_.contracts.at("con_1").invoiced, 400);
  ThenError(When("stf_fin", Invoice("inv_3", "FP-001", 600)), ErrorKind::kConflict,
            "duplicate_invoice_number");
  EXPECT_TRUE(When("stf_fin", Invoice("inv_3", "FP-003", 600)).ok());
  ThenError(When("stf_fin", VoidInvoice{"inv_1", "again"}), ErrorKind::kConflict,
            "invalid_transition");
}

TEST_F(FinanceTest, AnInvoiceIsInTheContractsCurrencyOfAKnownKindByFinanceOrAnAdmin) {
  IssueInvoice usd = Invoice("inv_1", "FP-1", 100);
  usd.currency = "USD";
  usd.kind = "receipt";
  auto bad = When("stf_fin", usd);
  ThenError(bad, ErrorKind::kValidation, "validation_failed");
  EXPECT_EQ(bad.error().fields.size(), 2u);
  ThenError(When("stf_rep1", Invoice("inv_1", "FP-1", 100)), ErrorKind::kForbidden, "forbidden");
  ThenError(When("stf_rep3", Invoice("inv_1", "FP-1", 100)), ErrorKind::kNotFound, "not_found");
  ThenError(When("stf_fin", VoidInvoice{"inv_9", "x"}), ErrorKind::kNotFound, "not_found");
}

}  // namespace
}  // namespace crm::domain::testing
