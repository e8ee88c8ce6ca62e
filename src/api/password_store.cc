#include "api/password_store.h"

#include <sodium.h>

#include <cstdlib>
#include <stdexcept>

#include "api/token_store.h"

namespace crm::api {
namespace {

const std::string kPasswordPrefix = "auth/password/";
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

PasswordStore::PasswordStore(projections::LocalStore& store, size_t threads) : store_(store) {
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
                           std::function<void(bool)> done) {
  return Post([this, staff_id = std::move(staff_id), password = std::move(password),
               done = std::move(done)]() mutable {
    auto stored = store_.Get(kPasswordPrefix + staff_id);
    std::string_view hash = decoy_;
    if (stored) hash = std::string_view(*stored).substr(stored->find(' ') + 1);
    std::string encoded(hash);
    bool match =
        crypto_pwhash_str_verify(encoded.c_str(), password.data(), password.size()) == 0 && stored;
    sodium_memzero(password.data(), password.size());
    done(match);
  });
}

Result<bool> PasswordStore::Set(const std::string& staff_id, const std::string& hash,
                                uint64_t position) {
  std::lock_guard<std::mutex> lock(set_mu_);
  if (auto old = store_.Get(kPasswordPrefix + staff_id)) {
    uint64_t kept = std::strtoull(old->c_str(), nullptr, 10);
    // Position 0 is the first start's own password, set before its event.
    if (position > 0 && kept >= position) return false;
  }
  projections::LocalBatch batch;
  batch.Put(kPasswordPrefix + staff_id, std::to_string(position) + " " + hash);
  CRM_RETURN_IF_ERROR(store_.Write(batch, true));
  return true;
}

bool PasswordStore::Has(const std::string& staff_id) const {
  return store_.Get(kPasswordPrefix + staff_id).has_value();
}

}  // namespace crm::api
