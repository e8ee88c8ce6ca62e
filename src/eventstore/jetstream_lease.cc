#include "eventstore/jetstream_lease.h"

#include <pthread.h>

#include <cstdio>
#include <cstdlib>
#include <random>
#include <sstream>

#include "eventstore/jetstream_client.h"

namespace crm::eventstore {
namespace {

using Clock = std::chrono::steady_clock;

// A claim as the lease stream carries it: "key=value" lines.
struct LeaseClaim {
  std::string node;
  std::string url;
  std::string boot;  // which process of the node
  uint64_t term = 0;
  bool released = false;
};

LeaseClaim ParseClaim(const std::string& text) {
  LeaseClaim c;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string key = line.substr(0, eq), value = line.substr(eq + 1);
    if (key == "node") c.node = value;
    if (key == "url") c.url = value;
    if (key == "boot") c.boot = value;
    if (key == "term") c.term = std::strtoull(value.c_str(), nullptr, 10);
    if (key == "released") c.released = value == "1";
  }
  return c;
}

}  // namespace

WriterLease::WriterLease(LeaseOptions options, std::unique_ptr<JetStreamClient> client)
    : options_(std::move(options)),
      stream_(options_.stream + "_writer"),
      subject_(options_.stream + ".writer"),
      client_(std::move(client)) {
  std::random_device random;
  char boot[17];
  std::snprintf(boot, sizeof boot, "%08x%08x", random(), random());
  boot_ = boot;
}

Result<std::unique_ptr<WriterLease>> WriterLease::Start(LeaseOptions options) {
  if (!options.log) options.log = [](std::string_view) {};
  // A renewal must get its answer well within the lease, or count as failed.
  auto wait = std::max(std::chrono::milliseconds(200), options.ttl / 3);
  CRM_ASSIGN_OR_RETURN(
      auto client, JetStreamClient::Connect({options.servers, options.node + " (lease)", wait}));
  JetStreamClient::StreamConfig config;
  config.name = options.stream + "_writer";
  config.subject = options.stream + ".writer";
  config.replicas = options.replicas;
  config.max_message = 4096;
  config.max_messages = 1000;  // the recent claims, for whoever looks
  CRM_RETURN_IF_ERROR(client->EnsureStream(config));
  std::unique_ptr<WriterLease> lease(new WriterLease(std::move(options), std::move(client)));
  lease->seen_since_ = Clock::now();
  lease->thread_ = std::thread([p = lease.get()] {
    pthread_setname_np(pthread_self(), "crm-lease");
    p->Loop();
  });
  return lease;
}

WriterLease::~WriterLease() { Stop(); }

std::string WriterLease::ClaimText(uint64_t term, bool released) const {
  return "node=" + options_.node + "\nurl=" + options_.url + "\nboot=" + boot_ +
         "\nterm=" + std::to_string(term) + "\nttl_ms=" + std::to_string(options_.ttl.count()) +
         "\nreleased=" + (released ? "1" : "0") + "\n";
}

bool WriterLease::IsWriter() const {
  std::lock_guard<std::mutex> lock(mu_);
  return held_ && Clock::now() < held_until_ - options_.ttl / 10;
}

std::optional<WriterLease::Holder> WriterLease::Writer() const {
  if (IsWriter()) {
    std::lock_guard<std::mutex> lock(mu_);
    return Holder{options_.node, options_.url, term_};
  }
  std::lock_guard<std::mutex> lock(mu_);
  return other_;
}

WriterLease::Stats WriterLease::GetStats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

void WriterLease::StepDown(std::string_view why, bool lost) {
  // With mu_ held.
  if (!held_) return;
  held_ = false;
  if (lost) ++stats_.terms_lost;
  options_.log("this node no longer writes (term " + std::to_string(term_) +
               "): " + std::string(why));
}

std::string WriterLease::NextMessageId() { return boot_ + "-" + std::to_string(++published_); }

void WriterLease::Round() {
  auto fail = [&](const Error& e) {
    std::lock_guard<std::mutex> lock(mu_);
    if (held_) {
      ++stats_.renew_failures;
      if (Clock::now() >= held_until_ - options_.ttl / 10) {
        StepDown("the lease could not be renewed within its time (" + e.detail + ")", true);
      }
    }
  };
  auto state = client_->State(stream_);
  if (!state.ok()) return fail(state.error());
  const uint64_t last = state->last_sequence;
  std::optional<LeaseClaim> claim;
  if (last > 0) {
    auto data = client_->Get(stream_, last);
    if (!data.ok()) return fail(data.error());
    claim = ParseClaim(*data);
  }
  // Only now has this node seen the claim: a standby that counted from before it asked
  // could count a renewal stored meanwhile as older than it is.
  const auto now = Clock::now();
  const bool this_process = claim && claim->node == options_.node && claim->boot == boot_;
  bool mine = false;
  uint64_t term = last + 1;  // a claim's term is the sequence it will have if it succeeds
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (last != seen_sequence_) {
      seen_sequence_ = last;
      seen_since_ = now;
    }
    if (held_ && last != my_sequence_) {
      if (this_process && !claim->released) {
        my_sequence_ = last;  // a renewal stored whose answer was lost
      } else {
        StepDown("another node took the lease", true);
      }
    }
    if (!held_) {
      const bool expired = now - seen_since_ >= options_.ttl;
      other_.reset();
      // A claim of this node's name but of an earlier process (a restart) is free to take.
      if (claim && !claim->released && claim->node != options_.node && !expired) {
        other_ = Holder{claim->node, claim->url, claim->term};
        return;  // held by another node, within its time
      }
    }
    mine = held_;
    if (mine) term = term_;
  }
  if (options_.may_lead && !options_.may_lead()) {
    if (mine) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        StepDown("this node may not decide (see /health)", true);  // before the release
      }
      (void)client_->Publish(subject_, ClaimText(term, true), NextMessageId(), last);
    }
    return;
  }
  // A standby follows the log all along; before it claims, its copy reaches the stream's
  // end, so that it decides as soon as it holds the lease.
  if (!mine && options_.catch_up) {
    if (Status s = options_.catch_up(); !s.ok()) {
      options_.log("not taking the writer's lease: " + s.error().detail);
      return;
    }
  }
  const auto sent = Clock::now();
  auto ack = client_->Publish(subject_, ClaimText(term, false), NextMessageId(), last);
  if (!ack.ok()) {
    if (!mine) return;  // another node was quicker, or NATS cannot answer: try next round
    if (ack.error().code == "wrong_last_sequence") {
      std::lock_guard<std::mutex> lock(mu_);
      StepDown("its renewal was refused: another node took the lease", true);
      return;
    }
    return fail(ack.error());
  }
  std::lock_guard<std::mutex> lock(mu_);
  my_sequence_ = seen_sequence_ = ack->sequence;
  seen_since_ = Clock::now();
  held_until_ = sent + options_.ttl;
  if (mine) return;
  held_ = true;
  term_ = ack->sequence;
  other_.reset();
  ++stats_.terms_taken;
  options_.log("this node writes now (term " + std::to_string(term_) + ")");
}

void WriterLease::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    lock.unlock();
    Round();
    lock.lock();
    cv_.wait_for(lock, options_.ttl / 4, [&] { return stopping_; });
  }
}

void WriterLease::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  uint64_t sequence = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!held_) return;
    held_ = false;  // no more deciding from here
    sequence = my_sequence_;
  }
  // Released, so that a standby need not wait for the lease to run out.
  auto released = client_->Publish(subject_, ClaimText(term_, true), NextMessageId(), sequence);
  options_.log(released.ok() ? "released the lease (term " + std::to_string(term_) + ")"
                             : "could not release the lease: " + released.error().detail);
}

}  // namespace crm::eventstore
