// StatsD load generator for bench/statsd.sh: sends counter lines
// "<name>:1|c", PER lines per datagram, over loopback with sendmmsg, paced to
// --rate metrics/s (0: as fast as possible) and bounded by --seconds. Names
// cycle through --names distinct ~64-byte names (--varied-names: 61 to 84
// bytes a line). Prints one JSON line. Single-threaded; pin it with taskset.
// --gso: runs of datagrams go as one UDP GSO message each (up to 64 datagrams
// or 64 KB), 8 messages a sendmmsg, so that one core can offer > 5 M
// metrics/s; the kernel cuts them back into the same datagrams (a receiver
// without UDP_GRO gets them one by one). With --varied-names the datagrams are
// padded with '\n' to one length (StatsD receivers skip empty lines).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
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
  bool gso = false, varied = false;
  auto is_flag = [](const char* a) {
    return std::strcmp(a, "--once") == 0 || std::strcmp(a, "--gso") == 0 ||
           std::strcmp(a, "--varied-names") == 0;
  };
  for (int i = 1; i + 1 < argc || (i < argc && is_flag(argv[i])); i += 2) {
    std::string a = argv[i];
    if (is_flag(argv[i])) {
      once |= a == "--once";
      gso |= a == "--gso";
      varied |= a == "--varied-names";
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
  char name[160];
  for (long k = 0; k < npk; ++k) {
    std::string& p = packets[static_cast<size_t>(k)];
    for (long j = 0; j < per; ++j) {
      long n = (k * per + j) % names;
      std::snprintf(name, sizeof name,
                    "bench.stopgap.load.generator.metric.name.padding.%010ld%.*s:1|c", n,
                    varied ? static_cast<int>(n * 7919 % 24) : 0, "xxxxxxxxxxxxxxxxxxxxxxxxxxx");
      if (k * per + j >= names && j > 0) break;  // the last datagram may be short
      if (j) p.push_back('\n');
      p += name;
      ++lines_in[static_cast<size_t>(k)];
    }
  }
  size_t longest = 0;
  for (const std::string& p : packets) longest = std::max(longest, p.size());
  if (gso && varied) {
    for (std::string& p : packets) p.resize(longest, '\n');
  }
  // Datagrams a GSO message: equal lengths (padded above), <= 64 and <= 64 KB.
  const long per_msg =
      gso ? std::max<long>(1, std::min<long>(64, 65507 / static_cast<long>(longest))) : 1;
  const int kMsgs = gso ? 8 : 32;
  const long kBatch = per_msg * kMsgs;  // datagrams a sendmmsg at most
  std::vector<mmsghdr> msgs(static_cast<size_t>(kMsgs));
  std::vector<iovec> iov(static_cast<size_t>(kBatch));
  std::vector<long> msg_packets(static_cast<size_t>(kMsgs));
  union Control {
    cmsghdr h;
    char b[CMSG_SPACE(sizeof(uint16_t))];
  };
  std::vector<Control> control(static_cast<size_t>(kMsgs));
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
    long n = std::min<long>(kBatch, due - sent_packets);
    if (once) n = std::min<long>(n, npk - sent_packets);
    for (long i = 0; i < n; ++i) {
      const std::string& p = packets[static_cast<size_t>((idx + i) % npk)];
      iov[static_cast<size_t>(i)].iov_base = const_cast<char*>(p.data());
      iov[static_cast<size_t>(i)].iov_len = p.size();
    }
    int m = 0;
    for (long i = 0; i < n; ++m) {
      // A message: a run of datagrams of one length, then at most one shorter.
      const size_t len = iov[static_cast<size_t>(i)].iov_len;
      long j = i + 1;
      while (j < n && j - i < per_msg && iov[static_cast<size_t>(j)].iov_len == len) ++j;
      if (j < n && j - i < per_msg && iov[static_cast<size_t>(j)].iov_len < len) ++j;
      mmsghdr& h = msgs[static_cast<size_t>(m)];
      std::memset(&h, 0, sizeof h);
      h.msg_hdr.msg_iov = &iov[static_cast<size_t>(i)];
      h.msg_hdr.msg_iovlen = static_cast<size_t>(j - i);
      if (j - i > 1) {
        Control& c = control[static_cast<size_t>(m)];
        c.h.cmsg_level = SOL_UDP;
        c.h.cmsg_type = UDP_SEGMENT;
        c.h.cmsg_len = CMSG_LEN(sizeof(uint16_t));
        const uint16_t seg = static_cast<uint16_t>(len);
        std::memcpy(CMSG_DATA(&c.h), &seg, sizeof seg);
        h.msg_hdr.msg_control = &c;
        h.msg_hdr.msg_controllen = sizeof c;
      }
      msg_packets[static_cast<size_t>(m)] = j - i;
      i = j;
    }
    int r = sendmmsg(fd, msgs.data(), static_cast<unsigned>(m), 0);
    if (r < 0) {
      ++failed;
      continue;
    }
    long done = 0;
    for (int k = 0; k < r; ++k) done += msg_packets[static_cast<size_t>(k)];
    for (long i = 0; i < done; ++i) metrics += lines_in[static_cast<size_t>((idx + i) % npk)];
    sent_packets += done;
    idx = (idx + done) % npk;
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
