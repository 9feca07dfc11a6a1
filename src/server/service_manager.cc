// sd_notify(3) and sd_watchdog_enabled(3) from libsystemd behind the small
// interface in service_manager.h.
//
// Threading: stateless; libsystemd opens a socket per message.
#include "server/service_manager.h"

#include <systemd/sd-daemon.h>

#include <ctime>
#include <string>

namespace stopgap::server {

void NotifyServiceManager(std::string_view state) {
  std::string s(state);
  (void)sd_notify(0, s.c_str());
}

void NotifyReloading() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  long long usec = static_cast<long long>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
  NotifyServiceManager("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(usec));
}

Duration ServiceWatchdogInterval() {
  uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) <= 0) return Duration{0};
  return std::chrono::duration_cast<Duration>(std::chrono::microseconds(usec));
}

}  // namespace stopgap::server
