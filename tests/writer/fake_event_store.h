// An EventStore in memory: the whole interface a second backend must provide, in little
// more than a page, so the writer can be tested on its own. It keeps the same promises as
// the RocksDB store (dense positions, streams continued, index entries with their batch,
// the hash chain) and lets a test hold or fail an append.
#ifndef CRM_TESTS_WRITER_FAKE_EVENT_STORE_H_
#define CRM_TESTS_WRITER_FAKE_EVENT_STORE_H_

#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "eventstore/coding.h"
#include "eventstore/event_store.h"
#include "eventstore/sha256.h"

namespace crm::writer::testing {

using eventstore::AppendBatch;
using eventstore::Index;
using eventstore::RecordedEvent;

class FakeEventStore final : public eventstore::EventStore {
 public:
  Result<uint64_t> Append(const AppendBatch& batch) override {
    std::unique_lock<std::mutex> lock(mu_);
    ++appends_;
    cv_.notify_all();
    cv_.wait(lock, [&] { return !held_; });  // a test may hold appends to build a batch
    if (closed_) return Unavailable("closed");
    if (appends_ == fail_at_) return fail_with_;
    std::map<std::string, uint64_t> versions;
    for (const auto& e : batch.events) {
      auto it = versions.find(e.stream);
      if (it == versions.end()) it = versions.emplace(e.stream, VersionLocked(e.stream)).first;
      if (e.version != it->second + 1)
        return MakeError(ErrorKind::kPrecondition, "version_conflict", e.stream);
      it->second = e.version;
    }
    uint64_t first = events_.size() + 1;
    for (const auto& e : batch.events) {
      RecordedEvent r;
      static_cast<eventstore::EnvelopeHeader&>(r) = {events_.size() + 1, e.stream, e.version,
                                                     batch.at,           e.actor,  e.command_id,
                                                     e.correlation_id};
      r.event = e.event;
      std::string body = eventstore::EncodeEnvelope(r, e.event);
      r.hash =
          eventstore::Sha256(events_.empty() ? std::string(32, '\0') : events_.back().hash, body);
      streams_[e.stream].push_back(r.position);
      events_.push_back(std::move(r));
    }
    for (const auto& w : batch.index) {
      auto& index = indexes_[static_cast<int>(w.index)];
      std::string key = w.scope + '\0' + w.key;
      if (w.value)
        index[key] = *w.value;
      else
        index.erase(key);
    }
    head_cv_.notify_all();
    return first;
  }

  uint64_t Head() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return events_.size();
  }
  Result<std::vector<RecordedEvent>> ReadAll(uint64_t from, size_t max) const override {
    std::lock_guard<std::mutex> lock(mu_);
    if (fail_read_all_) return Unavailable("a bad block (injected)");
    std::vector<RecordedEvent> out;
    for (uint64_t p = std::max<uint64_t>(from, 1); p <= events_.size() && out.size() < max; ++p) {
      out.push_back(events_[p - 1]);
    }
    return out;
  }
  Result<std::vector<RecordedEvent>> ReadStream(std::string_view stream, uint64_t from_version,
                                                size_t max) const override {
    return Positions(stream, [&](const RecordedEvent& e, size_t n) {
      return e.version >= from_version && n < max;
    });
  }
  Result<std::vector<RecordedEvent>> ReadStreamBetween(std::string_view stream, uint64_t after,
                                                       uint64_t up_to, size_t max) const override {
    return Positions(stream, [&](const RecordedEvent& e, size_t n) {
      return e.position > after && e.position <= up_to && n < max;
    });
  }
  Result<uint64_t> StreamVersion(std::string_view stream) const override {
    std::lock_guard<std::mutex> lock(mu_);
    if (stream == unreadable_stream_) return Unavailable("a bad block (injected)");
    return VersionLocked(std::string(stream));
  }
  Result<uint64_t> PositionAt(Time t) const override {
    std::lock_guard<std::mutex> lock(mu_);
    uint64_t p = 0;
    while (p < events_.size() && events_[p].at <= t) ++p;
    return p;
  }
  Result<std::optional<std::string>> ReadIndex(Index index, std::string_view scope,
                                               std::string_view key) const override {
    std::lock_guard<std::mutex> lock(mu_);
    const auto& m = indexes_[static_cast<int>(index)];
    auto it = m.find(std::string(scope) + '\0' + std::string(key));
    return it == m.end() ? std::nullopt : std::optional<std::string>(it->second);
  }
  uint64_t WaitForHead(uint64_t after, std::chrono::milliseconds timeout) const override {
    std::unique_lock<std::mutex> lock(mu_);
    head_cv_.wait_for(lock, timeout, [&] { return events_.size() > after || closed_; });
    return events_.size();
  }
  using EventStore::Verify;
  eventstore::VerifyReport Verify(const VerifyProgress&) const override {
    std::lock_guard<std::mutex> lock(mu_);
    eventstore::VerifyReport r;
    r.events = r.head_position = events_.size();
    r.head_hash = events_.empty() ? "" : eventstore::ToHex(events_.back().hash);
    return r;
  }
  eventstore::AppendStats Stats() const override { return {}; }
  void Close() override {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    head_cv_.notify_all();
  }

  // Holds every append until Release; waits until `n` appends have been asked for.
  void Hold() {
    std::lock_guard<std::mutex> lock(mu_);
    held_ = true;
  }
  void WaitForAppends(int n) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return appends_ >= n; });
  }
  void Release() {
    std::lock_guard<std::mutex> lock(mu_);
    held_ = false;
    cv_.notify_all();
  }
  // The `n`th append (counting every one since the start) fails with `e` (by default as
  // a full disk would) and writes nothing.
  void FailAppendNumber(int n, Error e = Unavailable("the disk is full (injected)")) {
    std::lock_guard<std::mutex> lock(mu_);
    fail_at_ = n;
    fail_with_ = std::move(e);
  }
  // Reads of the whole log fail from now on, or no longer.
  void FailReadAll(bool fail) {
    std::lock_guard<std::mutex> lock(mu_);
    fail_read_all_ = fail;
  }
  // Reads of `stream`'s version fail from now on ("": none do).
  void FailReadsOf(std::string stream) {
    std::lock_guard<std::mutex> lock(mu_);
    unreadable_stream_ = std::move(stream);
  }
  int appends() const {
    std::lock_guard<std::mutex> lock(mu_);
    return appends_;
  }

 private:
  uint64_t VersionLocked(const std::string& stream) const {
    auto it = streams_.find(stream);
    return it == streams_.end() ? 0 : events_[it->second.back() - 1].version;
  }
  template <class Keep>
  Result<std::vector<RecordedEvent>> Positions(std::string_view stream, Keep keep) const {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<RecordedEvent> out;
    auto it = streams_.find(std::string(stream));
    if (it == streams_.end()) return out;
    for (uint64_t p : it->second) {
      if (keep(events_[p - 1], out.size())) out.push_back(events_[p - 1]);
    }
    return out;
  }

  mutable std::mutex mu_;
  std::condition_variable cv_;
  mutable std::condition_variable head_cv_;
  std::vector<RecordedEvent> events_;
  std::map<std::string, std::vector<uint64_t>> streams_;
  std::map<std::string, std::string> indexes_[2];
  bool held_ = false;
  int fail_at_ = 0;
  Error fail_with_ = Internal("");
  bool fail_read_all_ = false;
  std::string unreadable_stream_;
  bool closed_ = false;
  int appends_ = 0;
};

}  // namespace crm::writer::testing

#endif  // CRM_TESTS_WRITER_FAKE_EVENT_STORE_H_
