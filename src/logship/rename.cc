// rename-dateext implementation: renameat2(RENAME_NOREPLACE), falling back to
// link()+unlink() where the filesystem lacks it, so nothing is overwritten.
// Thread safety: stateless.
#include "logship/rename.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <set>

#include "core/file.h"
#include "logship/shipper.h"

namespace stopgap::logship {
namespace {

Status RenameNoReplace(const std::string& from, const std::string& to) {
  if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) {
    return Status::Ok();
  }
  if (errno == EEXIST) return AlreadyExists(to + " exists");
  if (errno != EINVAL && errno != ENOSYS) return ErrnoStatus("rename " + from, errno);
  if (::link(from.c_str(), to.c_str()) != 0) {
    if (errno == EEXIST) return AlreadyExists(to + " exists");
    return ErrnoStatus("link " + from, errno);
  }
  if (::unlink(from.c_str()) != 0) return ErrnoStatus("unlink " + from, errno);
  return Status::Ok();
}

}  // namespace

std::vector<RenameAction> RenameNumberedRotations(const std::vector<std::string>& patterns,
                                                  const DateFormat& format,
                                                  const std::string& olddir, bool dry_run) {
  std::vector<RenameAction> out;
  std::set<std::string> planned;  // targets created (or to be created) in this run
  for (const std::string& live_path : ExpandLogPatterns(patterns)) {
    std::string abs = AbsolutePath(live_path);
    std::string dir = DirName(abs);
    std::string live = abs.substr(abs.find_last_of('/') + 1);
    std::vector<std::string> dirs = {dir};
    if (!olddir.empty()) dirs.push_back(olddir.starts_with("/") ? olddir : dir + "/" + olddir);
    for (const std::string& d : dirs) {
      struct Item {
        int number;
        std::string name;
        std::string compression;
      };
      std::vector<Item> items;
      if (DIR* dh = ::opendir(d.c_str())) {
        while (dirent* e = ::readdir(dh)) {
          if (auto n = ParseNumbered(e->d_name, live)) {
            items.push_back({n->number, e->d_name, n->compression});
          }
        }
        ::closedir(dh);
      }
      // Newest (lowest number) first: it gets the date name when two share a day.
      std::sort(items.begin(), items.end(), [](const Item& a, const Item& b) {
        return a.number != b.number ? a.number < b.number : a.name < b.name;
      });
      for (const Item& it : items) {
        RenameAction a;
        a.from = d + "/" + it.name;
        struct stat sb;
        if (::lstat(a.from.c_str(), &sb) != 0 || !S_ISREG(sb.st_mode)) {
          a.error = "not a regular file";
          out.push_back(a);
          continue;
        }
        std::tm local{};
        time_t mt = sb.st_mtim.tv_sec;
        ::localtime_r(&mt, &local);
        a.to = d + "/" + live + format.Format(local) + it.compression;
        if (planned.count(a.to) != 0 || ::access(a.to.c_str(), F_OK) == 0) {
          a.outcome = RenameAction::Outcome::kCollision;
          a.error = a.to + " already exists; left as it is";
          out.push_back(a);
          continue;
        }
        if (dry_run) {
          a.outcome = RenameAction::Outcome::kWouldRename;
          planned.insert(a.to);
          out.push_back(a);
          continue;
        }
        Status st = RenameNoReplace(a.from, a.to);
        if (st.ok()) {
          a.outcome = RenameAction::Outcome::kRenamed;
          planned.insert(a.to);
        } else if (st.code() == StatusCode::kAlreadyExists) {
          a.outcome = RenameAction::Outcome::kCollision;
          a.error = a.to + " already exists; left as it is";
        } else {
          a.error = st.ToString();
        }
        out.push_back(a);
      }
    }
  }
  return out;
}

}  // namespace stopgap::logship
