// StatsD load generator for bench/statsd.sh: sends counter lines
// "<name>:1|c", PER lines per datagram, over loopback with sendmmsg, paced to
// --rate metrics/s (0: as fast as possible) and bounded by --seconds. Names
// cycle through --names distinct ~64-byte names. Prints one JSON line.
// Single-threaded; pin it with taskset.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

static double Now() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

int main(int argc, char** argv) {
  std::string host = "127.0.0.1";
  int port = 8125;
  double rate = 0, seconds = 5;
  long names = 1000, per = 20;
  bool once = false;  // send every name once (per datagram: per names) and stop
  for (int i = 1; i + 1 < argc || (i < argc && std::strcmp(argv[i], "--once") == 0); i += 2) {
    std::string a = argv[i];
    if (a == "--once") {
      once = true;
      i -= 1;
      continue;
    }
    const char* v = argv[i + 1];
    if (a == "--port")
      port = std::atoi(v);
    else if (a == "--host")
      host = v;
    else if (a == "--rate")
      rate = std::atof(v);
    else if (a == "--seconds")
      seconds = std::atof(v);
    else if (a == "--names")
      names = std::atol(v);
    else if (a == "--per-packet")
      per = std::atol(v);
    else {
      std::fprintf(stderr, "unknown flag %s\n", a.c_str());
      return 2;
    }
  }
  if (seconds > 600) seconds = 600;  // every load loop is bounded
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  int sndbuf = 4 << 20;
  setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof sndbuf);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, host.c_str(), &addr.sin_addr);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    perror("connect");
    return 1;
  }
  // Pre-build every distinct datagram: packet k holds names k*per .. k*per+per-1 (mod names).
  long npk = (names + per - 1) / per;
  std::vector<std::string> packets(static_cast<size_t>(npk));
  std::vector<long> lines_in(static_cast<size_t>(npk), 0);
  char name[128];
  for (long k = 0; k < npk; ++k) {
    std::string& p = packets[static_cast<size_t>(k)];
    for (long j = 0; j < per; ++j) {
      long n = (k * per + j) % names;
      std::snprintf(name, sizeof name,
                    "bench.stopgap.load.generator.metric.name.padding.%010ld:1|c", n);
      if (k * per + j >= names && j > 0) break;  // the last datagram may be short
      if (j) p.push_back('\n');
      p += name;
      ++lines_in[static_cast<size_t>(k)];
    }
  }
  constexpr int kBatch = 32;
  mmsghdr msgs[kBatch];
  iovec iov[kBatch];
  long sent_packets = 0, failed = 0, metrics = 0;
  long idx = 0;
  const double start = Now();
  const double pkt_rate = rate / static_cast<double>(per);
  while (true) {
    double t = Now() - start;
    if (t >= seconds) break;
    if (once && sent_packets >= npk) break;
    long due = rate > 0 ? static_cast<long>(pkt_rate * t) + 1 : sent_packets + kBatch;
    if (sent_packets >= due) {
      timespec ts{0, 20000};
      nanosleep(&ts, nullptr);
      continue;
    }
    int n = static_cast<int>(std::min<long>(kBatch, due - sent_packets));
    if (once) n = static_cast<int>(std::min<long>(n, npk - sent_packets));
    for (int i = 0; i < n; ++i) {
      const std::string& p = packets[static_cast<size_t>((idx + i) % npk)];
      iov[i].iov_base = const_cast<char*>(p.data());
      iov[i].iov_len = p.size();
      std::memset(&msgs[i], 0, sizeof msgs[i]);
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    int r = sendmmsg(fd, msgs, static_cast<unsigned>(n), 0);
    if (r < 0) {
      ++failed;
      continue;
    }
    for (int i = 0; i < r; ++i) metrics += lines_in[static_cast<size_t>((idx + i) % npk)];
    sent_packets += r;
    idx = (idx + r) % npk;
  }
  double el = Now() - start;
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  const double cpu = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                     static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6;
  std::printf(
      "{\"packets\": %ld, \"metrics\": %ld, \"seconds\": %.3f, \"offered_per_s\": %.0f, "
      "\"send_errors\": %ld, \"cpu_s\": %.3f}\n",
      sent_packets, metrics, el, static_cast<double>(metrics) / el, failed, cpu);
  return 0;
}
