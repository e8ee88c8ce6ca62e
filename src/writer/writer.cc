#include "writer/writer.h"

#include <pthread.h>
#include <algorithm>
#include <chrono>
#include <future>
#include <memory>
#include <stdexcept>
#include <unordered_map>

namespace crm::writer {

namespace d = crm::domain;
using eventstore::Index;

namespace {

std::string IndexKey(std::string_view scope, std::string_view key) {
  std::string k(scope);
  k.push_back('\0');
  k.append(key);
  return k;
}

Error VersionConflict(const std::string& stream, uint64_t expected, uint64_t actual) {
  return MakeError(
      ErrorKind::kPrecondition, "version_conflict",
      stream + " is at version " + std::to_string(actual) + ", not " + std::to_string(expected));
}

}  // namespace

// A batch in the making: what it will append, and the log as its decisions see it (the
// stored streams and indexes, plus what earlier commands of the batch staged).
struct Writer::Batch final : IndexEdit {
  Batch(const eventstore::EventStore& store_in, Time now, uint64_t head)
      : store(store_in), next_position(head + 1) {
    append.at = now;
  }

  // A stream's version as the batch sees it. A failed read is remembered in read_error:
  // decisions made on it cannot be trusted.
  uint64_t StreamVersion(const std::string& stream) {
    auto it = versions.find(stream);
    if (it != versions.end()) return it->second;
    auto stored = store.StreamVersion(stream);
    if (!stored.ok()) {
      read_error = stored.error();
      return 0;
    }
    versions.emplace(stream, *stored);
    return *stored;
  }

  // An index entry as the batch sees it: staged (nullopt value: removed), else stored.
  std::optional<std::string> Read(Index index, std::string_view scope, std::string_view key) {
    auto& staged = index == Index::kUnique ? unique : idempotency;
    if (auto it = staged.find(IndexKey(scope, key)); it != staged.end()) return it->second;
    auto stored = store.ReadIndex(index, scope, key);
    if (!stored.ok()) {
      read_error = stored.error();
      return std::nullopt;
    }
    return std::move(stored).value();
  }

  void Write(Index index, std::string scope, std::string key, std::optional<std::string> value) {
    auto& staged = index == Index::kUnique ? unique : idempotency;
    staged[IndexKey(scope, key)] = value;
    append.index.push_back({index, std::move(scope), std::move(key), std::move(value)});
  }

  // IndexEdit, for a request's own index entries: the unique index, reserved scopes only.
  std::optional<std::string> Get(std::string_view scope, std::string_view key) override {
    auto value = Read(Index::kUnique, scope, key);
    if (read_error) throw std::runtime_error("the index could not be read: " + read_error->detail);
    return value;
  }
  void Put(std::string scope, std::string key, std::string value) override {
    Reserved(scope);
    Write(Index::kUnique, std::move(scope), std::move(key), std::move(value));
  }
  void Delete(std::string scope, std::string key) override {
    Reserved(scope);
    Write(Index::kUnique, std::move(scope), std::move(key), std::nullopt);
  }
  static void Reserved(std::string_view scope) {
    if (scope.empty() || scope[0] != '$') {
      throw std::logic_error("a request may write only the reserved index scopes, not '" +
                             std::string(scope) + "'");
    }
  }

  const eventstore::EventStore& store;
  eventstore::AppendBatch append;
  uint64_t next_position;
  std::unordered_map<std::string, uint64_t> versions;
  std::unordered_map<std::string, std::optional<std::string>> unique;
  std::unordered_map<std::string, std::optional<std::string>> idempotency;
  std::optional<Error> read_error;
};

Writer::Writer(eventstore::EventStore& store, const Clock& clock, IdGenerator& ids,
               WriterOptions options)
    : store_(store),
      clock_(clock),
      ids_(ids),
      options_(std::move(options)),
      model_(options_.utc_offset) {
  if (!options_.normalize_name)
    options_.normalize_name = [](std::string_view s) { return std::string(s); };
  if (!options_.log) options_.log = [](std::string_view) {};
}

Writer::~Writer() { Close(); }

Result<std::unique_ptr<Writer>> Writer::Open(eventstore::EventStore& store, const Clock& clock,
                                             IdGenerator& ids, WriterOptions options) {
  std::unique_ptr<Writer> w(new Writer(store, clock, ids, std::move(options)));
  CRM_RETURN_IF_ERROR(w->Replay());
  w->thread_ = std::thread([p = w.get()] {
    pthread_setname_np(pthread_self(), "crm-writer");  // for top, perf and gdb
    p->Loop();
  });
  return w;
}

Status Writer::Replay() {
  const auto started = std::chrono::steady_clock::now();
  model_ = d::Model(options_.utc_offset);  // the old one's memory goes before a new one loads
  ModelAt m = options_.snapshots ? options_.snapshots->Newest() : ModelAt(options_.utc_offset);
  const uint64_t from = m.position;
  CRM_RETURN_IF_ERROR(FoldLog(store_, m, store_.Head()));
  model_ = std::move(m.model);
  folded_ = m.position;
  last_at_ = m.at;
  std::lock_guard<std::mutex> lock(stats_mu_);
  stats_.model_position = folded_;
  stats_.loaded_from = from;
  stats_.loaded_events = m.position - from;
  stats_.load_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return Status::Ok();
}

void Writer::Submit(WriteRequest request, WriteDone done) {
  {
    std::lock_guard<std::mutex> lock(queue_mu_);
    if (!closing_) {
      queue_.emplace_back(std::move(request), std::move(done));
      queue_cv_.notify_one();
      return;
    }
  }
  done(Unavailable("the writer is closed"));
}

Result<WriteOutcome> Writer::Execute(WriteRequest request) {
  auto promise = std::make_shared<std::promise<Result<WriteOutcome>>>();
  auto outcome = promise->get_future();
  Submit(std::move(request),
         [promise](Result<WriteOutcome> r) { promise->set_value(std::move(r)); });
  return outcome.get();
}

void Writer::AddListener(std::function<void(uint64_t)> listener) {
  std::lock_guard<std::mutex> lock(stats_mu_);
  listeners_.push_back(std::move(listener));
}

WriterStats Writer::Stats() const {
  std::lock_guard<std::mutex> lock(stats_mu_);
  return stats_;
}

void Writer::Close() {
  {
    std::lock_guard<std::mutex> lock(queue_mu_);
    if (closing_) return;
    closing_ = true;
    queue_cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
}

bool Writer::CatchUp() {
  if (store_.Head() <= folded_) return true;
  ModelAt m(options_.utc_offset);
  m.model = std::move(model_);
  m.position = folded_;
  m.at = last_at_;
  Status folded = FoldLog(store_, m, store_.Head());
  uint64_t added = m.position - folded_;
  model_ = std::move(m.model);
  folded_ = m.position;
  last_at_ = std::max(last_at_, m.at);
  {
    std::lock_guard<std::mutex> lock(stats_mu_);
    stats_.model_position = folded_;
    stats_.followed_events += added;
  }
  if (!folded.ok()) {
    Halt(Unavailable("the decision model could not follow the log: " + folded.error().detail));
    return false;
  }
  return true;
}

void Writer::Loop() {
  for (;;) {
    std::vector<std::pair<WriteRequest, WriteDone>> batch;
    {
      std::unique_lock<std::mutex> lock(queue_mu_);
      bool woken = queue_cv_.wait_for(lock, options_.follow_interval,
                                      [&] { return !queue_.empty() || closing_; });
      if (!woken) {
        // Idle: keep the model as current as the log, so deciding starts at once.
        lock.unlock();
        if (!halted_) CatchUp();
        continue;
      }
      if (queue_.empty()) return;  // closing, and everything queued is done
      while (!queue_.empty() && batch.size() < options_.max_batch) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    Process(batch);
  }
}

namespace {

// Decides and stages one command into `b`. Runs on the writer thread.
Result<WriteOutcome> Stage(const WriteRequest& req, d::Model& model, Writer::Batch& b,
                           IdGenerator& ids, const WriterOptions& options) {
  const Time now = b.append.at;
  b.read_error.reset();              // an earlier command's failed read is that command's
  std::optional<std::string> scope;  // of the idempotency key: the caller
  if (req.idempotency_key) {
    if (req.request_hash.size() != 32) {
      return Internal("an Idempotency-Key needs the SHA-256 of its request");
    }
    scope = req.actor;
    auto stored = b.Read(Index::kIdempotency, *scope, *req.idempotency_key);
    if (b.read_error) return *b.read_error;
    // A record past its lifetime is forgotten here, whether or not compaction dropped it.
    if (stored && CommandRecordExpired(*stored, now, options.idempotency_ttl)) stored.reset();
    if (stored) {
      CRM_ASSIGN_OR_RETURN(CommandRecord record, DecodeCommandRecord(*stored));
      if (record.request_hash != req.request_hash) {
        return RuleRefused("idempotency_key_reused",
                           "this Idempotency-Key was used for a different request");
      }
      return WriteOutcome{std::move(record.result), true};
    }
  }

  d::Context ctx{req.actor, now, options.normalize_name};
  Result<d::Decision> decided = d::Decision{};  // an index-only request decides nothing
  try {
    if (req.command) decided = d::Decide(model, *req.command, ctx);
  } catch (const std::exception& e) {
    decided = Internal(std::string("the decision failed: ") + e.what());
  }
  if (!decided.ok()) return std::move(decided).error();
  d::Decision& decision = *decided;

  // Check everything before staging anything: all or nothing.
  if (req.expected_version) {
    const auto& [stream, expected] = *req.expected_version;
    uint64_t actual = b.StreamVersion(stream);
    if (!b.read_error && actual != expected) return VersionConflict(stream, expected, actual);
  }
  for (const auto& ne : decision.events)
    b.StreamVersion(ne.stream);  // read now: a failed read refuses
  if (!decision.primary.empty()) b.StreamVersion(decision.primary);  // for the answer
  for (const auto& k : decision.unique_keys) {
    if (k.release || !k.exclusive) continue;
    auto holder = b.Read(Index::kUnique, k.scope, k.key);
    if (holder && *holder != k.owner) {
      Error e = MakeError(ErrorKind::kConflict, d::DuplicateCode(k.scope),
                          "'" + k.key + "' is already taken");
      if (d::ClashNamesTheHolder(k.scope)) e.existing_id = *holder;
      return e;
    }
  }
  if (b.read_error) return *b.read_error;

  // Stage: the events, the model after each, the unique keys.
  std::string command_id = ids.New("cmd");
  std::string correlation = req.correlation_id.empty() ? command_id : req.correlation_id;
  CommandResult result;
  result.primary = decision.primary;
  result.created = decision.created;
  result.at = now;
  result.first_position = decision.events.empty() ? 0 : b.next_position;
  std::unordered_map<std::string, size_t> written;  // stream → its entry in result.versions
  for (auto& ne : decision.events) {
    uint64_t version = ++b.versions[ne.stream];
    auto [at, fresh] = written.emplace(ne.stream, result.versions.size());
    if (fresh)
      result.versions.emplace_back(ne.stream, version);
    else
      result.versions[at->second].second = version;
    uint64_t position = b.next_position++;
    d::Evolve(model, d::EventMeta{ne.stream, version, position, now, req.actor}, ne.event);
    b.append.events.push_back(
        {ne.stream, version, req.actor, command_id, correlation, std::move(ne.event)});
  }
  for (auto& k : decision.unique_keys) {
    b.Write(Index::kUnique, std::move(k.scope), std::move(k.key),
            k.release ? std::nullopt : std::optional<std::string>(k.owner));
  }
  result.last_position = b.next_position - 1;
  result.primary_version =
      result.primary.empty() ? 0 : b.StreamVersion(result.primary);  // read or staged above
  result.outcome = std::move(decision.outcome);
  // Throws (and so abandons the batch) when it reads a broken index or writes a domain
  // scope.
  if (req.index) req.index(b);
  if (scope) {
    b.Write(Index::kIdempotency, *scope, *req.idempotency_key,
            EncodeCommandRecord(req.request_hash, result));
  }
  return WriteOutcome{std::move(result), false};
}

}  // namespace

void Writer::Halt(const Error& why) {
  options_.log("the writer halts and refuses every command until crmd restarts: " + why.detail);
  halted_ = Unavailable("commands are refused until crmd restarts (" + why.detail +
                        "); nothing was written");
  std::lock_guard<std::mutex> lock(stats_mu_);
  stats_.halted = why.detail;
}

void Writer::Process(std::vector<std::pair<WriteRequest, WriteDone>>& requests) {
  if (halted_) {
    for (auto& [req, done] : requests) done(*halted_);
    return;
  }
  if (options_.gate) {
    if (std::optional<Error> refused = options_.gate()) {
      for (auto& [req, done] : requests) done(*refused);
      return;
    }
  }
  if (!CatchUp()) {
    for (auto& [req, done] : requests) done(*halted_);
    return;
  }
  // One time for the whole batch, never earlier than the log's last event.
  Time now = std::max(clock_.Now(), last_at_);
  const uint64_t head = folded_;
  Batch b(store_, now, head);
  b.append.after = head;
  std::vector<Result<WriteOutcome>> outcomes;
  outcomes.reserve(requests.size());
  std::optional<Error> abandon;
  std::optional<Error> halt;  // set when the batch may have reached the log after all
  try {
    for (auto& [req, done] : requests) outcomes.push_back(Stage(req, model_, b, ids_, options_));
  } catch (const std::exception& e) {
    // Staging stopped half way through a command (out of memory, a bug): nothing of the
    // batch may be written, and nothing of it stored under an idempotency key.
    abandon = Internal(std::string("staging failed: ") + e.what());
  }

  size_t appended = b.append.events.size();
  if (!abandon && (appended > 0 || !b.append.index.empty())) {
    auto written = store_.Append(b.append);
    if (!written.ok()) {
      const Error& e = written.error();
      if (e.kind == ErrorKind::kUnavailable) {
        halt = Unavailable("the log could not be written: " + e.detail);
        abandon = Unavailable("the log could not be written (" + e.detail +
                              "); whether this command took effect shows once crmd has "
                              "restarted: retry it then, with the same Idempotency-Key");
      } else {
        abandon = Unavailable("the log refused the batch, nothing was written: " + e.detail);
      }
    } else {
      folded_ = head + appended;
      if (appended > 0) last_at_ = now;
    }
  }
  bool failed = abandon.has_value();
  if (failed) {
    // Every answer in the batch says it failed, refusals included (they may rest on
    // staged state); the model forgets what was staged, or the writer halts.
    outcomes.assign(requests.size(), *abandon);
    if (halt) {
      Halt(*halt);
    } else if (Status reloaded = Replay(); !reloaded.ok()) {
      Halt(Unavailable("the decision model could not be reloaded from the log: " +
                       reloaded.error().detail));
    }
  }
  std::vector<std::function<void(uint64_t)>> listeners;
  {
    std::lock_guard<std::mutex> lock(stats_mu_);
    ++stats_.batches;
    stats_.commands += requests.size();
    if (!failed) stats_.events += appended;
    stats_.largest_batch = std::max<uint64_t>(stats_.largest_batch, requests.size());
    stats_.batch_size.Observe(requests.size());
    if (failed) ++stats_.failed_batches;
    stats_.model_position = folded_;
    if (!failed && appended > 0) listeners = listeners_;
  }
  // Listeners (projections, live feeds) first, so that they are already at work when the
  // answers go out.
  for (auto& l : listeners) l(head + appended);
  for (size_t i = 0; i < requests.size(); ++i) requests[i].second(std::move(outcomes[i]));
}

}  // namespace crm::writer
