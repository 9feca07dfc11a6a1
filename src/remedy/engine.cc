// RemediationEngine: placeholder until the engine lands.
#include "remedy/engine.h"

namespace stopgap::remedy {

struct RemediationEngine::Pending {
  std::shared_ptr<const Catalog> catalog;
  const Workaround* workaround = nullptr;
  Alert alert;
};

std::string_view RefusalReasonName(RefusalReason r) {
  switch (r) {
    case RefusalReason::kExpired:
      return "expired";
    case RefusalReason::kRetired:
      return "retired";
    case RefusalReason::kUnknownIssue:
      return "unknown-issue";
    case RefusalReason::kUnsafeLabel:
      return "unsafe-label";
    case RefusalReason::kConcurrency:
      return "concurrency";
    case RefusalReason::kCooldown:
      return "cooldown";
    case RefusalReason::kBudget:
      return "budget";
    case RefusalReason::kCircuitBreaker:
      return "circuit-breaker";
  }
  return "?";
}

RemediationEngine::RemediationEngine(std::shared_ptr<const Catalog> catalog,
                                     ExecutionLedger& ledger, ProcessRunner& runner,
                                     const Clock& clock, EngineOptions options)
    : ledger_(ledger),
      runner_(runner),
      clock_(clock),
      options_(std::move(options)),
      catalog_(std::move(catalog)) {}

RemediationEngine::~RemediationEngine() = default;

void RemediationEngine::SetCatalog(std::shared_ptr<const Catalog> catalog) {
  std::lock_guard lock(mu_);
  catalog_ = std::move(catalog);
}

std::shared_ptr<const Catalog> RemediationEngine::catalog() const {
  std::lock_guard lock(mu_);
  return catalog_;
}

void RemediationEngine::SetIssueStates(std::set<std::string> closed,
                                       std::set<std::string> unknown) {
  std::lock_guard lock(mu_);
  closed_issues_ = std::move(closed);
  unknown_issues_ = std::move(unknown);
}

void RemediationEngine::AddObserver(EngineObserver* observer) {
  std::lock_guard lock(mu_);
  observers_.push_back(observer);
}

Result<Plan> RemediationEngine::PlanFor(std::string_view, const Alert&) {
  return Internal("not implemented");
}

Result<Admission> RemediationEngine::Begin(std::string_view, const Alert&, std::string_view,
                                           std::optional<AlertId>) {
  return Internal("not implemented");
}

ExecutionOutcome RemediationEngine::Run(ExecutionId id) {
  ExecutionOutcome o;
  o.id = id;
  o.error = Internal("not implemented");
  return o;
}

Result<ExecutionOutcome> RemediationEngine::Execute(std::string_view, const Alert&,
                                                    std::string_view) {
  return Internal("not implemented");
}

}  // namespace stopgap::remedy
