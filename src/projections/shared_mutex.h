// A readers-writer lock that lets a waiting writer in before new readers. The projection
// runner takes it exclusively for each batch while queries take it shared; with the
// default std::shared_mutex (glibc prefers readers) a steady stream of overlapping
// queries could keep the runner out indefinitely, and every command's answer waits for
// the runner. Meets the SharedMutex requirements, so std::shared_lock and
// std::unique_lock work with it. Not recursive: a thread holding it shared must not take
// it shared again (a writer queued in between would deadlock both).
#ifndef CRM_PROJECTIONS_SHARED_MUTEX_H_
#define CRM_PROJECTIONS_SHARED_MUTEX_H_

#include <pthread.h>

namespace crm::projections {

class WriterFirstSharedMutex {
 public:
  WriterFirstSharedMutex() {
    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init(&attr);
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&lock_, &attr);
    pthread_rwlockattr_destroy(&attr);
  }
  ~WriterFirstSharedMutex() { pthread_rwlock_destroy(&lock_); }
  WriterFirstSharedMutex(const WriterFirstSharedMutex&) = delete;
  WriterFirstSharedMutex& operator=(const WriterFirstSharedMutex&) = delete;

  void lock() { pthread_rwlock_wrlock(&lock_); }
  bool try_lock() { return pthread_rwlock_trywrlock(&lock_) == 0; }
  void unlock() { pthread_rwlock_unlock(&lock_); }
  void lock_shared() { pthread_rwlock_rdlock(&lock_); }
  bool try_lock_shared() { return pthread_rwlock_tryrdlock(&lock_) == 0; }
  void unlock_shared() { pthread_rwlock_unlock(&lock_); }

 private:
  pthread_rwlock_t lock_;
};

}  // namespace crm::projections

#endif  // CRM_PROJECTIONS_SHARED_MUTEX_H_
