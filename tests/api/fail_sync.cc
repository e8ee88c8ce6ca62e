// An LD_PRELOAD shim for the storage-failure test: while the file named by
// EVCRM_FAIL_SYNC exists, fsync and fdatasync fail with EIO, as they do when a disk
// loses a write. Otherwise they are the C library's.
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

namespace {

bool Failing() {
  const char* flag = getenv("EVCRM_FAIL_SYNC");
  return flag != nullptr && access(flag, F_OK) == 0;
}

using SyncFn = int (*)(int);

int Real(const char* name, int fd) {
  auto fn = reinterpret_cast<SyncFn>(dlsym(RTLD_NEXT, name));
  return fn == nullptr ? -1 : fn(fd);
}

}  // namespace

extern "C" int fsync(int fd) {
  if (Failing()) {
    errno = EIO;
    return -1;
  }
  return Real("fsync", fd);
}

extern "C" int fdatasync(int fd) {
  if (Failing()) {
    errno = EIO;
    return -1;
  }
  return Real("fdatasync", fd);
}
