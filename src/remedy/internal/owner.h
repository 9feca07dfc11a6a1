// Which process owns an unfinished execution: "<boot_id>:<pid>:<starttime>",
// so a restarted machine, a dead process and a recycled pid are all told
// apart from a live `stopgap serve` that shares the ledger file.
//
// Thread safety: pure reads of /proc.
#pragma once

#include <string>
#include <string_view>

namespace stopgap::remedy::internal {

// This process's owner id (cached per pid).
std::string SelfOwnerId();
// True when `owner` names a process that is still running on this boot.
bool OwnerAlive(std::string_view owner);

}  // namespace stopgap::remedy::internal
