/* libstopgap_guru: Guru Meditation reports for C and C++ services, in the
 * spirit of OpenStack's oslo.reports. Link it, call stopgap_guru_install()
 * once at startup, and on SIGUSR2 (or when a trigger file is touched) the
 * service writes a text report: title block, package and version, every
 * thread's symbolized stack, process info, the configuration it registered
 * (secret keys printed as ***), and sections it registered with callbacks.
 *
 *   stopgap_guru_options o = {0};
 *   o.service = "nova-compute";
 *   o.version = "27.1.0";
 *   o.report_dir = "/var/log/nova";        // NULL: reports go to stderr
 *   stopgap_guru_install(&o);
 *   stopgap_guru_register_config("db_password", pw, 1);
 *   stopgap_guru_register_section("queue", print_queue, &queue);
 *
 * Report files are named <service>_gurumeditation_<UTC YYYYmmddHHMMSS>,
 * written under a temporary name and renamed, mode 0600.
 *
 * Threading: the signal handler only writes one byte to a pipe; a reporter
 * thread started by stopgap_guru_install does all the work (it also polls the
 * trigger file). To take the other threads' stacks it sends each one
 * `stack_signal` in turn (default SIGRTMIN+7) whose handler calls
 * backtrace(3) into a slot; a thread that blocks that signal is reported
 * without a stack after 200 ms. Section callbacks run on the reporter thread.
 * All functions are thread-safe.
 */
#ifndef STOPGAP_GURU_H_
#define STOPGAP_GURU_H_

#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define STOPGAP_GURU_API __attribute__((visibility("default")))

typedef struct stopgap_guru_options {
  const char* service;      /* required: appears in the title and the file name */
  const char* package;      /* optional */
  const char* version;      /* optional */
  const char* report_dir;   /* directory for report files; NULL or "" -> stderr */
  int signal;               /* trigger signal; 0 -> SIGUSR2; -1 -> none */
  const char* trigger_file; /* optional: a report whenever its mtime changes */
  int trigger_poll_ms;      /* how often to look at trigger_file; 0 -> 1000 */
  int stack_signal;         /* per-thread stack sampling signal; 0 -> SIGRTMIN+7 */
} stopgap_guru_options;

/* Installs the handler and starts the reporter thread. Returns 0, or -1 with
 * errno set (EINVAL: no service; EALREADY: installed). The options' strings
 * are copied. */
STOPGAP_GURU_API int stopgap_guru_install(const stopgap_guru_options* options);

/* Stops the reporter thread and restores the signal handlers. */
STOPGAP_GURU_API void stopgap_guru_uninstall(void);

/* Adds or replaces a configuration entry; with secret != 0 the value is
 * printed as ***. Keys that look like secrets (password, token, secret, key,
 * credential) are masked regardless. Returns 0 or -1. */
STOPGAP_GURU_API int stopgap_guru_register_config(const char* key, const char* value, int secret);

/* A section the service prints itself; `fn` writes to `out` and runs on the
 * reporter thread. Returns 0 or -1. */
typedef void (*stopgap_guru_section_fn)(FILE* out, void* user);
STOPGAP_GURU_API int stopgap_guru_register_section(const char* name, stopgap_guru_section_fn fn,
                                                   void* user);

/* Asks the reporter thread for a report now (as the signal does). */
STOPGAP_GURU_API int stopgap_guru_trigger(void);

#ifdef __cplusplus
}
#endif

#endif /* STOPGAP_GURU_H_ */
