#include "api/password_store.h"

#include <sodium.h>

#include <cstdlib>
#include <stdexcept>

#include "api/token_store.h"

namespace crm::api {
namespace {

// libsodium's "interactive" limits: 2 passes over 64 MiB.
constexpr unsigned long long kOpsLimit = crypto_pwhash_OPSLIMIT_INTERACTIVE;
constexpr size_t kMemLimit = crypto_pwhash_MEMLIMIT_INTERACTIVE;
// Work waiting for a hashing thread, at most: each item is an attempt that will take
// ~0.1 s, so more would only answer after the client gave up.
constexpr size_t kMaxQueued = 64;

}  // namespace

Result<std::string> HashPassword(const std::string& password) {
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(out, password.data(), password.size(), kOpsLimit, kMemLimit) != 0) {
    return Unavailable("not enough memory to hash a password; try again");
  }
  return std::string(out);
}

PasswordStore::PasswordStore(const eventstore::EventStore& log, size_t threads) : log_(log) {
  if (sodium_init() < 0) throw std::runtime_error("libsodium cannot start");
  // A random password nobody is told: checking against it costs what a real check costs.
  auto decoy = HashPassword(NewToken());
  if (!decoy.ok()) throw std::runtime_error(decoy.error().detail);
  decoy_ = *decoy;
  for (size_t i = 0; i < std::max<size_t>(threads, 1); ++i)
    threads_.emplace_back([this] { Run(); });
}

PasswordStore::~PasswordStore() { Stop(); }

void PasswordStore::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ && threads_.empty()) return;
    stopping_ = true;
    queue_.clear();
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
  threads_.clear();
}

bool PasswordStore::Post(std::function<void()> work) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ || queue_.size() >= kMaxQueued) return false;
    queue_.push_back(std::move(work));
  }
  cv_.notify_one();
  return true;
}

void PasswordStore::Run() {
  for (;;) {
    std::function<void()> work;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and nothing left
      work = std::move(queue_.front());
      queue_.pop_front();
    }
    work();
  }
}

bool PasswordStore::Hash(std::string password, std::function<void(Result<std::string>)> done) {
  return Post([password = std::move(password), done = std::move(done)]() mutable {
    auto hash = HashPassword(password);
    sodium_memzero(password.data(), password.size());
    done(std::move(hash));
  });
}

bool PasswordStore::Verify(std::string staff_id, std::string password,
                           std::function<void(bool, std::string)> done) {
  return Post([this, staff_id = std::move(staff_id), password = std::move(password),
               done = std::move(done)]() mutable {
    auto stored = Stored(staff_id);
    const std::string& encoded = stored ? *stored : decoy_;
    bool match =
        crypto_pwhash_str_verify(encoded.c_str(), password.data(), password.size()) == 0 && stored;
    sodium_memzero(password.data(), password.size());
    done(match, stored.value_or(""));
  });
}

writer::IndexEffects PasswordStore::Set(std::string staff_id, std::string hash) {
  return [staff_id = std::move(staff_id), hash = std::move(hash)](writer::IndexEdit& index) {
    index.Put(std::string(kPasswordScope), staff_id, hash);
  };
}

std::optional<std::string> PasswordStore::Stored(const std::string& staff_id) const {
  auto stored = log_.ReadIndex(eventstore::Index::kUnique, kPasswordScope, staff_id);
  return stored.ok() ? std::move(stored).value() : std::nullopt;
}

bool PasswordStore::Has(const std::string& staff_id) const {
  auto stored = log_.ReadIndex(eventstore::Index::kUnique, kPasswordScope, staff_id);
  return !stored.ok() || stored->has_value();
}

bool PasswordStore::StillIs(writer::IndexEdit& index, const std::string& staff_id,
                            const std::string& checked) {
  return index.Get(kPasswordScope, staff_id).value_or("") == checked;
}

}  // namespace crm::api
