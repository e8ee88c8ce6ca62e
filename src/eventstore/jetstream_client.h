// A small C++ face of the NATS C client (nats.c 3.4, Debian's libnats-dev) for what the
// replicated log needs of JetStream (NATS 2.9): one connection to a cluster, a stream,
// publishing with an expected last sequence and a message id, reading by sequence, and
// following a stream in order from a sequence.
//
// Why these calls (measured on Debian's nats-server 2.9.10, see docs/scale-out.md):
//  - the stream-wide expected last sequence is the only compare-and-set that holds on a
//    replicated (R3) stream in 2.9.10 (per-subject sequences and KV updates can let two
//    writers win: nats-server#4320, fixed in 2.9.21);
//  - a message id the stream has seen within its duplicate window is acknowledged as a
//    duplicate with its first sequence, even when the expected last sequence is stale by
//    then, so a publish retried after a lost acknowledgement is never stored twice;
//  - an ordered push consumer is the fastest way to follow a stream (200k messages/s
//    here) and the client recreates it by itself after a server fails.
#ifndef CRM_EVENTSTORE_JETSTREAM_CLIENT_H_
#define CRM_EVENTSTORE_JETSTREAM_CLIENT_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/result.h"

namespace crm::eventstore {

class JetStreamClient {
 public:
  struct Options {
    std::vector<std::string> servers;  // "nats://127.0.0.1:4222", tried in order
    std::string name;                  // the connection's name, as servers show it
    // How long a publish waits for its acknowledgement, and an API call for its answer.
    std::chrono::milliseconds wait{5000};
  };
  // Connects to the first server that answers and keeps reconnecting for ever after.
  static Result<std::unique_ptr<JetStreamClient>> Connect(const Options& options);
  ~JetStreamClient();
  JetStreamClient(const JetStreamClient&) = delete;
  JetStreamClient& operator=(const JetStreamClient&) = delete;

  struct StreamConfig {
    std::string name;     // "evcrm"
    std::string subject;  // "evcrm.log"
    int replicas = 1;     // 3 on a cluster
    int32_t max_message = 8 << 20;
    std::chrono::seconds duplicates{120};  // the message-id window
    int64_t max_messages = -1;  // when positive, the oldest go beyond it (a lease's history)
    // How long to keep asking while the cluster cannot answer (it elects its leader).
    std::chrono::seconds patience{30};
  };
  // Creates the stream, or finds it as configured (an API call the servers retry while
  // a cluster elects its leaders). kInternal when it exists with another configuration.
  Status EnsureStream(const StreamConfig& config);

  struct StreamState {
    uint64_t first_sequence = 0;
    uint64_t last_sequence = 0;
    uint64_t messages = 0;
    std::string leader;  // the server leading the stream ("" on a single server)
  };
  Result<StreamState> State(const std::string& stream);

  struct Ack {
    uint64_t sequence = 0;
    bool duplicate = false;  // the message id was stored before, at `sequence`
  };
  // Publishes `data` on `subject` with the headers Nats-Msg-Id and
  // Nats-Expected-Last-Sequence. kPrecondition "wrong_last_sequence" when the stream's
  // last sequence is no longer `expected_last` (another writer published): nothing was
  // stored; kPrecondition "stream_refused" when the stream answered with another refusal
  // (nothing stored either). kUnavailable when no answer came (no quorum, no server,
  // timeout): it may or may not have been stored, and only the stream can tell.
  Result<Ack> Publish(const std::string& subject, std::string_view data, const std::string& msg_id,
                      uint64_t expected_last);

  // The largest message the connected server takes (its max_payload).
  int64_t MaxPayload() const;

  // The message at `sequence`; kNotFound when there is none.
  Result<std::string> Get(const std::string& stream, uint64_t sequence);

  // Follows a stream in order from a sequence.
  class Follower {
   public:
    virtual ~Follower() = default;
    struct Message {
      uint64_t sequence = 0;
      std::string data;
      uint64_t pending = 0;  // messages of the stream after this one, when it was sent
    };
    // The next message within `timeout`, nullopt when none came. kInternal when the
    // stream skipped a sequence (its start was purged): a follower must not go on.
    virtual Result<std::optional<Message>> Next(std::chrono::milliseconds timeout) = 0;
  };
  Result<std::unique_ptr<Follower>> Follow(const std::string& stream, const std::string& subject,
                                           uint64_t from_sequence);

 private:
  Status TryEnsureStream(const StreamConfig& config);
  struct Impl;
  explicit JetStreamClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace crm::eventstore

#endif  // CRM_EVENTSTORE_JETSTREAM_CLIENT_H_
