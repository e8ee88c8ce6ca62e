#include "eventstore/jetstream_client.h"

#include <nats/nats.h>

#include <algorithm>
#include <cstring>
#include <thread>

namespace crm::eventstore {
namespace {

// What the client said, for an error's detail: the status's text and the library's last
// error on this thread, which is more precise ("wrong last sequence: 12").
std::string Describe(natsStatus s, std::string_view what) {
  std::string detail = std::string(what) + ": " + natsStatus_GetText(s);
  natsStatus last = NATS_OK;
  if (const char* text = nats_GetLastError(&last); text && *text && last == s) {
    detail += std::string(" (") + text + ")";
  }
  return detail;
}

// What the library refuses as invalid is refused again on every try: not "unavailable",
// which callers retry.
Error Failed(natsStatus s, std::string_view what) {
  if (s == NATS_INVALID_ARG) return Internal(Describe(s, what));
  return Unavailable(Describe(s, what));
}

template <class T, void (*Destroy)(T*)>
struct Deleter {
  void operator()(T* p) const {
    if (p) Destroy(p);
  }
};
using MsgPtr = std::unique_ptr<natsMsg, Deleter<natsMsg, natsMsg_Destroy>>;
using AckPtr = std::unique_ptr<jsPubAck, Deleter<jsPubAck, jsPubAck_Destroy>>;
using InfoPtr = std::unique_ptr<jsStreamInfo, Deleter<jsStreamInfo, jsStreamInfo_Destroy>>;
using MetaPtr = std::unique_ptr<jsMsgMetaData, Deleter<jsMsgMetaData, jsMsgMetaData_Destroy>>;
using SubPtr =
    std::unique_ptr<natsSubscription, Deleter<natsSubscription, natsSubscription_Destroy>>;

}  // namespace

struct JetStreamClient::Impl {
  natsConnection* nc = nullptr;
  jsCtx* js = nullptr;
  std::chrono::milliseconds wait{5000};

  ~Impl() {
    if (js) jsCtx_Destroy(js);
    if (nc) {
      natsConnection_Close(nc);
      natsConnection_Destroy(nc);
    }
  }
};

JetStreamClient::JetStreamClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
JetStreamClient::~JetStreamClient() = default;

Result<std::unique_ptr<JetStreamClient>> JetStreamClient::Connect(const Options& options) {
  if (options.servers.empty()) return InvalidField("nats", "names no server");
  natsOptions* raw = nullptr;
  if (natsStatus s = natsOptions_Create(&raw); s != NATS_OK) return Failed(s, "NATS options");
  std::unique_ptr<natsOptions, Deleter<natsOptions, natsOptions_Destroy>> opts(raw);
  std::vector<const char*> servers;
  for (const auto& url : options.servers) servers.push_back(url.c_str());
  natsStatus s =
      natsOptions_SetServers(opts.get(), servers.data(), static_cast<int>(servers.size()));
  if (s == NATS_OK) s = natsOptions_SetNoRandomize(opts.get(), true);
  // A node keeps trying for ever: its standby role waits for the cluster to come back.
  if (s == NATS_OK) s = natsOptions_SetMaxReconnect(opts.get(), -1);
  if (s == NATS_OK) s = natsOptions_SetReconnectWait(opts.get(), 200);
  if (s == NATS_OK) s = natsOptions_SetTimeout(opts.get(), options.wait.count());
  if (s == NATS_OK && !options.name.empty())
    s = natsOptions_SetName(opts.get(), options.name.c_str());
  if (s != NATS_OK) return Failed(s, "NATS options");
  auto impl = std::make_unique<Impl>();
  impl->wait = options.wait;
  if (s = natsConnection_Connect(&impl->nc, opts.get()); s != NATS_OK) {
    return Failed(s, "connecting to NATS");
  }
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.Wait = options.wait.count();
  if (s = natsConnection_JetStream(&impl->js, impl->nc, &jo); s != NATS_OK) {
    return Failed(s, "JetStream");
  }
  return std::unique_ptr<JetStreamClient>(new JetStreamClient(std::move(impl)));
}

Status JetStreamClient::EnsureStream(const StreamConfig& config) {
  // A cluster that has just formed, or lost a server, answers only once it has elected its
  // JetStream leader: asked again until then.
  const auto give_up = std::chrono::steady_clock::now() + config.patience;
  for (;;) {
    Status s = TryEnsureStream(config);
    if (s.ok() || s.error().kind != ErrorKind::kUnavailable ||
        std::chrono::steady_clock::now() >= give_up) {
      return s;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
}

Status JetStreamClient::TryEnsureStream(const StreamConfig& config) {
  jsStreamConfig cfg;
  jsStreamConfig_Init(&cfg);
  const char* subjects[] = {config.subject.c_str()};
  cfg.Name = config.name.c_str();
  cfg.Subjects = subjects;
  cfg.SubjectsLen = 1;
  cfg.Storage = js_FileStorage;
  cfg.Replicas = config.replicas;
  cfg.MaxMsgSize = config.max_message;
  cfg.Duplicates = std::chrono::duration_cast<std::chrono::nanoseconds>(config.duplicates).count();
  cfg.DenyDelete = true;  // a log: nothing is taken out of it
  cfg.DenyPurge = true;
  if (config.max_messages > 0) cfg.MaxMsgs = config.max_messages;
  jsStreamInfo* raw = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s = js_AddStream(&raw, impl_->js, &cfg, nullptr, &code);
  InfoPtr info(raw);
  if (s == NATS_OK) return Status::Ok();
  if (code == JSStreamNameExistErr) {
    return Internal("the stream " + config.name +
                    " exists with another configuration (subjects, replicas or limits)");
  }
  return Failed(s, "creating the stream " + config.name);
}

Result<JetStreamClient::StreamState> JetStreamClient::State(const std::string& stream) {
  jsStreamInfo* raw = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s = js_GetStreamInfo(&raw, impl_->js, stream.c_str(), nullptr, &code);
  InfoPtr info(raw);
  if (s != NATS_OK) return Failed(s, "the state of the stream " + stream);
  StreamState state;
  state.first_sequence = info->State.FirstSeq;
  state.last_sequence = info->State.LastSeq;
  state.messages = info->State.Msgs;
  if (info->Cluster && info->Cluster->Leader) state.leader = info->Cluster->Leader;
  return state;
}

Result<JetStreamClient::Ack> JetStreamClient::Publish(const std::string& subject,
                                                      std::string_view data,
                                                      const std::string& msg_id,
                                                      uint64_t expected_last) {
  natsMsg* raw = nullptr;
  natsStatus s =
      natsMsg_Create(&raw, subject.c_str(), nullptr, data.data(), static_cast<int>(data.size()));
  MsgPtr msg(raw);
  if (s != NATS_OK) return Failed(s, "a NATS message");
  // Set as headers (not jsPubOptions) because the library sends an expected last
  // sequence of 0 as "none", and 0 is what the first commit expects.
  std::string last = std::to_string(expected_last);
  s = natsMsgHeader_Set(msg.get(), "Nats-Msg-Id", msg_id.c_str());
  if (s == NATS_OK) s = natsMsgHeader_Set(msg.get(), "Nats-Expected-Last-Sequence", last.c_str());
  if (s != NATS_OK) return Failed(s, "a NATS message's headers");
  jsPubOptions po;
  jsPubOptions_Init(&po);
  po.MaxWait = impl_->wait.count();
  jsPubAck* ack_raw = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  s = js_PublishMsg(&ack_raw, impl_->js, msg.get(), &po, &code);
  AckPtr ack(ack_raw);
  if (s != NATS_OK) {
    if (code == JSStreamWrongLastSequenceErr) {
      return MakeError(ErrorKind::kPrecondition, "wrong_last_sequence",
                       Describe(s, "the stream has moved past " + last));
    }
    if (code != 0) {
      // The stream answered and refused (a limit, a configuration): nothing was stored,
      // and the same message would be refused again.
      return MakeError(ErrorKind::kPrecondition, "stream_refused",
                       Describe(s, "publishing to " + subject) + " (JetStream error " +
                           std::to_string(static_cast<int>(code)) + ")");
    }
    return Failed(s, "publishing to " + subject);
  }
  return Ack{ack->Sequence, ack->Duplicate};
}

int64_t JetStreamClient::MaxPayload() const { return natsConnection_GetMaxPayload(impl_->nc); }

Result<std::string> JetStreamClient::Get(const std::string& stream, uint64_t sequence) {
  natsMsg* raw = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s = js_GetMsg(&raw, impl_->js, stream.c_str(), sequence, nullptr, &code);
  MsgPtr msg(raw);
  if (s == NATS_NOT_FOUND || code == JSNoMessageFoundErr) {
    return NotFound("no message " + std::to_string(sequence) + " in " + stream);
  }
  if (s != NATS_OK) return Failed(s, "reading " + stream + " at " + std::to_string(sequence));
  return std::string(natsMsg_GetData(msg.get()),
                     static_cast<size_t>(natsMsg_GetDataLength(msg.get())));
}

namespace {

class OrderedFollower final : public JetStreamClient::Follower {
 public:
  OrderedFollower(SubPtr sub, uint64_t next) : sub_(std::move(sub)), next_(next) {}

  Result<std::optional<Message>> Next(std::chrono::milliseconds timeout) override {
    natsMsg* raw = nullptr;
    natsStatus s = natsSubscription_NextMsg(&raw, sub_.get(), timeout.count());
    MsgPtr msg(raw);
    if (s == NATS_TIMEOUT) return std::optional<Message>();
    if (s != NATS_OK) return Failed(s, "following the stream");
    jsMsgMetaData* meta_raw = nullptr;
    s = natsMsg_GetMetaData(&meta_raw, msg.get());
    MetaPtr meta(meta_raw);
    if (s != NATS_OK) return Failed(s, "a followed message's metadata");
    uint64_t sequence = meta->Sequence.Stream;
    // The consumer starts at the stream's first sequence when asked for an earlier one
    // (the stream was purged): a gap that no follower may paper over.
    if (sequence != next_) {
      return Internal("the stream skipped from " + std::to_string(next_) + " to " +
                      std::to_string(sequence));
    }
    ++next_;
    return std::optional<Message>(
        Message{sequence,
                std::string(natsMsg_GetData(msg.get()),
                            static_cast<size_t>(natsMsg_GetDataLength(msg.get()))),
                meta->NumPending});
  }

 private:
  SubPtr sub_;
  uint64_t next_;
};

}  // namespace

Result<std::unique_ptr<JetStreamClient::Follower>> JetStreamClient::Follow(
    const std::string& stream, const std::string& subject, uint64_t from_sequence) {
  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Stream = stream.c_str();
  so.Ordered = true;
  so.Config.DeliverPolicy = js_DeliverByStartSequence;
  so.Config.OptStartSeq = std::max<uint64_t>(from_sequence, 1);
  so.Config.Heartbeat = std::chrono::nanoseconds(std::chrono::seconds(1)).count();
  natsSubscription* raw = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s = js_SubscribeSync(&raw, impl_->js, subject.c_str(), nullptr, &so, &code);
  SubPtr sub(raw);
  if (s != NATS_OK) return Failed(s, "following " + stream);
  return std::unique_ptr<Follower>(new OrderedFollower(std::move(sub), so.Config.OptStartSeq));
}

}  // namespace crm::eventstore
