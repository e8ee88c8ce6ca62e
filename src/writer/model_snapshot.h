// Decision-model snapshots (schemas/model.fbs): the writer's model at one position of the
// log, kept in files, so that a start folds only the events after the newest snapshot
// instead of the whole log.
//
//   background thread, when the log is `every` events past the newest snapshot:
//     newest usable snapshot (or the empty model) ─▶ fold the log up to its head
//       ─▶ write model-<position>.snap.tmp, fsync, rename, fsync the directory
//       ─▶ delete all but it and the one it was built from
//   start: newest usable snapshot ─▶ fold the events after it ─▶ the writer decides
//
// A snapshot is used only if its checksum holds, its format is this code's
// (kModelSnapshotFormat), its business-day offset is the server's, and the log holds the
// same chain hash at its position: the same log, not another server's or a restored older
// copy that has not reached it. Otherwise the next older one is tried, then the empty
// model. Snapshots are derived data, like the read models: deleting them costs one longer
// start, never a decision.
//
// The builder folds its own copy of the model, apart from the writer's, which never waits
// for it: while it runs, the decision model is in memory twice.
#ifndef CRM_WRITER_MODEL_SNAPSHOT_H_
#define CRM_WRITER_MODEL_SNAPSHOT_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "domain/model.h"
#include "domain/result.h"
#include "eventstore/event_store.h"

namespace crm::writer {

// Raised whenever the model, or what `Evolve` keeps in it, changes meaning.
inline constexpr uint32_t kModelSnapshotFormat = 5;

// The model after the event at `position` (0: the empty model, before any event).
struct ModelAt {
  explicit ModelAt(Seconds utc_offset) : model(utc_offset) {}
  domain::Model model;
  uint64_t position = 0;
  std::string hash;  // the chain hash after `position`: 32 raw bytes; "" at 0
  Time at{};         // when the event at `position` was recorded
};

// Writes `m` as `dir`/model-<position>.snap, whole or not at all; gives up (an error)
// when `stop` says so.
Status WriteModelSnapshot(const std::string& dir, const ModelAt& m,
                          const std::function<bool()>& stop = nullptr);
// The snapshot files in `dir` by their names' positions, newest first (none when `dir`
// cannot be read). A file once named is never changed, only deleted.
std::vector<std::pair<uint64_t, std::string>> SnapshotFiles(const std::string& dir);

// Asked of a snapshot's header (its position and chain hash) before the rest is read:
// "" to go on, else why the snapshot is not to be used.
using SnapshotCheck = std::function<std::string(uint64_t position, const std::string& hash)>;

// Reads a snapshot file, checking its checksum, its format, its offset and `check`.
Result<ModelAt> ReadModelSnapshot(const std::string& path, Seconds utc_offset,
                                  const SnapshotCheck& check = nullptr);

// Folds the log's events after `m.position` up to `to` (at most the head) into `m`.
// `stop` is asked between pages of events; when it says yes the fold ends early, with
// `m` consistent at the last event folded.
Status FoldLog(const eventstore::EventStore& store, ModelAt& m, uint64_t to,
               const std::function<bool()>& stop = nullptr);

struct SnapshotStats {
  uint64_t newest_position = 0;  // of the newest snapshot on disk that this server wrote or used
  uint64_t written = 0;          // snapshots written since the start
  uint64_t failed = 0;           // builds that failed since the start
  double last_build_seconds = 0;
  std::string last_error;
};

// The snapshots of one log, in one directory, and the thread that keeps them coming.
class ModelSnapshots {
 public:
  struct Options {
    std::string dir;
    Seconds utc_offset{8 * 3600};
    // A new snapshot once the log is this many events past the newest; 0: never by
    // itself (BuildNow still writes one).
    uint64_t every = 1'000'000;
    std::function<void(std::string_view)> log;
  };

  ModelSnapshots(const eventstore::EventStore& store, Options options);
  ~ModelSnapshots();  // Stop()
  ModelSnapshots(const ModelSnapshots&) = delete;
  ModelSnapshots& operator=(const ModelSnapshots&) = delete;

  // The newest usable snapshot, or the empty model; says in the log why any newer file
  // was passed over. Thread-safe.
  ModelAt Newest() const;

  // Builds a snapshot at the log's head from the newest one, if the head is past it.
  Status BuildNow();

  // Starts and stops the background builder (Stop abandons a build under way).
  void Start();
  void Stop();

  SnapshotStats Stats() const;

 private:
  Status Build(uint64_t min_events);
  void Loop();
  // Why the snapshot named `named`, whose header says `position` and `hash`, does not fit
  // the log; "" when it does.
  std::string Unusable(uint64_t named, uint64_t position, const std::string& hash) const;
  void Say(const std::string& line) const;

  const eventstore::EventStore& store_;
  Options options_;
  std::mutex build_mu_;          // one build at a time (BuildNow beside the thread)
  mutable std::mutex files_mu_;  // reading, renaming and deleting snapshot files
  mutable std::mutex mu_;        // stats_, stopping_
  std::condition_variable cv_;
  bool stopping_ = false;
  std::atomic<bool> abandon_{false};
  mutable SnapshotStats stats_;  // Newest() notes the snapshot it found
  std::thread thread_;
};

}  // namespace crm::writer

#endif  // CRM_WRITER_MODEL_SNAPSHOT_H_
