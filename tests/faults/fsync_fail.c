// LD_PRELOAD shim for the fsync fault test (tests/faults/fsync_eio.sh):
// fsync/fdatasync of a file under one of STOPGAP_FAULT_PATHS (':'-separated
// path prefixes; one ending in '$' is a whole path: "DIR/ledger.db$" fails the
// database file and not its -wal) return -1/EIO while the file STOPGAP_FAULT_TRIGGER exists
// (always, when it is unset); each injected fault appends a line to
// STOPGAP_FAULT_LOG. Everything else goes to the real calls.
// Threading: stateless apart from the dlsym'd pointers (benign races).
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int Matches(int fd) {
  const char* prefixes = getenv("STOPGAP_FAULT_PATHS");
  if (!prefixes || !*prefixes) return 0;
  const char* trigger = getenv("STOPGAP_FAULT_TRIGGER");
  if (trigger && *trigger && access(trigger, F_OK) != 0) return 0;
  char link[64], path[4096];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(link, path, sizeof path - 1);
  if (n <= 0) return 0;
  path[n] = '\0';
  for (const char* p = prefixes; *p;) {
    const char* end = strchr(p, ':');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    int exact = len > 0 && p[len - 1] == '$';
    if (exact) --len;
    if (len > 0 && strncmp(path, p, len) == 0 && (!exact || path[len] == '\0')) {
      const char* log = getenv("STOPGAP_FAULT_LOG");
      if (log && *log) {
        int l = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (l >= 0) {
          dprintf(l, "EIO %s\n", path);
          close(l);
        }
      }
      return 1;
    }
    if (!end) break;
    p = end + 1;
  }
  return 0;
}

int fsync(int fd) {
  static int (*real)(int);
  if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
  if (Matches(fd)) {
    errno = EIO;
    return -1;
  }
  return real(fd);
}

int fdatasync(int fd) {
  static int (*real)(int);
  if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
  if (Matches(fd)) {
    errno = EIO;
    return -1;
  }
  return real(fd);
}
