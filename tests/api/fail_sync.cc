// An LD_PRELOAD shim for the storage-failure tests, the faults of a disk under RocksDB:
//   - while the file named by EVCRM_FAIL_SYNC exists, fsync and fdatasync fail with EIO,
//     as they do when a disk loses a write;
//   - while the file named by EVCRM_FAIL_WRITE exists, writes to files under the
//     directory EVCRM_FAIL_UNDER (write, pwrite, writev, pwritev) fail with the errno the
//     flag file names (EIO, or ENOSPC for a full disk; EIO when it names neither).
// Otherwise every call is the C library's.
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

namespace {

bool Exists(const char* env) {
  const char* flag = getenv(env);
  return flag != nullptr && access(flag, F_OK) == 0;
}

int WriteFaultOf(int fd) {
  if (!Exists("EVCRM_FAIL_WRITE")) return 0;
  const char* under = getenv("EVCRM_FAIL_UNDER");
  if (under == nullptr) return 0;
  char link[64], path[PATH_MAX];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(link, path, sizeof path - 1);
  if (n <= 0) return 0;
  path[n] = '\0';
  if (strncmp(path, under, strlen(under)) != 0) return 0;
  char what[16] = {0};
  if (FILE* f = fopen(getenv("EVCRM_FAIL_WRITE"), "r")) {
    size_t got = fread(what, 1, sizeof what - 1, f);
    what[got] = '\0';
    fclose(f);
  }
  return strncmp(what, "ENOSPC", 6) == 0 ? ENOSPC : EIO;
}

// The errno a write of `fd` fails with now, 0 when it goes through (errno unchanged).
int WriteFault(int fd) {
  int saved = errno;
  int fault = WriteFaultOf(fd);
  errno = saved;
  return fault;
}

template <typename Fn>
Fn Real(const char* name) {
  return reinterpret_cast<Fn>(dlsym(RTLD_NEXT, name));
}

int Sync(const char* name, int fd) {
  int saved = errno;
  if (Exists("EVCRM_FAIL_SYNC")) {
    errno = EIO;
    return -1;
  }
  errno = saved;
  auto fn = Real<int (*)(int)>(name);
  return fn == nullptr ? -1 : fn(fd);
}

}  // namespace

extern "C" int fsync(int fd) { return Sync("fsync", fd); }
extern "C" int fdatasync(int fd) { return Sync("fdatasync", fd); }

#define EVCRM_FAILING_WRITE(name, signature, ...)          \
  extern "C" ssize_t name signature {                      \
    if (int e = WriteFault(fd)) {                          \
      errno = e;                                           \
      return -1;                                           \
    }                                                      \
    return Real<ssize_t(*) signature>(#name)(__VA_ARGS__); \
  }

EVCRM_FAILING_WRITE(write, (int fd, const void* buf, size_t n), fd, buf, n)
EVCRM_FAILING_WRITE(pwrite, (int fd, const void* buf, size_t n, off_t at), fd, buf, n, at)
EVCRM_FAILING_WRITE(pwrite64, (int fd, const void* buf, size_t n, off_t at), fd, buf, n, at)
EVCRM_FAILING_WRITE(writev, (int fd, const struct iovec* iov, int count), fd, iov, count)
EVCRM_FAILING_WRITE(pwritev, (int fd, const struct iovec* iov, int count, off_t at), fd, iov, count,
                    at)
