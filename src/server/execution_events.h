// ExecutionEvents: the engine observer that publishes `event: execution`
// (the execution JSON, read back from the ledger) on the EventBus at every
// create (admitted or refused) and state change, once the ledger holds it.
// Nothing is read when nobody listens.
//
// Thread safety: callbacks from any thread; the ledger and bus are thread-safe.
#pragma once

#include "remedy/engine.h"
#include "remedy/ledger.h"
#include "server/event_bus.h"

namespace stopgap::server {

class ExecutionEvents final : public remedy::EngineObserver {
 public:
  // Both must outlive this observer.
  ExecutionEvents(remedy::ExecutionLedger& ledger, EventBus& bus) : ledger_(ledger), bus_(bus) {}

  // Publishes execution `id` as the ledger has it now (also for callers
  // outside the engine, e.g. a shutdown marking executions interrupted).
  void PublishExecution(remedy::ExecutionId id);

  void OnAdmitted(remedy::ExecutionId id, const remedy::Workaround&) override {
    PublishExecution(id);
  }
  void OnRefused(remedy::ExecutionId id, const remedy::Workaround&,
                 const remedy::Refusal&) override {
    PublishExecution(id);
  }
  void OnStateChanged(remedy::ExecutionId id, const remedy::Workaround&,
                      remedy::ExecutionState) override {
    PublishExecution(id);
  }
  void OnExecutionFinished(const remedy::Workaround&,
                           const remedy::ExecutionOutcome& outcome) override {
    PublishExecution(outcome.id);
  }

 private:
  remedy::ExecutionLedger& ledger_;
  EventBus& bus_;
};

}  // namespace stopgap::server
