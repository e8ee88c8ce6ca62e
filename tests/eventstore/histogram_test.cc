#include "eventstore/histogram.h"

#include <gtest/gtest.h>

namespace crm::eventstore {
namespace {

TEST(HistogramTest, AValueFallsInTheFirstBucketWhoseBoundItDoesNotExceed) {
  Histogram h({1, 4, 16});
  for (uint64_t v : {0, 1, 2, 4, 5, 16, 17, 1000}) h.Observe(v);
  EXPECT_EQ(h.counts, (std::vector<uint64_t>{2, 2, 2, 2}));
  EXPECT_EQ(h.count, 8u);
  EXPECT_EQ(h.sum, 0u + 1 + 2 + 4 + 5 + 16 + 17 + 1000);
}

TEST(HistogramTest, WithoutBoundsEverythingIsInTheOneUnboundedBucket) {
  Histogram h({});
  h.Observe(7);
  EXPECT_EQ(h.counts, (std::vector<uint64_t>{1}));
}

}  // namespace
}  // namespace crm::eventstore
