/* diag_target: a process for measuring how much a stack collector pauses its
 * target. Starts N threads that sleep in pthread_cond_wait (a futex, like an
 * idle server worker) a few frames deep, and a ticker thread that wakes every
 * 1 ms and records the largest gap between wake-ups. The main thread handles
 * signals synchronously (sigwait): SIGUSR1 resets the largest gap, SIGUSR2
 * writes "max_gap_us <n>\n" to STATEFILE; SIGTERM exits.
 *
 * With DIAG_TARGET_STUCK=1 in the environment, one more thread (created
 * first, so it has the lowest tid after main) vforks a child that never execs:
 * that thread then sits in the kernel (state D, killable only) until the child
 * dies, and no ptrace interrupt can stop it. The child dies with the target
 * (PR_SET_PDEATHSIG) or when killed; tests use it as the unstoppable thread.
 *
 *   diag_target N STATEFILE [ignored...]   (prints "ready <pid>" once all threads run)
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t never = PTHREAD_COND_INITIALIZER;
static atomic_long max_gap_ns;
static atomic_int started;
static atomic_int stopping; /* never set: keeps the compiler from seeing a dead end */

static long now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000000000L + ts.tv_nsec;
}

__attribute__((noinline)) static void wait_forever(void) {
  pthread_mutex_lock(&mu);
  while (!atomic_load(&stopping)) pthread_cond_wait(&never, &mu);
  pthread_mutex_unlock(&mu);
}

__attribute__((noinline)) static void worker_loop(int depth) {
  if (depth > 0) {
    worker_loop(depth - 1);
  } else {
    wait_forever();
  }
  __asm__ volatile("" ::: "memory"); /* keep the recursion a real call */
}

static void* worker(void* arg) {
  (void)arg;
  atomic_fetch_add(&started, 1);
  worker_loop(3);
  return NULL;
}

/* The vfork child shares our memory and stack: it only makes raw syscalls
 * (no libc state is touched) and never returns. */
__attribute__((noinline)) static void* stuck_in_vfork(void* arg) {
  (void)arg;
  atomic_fetch_add(&started, 1);
  pid_t child = vfork();
  if (child == 0) {
    syscall(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    for (;;) syscall(SYS_pause);
  }
  for (;;) pause(); /* after the child died: sleep like the others */
  return NULL;
}

static void* ticker(void* arg) {
  (void)arg;
  struct timespec next;
  clock_gettime(CLOCK_MONOTONIC, &next);
  long last = now_ns();
  for (;;) {
    next.tv_nsec += 1000000;
    if (next.tv_nsec >= 1000000000L) {
      next.tv_nsec -= 1000000000L;
      next.tv_sec++;
    }
    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
    long t = now_ns();
    long gap = t - last;
    last = t;
    long cur = atomic_load(&max_gap_ns);
    while (gap > cur && !atomic_compare_exchange_weak(&max_gap_ns, &cur, gap)) {
    }
    /* After a long stall, don't try to catch up tick by tick. */
    if (gap > 5000000) clock_gettime(CLOCK_MONOTONIC, &next);
  }
  return NULL;
}

int main(int argc, char** argv) {
  if (argc < 3) { /* extra arguments are ignored (tests put fake secrets there) */
    fprintf(stderr, "usage: %s NTHREADS STATEFILE\n", argv[0]);
    return 2;
  }
  int n = atoi(argv[1]);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR1);
  sigaddset(&set, SIGUSR2);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, NULL); /* inherited by every thread */
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, 256 * 1024);
  const char* stuck = getenv("DIAG_TARGET_STUCK");
  int extra = 0;
  if (stuck != NULL && strcmp(stuck, "1") == 0) {
    pthread_t t;
    if (pthread_create(&t, &attr, stuck_in_vfork, NULL) != 0) {
      perror("pthread_create");
      return 1;
    }
    extra = 1;
  }
  for (int i = 0; i < n; ++i) {
    pthread_t t;
    if (pthread_create(&t, &attr, worker, NULL) != 0) {
      perror("pthread_create");
      return 1;
    }
  }
  pthread_t tk;
  pthread_create(&tk, &attr, ticker, NULL);
  while (atomic_load(&started) < n + extra) usleep(1000);
  usleep(20000);
  atomic_store(&max_gap_ns, 0);
  printf("ready %d\n", (int)getpid());
  fflush(stdout);
  for (;;) {
    int sig = 0;
    if (sigwait(&set, &sig) != 0) continue;
    if (sig == SIGUSR1) {
      atomic_store(&max_gap_ns, 0);
    } else if (sig == SIGUSR2) {
      FILE* f = fopen(argv[2], "w");
      if (f != NULL) {
        fprintf(f, "max_gap_us %ld\n", atomic_load(&max_gap_ns) / 1000);
        fclose(f);
      }
    } else {
      return 0;
    }
  }
}
