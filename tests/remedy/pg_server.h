// A real PostgreSQL for the ledger's conformance tests: started once per test
// process by scripts/pg-scratch in a temp directory on a free loopback port,
// stopped at exit; each test gets a database of its own.
// Thread safety: test-only; Get() and NewDatabase() from the test thread.
#pragma once

#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "remedy/ledger.h"

namespace stopgap::remedy::testing {

inline int FreeLoopbackPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
    port = ntohs(a.sin_port);
  }
  ::close(fd);
  return port;
}

// `n` ledgers opened by `open`, as n nodes on one database would; a failure
// is recorded (ADD_FAILURE) and ends the list early.
inline std::vector<std::unique_ptr<ExecutionLedger>> OpenNodes(
    int n, const std::function<Result<std::unique_ptr<ExecutionLedger>>()>& open) {
  std::vector<std::unique_ptr<ExecutionLedger>> nodes;
  for (int i = 0; i < n; ++i) {
    Result<std::unique_ptr<ExecutionLedger>> l = open();
    if (!l.ok()) {
      ADD_FAILURE() << "node " << i << ": " << l.status().ToString();
      break;
    }
    nodes.push_back(std::move(*l));
  }
  return nodes;
}

class PgServer {
 public:
  // The shared server; error() says why it could not start.
  static PgServer& Get() {
    static PgServer* s = new PgServer();
    return *s;
  }
  const std::string& error() const { return error_; }
  int port() const { return port_; }

  // A fresh database; its URL (libpq), or "" with error() set.
  std::string NewDatabase() {
    if (!error_.empty()) return "";
    std::string name = "t" + std::to_string(++databases_);
    std::string cmd = Script() + " createdb " + std::to_string(port_) + " " + name;
    if (std::system(cmd.c_str()) != 0) {
      error_ = "createdb failed: " + cmd;
      return "";
    }
    return "postgresql://postgres@127.0.0.1:" + std::to_string(port_) + "/" + name;
  }

 private:
  static std::string Script() { return std::string(STOPGAP_SOURCE_DIR) + "/scripts/pg-scratch"; }

  PgServer() {
    char tmpl[] = "/tmp/stopgap-pg-test-XXXXXX";
    if (!::mkdtemp(tmpl)) {
      error_ = "mkdtemp failed";
      return;
    }
    dir_ = tmpl;
    port_ = FreeLoopbackPort();
    std::string cmd = Script() + " start " + dir_ + "/pg " + std::to_string(port_);
    if (std::system(cmd.c_str()) != 0) {
      error_ = "could not start PostgreSQL (" + cmd + "; see " + dir_ + "/pg/server.log)";
      return;
    }
    std::atexit([] { Get().Stop(); });
  }
  void Stop() {
    std::string cmd = Script() + " stop " + dir_ + "/pg immediate";
    (void)std::system(cmd.c_str());
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  std::string dir_;
  std::string error_;
  int port_ = 0;
  int databases_ = 0;
};

}  // namespace stopgap::remedy::testing
