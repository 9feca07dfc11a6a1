// The floor for bench/statsd.sh: a recvmmsg loop that only drains a UDP
// socket (64 x 64 KiB buffers, SO_RCVBUF argv[2], default 32 MiB) and counts
// datagrams and their non-empty lines, until SIGTERM/SIGINT; prints
// {"packets": N, "lines": L, "cpu_s": CPU seconds}. argv[3] (default 0): µs to nap after a batch
// that emptied the socket, as `stopgap statsd` does (--receive-nap-us).
// argv[4] = 1: UDP_GRO on (what a node that takes coalesced datagrams would
// see: a GSO sender's datagrams arrive as one packet, counted one by one by
// the UDP_GRO cmsg's segment size). Single-threaded.
//   statsd_drain PORT [RCVBUF [NAP_US [GRO]]]
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

static volatile sig_atomic_t g_stop = 0;
static void OnSig(int) { g_stop = 1; }

int main(int argc, char** argv) {
  int port = argc > 1 ? std::atoi(argv[1]) : 8125;
  struct sigaction sa {};
  sa.sa_handler = OnSig;
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  int rcv = argc > 2 ? std::atoi(argv[2]) : (32 << 20);
  setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof rcv);
  timeval tv{0, 200000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    perror("bind");
    return 1;
  }
  const bool gro = argc > 4 && std::atoi(argv[4]) == 1;
  if (gro) {
    int one = 1;
    if (setsockopt(fd, SOL_UDP, UDP_GRO, &one, sizeof one) != 0) perror("UDP_GRO");
  }
  constexpr int kBatch = 64;
  union Control {
    cmsghdr h;
    char b[CMSG_SPACE(sizeof(int))];
  };
  std::vector<Control> control(kBatch);
  std::vector<char> buf(static_cast<size_t>(kBatch) * 65536);
  mmsghdr msgs[kBatch];
  iovec iov[kBatch];
  for (int i = 0; i < kBatch; ++i) {
    iov[i].iov_base = buf.data() + static_cast<size_t>(i) * 65536;
    iov[i].iov_len = 65536;
    std::memset(&msgs[i], 0, sizeof msgs[i]);
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
  }
  const long nap_us = argc > 3 ? std::atol(argv[3]) : 0;
  const timespec nap{0, nap_us * 1000};
  long packets = 0, lines = 0;
  while (!g_stop) {
    for (int i = 0; gro && i < kBatch; ++i) {
      msgs[i].msg_hdr.msg_control = &control[static_cast<size_t>(i)];
      msgs[i].msg_hdr.msg_controllen = sizeof(Control);
    }
    int n = recvmmsg(fd, msgs, kBatch, MSG_WAITFORONE, nullptr);
    if (n <= 0) continue;
    for (int i = 0; i < n; ++i) {
      const char* const start = buf.data() + static_cast<size_t>(i) * 65536;
      const char* const end = start + msgs[i].msg_len;
      size_t seg = 0;
      if (gro) {
        for (cmsghdr* c = CMSG_FIRSTHDR(&msgs[i].msg_hdr); c != nullptr;
             c = CMSG_NXTHDR(&msgs[i].msg_hdr, c)) {
          if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) {
            int v = 0;
            std::memcpy(&v, CMSG_DATA(c), sizeof v);
            seg = v > 0 ? static_cast<size_t>(v) : 0;
          }
        }
      }
      if (seg == 0) seg = msgs[i].msg_len > 0 ? msgs[i].msg_len : 1;
      for (const char* d = start; d < end || d == start; d += seg) {  // each datagram
        ++packets;
        const char* p = d;
        const char* e = end - d > static_cast<long>(seg) ? d + seg : end;
        while (p < e) {
          const char* nl =
              static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(e - p)));
          const char* le = nl != nullptr ? nl : e;
          if (le > p) ++lines;
          p = le + 1;
        }
        if (end == start) break;
      }
    }
    if (nap_us > 0 && n < kBatch) nanosleep(&nap, nullptr);
  }
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  const double cpu = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                     static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6;
  std::printf("{\"packets\": %ld, \"lines\": %ld, \"cpu_s\": %.3f}\n", packets, lines, cpu);
  return 0;
}
