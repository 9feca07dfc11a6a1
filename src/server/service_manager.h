// The service manager's side channel (systemd's sd_notify protocol over
// $NOTIFY_SOCKET): readiness, reloading, stopping and watchdog pings, and the
// watchdog interval systemd asked for ($WATCHDOG_USEC). Without NOTIFY_SOCKET
// (not started by systemd, or Type= is not notify) every call does nothing.
//
// Thread safety: every function may be called from any thread.
#pragma once

#include <string_view>

#include "core/time.h"

namespace stopgap::server {

// Sends one state message ("READY=1", "STOPPING=1", "WATCHDOG=1", with an
// optional "\nSTATUS=..."). Errors are ignored: the service manager going away
// is not the daemon's failure.
void NotifyServiceManager(std::string_view state);

// "RELOADING=1" with the MONOTONIC_USEC systemd 253+ wants beside it.
void NotifyReloading();

// The watchdog interval (WatchdogSec=) when systemd expects pings from this
// process, else zero.
Duration ServiceWatchdogInterval();

}  // namespace stopgap::server
