// HttpServer over Boost.Beast/Asio: the acceptor and one Session per
// connection (plain or TLS) run as async state machines on a few io threads;
// handlers run on a bounded thread pool and post their answer back.
//
// Threading: each Session's operations run on its own strand; the acceptor on
// another. Impl's connection registry (counts per address, live sessions) is
// guarded by Impl::mu. Stop() runs on the caller's thread and joins all.
#include "net/http_server.h"

#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <exception>
#include <future>
#include <limits>
#include <mutex>
#include <regex>
#include <thread>
#include <type_traits>
#include <unordered_map>

#include "core/log.h"

namespace stopgap::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

struct HttpResponder::State {
  explicit State(std::function<void(HttpServerResponse)> send) : send(std::move(send)) {}
  ~State() {
    if (!answered.exchange(true))
      send({500, "application/json", "{\"error\":\"no answer\"}\n", {}});
  }
  std::function<void(HttpServerResponse)> send;
  std::atomic<bool> answered{false};
};

void HttpResponder::operator()(HttpServerResponse response) const {
  if (state_ && !state_->answered.exchange(true)) state_->send(std::move(response));
}

// Shared by the handle (HttpStream) and its session. `post` hands bytes (or,
// with close=true, a close request) to the session's strand; it holds the
// session weakly, so a stream kept after its connection ended holds nothing.
struct HttpStream::State {
  std::function<void(std::string bytes, bool close)> post;
  std::atomic<bool> closed{false};
};

bool HttpStream::Write(std::string bytes) const {
  if (!state_ || state_->closed.load()) return false;
  state_->post(std::move(bytes), false);
  return !state_->closed.load();
}

void HttpStream::Close() const {
  if (state_ && !state_->closed.load()) state_->post({}, true);
}

bool HttpStream::closed() const { return !state_ || state_->closed.load(); }

namespace http_internal {

struct Route {
  std::string method, pattern;
  std::regex re;
  HttpAsyncHandler handler;
  HttpStreamHandler stream_handler;  // set: a streaming route (HandleStream)
  std::string stream_content_type;
  // The pattern's leading bytes that hold no regex syntax; `literal` when
  // that is the whole pattern (then no regex runs at all).
  std::string prefix;
  bool literal = false;
};

// A prefix every path the regex matches starts with: its leading bytes up to
// the first syntax char, less the byte a `?`, `*` or `{` makes optional; none
// when the pattern has an alternation anywhere.
std::string LiteralPrefix(std::string_view pattern) {
  if (pattern.find('|') != std::string_view::npos) return "";
  size_t n = pattern.find_first_of("\\^$.?*+()[]{}");
  if (n == std::string_view::npos) return std::string(pattern);
  if (n > 0 && (pattern[n] == '?' || pattern[n] == '*' || pattern[n] == '{')) --n;
  return std::string(pattern.substr(0, n));
}

std::string Str(beast::string_view v) { return std::string(v.data(), v.size()); }

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// %XX decoding; '+' is a space in a query component only.
std::string Decode(std::string_view in, bool plus_is_space) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%' && i + 2 < in.size() + 0 && HexValue(in[i + 1]) >= 0 && HexValue(in[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexValue(in[i + 1]) * 16 + HexValue(in[i + 2])));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

void ParseTarget(std::string_view target, HttpServerRequest& r) {
  size_t q = target.find('?');
  r.path = Decode(target.substr(0, q), false);
  if (q == std::string_view::npos) return;
  std::string_view rest = target.substr(q + 1);
  size_t hash = rest.find('#');
  if (hash != std::string_view::npos) rest = rest.substr(0, hash);
  while (!rest.empty()) {
    size_t amp = rest.find('&');
    std::string_view kv = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    if (kv.empty()) continue;
    size_t eq = kv.find('=');
    if (eq == std::string_view::npos) {
      r.query.emplace_back(Decode(kv, true), "");
    } else {
      r.query.emplace_back(Decode(kv.substr(0, eq), true), Decode(kv.substr(eq + 1), true));
    }
  }
}

HttpServerResponse ErrorResponse(int status, std::string_view reason) {
  return {status, "application/json", "{\"error\":\"" + std::string(reason) + "\"}\n", {}};
}

// ServerCore::ExamineHeader's answer: what the connection does next.
struct HeadVerdict {
  enum Next {
    kClose,     // close without an answer (the client left, a timeout)
    kRefuse,    // answer `response` and close; the body is never read
    kNotFound,  // answer 404; with a body, close after it (unread)
    kDispatch,  // no body: run the handler
    kReadBody,  // read the body (after a 100 Continue when expect_continue)
  };
  Next next = kClose;
  HttpServerResponse response;  // kRefuse, kNotFound
  bool keep_alive = false;      // what the client asked for
  bool has_body = false;
  bool expect_continue = false;
};

// What the acceptor and Stop() need of a connection, whatever its stream.
class SessionBase {
 public:
  virtual ~SessionBase() = default;
  // Posted to the session's strand: close now if idle or still in headers;
  // otherwise close after the current answer.
  virtual void Shutdown() = 0;
};

// The server's state shared by the acceptor and the sessions (HttpServer::Impl
// is private to HttpServer; this is what it is made of).
struct ServerCore {
  HttpServerOptions opts;
  std::vector<Route> routes;
  std::string route_error;  // first bad pattern, reported by Start()
  HttpPreBodyCheck gate;

  // Declared before the io_context: sessions it still owns at destruction
  // release themselves here.
  std::mutex mu;
  std::condition_variable cv;
  std::unordered_map<std::string, size_t> per_address;
  std::unordered_map<uint64_t, std::weak_ptr<SessionBase>> sessions;
  uint64_t next_session = 0;

  asio::io_context ioc;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::optional<asio::ssl::context> ssl;
  std::optional<tcp::acceptor> acceptor;
  std::optional<asio::steady_timer> accept_retry;
  std::optional<asio::thread_pool> pool;
  std::vector<std::thread> io_threads;
  std::atomic<bool> stopping{false};
  bool started = false;

  void DoAccept();
  void OnAccept(beast::error_code ec, tcp::socket socket);
  // Registers a connection under the caps; false: over a cap.
  bool Admit(const std::string& addr, uint64_t* id);
  void Release(const std::string& addr, uint64_t id);
  const Route* Match(const std::string& method, const std::string& path,
                     std::vector<std::string>* params, bool* path_known) const;
  // A header parser with the header and body caps of opts.
  void LimitParser(bhttp::request_parser<bhttp::empty_body>& p) const;
  // What a connection does once async_read_header finished with `ec`: the
  // caps, Content-Encoding and Transfer-Encoding refusals, routing and the
  // pre-body check, all before any body byte is read. Fills *request and
  // *route (a routed request).
  HeadVerdict ExamineHeader(beast::error_code ec, const bhttp::request_parser<bhttp::empty_body>& p,
                            const std::string& addr, HttpServerRequest* request,
                            const Route** route) const;
};

// The same after the body was read (async_read finished with `ec`): nullopt
// to dispatch; a refusal; or *close to close without an answer.
std::optional<HttpServerResponse> ExamineBody(beast::error_code ec, bool* close) {
  *close = false;
  if (ec == bhttp::error::body_limit) return ErrorResponse(413, "request body too large");
  if (ec == beast::error::timeout || ec == asio::error::operation_aborted ||
      ec == bhttp::error::end_of_stream || ec == asio::error::eof ||
      ec == asio::error::connection_reset || ec == bhttp::error::partial_message) {
    *close = true;
    return std::nullopt;
  }
  if (ec) return ErrorResponse(400, "bad request");
  return std::nullopt;
}

namespace {

template <class Stream>
class Session : public SessionBase, public std::enable_shared_from_this<Session<Stream>> {
 public:
  Session(ServerCore& s, Stream&& stream, std::string addr, uint64_t id)
      : s_(s), stream_(std::move(stream)), addr_(std::move(addr)), id_(id) {}
  ~Session() override { s_.Release(addr_, id_); }

  void Start() {
    asio::dispatch(stream_.get_executor(), [self = this->shared_from_this()] { self->Begin(); });
  }

  void Shutdown() override {
    asio::post(stream_.get_executor(), [self = this->shared_from_this()] {
      self->shutdown_ = true;
      if (self->phase_ == Phase::kIdle || self->phase_ == Phase::kHeader ||
          self->phase_ == Phase::kDrain || self->phase_ == Phase::kStream) {
        self->CloseNow();
      }
    });
  }

 private:
  enum class Phase { kIdle, kHeader, kBody, kHandler, kWrite, kDrain, kStream, kClosed };
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;

  beast::tcp_stream& Tcp() { return beast::get_lowest_layer(stream_); }
  bool Stopping() const { return shutdown_ || s_.stopping.load(); }

  void Begin() {
    start_ = Clock::now();
    if constexpr (kTls) {
      Tcp().expires_after(s_.opts.header_timeout);
      stream_.async_handshake(asio::ssl::stream_base::server,
                              [self = this->shared_from_this()](beast::error_code ec) {
                                if (ec) return self->CloseNow();
                                self->ReadHeader();
                              });
    } else {
      ReadHeader();
    }
  }

  // Between requests on a kept-alive connection: wait for the next request's
  // first byte for keep_alive_timeout; its header deadline starts then.
  void WaitNext() {
    if (Stopping()) return CloseNow();
    if (buffer_.size() > 0) {
      start_ = Clock::now();
      return ReadHeader();
    }
    phase_ = Phase::kIdle;
    Tcp().expires_after(s_.opts.keep_alive_timeout);
    stream_.async_read_some(buffer_.prepare(4096),
                            [self = this->shared_from_this()](beast::error_code ec, size_t n) {
                              if (ec || n == 0) return self->CloseNow();
                              self->buffer_.commit(n);
                              self->start_ = Clock::now();
                              self->ReadHeader();
                            });
  }

  void ReadHeader() {
    phase_ = Phase::kHeader;
    header_parser_.emplace();
    s_.LimitParser(*header_parser_);
    Tcp().expires_at(start_ + std::min(s_.opts.header_timeout, s_.opts.request_timeout));
    bhttp::async_read_header(
        stream_, buffer_, *header_parser_,
        [self = this->shared_from_this()](beast::error_code ec, size_t) { self->OnHeader(ec); });
  }

  void OnHeader(beast::error_code ec) {
    if (phase_ == Phase::kClosed) return CloseNow();
    HeadVerdict v = s_.ExamineHeader(ec, *header_parser_, addr_, &request_, &route_);
    keep_alive_ = v.keep_alive;
    switch (v.next) {
      case HeadVerdict::kClose:
        return CloseNow();
      case HeadVerdict::kRefuse:
        return Refuse(std::move(v.response));
      case HeadVerdict::kNotFound:
        // Unread body: answer and close rather than read it for nothing.
        if (v.has_body) keep_alive_ = false;
        return Answer(std::move(v.response), v.has_body);
      case HeadVerdict::kDispatch:
        return Dispatch();
      case HeadVerdict::kReadBody:
        break;
    }
    if (v.expect_continue) {
      phase_ = Phase::kBody;
      Tcp().expires_at(start_ + s_.opts.request_timeout);
      static const char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";
      return asio::async_write(stream_, asio::buffer(kContinue, sizeof kContinue - 1),
                               [self = this->shared_from_this()](beast::error_code ec, size_t) {
                                 if (ec) return self->CloseNow();
                                 self->ReadBody();
                               });
    }
    ReadBody();
  }

  void ReadBody() {
    phase_ = Phase::kBody;
    body_parser_.emplace(std::move(*header_parser_));
    header_parser_.reset();
    body_parser_->body_limit(s_.opts.max_body_bytes);
    Tcp().expires_at(start_ + s_.opts.request_timeout);
    bhttp::async_read(
        stream_, buffer_, *body_parser_,
        [self = this->shared_from_this()](beast::error_code ec, size_t) { self->OnBody(ec); });
  }

  void OnBody(beast::error_code ec) {
    if (phase_ == Phase::kClosed) return CloseNow();
    bool close = false;
    if (std::optional<HttpServerResponse> refusal = ExamineBody(ec, &close)) {
      return Refuse(std::move(*refusal));
    }
    if (close) return CloseNow();
    request_.body = body_parser_->release().body();
    body_parser_.reset();
    Dispatch();
  }

  void Dispatch() {
    phase_ = Phase::kHandler;
    header_parser_.reset();
    Tcp().expires_never();
    if (route_->stream_handler) return DispatchStream();
    auto run = [self = this->shared_from_this()] {
      HttpResponder respond(std::make_shared<HttpResponder::State>([self](HttpServerResponse r) {
        asio::post(self->stream_.get_executor(),
                   [self, r = std::move(r)]() mutable { self->Answer(std::move(r), false); });
      }));
      try {
        self->route_->handler(self->request_, respond);
      } catch (const std::exception& e) {
        Log(LogLevel::kError, "http handler threw",
            {{"path", self->request_.path}, {"error", e.what()}});
        respond(ErrorResponse(500, "internal error"));
      } catch (...) {
        respond(ErrorResponse(500, "internal error"));
      }
    };
    asio::post(*s_.pool, std::move(run));
  }

  // A streaming route: the handler runs on the pool; its writes queue on this
  // strand until the head is out. Timers: none while idle (the client may
  // listen for hours); each write must finish within write_timeout.
  void DispatchStream() {
    std::weak_ptr<Session> weak = this->shared_from_this();
    stream_state_ = std::make_shared<HttpStream::State>();
    stream_state_->post = [weak](std::string bytes, bool close) {
      if (auto self = weak.lock()) {
        asio::post(self->stream_.get_executor(), [self, bytes = std::move(bytes), close]() mutable {
          self->QueueChunk(std::move(bytes), close);
        });
      }
    };
    auto run = [self = this->shared_from_this(), stream = HttpStream(stream_state_)] {
      std::optional<HttpServerResponse> answer;
      try {
        answer = self->route_->stream_handler(self->request_, stream);
      } catch (const std::exception& e) {
        Log(LogLevel::kError, "http stream handler threw",
            {{"path", self->request_.path}, {"error", e.what()}});
        answer = ErrorResponse(500, "internal error");
      } catch (...) {
        answer = ErrorResponse(500, "internal error");
      }
      asio::post(self->stream_.get_executor(), [self, answer = std::move(answer)]() mutable {
        self->StartStream(std::move(answer));
      });
    };
    asio::post(*s_.pool, std::move(run));
  }

  void StartStream(std::optional<HttpServerResponse> answer) {
    if (phase_ == Phase::kClosed) return;
    if (answer || Stopping()) {
      stream_state_->closed = true;
      chunks_.clear();
      keep_alive_ = false;
      return Answer(answer ? std::move(*answer) : ErrorResponse(503, "shutting down"), false);
    }
    phase_ = Phase::kStream;
    std::string head = "HTTP/1.1 200 OK\r\nContent-Type: " + route_->stream_content_type +
                       "\r\nCache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n"
                       "Connection: close\r\n\r\n";
    queued_ += head.size();
    chunks_.push_front(std::move(head));
    write_timer_.emplace(stream_.get_executor());
    WatchForClose();
    WriteNextChunk();
  }

  void QueueChunk(std::string bytes, bool close) {
    if (phase_ == Phase::kClosed) return;
    if (close) {
      close_after_ = true;
    } else {
      queued_ += bytes.size();
      chunks_.push_back(std::move(bytes));
      if (queued_ > s_.opts.max_stream_buffer_bytes) return CloseNow();  // a client not reading
    }
    if (phase_ == Phase::kStream && !writing_) WriteNextChunk();
  }

  void WriteNextChunk() {
    if (chunks_.empty()) {
      if (close_after_) CloseNow();
      return;
    }
    writing_ = true;
    write_timer_->expires_after(s_.opts.write_timeout);
    write_timer_->async_wait([self = this->shared_from_this()](beast::error_code ec) {
      if (!ec && self->writing_) self->CloseNow();  // the write took too long
    });
    asio::async_write(stream_, asio::buffer(chunks_.front()),
                      [self = this->shared_from_this()](beast::error_code ec, size_t) {
                        self->writing_ = false;
                        self->write_timer_->cancel();
                        if (ec || self->phase_ == Phase::kClosed) return self->CloseNow();
                        self->queued_ -= self->chunks_.front().size();
                        self->chunks_.pop_front();
                        self->WriteNextChunk();
                      });
  }

  // Reads (and discards, bounded) what a streaming client sends, to notice it
  // leaving at once.
  void WatchForClose() {
    stream_.async_read_some(asio::buffer(drain_buf_),
                            [self = this->shared_from_this()](beast::error_code ec, size_t n) {
                              self->drained_ += n;
                              if (ec || self->drained_ >= kMaxDrain) return self->CloseNow();
                              self->WatchForClose();
                            });
  }

  // Answers a request whose body was not read (or not fully): the connection
  // closes after the answer.
  void Refuse(HttpServerResponse r) {
    keep_alive_ = false;
    Answer(std::move(r), true);
  }

  void Answer(HttpServerResponse r, bool unread_body) {
    if (phase_ == Phase::kClosed) return;
    phase_ = Phase::kWrite;
    ++served_;
    bool keep =
        keep_alive_ && !unread_body && !Stopping() && served_ < s_.opts.keep_alive_max_requests;
    response_.emplace();
    response_->version(11);
    response_->result(static_cast<unsigned>(r.status));
    for (auto& [k, v] : r.headers) response_->set(k, v);
    response_->set(bhttp::field::content_type, r.content_type);
    response_->body() = std::move(r.body);
    response_->keep_alive(keep);
    response_->prepare_payload();
    Tcp().expires_after(s_.opts.write_timeout);
    bhttp::async_write(
        stream_, *response_,
        [self = this->shared_from_this(), keep, unread_body](beast::error_code ec, size_t) {
          self->response_.reset();
          if (ec) return self->CloseNow();
          if (!keep) return unread_body ? self->Linger() : self->CloseNow();
          self->request_ = HttpServerRequest();
          self->WaitNext();
        });
  }

  // After refusing a request whose body is still arriving: send FIN, then
  // read and discard a little for a short while so the client's kernel does
  // not get a reset before its application has read the answer. Bounded in
  // bytes and time; nothing is kept.
  void Linger() {
    if constexpr (kTls) {
      return CloseNow();
    } else {
      beast::error_code ignored;
      Tcp().socket().shutdown(tcp::socket::shutdown_send, ignored);
      phase_ = Phase::kDrain;
      if (Stopping()) return CloseNow();
      buffer_.clear();
      Tcp().expires_after(std::chrono::milliseconds(500));
      Drain();
    }
  }

  void Drain() {
    stream_.async_read_some(asio::buffer(drain_buf_),
                            [self = this->shared_from_this()](beast::error_code ec, size_t n) {
                              self->drained_ += n;
                              if (ec || self->drained_ >= kMaxDrain) return self->CloseNow();
                              self->Drain();
                            });
  }

  void CloseNow() {
    if (stream_state_) stream_state_->closed = true;
    if (phase_ == Phase::kClosed) return;
    phase_ = Phase::kClosed;
    if (write_timer_) write_timer_->cancel();
    beast::error_code ignored;
    Tcp().socket().shutdown(tcp::socket::shutdown_both, ignored);
    Tcp().close();
  }

  static constexpr size_t kMaxDrain = 64 << 10;

  ServerCore& s_;
  Stream stream_;
  std::string addr_;
  uint64_t id_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::empty_body>> header_parser_;
  std::optional<bhttp::request_parser<bhttp::string_body>> body_parser_;
  std::optional<bhttp::response<bhttp::string_body>> response_;
  HttpServerRequest request_;
  const Route* route_ = nullptr;
  Phase phase_ = Phase::kHeader;
  Clock::time_point start_;
  bool keep_alive_ = true;
  bool shutdown_ = false;
  size_t served_ = 0;
  size_t drained_ = 0;
  std::array<char, 4096> drain_buf_;
  // Streaming (HandleStream) only.
  std::shared_ptr<HttpStream::State> stream_state_;
  std::deque<std::string> chunks_;  // the front one is being written when writing_
  size_t queued_ = 0;               // bytes in chunks_
  bool writing_ = false;
  bool close_after_ = false;
  std::optional<asio::steady_timer> write_timer_;
};

}  // namespace

bool ServerCore::Admit(const std::string& addr, uint64_t* id) {
  std::lock_guard<std::mutex> l(mu);
  if (sessions.size() >= opts.max_connections) return false;
  size_t& n = per_address[addr];
  if (n >= opts.max_connections_per_address) {
    if (n == 0) per_address.erase(addr);
    return false;
  }
  ++n;
  *id = ++next_session;
  sessions[*id];  // filled in once the session exists
  return true;
}

void ServerCore::Release(const std::string& addr, uint64_t id) {
  std::lock_guard<std::mutex> l(mu);
  sessions.erase(id);
  auto it = per_address.find(addr);
  if (it != per_address.end() && --it->second == 0) per_address.erase(it);
  if (sessions.empty()) cv.notify_all();
}

const Route* ServerCore::Match(const std::string& method, const std::string& path,
                               std::vector<std::string>* params, bool* path_known) const {
  for (const Route& r : routes) {
    if (r.literal) {
      if (path != r.prefix) continue;
      *path_known = true;
      if (r.method != method) continue;
      params->clear();
      return &r;
    }
    if (path.compare(0, r.prefix.size(), r.prefix) != 0) continue;
    std::smatch m;
    if (!std::regex_match(path, m, r.re)) continue;
    *path_known = true;
    if (r.method != method) continue;
    params->clear();
    for (size_t i = 1; i < m.size(); ++i) params->push_back(m[i].str());
    return &r;
  }
  return nullptr;
}

void ServerCore::LimitParser(bhttp::request_parser<bhttp::empty_body>& p) const {
  p.header_limit(static_cast<uint32_t>(
      std::min<size_t>(opts.max_header_bytes, std::numeric_limits<uint32_t>::max())));
  p.body_limit(opts.max_body_bytes);
}

HeadVerdict ServerCore::ExamineHeader(beast::error_code ec,
                                      const bhttp::request_parser<bhttp::empty_body>& p,
                                      const std::string& addr, HttpServerRequest* request,
                                      const Route** route) const {
  HeadVerdict v;
  auto refuse = [&v](int status, std::string_view reason) {
    v.next = HeadVerdict::kRefuse;
    v.response = ErrorResponse(status, reason);
    return v;
  };
  if (ec == bhttp::error::header_limit || ec == bhttp::error::buffer_overflow) {
    return refuse(431, "request header fields too large");
  }
  if (ec == bhttp::error::body_limit) return refuse(413, "request body too large");
  if (ec == bhttp::error::end_of_stream || ec == asio::error::eof || ec == beast::error::timeout ||
      ec == asio::error::operation_aborted || ec == asio::error::connection_reset ||
      ec == bhttp::error::partial_message) {
    return v;  // kClose
  }
  if (ec) return refuse(400, "bad request");

  const auto& h = p.get();
  size_t count = 0;
  for (auto it = h.begin(); it != h.end(); ++it) ++count;
  if (count > opts.max_header_count) return refuse(431, "too many request header fields");
  v.keep_alive = h.keep_alive();
  HttpServerRequest& r = *request;
  r = HttpServerRequest();
  r.method = Str(h.method_string());
  ParseTarget(std::string_view(h.target().data(), h.target().size()), r);
  r.headers.reserve(count);
  for (const auto& f : h) r.headers.emplace_back(Str(f.name_string()), Str(f.value()));
  r.remote_addr = addr;
  r.received = std::chrono::steady_clock::now();
  v.has_body = !p.is_done();

  // Nothing here inflates a body, so a compressed one could only be a bomb
  // for whoever does later: refuse any coding, content or transfer.
  if (v.has_body && !r.Header("Content-Encoding").empty()) {
    return refuse(415, "Content-Encoding is not accepted on request bodies");
  }
  if (std::string te = r.Header("Transfer-Encoding");
      !te.empty() && !beast::iequals(te, "chunked")) {
    return refuse(415, "only Transfer-Encoding: chunked is accepted");
  }
  bool path_known = false;
  *route = Match(r.method, r.path, &r.path_params, &path_known);
  if (*route == nullptr) {
    v.next = HeadVerdict::kNotFound;
    v.response = ErrorResponse(404, "not found");
    return v;
  }
  if (gate) {
    std::optional<HttpServerResponse> refusal;
    try {
      refusal = gate(r);
    } catch (const std::exception& e) {
      Log(LogLevel::kError, "http pre-body check threw", {{"path", r.path}, {"error", e.what()}});
      refusal = ErrorResponse(500, "internal error");
    }
    if (refusal) {
      v.next = HeadVerdict::kRefuse;
      v.response = std::move(*refusal);
      return v;
    }
    r.pre_checked = true;
  }
  if (!v.has_body) {
    v.next = HeadVerdict::kDispatch;
    return v;
  }
  v.next = HeadVerdict::kReadBody;
  v.expect_continue = beast::iequals(h[bhttp::field::expect], "100-continue");
  return v;
}

void ServerCore::DoAccept() {
  acceptor->async_accept(asio::make_strand(ioc), [this](beast::error_code ec, tcp::socket s) {
    OnAccept(ec, std::move(s));
  });
}

void ServerCore::OnAccept(beast::error_code ec, tcp::socket socket) {
  if (stopping.load() || ec == asio::error::operation_aborted) return;
  if (ec) {
    // Out of descriptors (EMFILE/ENFILE) or a transient error: back off
    // briefly instead of spinning on the pending connection.
    Log(LogLevel::kWarn, "http accept failed", {{"error", ec.message()}});
    accept_retry->expires_after(std::chrono::milliseconds(50));
    accept_retry->async_wait([this](beast::error_code e) {
      if (!e && !stopping.load()) DoAccept();
    });
    return;
  }
  beast::error_code ignored;
  std::string addr = socket.remote_endpoint(ignored).address().to_string(ignored);
  uint64_t id = 0;
  if (!Admit(addr, &id)) {
    if (!ssl) {
      static const char k503[] =
          "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
          "Content-Length: 32\r\nConnection: close\r\n\r\n{\"error\":\"too many connections\"}";
      (void)::send(socket.native_handle(), k503, sizeof k503 - 1, MSG_DONTWAIT | MSG_NOSIGNAL);
    }
    socket.close(ignored);
    return DoAccept();
  }
  socket.set_option(tcp::no_delay(true), ignored);
  std::shared_ptr<SessionBase> base;
  if (ssl) {
    auto s = std::make_shared<Session<beast::ssl_stream<beast::tcp_stream>>>(
        *this, beast::ssl_stream<beast::tcp_stream>(std::move(socket), *ssl), addr, id);
    base = s;
    {
      std::lock_guard<std::mutex> l(mu);
      sessions[id] = base;
    }
    s->Start();
  } else {
    auto s = std::make_shared<Session<beast::tcp_stream>>(
        *this, beast::tcp_stream(std::move(socket)), addr, id);
    base = s;
    {
      std::lock_guard<std::mutex> l(mu);
      sessions[id] = base;
    }
    s->Start();
  }
  DoAccept();
}

}  // namespace http_internal

struct HttpServer::Impl : http_internal::ServerCore {};

std::string HttpServerRequest::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k.size() == name.size() && strncasecmp(k.data(), name.data(), k.size()) == 0) return v;
  }
  return "";
}

std::string HttpServerRequest::Query(std::string_view name) const {
  for (const auto& [k, v] : query) {
    if (k == name) return v;
  }
  return "";
}

bool HttpServerRequest::HasQuery(std::string_view name) const {
  for (const auto& kv : query) {
    if (kv.first == name) return true;
  }
  return false;
}

Result<std::pair<std::string, int>> SplitHostPort(std::string_view listen) {
  auto bad = [&](std::string_view why) {
    return InvalidArgument("listen address '" + std::string(listen) + "': " + std::string(why));
  };
  size_t colon = listen.rfind(':');
  if (colon == std::string_view::npos) return bad("expected host:port");
  std::string_view host = listen.substr(0, colon);
  std::string_view port_text = listen.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string_view::npos) {
    return bad("IPv6 hosts need brackets: [::1]:9470");
  }
  if (host.empty()) return bad("missing host");
  int port = -1;
  auto [p, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || p != port_text.data() + port_text.size() || port < 0 || port > 65535) {
    return bad("port must be 0..65535");
  }
  return std::make_pair(std::string(host), port);
}

HttpServer::HttpServer(HttpServerOptions options)
    : options_(std::move(options)), impl_(std::make_unique<Impl>()) {
  impl_->opts = options_;  // ServeBytes() runs without Start()
}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::Handle(std::string_view method, std::string pattern, HttpHandler handler) {
  HandleAsync(method, std::move(pattern),
              [handler = std::move(handler)](const HttpServerRequest& r, HttpResponder respond) {
                respond(handler(r));
              });
}

void HttpServer::HandleAsync(std::string_view method, std::string pattern,
                             HttpAsyncHandler handler) {
  http_internal::Route r{std::string(method), pattern, {}, std::move(handler), {}, {}, {}, false};
  r.prefix = http_internal::LiteralPrefix(pattern);
  r.literal = r.prefix == pattern;
  try {
    r.re = std::regex(pattern, std::regex::ECMAScript);
  } catch (const std::regex_error& e) {
    if (impl_->route_error.empty()) {
      impl_->route_error = "bad route pattern '" + pattern + "': " + e.what();
    }
    return;
  }
  if (r.method != "GET" && r.method != "POST" && r.method != "PUT" && r.method != "DELETE" &&
      impl_->route_error.empty()) {
    impl_->route_error = "unsupported HTTP method " + r.method;
  }
  impl_->routes.push_back(std::move(r));
}

void HttpServer::HandleStream(std::string pattern, std::string content_type,
                              HttpStreamHandler handler) {
  const size_t before = impl_->routes.size();
  HandleAsync("GET", std::move(pattern), nullptr);
  if (impl_->routes.size() == before) return;  // a bad pattern: Start() reports it
  impl_->routes.back().stream_handler = std::move(handler);
  impl_->routes.back().stream_content_type = std::move(content_type);
}

void HttpServer::SetPreBodyCheck(HttpPreBodyCheck check) { impl_->gate = std::move(check); }

std::vector<int> HttpServer::ServeBytes(std::string_view bytes) {
  using http_internal::HeadVerdict;
  const http_internal::ServerCore& core = *impl_;
  std::vector<int> statuses;
  size_t served = 0;
  // Offers the rest of the input to `parser` until done(parser), as a
  // connection's reads do; when it needs more than is left: the client's FIN.
  auto feed = [&bytes](auto& parser, auto done, beast::error_code& ec) {
    while (!done(parser)) {
      size_t n = parser.put(asio::buffer(bytes.data(), bytes.size()), ec);
      bytes.remove_prefix(n);
      if (ec == bhttp::error::need_more) {
        ec = {};
      } else if (ec) {
        return;
      }
      if (done(parser)) return;
      if (n > 0 && !bytes.empty()) continue;
      if (!parser.got_some()) {
        ec = bhttp::error::end_of_stream;
        return;
      }
      parser.put_eof(ec);
      if (!ec && !done(parser)) ec = bhttp::error::partial_message;
      return;
    }
  };
  // One request per turn, as a kept-alive connection reads them.
  while (!bytes.empty()) {
    bhttp::request_parser<bhttp::empty_body> header;
    core.LimitParser(header);
    beast::error_code ec;
    feed(
        header, [](const auto& p) { return p.is_header_done(); }, ec);
    HttpServerRequest request;
    const http_internal::Route* route = nullptr;
    HeadVerdict v = core.ExamineHeader(ec, header, "127.0.0.1", &request, &route);
    HttpServerResponse answer;
    bool keep = v.keep_alive;
    switch (v.next) {
      case HeadVerdict::kClose:
        return statuses;
      case HeadVerdict::kRefuse:
        statuses.push_back(v.response.status);
        return statuses;
      case HeadVerdict::kNotFound:
        statuses.push_back(v.response.status);
        if (v.has_body) return statuses;
        ++served;
        if (!keep || served >= options_.keep_alive_max_requests) return statuses;
        continue;
      case HeadVerdict::kDispatch:
      case HeadVerdict::kReadBody:
        break;
    }
    if (v.next == HeadVerdict::kReadBody) {
      if (v.expect_continue) statuses.push_back(100);
      bhttp::request_parser<bhttp::string_body> body(std::move(header));
      body.body_limit(options_.max_body_bytes);
      body.eager(true);
      ec = {};
      feed(
          body, [](const auto& p) { return p.is_done(); }, ec);
      bool close = false;
      if (std::optional<HttpServerResponse> refusal = http_internal::ExamineBody(ec, &close)) {
        statuses.push_back(refusal->status);
        return statuses;
      }
      if (close) return statuses;
      request.body = body.release().body();
    }
    if (route->stream_handler) {
      // A stream answers once and keeps the connection: nothing after it is read.
      std::optional<HttpServerResponse> r =
          route->stream_handler(request, HttpStream(std::make_shared<HttpStream::State>()));
      statuses.push_back(r ? r->status : 200);
      return statuses;
    }
    {
      HttpResponder respond(std::make_shared<HttpResponder::State>(
          [&answer](HttpServerResponse r) { answer = std::move(r); }));
      try {
        route->handler(request, respond);
      } catch (...) {
        respond(http_internal::ErrorResponse(500, "internal error"));
      }
    }  // an unanswered responder answers 500 here
    statuses.push_back(answer.status);
    ++served;
    if (!keep || served >= options_.keep_alive_max_requests) return statuses;
  }
  return statuses;
}

bool HttpServer::tls() const {
  return !options_.tls_cert_file.empty() && !options_.tls_key_file.empty();
}

Status HttpServer::Start() {
  Impl& im = *impl_;
  if (im.started) return FailedPrecondition("http server already started");
  if (!im.route_error.empty()) return InvalidArgument(im.route_error);
  auto hp = SplitHostPort(options_.listen);
  if (!hp.ok()) return hp.status();
  if (options_.tls_cert_file.empty() != options_.tls_key_file.empty()) {
    return InvalidArgument("TLS needs both a certificate and a key file");
  }
  im.opts = options_;
  if (tls()) {
    im.ssl.emplace(asio::ssl::context::tls_server);
    im.ssl->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                        asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                        asio::ssl::context::no_tlsv1_1);
    beast::error_code ec;
    im.ssl->use_certificate_chain_file(options_.tls_cert_file, ec);
    if (!ec) im.ssl->use_private_key_file(options_.tls_key_file, asio::ssl::context::pem, ec);
    if (ec) {
      im.ssl.reset();
      return InvalidArgument("cannot load TLS certificate '" + options_.tls_cert_file +
                             "' / key '" + options_.tls_key_file + "': " + ec.message());
    }
  }
  const auto& [host, port] = *hp;
  beast::error_code ec;
  auto address = asio::ip::make_address(host, ec);
  if (ec) {
    // A name ("localhost"): resolve it once.
    tcp::resolver resolver(im.ioc);
    auto results = resolver.resolve(host, std::to_string(port), ec);
    if (ec || results.empty()) {
      return InvalidArgument("listen address '" + options_.listen + "': cannot resolve host");
    }
    address = results.begin()->endpoint().address();
  }
  tcp::endpoint endpoint(address, static_cast<unsigned short>(port));
  im.ioc.restart();
  im.acceptor.emplace(asio::make_strand(im.ioc));
  // SO_REUSEADDR only: SO_REUSEPORT would let a second daemon bind the same
  // port and silently take half the alerts.
  im.acceptor->open(endpoint.protocol(), ec);
  if (!ec) im.acceptor->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) im.acceptor->bind(endpoint, ec);
  if (ec) {
    im.acceptor.reset();
    return Unavailable("cannot bind " + options_.listen + " (" + ec.message() +
                       "; address in use or not local?)");
  }
  im.acceptor->listen(options_.listen_backlog, ec);
  if (ec) {
    im.acceptor.reset();
    return Unavailable("listen " + options_.listen + ": " + ec.message());
  }
  port_ = im.acceptor->local_endpoint().port();
  // Each connection holds a descriptor: let the process hold as many as the
  // hard limit allows, up to what the connection cap needs.
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
    rlim_t want = std::min<rlim_t>(rl.rlim_max, options_.max_connections + 1024);
    if (want > rl.rlim_cur) {
      rl.rlim_cur = want;
      (void)setrlimit(RLIMIT_NOFILE, &rl);
    }
  }
  im.accept_retry.emplace(im.acceptor->get_executor());
  im.pool.emplace(static_cast<size_t>(std::max(1, options_.handler_threads)));
  im.work.emplace(asio::make_work_guard(im.ioc));
  im.stopping = false;
  im.started = true;
  asio::post(im.acceptor->get_executor(), [&im] { im.DoAccept(); });
  int threads = std::max(1, options_.threads);
  for (int i = 0; i < threads; ++i) im.io_threads.emplace_back([&im] { im.ioc.run(); });
  return Status::Ok();
}

void HttpServer::Stop() {
  if (!impl_ || !impl_->started) return;
  Impl& im = *impl_;
  im.stopping = true;
  // Close the listener on the io threads (the acceptor is not thread-safe)
  // and wait until it is closed: a connect after Stop() must be refused.
  {
    std::promise<void> closed;
    asio::post(im.acceptor->get_executor(), [&im, &closed] {
      beast::error_code ignored;
      im.acceptor->close(ignored);
      im.accept_retry->cancel();
      closed.set_value();
    });
    closed.get_future().wait();
  }
  std::vector<std::shared_ptr<http_internal::SessionBase>> live;
  {
    std::lock_guard<std::mutex> l(im.mu);
    for (auto& [id, w] : im.sessions) {
      if (auto s = w.lock()) live.push_back(std::move(s));
    }
  }
  for (auto& s : live) s->Shutdown();
  live.clear();
  // Requests being read or handled finish (bounded by their deadlines).
  {
    std::unique_lock<std::mutex> l(im.mu);
    im.cv.wait_for(l, options_.request_timeout + options_.write_timeout + std::chrono::seconds(1),
                   [&im] { return im.sessions.empty(); });
  }
  im.pool->join();
  im.work.reset();
  im.ioc.stop();
  for (auto& t : im.io_threads) t.join();
  im.io_threads.clear();
  im.acceptor.reset();
  im.pool.reset();
  im.started = false;
}

}  // namespace stopgap::net
