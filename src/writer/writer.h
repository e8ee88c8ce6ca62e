// The single writer (DESIGN.md, "The write path"): every command of the server passes
// through here, one decision at a time, on one thread.
//
//   Submit ─▶ queue ─▶ writer thread: take every queued command (a batch);
//                      for each: idempotency record? → the stored result;
//                                decide against the model (domain::Decide), check the
//                                expected version and unique keys against what is stored
//                                and what earlier commands of the batch staged, stage its
//                                events (the model follows at once, so later commands see
//                                them), its unique keys and its idempotency record;
//                      one EventStore::Append for the whole batch (one fsync);
//                      listeners, then every command's `done`.
//
// On a replicated log, other nodes' commits reach the store's copy beside the writer: the
// writer folds them into its model before each batch and when idle, and decides every
// batch at the position its model is at (AppendBatch::after), so a commit that slips in
// between refuses the batch rather than being decided past.
//
// Guarantees: decisions never race (one thread); a command's events are appended all or
// nothing; a `done` that reports success runs only after its events are durable; when the
// append fails, every command of the batch fails (refusals too: they may rest on what the
// batch staged) and the model is folded again from the log. An idempotency key is scoped
// to its caller and bound to the request's hash: a retry gets the first result, another
// request with the same key `idempotency_key_reused`; once the key's lifetime
// (WriterOptions::idempotency_ttl) has passed, the key is free and decides anew.
//
// The writer calls down into src/domain and src/eventstore, never up: it answers domain
// results (CommandResult) or errors, and the API turns them into HTTP.
#ifndef CRM_WRITER_WRITER_H_
#define CRM_WRITER_WRITER_H_

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "domain/decide.h"
#include "domain/model.h"
#include "eventstore/event_store.h"
#include "eventstore/histogram.h"
#include "writer/clock.h"
#include "writer/command_record.h"
#include "writer/ids.h"
#include "writer/model_snapshot.h"

namespace crm::writer {

// The log's unique index as a batch sees it (what is stored, with what earlier commands of
// the batch staged), for the index entries a request writes beside its events. Only the
// server's reserved scopes, those starting with '$', may be written here: the domain's
// scopes are the deciders' alone.
class IndexEdit {
 public:
  virtual ~IndexEdit() = default;
  virtual std::optional<std::string> Get(std::string_view scope, std::string_view key) = 0;
  virtual void Put(std::string scope, std::string key, std::string value) = 0;
  virtual void Delete(std::string scope, std::string key) = 0;
};
// Computes a request's index entries on the writer thread, once its command is decided,
// so that they commit with its events or not at all (api/token_store.h keeps the
// server's credentials so, on every node of a replicated log).
using IndexEffects = std::function<void(IndexEdit&)>;

struct WriteRequest {
  // Nullopt: the request writes only its `index` entries (an index-only commit).
  std::optional<domain::Command> command;
  std::string actor;             // a staff id, or "system" for the server's own jobs
  std::string correlation_id{};  // kept with the events; "" → the command id
  // Idempotency-Key and the hash of the request it came with (32 raw bytes).
  std::optional<std::string> idempotency_key{};
  std::string request_hash{};
  // If-Match: the version a stream must have for the command to run.
  std::optional<std::pair<std::string, uint64_t>> expected_version{};
  // Index entries written in the same commit as the command's events (not when the
  // command is refused or replayed from its Idempotency-Key). Null: none.
  IndexEffects index{};
};

struct WriteOutcome {
  CommandResult result;
  bool replayed = false;  // the stored result of an earlier request with the same key
};

// Called exactly once: on the writer thread, which it must not block (hand slow work to
// another thread), or at once on the caller's after Close.
using WriteDone = std::function<void(Result<WriteOutcome>)>;

struct WriterOptions {
  Seconds utc_offset{8 * 3600};  // where a business day starts (daily claim limits)
  size_t max_batch = 1024;       // commands per group commit
  // The unique key of a customer name (ICU NFKC case-folded in the server; the domain
  // records it in the event, so replays never depend on it).
  std::function<std::string(std::string_view)> normalize_name;
  // Where the writer reports what goes wrong outside any command (a failed reload).
  std::function<void(std::string_view)> log;
  // How long an idempotency key answers with its first result: after that the key is
  // free again, and the store's compaction drops its record (StoreOptions). 24 h, as the
  // IETF Idempotency-Key draft suggests.
  Seconds idempotency_ttl{24 * 3600};
  // Where the model starts from: the newest usable snapshot, then the log after it.
  // Null: the whole log. Not owned; must outlive the writer.
  const ModelSnapshots* snapshots = nullptr;
  // Asked before each batch: an error refuses every command of the batch with it, and
  // nothing is decided (a standby of a replicated log answers "not_leader"). Null: always
  // decide.
  std::function<std::optional<Error>()> gate;
  // How often an idle writer looks for events that others appended to the log (a
  // replicated log's copy follows the writer node), and folds them into its model.
  std::chrono::milliseconds follow_interval{100};
};

struct WriterStats {
  uint64_t batches = 0;
  uint64_t commands = 0;
  uint64_t events = 0;
  uint64_t largest_batch = 0;
  uint64_t failed_batches = 0;
  // Commands per batch.
  eventstore::Histogram batch_size{{1, 4, 16, 64}};
  // Why the writer refuses every command until crmd restarts (see Writer); "" while it
  // works.
  std::string halted;
  // How the model was last loaded (at Open, or after a refused batch): from the snapshot
  // at `loaded_from` (0: none), then `loaded_events` events of the log, in `load_seconds`.
  uint64_t loaded_from = 0;
  uint64_t loaded_events = 0;
  double load_seconds = 0;
  // The last position folded into the model, and the events folded in that other nodes
  // appended (a replicated log).
  uint64_t model_position = 0;
  uint64_t followed_events = 0;
};

// The single writer. When the log fails to write, whether the batch reached the disk is
// unknown (an fsync that failed may still have written, and a retried one proves nothing),
// so the writer halts: the batch and every later command answer 503 unavailable, and only
// a restart, which replays what the log really holds, brings it back. A batch the store
// refused before writing (or that failed while staging) is forgotten by replaying the
// log into the model; if that replay fails too, the writer halts.
class Writer {
 public:
  // Loads the decision model (the newest snapshot, if any, then the log after it) and
  // starts the writer thread. `store`,
  // `clock` and `ids` are not owned and must outlive the writer.
  static Result<std::unique_ptr<Writer>> Open(eventstore::EventStore& store, const Clock& clock,
                                              IdGenerator& ids, WriterOptions options);
  ~Writer();

  // Queues a command. Thread-safe; never blocks on I/O. After Close, `done` gets 503
  // unavailable at once.
  void Submit(WriteRequest request, WriteDone done);

  // Submits and waits for the durable outcome: for the server's own jobs, tools and
  // tests. Blocks; never call it on the writer thread (from a `done` or a listener).
  Result<WriteOutcome> Execute(WriteRequest request);

  // What the gate (WriterOptions::gate) answers now: why this node would refuse a command
  // (not_leader on a standby), or nullopt. For work that must not start where it cannot
  // finish (a password check before a sign-in). Thread-safe.
  std::optional<Error> Refusal() const { return options_.gate ? options_.gate() : std::nullopt; }

  // Called on the writer thread after each batch that appended events, with the new head,
  // before the batch's `done`s. Must not block. Call before the first Submit.
  void AddListener(std::function<void(uint64_t head)> listener);

  WriterStats Stats() const;

  // Finishes the queued commands and stops the thread. Idempotent.
  void Close();

  struct Batch;

 private:
  Writer(eventstore::EventStore& store, const Clock& clock, IdGenerator& ids,
         WriterOptions options);
  Status Replay();
  // Folds what the log holds past the model (another node's commits) into it; when that
  // fails, the writer halts and this returns false.
  bool CatchUp();
  void Halt(const Error& why);
  void Loop();
  void Process(std::vector<std::pair<WriteRequest, WriteDone>>& requests);

  eventstore::EventStore& store_;
  const Clock& clock_;
  IdGenerator& ids_;
  WriterOptions options_;

  std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::deque<std::pair<WriteRequest, WriteDone>> queue_;
  bool closing_ = false;
  std::thread thread_;

  // The writer thread's own (and Open's, before the thread starts).
  domain::Model model_;
  uint64_t folded_ = 0;  // the log's position the model is at
  Time last_at_{};
  std::optional<Error> halted_;
  std::vector<std::function<void(uint64_t)>> listeners_;

  mutable std::mutex stats_mu_;
  WriterStats stats_;
};

}  // namespace crm::writer

#endif  // CRM_WRITER_WRITER_H_
