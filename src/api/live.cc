#include "api/live.h"

#include <pthread.h>
#include <deque>

#include "api/body.h"
#include "api/event_json.h"
#include "api/handler_util.h"
#include "api/json_text.h"
#include "api/routes.h"
#include "api/views_json.h"

namespace crm::api {

namespace d = crm::domain;
using Steady = std::chrono::steady_clock;

namespace {

constexpr auto kAuthWithin = std::chrono::seconds(5);
// A client whose socket has taken none of the waiting events for this long is closed.
constexpr auto kStalledEvents = std::chrono::seconds(10);
constexpr auto kSweepEvery = std::chrono::seconds(1);
constexpr size_t kEventsPage = 256;       // events read from the log per refill
constexpr size_t kMaxSubscriptions = 32;  // per client
constexpr size_t kMaxControl = 32;        // unanswered replies and errors per client
constexpr size_t kMaxIdLength = 64;       // a customer or department id in a subscription
// Views that change with the clock alone (overdue amounts at a day's start, "this month"
// at a month's) are rebuilt this often even without events.
constexpr auto kClockRefresh = std::chrono::minutes(1);
// Changed views are built at most this often: changes that come closer together are
// shown by one view. A change after a quiet spell is built at once; under a steady
// stream of commands a subscriber waits at most this long more, and the hub's work (a
// view per scope, a message per subscriber) stops growing with the command rate.
constexpr auto kViewEvery = std::chrono::milliseconds(20);

// Close codes (RFC 6455 §7.4.1).
constexpr uint16_t kGoingAway = 1001;
constexpr uint16_t kPolicyViolation = 1008;
constexpr uint16_t kInternalError = 1011;
constexpr uint16_t kTryAgainLater = 1013;

using Message = std::shared_ptr<const std::string>;

Message Text(const json& j) { return std::make_shared<const std::string>(JsonText(j)); }

Message ErrorMessage(const std::string& code, const std::string& detail,
                     const std::string& topic = "") {
  json j = {{"type", "error"}, {"code", code}, {"detail", detail}};
  if (!topic.empty()) j["topic"] = topic;
  return Text(j);
}

// The people a dashboard subscription sums, as a key: subscribers with equal keys see
// equal dashboards, so one build serves them all.
std::string DashboardKey(const d::Viewer& v, const std::string& period,
                         const std::string& department) {
  std::string scope;
  switch (v.role) {
    case d::Role::kSales:
      scope = "sales:" + v.id;
      break;
    case d::Role::kManager:
      scope = v.department_id ? "dept:" + *v.department_id : "self:" + v.id;
      break;
    default:
      scope = "all";
  }
  return "dashboard|" + scope + "|" + period + "|" + department;
}

std::optional<std::string> OptString(const json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end() || it->is_null() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

}  // namespace

struct LiveHub::Client : std::enable_shared_from_this<LiveHub::Client> {
  struct Sub {
    std::string topic;  // "dashboard", "pool", "customer"
    std::string key;    // the scope whose view it shows
    std::string period, department_id, customer_id;
    bool wants_snapshot = true;
  };

  LiveHub* hub = nullptr;
  // The socket owns the client (through its handler); the client only points back.
  std::weak_ptr<WebSocket> ws;
  Steady::time_point opened = Steady::now();

  std::mutex mu;
  std::string token;
  std::optional<d::Viewer> viewer;
  std::map<std::string, Sub> subs;  // by "dashboard", "pool", "customer:<id>"
  std::deque<Message> control;
  // The newest view per subscription, not yet written.
  struct Pending {
    Message message;
    bool snapshot = false;
  };
  std::map<std::string, Pending> pending;
  std::deque<Message> events;  // at most one page of the events feed
  bool events_on = false;
  uint64_t events_next = 0;            // the next position to read
  bool refilling = false;              // the hub is reading the next page
  Steady::time_point events_progress;  // the last time the feed's socket took something
  bool writing = false;
  bool closed = false;

  void Close(uint16_t code, const std::string& reason) {
    {
      std::lock_guard<std::mutex> lock(mu);
      if (closed) return;
      closed = true;
    }
    if (auto socket = ws.lock()) socket->Close(code, reason);
  }

  void Enqueue(std::deque<Message>& queue, Message m) {
    hub->queued_bytes_ += m->size();
    queue.push_back(std::move(m));
  }
  // With `mu` held: forgets what waits for the events feed.
  void DropEvents() {
    for (const auto& m : events) hub->queued_bytes_ -= m->size();
    events.clear();
  }
  // With `mu` held: forgets the view waiting for subscription `name`.
  void DropPending(const std::string& name) {
    auto p = pending.find(name);
    if (p == pending.end()) return;
    hub->queued_bytes_ -= p->second.message->size();
    pending.erase(p);
  }

  // Writes the next waiting message unless one is being written.
  void Kick() {
    Message next;
    {
      std::lock_guard<std::mutex> lock(mu);
      if (writing || closed) return;
      if (!control.empty()) {
        next = std::move(control.front());
        control.pop_front();
      } else if (!events.empty()) {
        next = std::move(events.front());
        events.pop_front();
      } else if (!pending.empty()) {
        next = std::move(pending.begin()->second.message);
        pending.erase(pending.begin());
      } else {
        return;
      }
      writing = true;
    }
    size_t bytes = next->size();
    auto socket = ws.lock();
    if (!socket) {
      hub->queued_bytes_ -= bytes;
      std::lock_guard<std::mutex> lock(mu);
      writing = false;
      closed = true;
      return;
    }
    socket->Write(std::move(next), [self = shared_from_this(), bytes](bool ok) {
      self->hub->queued_bytes_ -= bytes;
      ++self->hub->messages_sent_;
      bool refill = false;
      {
        std::lock_guard<std::mutex> lock(self->mu);
        self->writing = false;
        if (!ok) self->closed = true;
        self->events_progress = Steady::now();
        refill = self->events_on && self->events.empty() && !self->refilling;
      }
      if (refill) self->hub->Wake(&LiveHub::events_moved_);
      if (ok) self->Kick();
    });
  }

  void Reply(Message m) {
    bool overflow;
    {
      std::lock_guard<std::mutex> lock(mu);
      overflow = control.size() >= kMaxControl;
      if (!overflow) Enqueue(control, std::move(m));
    }
    if (overflow) return Close(kPolicyViolation, "too many replies left unread");
    Kick();
  }

  void OnMessage(const std::string& text);
  void Subscribe(const json& msg);
};

void LiveHub::Client::OnMessage(const std::string& text) {
  auto msg = ParseObject(text);
  if (!msg.ok()) return Reply(ErrorMessage(msg.error().code, msg.error().detail));
  std::string op = OptString(*msg, "op").value_or("");
  bool authenticated;
  {
    std::lock_guard<std::mutex> lock(mu);
    authenticated = viewer.has_value();
  }
  if (op == "auth") {
    if (authenticated) return Reply(ErrorMessage("validation_failed", "already authenticated"));
    std::string t = OptString(*msg, "token").value_or("");
    auto v = Authenticate(hub->s_, "Bearer " + t);
    if (!v.ok()) return Close(kPolicyViolation, "unauthorized");
    {
      std::lock_guard<std::mutex> lock(mu);
      token = t;
      viewer = *v;
    }
    return Reply(Text({{"type", "authenticated"}, {"staff_id", v->id}}));
  }
  if (!authenticated) return Close(kPolicyViolation, "authenticate first: {\"op\": \"auth\"}");
  if (op == "subscribe") return Subscribe(*msg);
  if (op == "unsubscribe") {
    std::string topic = OptString(*msg, "topic").value_or("");
    auto id = OptString(*msg, "id");
    std::lock_guard<std::mutex> lock(mu);
    for (auto it = subs.begin(); it != subs.end();) {
      bool match = it->second.topic == topic && (!id || it->second.customer_id == *id);
      if (match) {
        DropPending(it->first);
        it = subs.erase(it);
      } else {
        ++it;
      }
    }
    if (topic == "events") {
      events_on = false;
      DropEvents();
    }
    return;
  }
  Reply(ErrorMessage("validation_failed", "op must be auth, subscribe or unsubscribe"));
}

void LiveHub::Client::Subscribe(const json& msg) {
  std::string topic = OptString(msg, "topic").value_or("");
  Sub sub;
  sub.topic = topic;
  std::string name = topic;
  d::Viewer v;
  {
    std::lock_guard<std::mutex> lock(mu);
    v = *viewer;
  }
  if (topic == "dashboard") {
    sub.period = OptString(msg, "period").value_or("");
    sub.department_id = OptString(msg, "department_id").value_or("");
    if (sub.department_id.size() > kMaxIdLength) {
      return Reply(ErrorMessage("validation_failed", "department_id is too long", topic));
    }
    if (!sub.period.empty() && !ParsePeriod(sub.period)) {
      return Reply(ErrorMessage("validation_failed", "period must be a month, YYYY-MM", topic));
    }
    sub.key = DashboardKey(v, sub.period, sub.department_id);
  } else if (topic == "pool") {
    sub.key = "pool";
  } else if (topic == "tasks") {
    sub.key = "tasks|" + v.id;  // each person's own list
  } else if (topic == "customer") {
    sub.customer_id = OptString(msg, "id").value_or("");
    if (sub.customer_id.empty() || sub.customer_id.size() > kMaxIdLength) {
      return Reply(ErrorMessage("validation_failed", "id: the customer to watch", topic));
    }
    sub.key = name = "customer:" + sub.customer_id;
  } else if (topic == "events") {
    if (Status allowed = AuditorOrAdmin(v, "events feeds"); !allowed.ok()) {
      return Reply(ErrorMessage(allowed.error().code, allowed.error().detail, topic));
    }
    uint64_t after = hub->s_.store.Head();
    if (auto it = msg.find("after"); it != msg.end() && !it->is_null()) {
      if (!it->is_number_unsigned() || it->get<uint64_t>() >= (uint64_t{1} << 62)) {
        return Reply(ErrorMessage("validation_failed", "after must be a log position", topic));
      }
      after = it->get<uint64_t>();
    }
    {
      std::lock_guard<std::mutex> lock(mu);
      events_on = true;
      events_next = after + 1;
      events_progress = Steady::now();
      DropEvents();
    }
    hub->AddFeed(shared_from_this());
    hub->Wake(&LiveHub::events_moved_);
    return;
  } else {
    return Reply(ErrorMessage("validation_failed",
                              "topic must be dashboard, pool, tasks, customer or events", topic));
  }
  bool full;
  {
    std::lock_guard<std::mutex> lock(mu);
    full = subs.size() >= kMaxSubscriptions && !subs.count(name);
    if (!full) subs[name] = std::move(sub);
  }
  if (full) {
    return Reply(ErrorMessage("validation_failed",
                              "at most " + std::to_string(kMaxSubscriptions) + " subscriptions",
                              topic));
  }
  hub->Wake(&LiveHub::snapshots_wanted_);
}

LiveHub::LiveHub(const Services& s) : s_(s) {}

LiveHub::~LiveHub() { Stop(); }

void LiveHub::Start() {
  s_.read.runner().OnChange(
      [this](uint64_t position, const projections::Topics& topics) { OnChange(position, topics); });
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "crm-live");  // for top, perf and gdb
    Loop();
  });
}

void LiveHub::Stop() {
  std::vector<std::shared_ptr<Client>> open;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    stopping_ = true;
    for (auto& w : clients_) {
      if (auto c = w.lock()) open.push_back(std::move(c));
    }
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  for (auto& c : open) c->Close(kGoingAway, "the server is stopping");
}

std::vector<std::shared_ptr<LiveHub::Client>> LiveHub::OpenClients() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::shared_ptr<Client>> open;
  for (auto& w : clients_) {
    if (auto c = w.lock()) open.push_back(std::move(c));
  }
  return open;
}

void LiveHub::AddFeed(const std::shared_ptr<Client>& c) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& w : feeds_) {
    if (w.lock() == c) return;
  }
  feeds_.push_back(c);
}

std::vector<std::shared_ptr<LiveHub::Client>> LiveHub::FeedClients() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::shared_ptr<Client>> open;
  std::vector<std::weak_ptr<Client>> alive;
  for (auto& w : feeds_) {
    if (auto c = w.lock()) {
      open.push_back(std::move(c));
      alive.push_back(w);
    }
  }
  feeds_.swap(alive);
  return open;
}

void LiveHub::Wake(bool LiveHub::*flag) {
  std::lock_guard<std::mutex> lock(mu_);
  this->*flag = true;
  cv_.notify_one();
}

void LiveHub::OnChange(uint64_t, const projections::Topics& topics) {
  std::lock_guard<std::mutex> lock(mu_);
  dirty_.insert(topics.begin(), topics.end());
  events_moved_ = true;
  cv_.notify_one();
}

WebSocketHandler LiveHub::Attach(std::shared_ptr<WebSocket> ws, const std::string& authorization) {
  auto c = std::make_shared<Client>();
  c->hub = this;
  c->ws = ws;
  if (!authorization.empty()) {
    auto v = Authenticate(s_, authorization);
    if (v.ok()) {
      c->viewer = *v;
      c->token = authorization.substr(7);
    }
  }
  bool stopping;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping = stopping_;
    if (!stopping) clients_.push_back(c);
  }
  if (stopping) c->Close(kGoingAway, "the server is stopping");
  WebSocketHandler h;
  std::weak_ptr<Client> weak = c;
  // The socket owns the client through its handler; the hub holds it weakly.
  h.on_message = [c](std::string text) { c->OnMessage(text); };
  h.on_closed = [this, weak] {
    if (auto client = weak.lock()) {
      std::lock_guard<std::mutex> lock(client->mu);
      client->closed = true;
      for (const auto& m : client->control) queued_bytes_ -= m->size();
      client->control.clear();
      client->DropEvents();
      while (!client->pending.empty()) client->DropPending(client->pending.begin()->first);
    }
  };
  return h;
}

LiveStats LiveHub::Stats() const {
  LiveStats st;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& w : clients_) {
      if (!w.expired()) ++st.clients;
    }
  }
  st.queued_bytes = queued_bytes_.load();
  st.view_builds = view_builds_.load();
  st.messages_sent = messages_sent_.load();
  st.stalled_closes = stalled_closes_.load();
  return st;
}

void LiveHub::Loop() {
  auto next_sweep = Steady::now() + kSweepEvery;
  auto next_refresh = Steady::now() + kClockRefresh;
  auto next_views = Steady::now();  // changed views may be built from then on
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    for (;;) {
      auto now = Steady::now();
      bool views_due = !dirty_.empty() && now >= next_views;
      if (stopping_ || views_due || snapshots_wanted_ || events_moved_ || now >= next_sweep) break;
      cv_.wait_until(lock, dirty_.empty() ? next_sweep : std::min(next_sweep, next_views));
    }
    if (stopping_) return;
    std::set<std::string> dirty;
    if (Steady::now() >= next_views) {
      dirty.swap(dirty_);
      if (!dirty.empty()) next_views = Steady::now() + kViewEvery;
    }
    bool snapshots = snapshots_wanted_;
    bool events = events_moved_;
    snapshots_wanted_ = events_moved_ = false;
    lock.unlock();
    // Runner topics → the scopes they change.
    std::set<std::string> keys;
    bool org = dirty.count("org") > 0;
    for (const auto& t : dirty) {
      // Every change to leads, customers, deals, tasks or the policy may change someone's
      // tasks.
      if (t == "org" || t == "dashboard" || t == "tasks" || t == "policy") keys.insert("tasks|");
      if (t == "org") {
        // A person's role or department, or a department's place, changed: who sees
        // what follows the org tree, so every scoped view is built again.
        keys.insert({"dashboard|", "customer:", "pool"});
      } else if (t == "dashboard")
        keys.insert("dashboard|");
      else if (t == "pool")
        keys.insert("pool");
      else if (t == "policy")
        keys.insert("customer:");
      else if (t.rfind("customer:", 0) == 0)
        keys.insert(t);
    }
    if (Steady::now() >= next_refresh) {
      keys.insert("dashboard|");
      keys.insert("customer:");
      keys.insert("tasks|");  // what is due changes with the clock
      next_refresh = Steady::now() + kClockRefresh;
    }
    if (org || Steady::now() >= next_sweep) {
      Sweep();
      next_sweep = Steady::now() + kSweepEvery;
    }
    if (!keys.empty() || snapshots) Build(keys, snapshots);
    if (events) {
      for (auto& c : FeedClients()) PumpEvents(*c);
    }
    lock.lock();
  }
}

// Re-checks every client's token and person (revoked, departed: closed with 1008), closes
// those that never authenticated, and those whose events feed stalled (1013).
void LiveHub::Sweep() {
  std::vector<std::shared_ptr<Client>> open;
  {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<std::weak_ptr<Client>> alive;
    for (auto& w : clients_) {
      if (auto c = w.lock()) {
        open.push_back(c);
        alive.push_back(w);
      }
    }
    clients_.swap(alive);
  }
  auto now = Steady::now();
  for (auto& c : open) {
    std::string token;
    bool authenticated, stalled;
    std::optional<d::Viewer> before;
    {
      std::lock_guard<std::mutex> lock(c->mu);
      if (c->closed) continue;
      token = c->token;
      before = c->viewer;
      authenticated = c->viewer.has_value();
      stalled = !c->events.empty() && now - c->events_progress > kStalledEvents;
    }
    if (!authenticated) {
      if (now - c->opened > kAuthWithin) c->Close(kPolicyViolation, "authenticate within 5 s");
      continue;
    }
    if (stalled) {
      // What waits is dropped at once; the close frame follows whatever the socket still
      // holds, so a client that resumes reading learns why (1013) and where to resume.
      {
        std::lock_guard<std::mutex> lock(c->mu);
        c->events_on = false;
        c->DropEvents();
      }
      ++stalled_closes_;
      c->Close(kTryAgainLater, "too slow for the events feed; resume with after");
      continue;
    }
    auto v = Authenticate(s_, "Bearer " + token, /*use=*/false);
    if (!v.ok()) {
      c->Close(kPolicyViolation, "the token was revoked or expired, or its person departed");
      continue;
    }
    if (v->role != before->role || v->department_id != before->department_id) {
      // A new role or department: new dashboard scopes, and fresh snapshots.
      bool feed_lost = false;
      {
        std::lock_guard<std::mutex> lock(c->mu);
        c->viewer = *v;
        for (auto& [name, sub] : c->subs) {
          if (sub.topic == "dashboard") sub.key = DashboardKey(*v, sub.period, sub.department_id);
          sub.wants_snapshot = true;
        }
        if (c->events_on && !AuditorOrAdmin(*v, "events feeds").ok()) {
          c->events_on = false;
          c->DropEvents();
          feed_lost = true;
        }
      }
      if (feed_lost) {
        c->Reply(ErrorMessage("forbidden", "events feeds are for auditors and admins", "events"));
      }
      Wake(&LiveHub::snapshots_wanted_);
    }
  }
}

void LiveHub::Build(const std::set<std::string>& keys, bool all_snapshots) {
  // Who wants which scope: subscriptions of a changed scope, and new ones.
  struct Want {
    std::shared_ptr<Client> client;
    std::string name;
    d::Viewer viewer;
    bool snapshot;
  };
  std::map<std::string, std::vector<Want>> wants;  // every subscriber of every scope
  std::map<std::string, Client::Sub> example;      // one subscription per scope, to build it
  std::set<std::string> to_build;
  {
    for (auto& c : OpenClients()) {
      std::lock_guard<std::mutex> lock(c->mu);
      if (c->closed || !c->viewer) continue;
      for (auto& [name, sub] : c->subs) {
        bool changed = keys.count(sub.key) ||
                       (sub.topic == "dashboard" && keys.count("dashboard|")) ||
                       (sub.topic == "customer" && keys.count("customer:")) ||
                       (sub.topic == "tasks" && keys.count("tasks|"));
        if (changed || (all_snapshots && sub.wants_snapshot)) to_build.insert(sub.key);
        wants[sub.key].push_back({c, name, *c->viewer, sub.wants_snapshot});
        example.try_emplace(sub.key, sub);
      }
    }
  }
  // What nobody watches any more is forgotten.
  for (auto it = last_.begin(); it != last_.end();) {
    it = wants.count(it->first) ? std::next(it) : last_.erase(it);
  }
  // A scope is built for all its subscribers, or for none: the last view sent (last_) is
  // then the one every subscriber of the scope has, or will have, in hand.
  for (auto it = wants.begin(); it != wants.end();) {
    it = to_build.count(it->first) ? std::next(it) : wants.erase(it);
  }
  for (auto& [key, list] : wants) {
    const Client::Sub& sub = example.at(key);
    std::shared_ptr<const std::string> data;
    std::string compare;
    uint64_t position = 0;
    std::optional<Error> error;
    std::string owner;  // a customer's owner, for each subscriber's visibility
    bool exists = true;
    std::vector<bool> visible(list.size(), true);
    {
      ReadView view = s_.read.Read();
      position = view.position();
      Result<json> built = Internal("no view");
      if (sub.topic == "dashboard") {
        built = DashboardFor(
            s_, view, list.front().viewer,
            sub.period.empty() ? std::nullopt : std::optional(sub.period),
            sub.department_id.empty() ? std::nullopt : std::optional(sub.department_id));
      } else if (sub.topic == "pool") {
        built = PoolJson(view, list.front().viewer);
      } else if (sub.topic == "tasks") {
        built = TasksFor(s_, view, list.front().viewer, std::nullopt);
      } else {
        const auto* row = view.customers().FindCustomer(sub.customer_id);
        exists = row != nullptr;
        if (row) {
          built = Customer360Json(*row, view.customers(), view.pool().policy(), Today(s_));
          for (size_t i = 0; i < list.size(); ++i) {
            visible[i] = VisibleTo(view, list[i].viewer)(row->owner_id);
          }
        }
      }
      if (exists && built.ok()) {
        data = std::make_shared<const std::string>(JsonText(*built));
        // What a change is judged by: the view without the position it was read at.
        if (built->is_object() && built->contains("position")) {
          built->erase("position");
          compare = JsonText(*built);
        } else {
          compare = *data;
        }
        ++view_builds_;
      } else if (exists) {
        error = built.error();
      }
    }
    std::string head = "{\"topic\":\"" + sub.topic + "\"";
    if (sub.topic == "customer") head += ",\"id\":" + JsonText(sub.customer_id);
    head += ",\"position\":" + std::to_string(position);
    Message update, snapshot;
    bool changed = false;
    if (data) {
      auto last = last_.find(key);
      changed = last == last_.end() || last->second != compare;
      last_[key] = std::move(compare);
      update = std::make_shared<const std::string>(head + ",\"type\":\"update\",\"data\":" + *data +
                                                   "}");
      snapshot = std::make_shared<const std::string>(
          head + ",\"type\":\"snapshot\",\"data\":" + *data + "}");
    }
    for (size_t i = 0; i < list.size(); ++i) {
      Want& w = list[i];
      if (error) {
        // A scope the caller may not see: say why, once, and drop the subscription.
        {
          std::lock_guard<std::mutex> lock(w.client->mu);
          w.client->subs.erase(w.name);
          w.client->DropPending(w.name);
        }
        w.client->Reply(ErrorMessage(error->code, error->detail, sub.topic));
        continue;
      }
      // A customer that does not exist, or that the caller may not see, yields nothing
      // (and its subscriber still waits for a snapshot first).
      if (!data || !visible[i]) continue;
      if (!w.snapshot && !changed) continue;
      {
        std::lock_guard<std::mutex> lock(w.client->mu);
        auto s = w.client->subs.find(w.name);
        // Gone, or subscribed anew to another scope under the same name meanwhile.
        if (w.client->closed || s == w.client->subs.end() || s->second.key != key) continue;
        auto& slot = w.client->pending[w.name];
        // A snapshot not yet written stays a snapshot, with the newer data.
        slot.snapshot = s->second.wants_snapshot || (slot.message && slot.snapshot);
        s->second.wants_snapshot = false;
        if (slot.message) queued_bytes_ -= slot.message->size();
        slot.message = slot.snapshot ? snapshot : update;
        queued_bytes_ += slot.message->size();
      }
      w.client->Kick();
    }
  }
}

void LiveHub::PumpEvents(Client& c) {
  uint64_t next;
  {
    std::lock_guard<std::mutex> lock(c.mu);
    if (c.closed || !c.events_on || !c.events.empty() || c.refilling) return;
    next = c.events_next;
    c.refilling = true;
  }
  auto page = s_.store.ReadAll(next, kEventsPage);
  std::vector<Message> messages;
  uint64_t last = next - 1;
  if (page.ok()) {
    for (const auto& e : *page) {
      messages.push_back(Text({{"type", "event"},
                               {"topic", "events"},
                               {"position", e.position},
                               {"event", EventJson(e)}}));
      last = e.position;
    }
  }
  {
    std::lock_guard<std::mutex> lock(c.mu);
    c.refilling = false;
    if (c.closed || !c.events_on || c.events_next != next) return;
    if (page.ok()) {
      if (messages.empty()) return;
      if (c.events.empty()) c.events_progress = Steady::now();
      for (auto& m : messages) c.Enqueue(c.events, std::move(m));
      c.events_next = last + 1;
    }
  }
  if (!page.ok()) {
    // The log cannot be read here: a feed with a hole would lie, so it ends (1011).
    c.Reply(ErrorMessage(page.error().code, page.error().detail, "events"));
    c.Close(kInternalError, "the log cannot be read at " + std::to_string(next));
    return;
  }
  c.Kick();
}

void AddLiveRoutes(Router& r, Services& s, LiveHub& hub) {
  r.Add("GET", "/api/v1/live", [&s, &hub](const CallPtr& call) {
    if (!call->req.websocket_upgrade || !call->upgrade) {
      return SendError(call, MakeError(ErrorKind::kMalformed, "malformed_request",
                                       "GET /api/v1/live upgrades to a WebSocket "
                                       "(Upgrade: websocket)"));
    }
    // A token in the header is checked before the upgrade, so a bad one is a plain 401.
    if (!call->req.authorization.empty()) {
      auto viewer = Authenticate(s, call->req.authorization);
      if (!viewer.ok()) return SendError(call, viewer.error());
    }
    std::string authorization = call->req.authorization;
    call->upgrade([&hub, authorization](std::shared_ptr<WebSocket> ws) {
      return hub.Attach(std::move(ws), authorization);
    });
  });
}

}  // namespace crm::api
