// GrepArchive: per-object streaming search with ordered output. Thread
// safety: workers share the Printer (under its mutex) and the store.
#include "logship/grep.h"

#include <regex.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "core/log.h"
#include "logship/internal/decompress_sink.h"

namespace stopgap::logship {
namespace {

class Regex {
 public:
  static Result<std::unique_ptr<Regex>> Compile(const GrepOptions& o) {
    auto r = std::unique_ptr<Regex>(new Regex);
    int flags = REG_NOSUB | (o.extended ? REG_EXTENDED : 0) | (o.ignore_case ? REG_ICASE : 0);
    int rc = ::regcomp(&r->re_, o.pattern.c_str(), flags);
    if (rc != 0) {
      char buf[256];
      ::regerror(rc, &r->re_, buf, sizeof buf);
      return InvalidArgument("pattern '" + o.pattern + "': " + buf);
    }
    r->compiled_ = true;
    return r;
  }
  ~Regex() {
    if (compiled_) ::regfree(&re_);
  }
  bool Matches(std::string_view line) const {
    regmatch_t m[1];
    m[0].rm_so = 0;
    m[0].rm_eo = static_cast<regoff_t>(line.size());
    return ::regexec(&re_, line.data(), 1, m, REG_STARTEND) == 0;
  }

 private:
  Regex() = default;
  regex_t re_{};
  bool compiled_ = false;
};

// Writes each object's matches in listing order; see grep.h.
class Printer {
 public:
  Printer(size_t objects, int64_t max_count, std::FILE* out)
      : buffers_(objects), done_(objects, false), max_(max_count), out_(out) {}

  // Appends complete "...\n" lines of object i.
  void Emit(size_t i, std::string text) {
    std::unique_lock<std::mutex> lock(mu_);
    if (i == head_) {
      WriteLocked(text);
      return;
    }
    buffers_[i] += text;
    cv_.wait(lock, [&] { return head_ >= i || full_ || buffers_[i].size() < kGrepBufferBytes; });
  }
  void Done(size_t i) {
    std::lock_guard<std::mutex> lock(mu_);
    done_[i] = true;
    while (head_ < done_.size() && done_[head_]) {
      WriteLocked(buffers_[head_]);
      std::string().swap(buffers_[head_]);
      ++head_;
      if (head_ < done_.size()) {
        WriteLocked(buffers_[head_]);
        buffers_[head_].clear();
      }
    }
    cv_.notify_all();
  }
  bool full() const { return full_; }
  uint64_t printed() const { return printed_; }

 private:
  void WriteLocked(std::string_view text) {
    while (!text.empty() && !full_) {
      size_t nl = text.find('\n');
      size_t n = nl == std::string_view::npos ? text.size() : nl + 1;
      std::fwrite(text.data(), 1, n, out_);
      text.remove_prefix(n);
      ++printed_;
      if (max_ >= 0 && static_cast<int64_t>(printed_) >= max_) full_ = true;
    }
    if (full_) cv_.notify_all();
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> buffers_;
  std::vector<bool> done_;
  size_t head_ = 0;
  const int64_t max_;
  std::FILE* out_;
  std::atomic<bool> full_{false};
  uint64_t printed_ = 0;
};

// Splits decompressed bytes into lines and hands matching ones on.
class LineSink final : public net::ResponseSink {
 public:
  LineSink(const Regex& re, Printer& printer, size_t index, std::string label, int64_t max)
      : re_(re), printer_(printer), index_(index), label_(std::move(label)), max_(max) {}
  Status Write(std::string_view chunk) override {
    while (!chunk.empty()) {
      size_t nl = chunk.find('\n');
      if (nl == std::string_view::npos) {
        partial_.append(chunk);
        // A "line" beyond 16 MiB is searched in pieces: memory stays bounded.
        if (partial_.size() > (16u << 20)) STOPGAP_RETURN_IF_ERROR(Line(partial_));
        return Status::Ok();
      }
      if (partial_.empty()) {
        STOPGAP_RETURN_IF_ERROR(Line(chunk.substr(0, nl)));
      } else {
        partial_.append(chunk.substr(0, nl));
        STOPGAP_RETURN_IF_ERROR(Line(partial_));
      }
      chunk.remove_prefix(nl + 1);
    }
    return Flush();
  }
  Status Reset() override {
    // A retried download starts over: what was emitted cannot be taken back.
    if (emitted_) return Unavailable("download interrupted after matches were printed");
    partial_.clear();
    pending_.clear();
    found_ = 0;
    return Status::Ok();
  }
  Status Finish() {
    if (!partial_.empty()) STOPGAP_RETURN_IF_ERROR(Line(partial_));
    return Flush();
  }

 private:
  Status Line(std::string_view line) {
    std::string copy;
    if (line.data() == partial_.data()) {
      copy.swap(partial_);
      line = copy;
    }
    if (printer_.full()) return Enough();
    if (re_.Matches(line)) {
      pending_ += label_;
      pending_ += line;
      pending_ += '\n';
      ++found_;
      if (max_ >= 0 && static_cast<int64_t>(found_) >= max_) {
        STOPGAP_RETURN_IF_ERROR(Flush());
        return Enough();
      }
    }
    return Status::Ok();
  }
  Status Flush() {
    if (!pending_.empty()) {
      emitted_ = true;
      printer_.Emit(index_, std::move(pending_));
      pending_.clear();
    }
    return printer_.full() ? Enough() : Status::Ok();
  }

 public:
  // The transfer was cut short because -m was reached: not a failure.
  bool stopped() const { return stopped_; }

 private:
  Status Enough() {
    stopped_ = true;
    return ResourceExhausted("-m reached");
  }

  const Regex& re_;
  Printer& printer_;
  const size_t index_;
  const std::string label_;
  const int64_t max_;
  std::string partial_, pending_;
  uint64_t found_ = 0;
  bool emitted_ = false;
  bool stopped_ = false;
};

// Counts the compressed bytes on their way to the decompressor.
class CountingSink final : public net::ResponseSink {
 public:
  CountingSink(net::ResponseSink& next, std::atomic<uint64_t>& n) : next_(next), n_(n) {}
  Status Write(std::string_view chunk) override {
    n_ += chunk.size();
    return next_.Write(chunk);
  }
  Status Reset() override { return next_.Reset(); }

 private:
  net::ResponseSink& next_;
  std::atomic<uint64_t>& n_;
};

}  // namespace

Result<GrepReport> GrepArchive(ObjectStore& store, const std::vector<ArchivedLog>& logs,
                               const GrepOptions& options, std::FILE* out) {
  {
    Result<std::unique_ptr<Regex>> check = Regex::Compile(options);
    if (!check.ok()) return check.status();
  }
  Printer printer(logs.size(), options.max_count, out);
  std::atomic<size_t> next{0};
  std::atomic<uint64_t> searched{0}, bytes{0};
  std::atomic<int> failed{0};
  auto worker = [&] {
    Result<std::unique_ptr<Regex>> re = Regex::Compile(options);
    for (size_t i = next++; i < logs.size(); i = next++) {
      const ArchivedLog& log = logs[i];
      Status st;
      if (!printer.full()) {
        std::string name = log.path.substr(log.path.find_last_of('/') + 1);
        std::string comp(CompressionSuffix(name));
        LineSink lines(**re, printer, i, log.host + " " + log.path + ":", options.max_count);
        std::unique_ptr<internal::DecompressSink> unpack;
        if (!comp.empty()) {
          Result<std::unique_ptr<internal::DecompressSink>> d =
              internal::DecompressSink::Create(comp, lines);
          if (d.ok())
            unpack = std::move(*d);
          else
            st = d.status();
        }
        if (st.ok()) {
          net::ResponseSink& first = unpack ? static_cast<net::ResponseSink&>(*unpack)
                                            : static_cast<net::ResponseSink&>(lines);
          CountingSink counted(first, bytes);
          st = store.Download(log.object.key, counted);
          if (st.ok() && unpack) st = unpack->Finish();
          if (st.ok()) st = lines.Finish();
        }
        if (lines.stopped()) st = Status::Ok();
        if (st.ok()) {
          ++searched;
        } else {
          ++failed;
          Log(LogLevel::kError, "could not search an archived log",
              {{"object", store.Describe(log.object.key)}, {"error", st.ToString()}});
        }
      }
      printer.Done(i);
    }
  };
  int n = std::clamp<int>(options.parallel, 1, std::max<int>(1, static_cast<int>(logs.size())));
  std::vector<std::thread> threads;
  for (int i = 1; i < n; ++i) threads.emplace_back(worker);
  worker();
  for (auto& t : threads) t.join();
  std::fflush(out);
  GrepReport r;
  r.objects = searched;
  r.matches = printer.printed();
  r.compressed_bytes = bytes;
  r.failed = failed;
  return r;
}

}  // namespace stopgap::logship
