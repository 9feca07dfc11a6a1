// rename-dateext: renames numbered rotations (app.log.1, app.log.2.gz) to
// dateext names from each file's modification time (local time, as
// logrotate would have named it), keeping the compression suffix. Never
// overwrites: an existing target (or one an earlier rename in the same run
// would create) is a collision, reported, and the file is left alone.
//
// Thread safety: stateless; touches only the files it names.
#pragma once

#include <string>
#include <vector>

#include "logship/dateext.h"

namespace stopgap::logship {

struct RenameAction {
  enum class Outcome { kRenamed, kWouldRename, kCollision, kError };
  std::string from;
  std::string to;
  Outcome outcome = Outcome::kError;
  std::string error;  // for kError / kCollision
};

// `patterns`: live log paths or globs (as for sweep); olddir as in logrotate.
std::vector<RenameAction> RenameNumberedRotations(const std::vector<std::string>& patterns,
                                                  const DateFormat& format,
                                                  const std::string& olddir, bool dry_run);

}  // namespace stopgap::logship
