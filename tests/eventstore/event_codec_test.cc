#include "eventstore/event_codec.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>

#include "sample_events.h"

namespace crm::eventstore {
namespace {

using namespace crm::domain;
using testing::OneOfEach;

TEST(EventCodecTest, EveryEventTypeRoundTrips) {
  auto events = OneOfEach();
  std::set<size_t> types;
  uint64_t pos = 0;
  for (const auto& e : events) {
    types.insert(e.index());
    EnvelopeHeader h{++pos,   "stream_" + std::to_string(pos),
                     7,       *ParseTime("2026-11-22T08:00:00Z"),
                     "stf_1", "cmd_1",
                     "req_1"};
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

// Whatever is added to the Event variant must be carried by the codec and named: every
// alternative has a sample, round-trips as itself, and has a name of its own that maps
// back to it. (Evolve, the encoder and the event JSON visit the variant without a
// default, so the compiler finds a type they miss; this finds what the compiler cannot.)
template <size_t... I>
void EveryAlternative(std::index_sequence<I...>) {
  auto samples = OneOfEach();
  std::set<std::string_view> names;
  (
      [&] {
        std::string_view name = EventTypeName(Event{std::in_place_index<I>});
        EXPECT_FALSE(name.empty()) << "alternative " << I;
        EXPECT_TRUE(names.insert(name).second) << name << " named twice";
        EXPECT_EQ(EventTypeIndex(name), I) << name;
        auto sample = std::find_if(samples.begin(), samples.end(),
                                   [](const Event& e) { return e.index() == I; });
        ASSERT_NE(sample, samples.end())
            << "add a sample of " << name << " to OneOfEach (sample_events.h)";
        EnvelopeHeader h{I + 1, "stream", 1, Time{}, "stf_1", "cmd", "req"};
        EnvelopeHeader h2;
        Event e2;
        Status decoded = DecodeEnvelope(EncodeEnvelope(h, *sample), &h2, &e2);
        ASSERT_TRUE(decoded.ok()) << name << ": " << decoded.error().detail;
        EXPECT_EQ(e2.index(), I) << name << " decodes as another type";
        EXPECT_TRUE(e2 == *sample) << name << " changed in the round trip";
      }(),
      ...);
}

TEST(EventCodecTest, EveryAlternativeOfTheEventVariantIsCarriedAndNamed) {
  EveryAlternative(std::make_index_sequence<std::variant_size_v<Event>>{});
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

// Envelopes written by the first version of the schema (tests/data/events_v1.bin: each
// record a u32 big-endian length, then the envelope) must stay readable as they were.
std::vector<std::string> ReadFixture(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<std::string> out;
  unsigned char len[4];
  while (in.read(reinterpret_cast<char*>(len), 4)) {
    size_t n = (size_t{len[0]} << 24) | (size_t{len[1]} << 16) | (size_t{len[2]} << 8) | len[3];
    std::string bytes(n, '\0');
    if (!in.read(bytes.data(), static_cast<std::streamsize>(n))) break;
    out.push_back(std::move(bytes));
  }
  return out;
}

TEST(EventCodecTest, EventsWrittenByTheFirstVersionStayReadable) {
  auto records = ReadFixture(std::string(TEST_DATA_DIR) + "/events_v1.bin");
  auto expected = OneOfEach();
  ASSERT_EQ(records.size(), 32u) << "tests/data/events_v1.bin is missing or truncated";
  for (size_t i = 0; i < records.size(); ++i) {
    EnvelopeHeader h;
    Event e;
    ASSERT_TRUE(DecodeEnvelope(records[i], &h, &e).ok()) << "record " << i;
    EXPECT_EQ(h.position, i + 1);
    EXPECT_TRUE(e == expected[i]) << EventTypeName(expected[i]) << " reads differently";
  }
}

// Wrote tests/data/events_v1.bin once. Never rewrite a fixture: add events_v2.bin when
// the schema grows.
TEST(EventCodecTest, DISABLED_WriteFixture) {
  std::ofstream out(std::string(TEST_DATA_DIR) + "/events_v1.bin", std::ios::binary);
  uint64_t pos = 0;
  for (const auto& e : OneOfEach()) {
    std::string bytes =
        EncodeEnvelope({++pos, "stream_" + std::to_string(pos), 1,
                        *ParseTime("2026-11-22T08:00:00Z"), "stf_1", "cmd_1", "req_1"},
                       e);
    unsigned char len[4] = {static_cast<unsigned char>(bytes.size() >> 24),
                            static_cast<unsigned char>(bytes.size() >> 16),
                            static_cast<unsigned char>(bytes.size() >> 8),
                            static_cast<unsigned char>(bytes.size())};
    out.write(reinterpret_cast<const char*>(len), 4);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
}

}  // namespace
}  // namespace crm::eventstore
