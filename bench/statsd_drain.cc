// The floor for bench/statsd.sh: a recvmmsg loop that only drains a UDP
// socket (64 x 64 KiB buffers, SO_RCVBUF argv[2], default 32 MiB) and counts datagrams, until
// SIGTERM/SIGINT; prints {"packets": N}. Single-threaded.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>

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
  constexpr int kBatch = 64;
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
  long packets = 0;
  while (!g_stop) {
    int n = recvmmsg(fd, msgs, kBatch, MSG_WAITFORONE, nullptr);
    if (n > 0) packets += n;
  }
  std::printf("{\"packets\": %ld}\n", packets);
  return 0;
}
