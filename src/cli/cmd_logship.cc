// `stopgap logship`: sweep | upload | rename-dateext | ls | get | grep. Thin: flags
// to options, then the logship library. Exit 0 ok, 1 a transfer failed,
// 2 bad usage. Runs on the main thread (the library starts its own workers).
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "cli/command.h"
#include "core/log.h"
#include "core/time.h"
#include "logship/catalog.h"
#include "logship/grep.h"
#include "logship/migrate.h"
#include "logship/rename.h"
#include "logship/shipper.h"
#include "logship/state_file.h"
#include "logship/store/object_store.h"

namespace stopgap::cli {
namespace {

using namespace stopgap::logship;

struct Flags {
  std::string url;
  std::string state;
  std::string dateformat = "-%Y%m%d";
  std::string olddir;
  std::string hostname;
  std::string endpoint, region, ca_bundle;
  bool path_style = false;
  std::string threshold = "128M", part_size = "64M", bwlimit;
  int parallel = 2;
  bool quiet = false;
  bool dry_run = false;
  bool include_uncompressed = false;
  bool delete_after = false;
  int keep_days = -1;
  std::vector<std::string> args;
  std::string layout = "host";
  std::string to_layout;          // migrate-layout
  std::string remote_keep, keep;  // --remote-keep (upload), lifecycle --keep
  bool apply = false;
  bool stats = false;
  std::string sse, sse_kms_key_id, storage_class;
  // ls / get / grep
  std::string host, since, until, out;
  bool decompress = false;
  bool dateformat_given = false;
  std::vector<std::string> hosts;  // grep
  bool extended = false, ignore_case = false;
  int64_t max_count = -1;
  std::string pattern;
};

// "64M", "1G", "512k", "100MiB", "123" -> bytes.
Result<uint64_t> ParseSize(const std::string& s) {
  size_t i = 0;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
  if (i == 0) return InvalidArgument("bad size '" + s + "'");
  uint64_t v = 0;
  if (std::from_chars(s.data(), s.data() + i, v).ec != std::errc() || v > (1ull << 40)) {
    return InvalidArgument("size '" + s + "' is too large");
  }
  std::string unit = s.substr(i);
  for (char& c : unit) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (unit.ends_with("ib"))
    unit.resize(unit.size() - 2);
  else if (unit.size() > 1 && unit.back() == 'b')
    unit.pop_back();
  if (unit.empty()) return v;
  if (unit == "k") return v << 10;
  if (unit == "m") return v << 20;
  if (unit == "g") return v << 30;
  return InvalidArgument("bad size unit in '" + s + "' (use k, M or G)");
}

// "400d" (or any duration ParseDuration reads, in whole days) -> days.
Result<int> Days(const std::string& text) {
  Result<Duration> d = ParseDuration(text);
  if (!d.ok()) return d.status();
  int64_t days = std::chrono::duration_cast<std::chrono::hours>(*d).count() / 24;
  if (days < 1 || days > 36500) return InvalidArgument("'" + text + "': want 1d to 36500d");
  return static_cast<int>(days);
}

int Usage(const Status& st) {
  std::fprintf(stderr, "stopgap logship: %s\n", st.message().c_str());
  return kExitUsage;
}

int Failed(const Status& st) {
  std::fprintf(stderr, "stopgap logship: %s\n", st.ToString().c_str());
  return kExitFailed;
}

void AddStoreFlags(CLI::App* c, Flags* f) {
  c->add_option("--endpoint", f->endpoint, "S3 endpoint URL (e.g. http://127.0.0.1:8080)");
  c->add_option("--region", f->region, "S3 region (default $AWS_REGION or us-east-1)");
  c->add_flag("--path-style", f->path_style, "S3 path-style addressing (bucket in the path)");
  c->add_option("--ca-bundle", f->ca_bundle, "extra CA bundle (default $AWS_CA_BUNDLE)");
  c->add_option("--multipart-threshold", f->threshold,
                "files above this go as S3 multipart / Swift SLO (default 128M)");
  c->add_option("--part-size", f->part_size, "part / segment size (default 64M)");
  c->add_option("--parallel", f->parallel, "concurrent transfers (default 2)")
      ->check(CLI::Range(1, 64));
  c->add_option("--bwlimit", f->bwlimit, "total upload bandwidth cap, bytes/s (e.g. 20M)");
  c->add_flag("-q,--quiet", f->quiet, "print nothing but errors");
  c->add_option(
      "--layout", f->layout,
      "object names: host (<host>/<path>, default) or date (<YYYY>/<MM>/<DD>/<host>/<path>)");
  c->add_flag("--stats", f->stats,
              "print the store requests made (listing pages, HEADs, GETs) on stderr");
  c->add_option("--sse", f->sse, "S3 server-side encryption: AES256 or aws:kms")
      ->check(CLI::IsMember({"AES256", "aws:kms"}));
  c->add_option("--sse-kms-key-id", f->sse_kms_key_id, "S3 KMS key id for --sse aws:kms");
  c->add_option("--storage-class", f->storage_class,
                "S3 storage class (STANDARD_IA, GLACIER_IR, ...; default the bucket's)");
}

void PrintStats(const Flags& f, const StoreStats& s) {
  if (!f.stats) return;
  std::fprintf(stderr, "store requests: %llu listing, %llu head, %llu get\n",
               static_cast<unsigned long long>(s.list_requests.load()),
               static_cast<unsigned long long>(s.head_requests.load()),
               static_cast<unsigned long long>(s.get_requests.load()));
}

Result<std::unique_ptr<ObjectStore>> Open(const Flags& f, std::atomic<uint64_t>* progress,
                                          StoreStats* stats = nullptr) {
  StoreOptions o;
  o.stats = stats;
  o.sse = f.sse;
  o.sse_kms_key_id = f.sse_kms_key_id;
  o.storage_class = f.storage_class;
  if (!f.remote_keep.empty()) {
    Result<int> days = Days(f.remote_keep);
    if (!days.ok()) return days.status().WithContext("--remote-keep");
    o.remote_keep_days = *days;
  }
  if (!f.sse_kms_key_id.empty() && f.sse != "aws:kms") {
    return InvalidArgument("--sse-kms-key-id needs --sse aws:kms");
  }
  o.endpoint = f.endpoint;
  o.region = f.region;
  o.path_style = f.path_style;
  o.parallel = f.parallel;
  o.progress_bytes = progress;
  Result<uint64_t> t = ParseSize(f.threshold);
  if (!t.ok()) return t.status();
  Result<uint64_t> p = ParseSize(f.part_size);
  if (!p.ok()) return p.status();
  if (*p < (5u << 20) && f.url.starts_with("s3://") && *p < *t) {
    // S3 requires 5 MiB parts (except the last); Swift and tests may go smaller.
    Log(LogLevel::kWarn, "part size below S3's 5 MiB minimum", {{"part_size", f.part_size}});
  }
  o.multipart_threshold = *t;
  o.part_size = std::max<uint64_t>(*p, 1);
  if (!f.bwlimit.empty()) {
    Result<uint64_t> b = ParseSize(f.bwlimit);
    if (!b.ok()) return b.status();
    o.http.max_send_bytes_per_sec = std::max<uint64_t>(1, *b / static_cast<uint64_t>(f.parallel));
    o.http.max_recv_bytes_per_sec = o.http.max_send_bytes_per_sec;
  }
  o.http.ca_file = f.ca_bundle.empty() ? o.getenv("AWS_CA_BUNDLE") : f.ca_bundle;
  return OpenStore(f.url, o);
}

int StoreError(const Status& st) {
  return st.code() == StatusCode::kInvalidArgument ? Usage(st) : Failed(st);
}

// A progress bar on stderr while a TTY watches a transfer that lasts more
// than a second: bytes sent of the bytes to send, rate, time left.
class ProgressLine {
 public:
  ProgressLine(std::atomic<uint64_t>* bytes, std::atomic<uint64_t>* total, bool enabled)
      : bytes_(bytes), total_(total) {
    if (!enabled || !::isatty(2)) return;
    thread_ = std::thread([this] {
      auto start = std::chrono::steady_clock::now();
      bool shown = false;
      std::unique_lock<std::mutex> lock(mu_);
      while (!cv_.wait_for(lock, std::chrono::milliseconds(250), [this] { return done_; })) {
        double secs =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        if (secs < 1.0) continue;
        shown = true;
        Draw(secs);
      }
      if (shown) std::fprintf(stderr, "\r%78s\r", "");
    });
  }
  ~ProgressLine() {
    if (!thread_.joinable()) return;
    {
      std::lock_guard<std::mutex> lock(mu_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

 private:
  void Draw(double secs) const {
    const double mb = static_cast<double>(bytes_->load()) / 1e6;
    const double total = static_cast<double>(total_->load()) / 1e6;
    const double rate = mb / secs;
    if (total <= 0) {
      std::fprintf(stderr, "\r%10.1f MB  %7.1f MB/s ", mb, rate);
      return;
    }
    const double frac = std::min(1.0, mb / total);
    constexpr int kWidth = 30;
    char bar[kWidth + 1];
    int full = static_cast<int>(frac * kWidth);
    for (int i = 0; i < kWidth; ++i) bar[i] = i < full ? '#' : (i == full ? '>' : ' ');
    bar[kWidth] = '\0';
    const long left = rate > 0 ? static_cast<long>((total - std::min(mb, total)) / rate) : 0;
    std::fprintf(stderr, "\r[%s] %3d%% %8.1f/%.1f MB %6.1f MB/s ETA %ld:%02ld ", bar,
                 static_cast<int>(frac * 100), mb, total, rate, left / 60, left % 60);
    std::fflush(stderr);
  }

  std::atomic<uint64_t>* bytes_;
  std::atomic<uint64_t>* total_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
};

int Ship(const Flags& f, bool sweep) {
  Result<DateFormat> fmt = DateFormat::Parse(f.dateformat);
  if (!fmt.ok()) return Usage(fmt.status().WithContext("--dateformat"));
  if (f.args.empty()) return Usage(InvalidArgument(sweep ? "no LOG given" : "no FILE given"));
  std::atomic<uint64_t> progress{0};
  Result<std::unique_ptr<ObjectStore>> store = Open(f, &progress);
  if (!store.ok()) return StoreError(store.status().WithContext(f.url));
  std::string state_path = f.state.empty() ? DefaultStatePath() : f.state;
  Result<std::unique_ptr<StateLock>> lock = StateLock::Acquire(state_path);
  if (!lock.ok()) return Failed(lock.status());
  Result<std::unique_ptr<StateFile>> state = StateFile::Load(state_path);
  if (!state.ok()) return Failed(state.status());

  ShipOptions o;
  o.store_url = f.url;
  if (!f.hostname.empty()) {
    o.hostname = f.hostname;
  } else {
    char host[256] = {};
    ::gethostname(host, sizeof host - 1);
    o.hostname = host;
  }
  if (o.hostname.empty() || o.hostname.find('/') != std::string::npos) {
    return Usage(InvalidArgument("bad --hostname '" + o.hostname + "'"));
  }
  o.dateformat = *fmt;
  Result<Layout> layout = ParseLayout(f.layout);
  if (!layout.ok()) return Usage(layout.status().WithContext("--layout"));
  o.layout = *layout;
  o.olddir = f.olddir;
  o.include_uncompressed = f.include_uncompressed;
  o.delete_after_upload = f.delete_after;
  o.keep_days = f.keep_days;
  o.parallel_files = f.parallel;
  o.dry_run = f.dry_run;
  o.quiet = f.quiet;
  std::atomic<uint64_t> to_send{0};
  o.pending_bytes = &to_send;
  Shipper shipper(**store, **state, SystemClock::Instance(), o);
  ShipReport r;
  {
    ProgressLine bar(&progress, &to_send, !f.quiet);
    r = sweep ? shipper.Sweep(f.args) : shipper.Upload(f.args);
  }
  if (!f.quiet) {
    std::printf(
        "logship: %d uploaded (%llu bytes), %d already archived, %d skipped, %d failed, "
        "%d deleted\n",
        r.uploaded, static_cast<unsigned long long>(r.bytes), r.already, r.skipped, r.failed,
        r.deleted);
  }
  return r.failed > 0 ? kExitFailed : kExitOk;
}

int Rename(const Flags& f) {
  Result<DateFormat> fmt = DateFormat::Parse(f.dateformat);
  if (!fmt.ok()) return Usage(fmt.status().WithContext("--dateformat"));
  if (f.args.empty()) return Usage(InvalidArgument("no LOG given"));
  int rc = kExitOk;
  for (const RenameAction& a : RenameNumberedRotations(f.args, *fmt, f.olddir, f.dry_run)) {
    switch (a.outcome) {
      case RenameAction::Outcome::kRenamed:
        std::printf("renamed %s -> %s\n", a.from.c_str(), a.to.c_str());
        break;
      case RenameAction::Outcome::kWouldRename:
        std::printf("would rename %s -> %s\n", a.from.c_str(), a.to.c_str());
        break;
      case RenameAction::Outcome::kCollision:
        std::printf("collision %s: %s\n", a.from.c_str(), a.error.c_str());
        rc = kExitFailed;
        break;
      case RenameAction::Outcome::kError:
        std::fprintf(stderr, "error %s: %s\n", a.from.c_str(), a.error.c_str());
        rc = kExitFailed;
        break;
    }
  }
  return rc;
}

Result<ArchiveFilter> Filter(const Flags& f) {
  ArchiveFilter filter;
  if (f.dateformat_given) {
    Result<DateFormat> fmt = DateFormat::Parse(f.dateformat);
    if (!fmt.ok()) return fmt.status().WithContext("--dateformat");
    filter.dateformat = *fmt;
  }
  Result<Layout> layout = ParseLayout(f.layout);
  if (!layout.ok()) return layout.status().WithContext("--layout");
  filter.layout = *layout;
  filter.host = f.host;
  if (f.args.size() > 1) return InvalidArgument("at most one LOG");
  if (!f.args.empty()) filter.log = f.args[0];
  if (!f.since.empty()) {
    Result<CivilDay> d = ParseCivilDay(f.since);
    if (!d.ok()) return d.status().WithContext("--since");
    filter.since = *d;
  }
  if (!f.until.empty()) {
    Result<CivilDay> d = ParseCivilDay(f.until);
    if (!d.ok()) return d.status().WithContext("--until");
    filter.until = *d;
  }
  return filter;
}

// Says how many listed objects have no known day (kept by every date filter).
void SayUndated(const Flags& f, const std::vector<ArchivedLog>& logs) {
  size_t undated = 0;
  for (const ArchivedLog& l : logs) undated += l.day ? 0 : 1;
  if (undated > 0 && !f.quiet) {
    std::fprintf(stderr,
                 "stopgap logship: %zu object(s) with no known date (no date in the name, no "
                 "stopgap-date metadata) are included, shown with '-'\n",
                 undated);
  }
}

int Ls(const Flags& f) {
  Result<ArchiveFilter> filter = Filter(f);
  if (!filter.ok()) return Usage(filter.status());
  StoreStats stats;
  Result<std::unique_ptr<ObjectStore>> store = Open(f, nullptr, &stats);
  if (!store.ok()) return StoreError(store.status().WithContext(f.url));
  Result<std::vector<ArchivedLog>> logs = ListArchive(**store, *filter);
  if (!logs.ok()) return Failed(logs.status());
  for (const ArchivedLog& l : *logs) {
    std::string day = l.day ? FormatCivilDay(*l.day) : "-";
    std::printf("%s %12llu %s %s\n", day.c_str(), static_cast<unsigned long long>(l.object.size),
                l.host.c_str(), l.path.c_str());
  }
  SayUndated(f, *logs);
  PrintStats(f, stats);
  return kExitOk;
}

int Lifecycle(const Flags& f) {
  Result<int> days = Days(f.keep);
  if (!days.ok()) return Usage(days.status().WithContext("--keep"));
  Result<std::unique_ptr<ObjectStore>> store = Open(f, nullptr);
  if (!store.ok()) return StoreError(store.status().WithContext(f.url));
  Result<std::string> r = (*store)->Lifecycle(*days, f.apply);
  if (!r.ok()) return Failed(r.status());
  std::printf("%s%s\n", f.apply ? "applied: " : "", r->c_str());
  return kExitOk;
}

int MigrateLayoutCmd(const Flags& f) {
  MigrateOptions o;
  Result<Layout> from = ParseLayout(f.layout);
  if (!from.ok()) return Usage(from.status().WithContext("--layout"));
  Result<Layout> to = ParseLayout(f.to_layout);
  if (!to.ok()) return Usage(to.status().WithContext("--to-layout"));
  if (*from == *to) return Usage(InvalidArgument("--layout and --to-layout are the same"));
  o.from = *from;
  o.to = *to;
  if (f.dateformat_given) {
    Result<DateFormat> fmt = DateFormat::Parse(f.dateformat);
    if (!fmt.ok()) return Usage(fmt.status().WithContext("--dateformat"));
    o.dateformat = *fmt;
  }
  o.parallel = f.parallel;
  o.dry_run = f.dry_run;
  o.progress = [&f](const std::string& line) {
    if (!f.quiet || line.starts_with("failed") || line.starts_with("undated")) {
      std::printf("%s\n", line.c_str());
      std::fflush(stdout);
    }
  };
  StoreStats stats;
  Result<std::unique_ptr<ObjectStore>> store = Open(f, nullptr, &stats);
  if (!store.ok()) return StoreError(store.status().WithContext(f.url));
  Result<MigrateReport> r = MigrateLayout(**store, o);
  if (!r.ok()) return StoreError(r.status());
  std::printf(
      "migrate-layout: %llu %s (%llu resumed), %llu already in the %s layout, %llu undated left "
      "in place, %llu not archive keys, %llu failed\n",
      static_cast<unsigned long long>(r->moved), f.dry_run ? "would move" : "moved",
      static_cast<unsigned long long>(r->resumed), static_cast<unsigned long long>(r->in_target),
      f.to_layout.c_str(), static_cast<unsigned long long>(r->undated),
      static_cast<unsigned long long>(r->foreign), static_cast<unsigned long long>(r->failed));
  PrintStats(f, stats);
  return r->failed > 0 || r->undated > 0 ? kExitFailed : kExitOk;
}

int Grep(const Flags& f) {
  Result<ArchiveFilter> filter = Filter(f);
  if (!filter.ok()) return Usage(filter.status());
  StoreStats stats;
  Result<std::unique_ptr<ObjectStore>> store = Open(f, nullptr, &stats);
  if (!store.ok()) return StoreError(store.status().WithContext(f.url));
  std::vector<ArchivedLog> logs;
  std::vector<std::string> hosts = f.hosts.empty() ? std::vector<std::string>{""} : f.hosts;
  for (const std::string& h : hosts) {
    filter->host = h;
    Result<std::vector<ArchivedLog>> some = ListArchive(**store, *filter);
    if (!some.ok()) return Failed(some.status());
    for (ArchivedLog& l : *some) logs.push_back(std::move(l));
  }
  SayUndated(f, logs);
  GrepOptions o;
  o.pattern = f.pattern;
  o.extended = f.extended;
  o.ignore_case = f.ignore_case;
  o.max_count = f.max_count;
  o.parallel = f.parallel;
  auto start = std::chrono::steady_clock::now();
  Result<GrepReport> r = GrepArchive(**store, logs, o, stdout);
  if (!r.ok()) return StoreError(r.status());
  if (f.stats) {
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::fprintf(stderr,
                 "grep: %llu objects, %llu compressed bytes in %.3f s (%.1f MB/s), %llu matches\n",
                 static_cast<unsigned long long>(r->objects),
                 static_cast<unsigned long long>(r->compressed_bytes), secs,
                 secs > 0 ? static_cast<double>(r->compressed_bytes) / 1e6 / secs : 0.0,
                 static_cast<unsigned long long>(r->matches));
  }
  PrintStats(f, stats);
  if (r->failed > 0) return kExitFailed;
  return r->matches > 0 ? kExitOk : kExitFailed;
}

int Get(const Flags& f) {
  if (f.out.empty()) return Usage(InvalidArgument("--out DIR (or --out -) is required"));
  Result<ArchiveFilter> filter = Filter(f);
  if (!filter.ok()) return Usage(filter.status());
  StoreStats stats;
  Result<std::unique_ptr<ObjectStore>> store = Open(f, nullptr, &stats);
  if (!store.ok()) return StoreError(store.status().WithContext(f.url));
  Result<std::vector<ArchivedLog>> logs = ListArchive(**store, *filter);
  if (!logs.ok()) return Failed(logs.status());
  SayUndated(f, *logs);
  if (logs->empty()) {
    std::fprintf(stderr, "stopgap logship: nothing archived matches\n");
    return kExitFailed;
  }
  int rc = kExitOk;
  for (const ArchivedLog& l : *logs) {
    Result<std::string> got = FetchLog(**store, l, f.out, f.decompress);
    if (!got.ok()) {
      std::fprintf(stderr, "stopgap logship: %s\n", got.status().ToString().c_str());
      rc = kExitFailed;
    } else if (f.out != "-" && !f.quiet) {
      std::printf("fetched %s:%s -> %s\n", l.host.c_str(), l.path.c_str(), got->c_str());
    }
  }
  PrintStats(f, stats);
  return rc;
}

}  // namespace

CommandMain SetupLogship(CLI::App& sub) {
  auto f = std::make_shared<Flags>();
  sub.require_subcommand(1);

  auto common = [&f](CLI::App* c) {
    c->add_option("--dateformat", f->dateformat,
                  "logrotate dateformat (%Y %m %d %H %M %S %V %s; default -%Y%m%d)");
    c->add_option("--olddir", f->olddir, "logrotate olddir (relative = to each log's dir)");
  };

  CLI::App* sweep = sub.add_subcommand(
      "sweep", "Upload every dateext rotation of LOG... not archived yet (logrotate lastaction)");
  sweep->add_option("--to", f->url, "s3://bucket/prefix, swift://container/prefix, file:///dir")
      ->required();
  sweep->add_option("LOG", f->args, "live log paths or globs (logrotate's $1 is fine)")->required();
  common(sweep);
  AddStoreFlags(sweep, f.get());
  sweep->add_option("--state", f->state, "state file (default: see docs/logship.md)");
  sweep->add_option("--hostname", f->hostname, "host name in object names (default: hostname)");
  sweep->add_flag("--include-uncompressed", f->include_uncompressed,
                  "also upload rotations without a compression suffix");
  sweep->add_flag("--delete-after-upload", f->delete_after,
                  "remove each local rotation once its upload is verified");
  sweep
      ->add_option("--keep-days", f->keep_days,
                   "remove verified-archived rotations older than N days (keep the newest N)")
      ->check(CLI::NonNegativeNumber);
  sweep->add_flag("--dry-run", f->dry_run, "print what would be uploaded");
  sweep->add_option("--remote-keep", f->remote_keep,
                    "Swift: objects expire (X-Delete-At) this long after their day, e.g. 400d");

  CLI::App* upload = sub.add_subcommand("upload", "Upload exactly FILE... (verified, recorded)");
  upload->add_option("--to", f->url, "store URL")->required();
  upload->add_option("FILE", f->args, "files")->required();
  common(upload);
  AddStoreFlags(upload, f.get());
  upload->add_option("--state", f->state, "state file");
  upload->add_option("--hostname", f->hostname, "host name in object names");
  upload->add_flag("--delete-after-upload", f->delete_after,
                   "remove each file once its upload is verified");
  upload->add_flag("--dry-run", f->dry_run, "print what would be uploaded");
  upload->add_option("--remote-keep", f->remote_keep,
                     "Swift: objects expire (X-Delete-At) this long after their day, e.g. 400d");

  CLI::App* rename = sub.add_subcommand(
      "rename-dateext", "Rename numbered rotations (app.log.1, app.log.2.gz) to dateext names");
  rename->add_option("LOG", f->args, "live log paths or globs")->required();
  rename->add_flag("--dry-run", f->dry_run, "print what would be renamed");
  common(rename);

  CLI::App* ls = sub.add_subcommand("ls", "List archived logs, by host, log and date");
  ls->add_option("--from", f->url, "store URL")->required();
  ls->add_option("LOG", f->args, "a live log path (/var/log/app.log) or name (app.log)");
  ls->add_option("--host", f->host, "only this host");
  ls->add_option("--since", f->since, "first day, YYYY-MM-DD");
  ls->add_option("--until", f->until, "last day, YYYY-MM-DD");
  common(ls);
  AddStoreFlags(ls, f.get());

  CLI::App* get = sub.add_subcommand("get", "Fetch archived logs into --out DIR (or - for stdout)");
  get->add_option("--from", f->url, "store URL")->required();
  get->add_option("LOG", f->args, "a live log path or name");
  get->add_option("--host", f->host, "only this host");
  get->add_option("--since", f->since, "first day, YYYY-MM-DD");
  get->add_option("--until", f->until, "last day, YYYY-MM-DD");
  get->add_option("--out", f->out, "directory (files land in DIR/<host>/) or - for stdout")
      ->required();
  get->add_flag("--decompress", f->decompress, "decompress .gz/.xz/.zst while fetching");
  common(get);
  AddStoreFlags(get, f.get());

  CLI::App* grep = sub.add_subcommand(
      "grep", "Search archived logs by date and host without fetching them (zgrep -H)");
  grep->add_option("--from", f->url, "store URL")->required();
  grep->add_option("PATTERN", f->pattern, "POSIX regex (basic; -E extended)")->required();
  grep->add_option("LOG", f->args, "a live log path or name");
  grep->add_option("--host", f->hosts, "only these hosts (repeatable)");
  grep->add_option("--since", f->since, "first day, YYYY-MM-DD");
  grep->add_option("--until", f->until, "last day, YYYY-MM-DD");
  grep->add_flag("-E,--extended-regexp", f->extended, "PATTERN is an extended regex");
  grep->add_flag("-i,--ignore-case", f->ignore_case, "ignore case");
  grep->add_option("-m,--max-count", f->max_count, "stop after N matching lines in all")
      ->check(CLI::NonNegativeNumber);
  common(grep);
  AddStoreFlags(grep, f.get());

  CLI::App* lifecycle = sub.add_subcommand(
      "lifecycle", "Print (or --apply) the store-side retention rule for --keep");
  lifecycle->add_option("--to", f->url, "store URL")->required();
  lifecycle->add_option("--keep", f->keep, "how long objects stay, e.g. 400d")->required();
  lifecycle->add_flag("--apply", f->apply,
                      "S3: install the rule (only into a bucket without lifecycle rules)");
  AddStoreFlags(lifecycle, f.get());

  CLI::App* migrate = sub.add_subcommand(
      "migrate-layout",
      "Move an archive from --layout to --to-layout with server-side copies (verified, resumable)");
  migrate->add_option("--from", f->url, "store URL")->required();
  migrate->add_option("--to-layout", f->to_layout, "the layout to move to: host or date")
      ->required();
  migrate->add_option("--dateformat", f->dateformat,
                      "the dateformat of the names (default: recognise the common forms, then "
                      "the object's metadata)");
  migrate->add_flag("--dry-run", f->dry_run, "print what would move");
  AddStoreFlags(migrate, f.get());

  return [f, sweep, upload, rename, ls, get, grep, lifecycle, migrate]() -> int {
    if (sweep->parsed()) return Ship(*f, true);
    if (upload->parsed()) return Ship(*f, false);
    if (rename->parsed()) return Rename(*f);
    for (CLI::App* c : {ls, get, grep, migrate}) {
      if (c->parsed()) f->dateformat_given = c->get_option("--dateformat")->count() > 0;
    }
    if (ls->parsed()) return Ls(*f);
    if (get->parsed()) return Get(*f);
    if (grep->parsed()) return Grep(*f);
    if (lifecycle->parsed()) return Lifecycle(*f);
    if (migrate->parsed()) return MigrateLayoutCmd(*f);
    return kExitUsage;
  };
}

}  // namespace stopgap::cli
