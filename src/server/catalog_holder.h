// CatalogHolder: the daemon's current catalog, swapped on SIGHUP. Intake and
// API handlers read it here instead of RemediationEngine::catalog(), whose
// lock is the engine's admission lock (held across ledger writes): reading the
// catalog must never wait behind an admission.
//
// Thread safety: Get/Set from any thread (a short mutex around a shared_ptr copy).
#pragma once

#include <memory>
#include <mutex>

#include "remedy/catalog.h"

namespace stopgap::server {

class CatalogHolder {
 public:
  explicit CatalogHolder(std::shared_ptr<const remedy::Catalog> c) : catalog_(std::move(c)) {}
  std::shared_ptr<const remedy::Catalog> Get() const {
    std::lock_guard<std::mutex> l(mu_);
    return catalog_;
  }
  void Set(std::shared_ptr<const remedy::Catalog> c) {
    std::lock_guard<std::mutex> l(mu_);
    catalog_ = std::move(c);
  }

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const remedy::Catalog> catalog_;
};

}  // namespace stopgap::server
