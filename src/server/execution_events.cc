// ExecutionEvents; see execution_events.h.
//
// Thread safety: stateless beyond its thread-safe references.
#include "server/execution_events.h"

#include "core/log.h"
#include "server/api_json.h"

namespace stopgap::server {

void ExecutionEvents::PublishExecution(remedy::ExecutionId id) {
  if (!bus_.has_subscribers()) return;
  Result<remedy::ExecutionRecord> e = ledger_.GetExecution(id);
  if (!e.ok()) {
    Log(LogLevel::kWarn, "cannot publish execution event",
        {{"execution", std::to_string(id)}, {"error", e.status().ToString()}});
    return;
  }
  bus_.Publish("execution", ExecutionJson(*e, false).dump(
                                -1, ' ', false, nlohmann::json::error_handler_t::replace));
}

}  // namespace stopgap::server
