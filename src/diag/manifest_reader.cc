// The one manifest reader: ParseManifest reads stopgap.bundle/2 and the two
// schemas it replaced (stopgap.bundle/1 from `stopgap diag`,
// stopgap.execution/1 from the engine) into Manifest. A pure function over
// outside input (bundles come back from object stores): no exceptions, every
// field type-checked, errors name the field. Stateless; any thread.
#include <nlohmann/json.hpp>

#include "core/file.h"
#include "diag/bundle.h"
#include "diag/internal/manifest_step.h"

namespace stopgap::diag {
namespace {

using json = nlohmann::ordered_json;

// Typed field access: a missing or null field leaves `out` as is (every
// field is optional on read); a field of the wrong type is an error.
class Fields {
 public:
  Fields(const json& obj, std::string where) : obj_(obj), where_(std::move(where)) {}

  Status Str(const char* key, std::string* out) const {
    const json* v = Find(key);
    if (v == nullptr) return Status::Ok();
    if (!v->is_string()) return Bad(key, "a string");
    *out = v->get<std::string>();
    return Status::Ok();
  }
  Status Bool(const char* key, bool* out) const {
    const json* v = Find(key);
    if (v == nullptr) return Status::Ok();
    if (!v->is_boolean()) return Bad(key, "true or false");
    *out = v->get<bool>();
    return Status::Ok();
  }
  template <typename T>
  Status Int(const char* key, T* out) const {
    const json* v = Find(key);
    if (v == nullptr) return Status::Ok();
    if (!v->is_number_integer()) return Bad(key, "an integer");
    *out = v->get<T>();
    return Status::Ok();
  }
  Status OptInt(const char* key, std::optional<int>* out) const {
    const json* v = Find(key);
    if (v == nullptr) return Status::Ok();
    if (!v->is_number_integer()) return Bad(key, "an integer or null");
    *out = v->get<int>();
    return Status::Ok();
  }
  Status Millis(const char* key, Duration* out) const {
    int64_t ms = 0;
    STOPGAP_RETURN_IF_ERROR(Int(key, &ms));
    *out = std::chrono::milliseconds(ms);
    return Status::Ok();
  }
  Status Time(const char* key, std::optional<WallTime>* out) const {
    const json* v = Find(key);
    if (v == nullptr) return Status::Ok();
    if (!v->is_string()) return Bad(key, "an RFC 3339 time or null");
    Result<WallTime> t = ParseRfc3339(v->get<std::string>());
    if (!t.ok()) return Bad(key, "an RFC 3339 time");
    *out = *t;
    return Status::Ok();
  }
  Status Strings(const char* key, std::vector<std::string>* out) const {
    const json* v = Find(key);
    if (v == nullptr) return Status::Ok();
    if (!v->is_array()) return Bad(key, "a list of strings");
    out->clear();
    for (const json& e : *v) {
      if (!e.is_string()) return Bad(key, "a list of strings");
      out->push_back(e.get<std::string>());
    }
    return Status::Ok();
  }
  Status StringMap(const char* key, std::map<std::string, std::string>* out) const {
    const json* v = Find(key);
    if (v == nullptr) return Status::Ok();
    if (!v->is_object()) return Bad(key, "an object of strings");
    for (const auto& [k, e] : v->items()) {
      if (!e.is_string()) return Bad(key, "an object of strings");
      (*out)[k] = e.get<std::string>();
    }
    return Status::Ok();
  }
  // An array of objects (or absent: empty).
  Status Objects(const char* key, std::vector<const json*>* out) const {
    const json* v = Find(key);
    if (v == nullptr) return Status::Ok();
    if (!v->is_array()) return Bad(key, "a list of objects");
    for (const json& e : *v) {
      if (!e.is_object()) return Bad(key, "a list of objects");
      out->push_back(&e);
    }
    return Status::Ok();
  }
  const std::string& where() const { return where_; }

 private:
  const json* Find(const char* key) const {
    auto it = obj_.find(key);
    return it == obj_.end() || it->is_null() ? nullptr : &*it;
  }
  Status Bad(const char* key, const char* want) const {
    return InvalidArgument("manifest: " + where_ + key + ": expected " + want);
  }
  const json& obj_;
  std::string where_;
};

Status ParseCollector(const json& obj, const std::string& where, CollectorOutcome* o) {
  Fields f(obj, where);
  STOPGAP_RETURN_IF_ERROR(f.Str("name", &o->name));
  STOPGAP_RETURN_IF_ERROR(f.Bool("ok", &o->ok));
  STOPGAP_RETURN_IF_ERROR(f.Bool("timed_out", &o->timed_out));
  STOPGAP_RETURN_IF_ERROR(f.Bool("truncated", &o->truncated));
  STOPGAP_RETURN_IF_ERROR(f.Str("error", &o->error));
  STOPGAP_RETURN_IF_ERROR(f.Millis("duration_ms", &o->duration));
  STOPGAP_RETURN_IF_ERROR(f.Int("bytes", &o->bytes));
  STOPGAP_RETURN_IF_ERROR(f.Strings("files", &o->files));
  STOPGAP_RETURN_IF_ERROR(f.Strings("skipped", &o->skipped));
  auto m = obj.find("metrics");
  if (m != obj.end() && !m->is_null()) {
    if (!m->is_object())
      return InvalidArgument("manifest: " + where + "metrics: expected an object");
    for (const auto& [k, v] : m->items()) {
      if (!v.is_number_integer()) {
        return InvalidArgument("manifest: " + where + "metrics." + k + ": expected an integer");
      }
      o->metrics.emplace_back(k, v.get<int64_t>());
    }
  }
  return Status::Ok();
}

Status ParseCollectors(const Fields& f, const char* key, std::vector<CollectorOutcome>* out) {
  std::vector<const json*> objs;
  STOPGAP_RETURN_IF_ERROR(f.Objects(key, &objs));
  for (size_t i = 0; i < objs.size(); ++i) {
    CollectorOutcome o;
    STOPGAP_RETURN_IF_ERROR(
        ParseCollector(*objs[i], f.where() + key + "[" + std::to_string(i) + "].", &o));
    out->push_back(std::move(o));
  }
  return Status::Ok();
}

Status ParseStep(const json& obj, const std::string& where, ManifestStep* s) {
  Fields f(obj, where);
  STOPGAP_RETURN_IF_ERROR(f.Str("phase", &s->phase));
  STOPGAP_RETURN_IF_ERROR(f.Int("index", &s->index));
  STOPGAP_RETURN_IF_ERROR(f.Str("kind", &s->kind));
  STOPGAP_RETURN_IF_ERROR(f.Strings("argv", &s->argv));
  STOPGAP_RETURN_IF_ERROR(f.Str("outcome", &s->outcome));
  STOPGAP_RETURN_IF_ERROR(f.OptInt("exit_code", &s->exit_code));
  STOPGAP_RETURN_IF_ERROR(f.Int("signal", &s->signal));
  STOPGAP_RETURN_IF_ERROR(f.Bool("timed_out", &s->timed_out));
  STOPGAP_RETURN_IF_ERROR(f.Bool("truncated", &s->truncated));
  STOPGAP_RETURN_IF_ERROR(f.Time("started_at", &s->started_at));
  STOPGAP_RETURN_IF_ERROR(f.Time("finished_at", &s->finished_at));
  STOPGAP_RETURN_IF_ERROR(f.Millis("duration_ms", &s->duration));
  STOPGAP_RETURN_IF_ERROR(f.Strings("files", &s->files));
  STOPGAP_RETURN_IF_ERROR(f.Str("error", &s->error));
  return ParseCollectors(f, "collectors", &s->collectors);
}

Status ParseSteps(const Fields& f, std::vector<ManifestStep>* out) {
  std::vector<const json*> objs;
  STOPGAP_RETURN_IF_ERROR(f.Objects("steps", &objs));
  for (size_t i = 0; i < objs.size(); ++i) {
    ManifestStep s;
    STOPGAP_RETURN_IF_ERROR(ParseStep(*objs[i], "steps[" + std::to_string(i) + "].", &s));
    out->push_back(std::move(s));
  }
  return Status::Ok();
}

Status Required(const std::optional<WallTime>& t, const char* key) {
  return t ? Status::Ok() : InvalidArgument(std::string("manifest: ") + key + ": missing");
}

// The header every schema with a host has: host, the created (required) and
// finished times under the schema's key names, complete, labels.
Status ParseHeader(const Fields& f, const char* created_key, const char* finished_key,
                   Manifest* m) {
  STOPGAP_RETURN_IF_ERROR(f.Str("host", &m->host));
  std::optional<WallTime> created;
  STOPGAP_RETURN_IF_ERROR(f.Time(created_key, &created));
  STOPGAP_RETURN_IF_ERROR(Required(created, created_key));
  m->created_at = *created;
  STOPGAP_RETURN_IF_ERROR(f.Time(finished_key, &m->finished_at));
  STOPGAP_RETURN_IF_ERROR(f.Bool("complete", &m->complete));
  return f.StringMap("labels", &m->labels);
}

// The execution's fields, the same in both schemas but for the id's key.
Status ParseExecution(const Fields& f, const char* id_key, ManifestExecution* ex) {
  STOPGAP_RETURN_IF_ERROR(f.Int(id_key, &ex->id));
  STOPGAP_RETURN_IF_ERROR(f.Str("workaround", &ex->workaround));
  STOPGAP_RETURN_IF_ERROR(f.Str("issue", &ex->issue));
  STOPGAP_RETURN_IF_ERROR(f.Str("fingerprint", &ex->fingerprint));
  STOPGAP_RETURN_IF_ERROR(f.StringMap("labels", &ex->labels));
  STOPGAP_RETURN_IF_ERROR(f.Str("state", &ex->state));
  return f.Time("diagnostics_finished_at", &ex->diagnostics_finished_at);
}

// stopgap.bundle/2.
Status ParseV2(const Fields& f, const json& root, Manifest* m) {
  STOPGAP_RETURN_IF_ERROR(ParseHeader(f, "created_at", "finished_at", m));
  auto x = root.find("execution");
  if (x != root.end() && !x->is_null()) {
    if (!x->is_object()) return InvalidArgument("manifest: execution: expected an object or null");
    ManifestExecution ex;
    STOPGAP_RETURN_IF_ERROR(ParseExecution(Fields(*x, "execution."), "id", &ex));
    m->execution = std::move(ex);
  }
  return ParseSteps(f, &m->steps);
}

// stopgap.bundle/1 (`stopgap diag` before v2): collectors at the top level
// become the bundle's one collect step.
Status ParseDiagV1(const Fields& f, Manifest* m) {
  STOPGAP_RETURN_IF_ERROR(ParseHeader(f, "created", "finished", m));
  ManifestStep step;
  STOPGAP_RETURN_IF_ERROR(ParseCollectors(f, "collectors", &step.collectors));
  if (step.collectors.empty()) return Status::Ok();
  step.started_at = m->created_at;
  step.finished_at = m->finished_at;
  internal::SummariseCollectStep(&step);
  m->steps.push_back(std::move(step));
  return Status::Ok();
}

// stopgap.execution/1 (the engine before v2): the header at the top level,
// steps without per-collector detail.
Status ParseExecutionV1(const Fields& f, Manifest* m) {
  ManifestExecution ex;
  STOPGAP_RETURN_IF_ERROR(ParseExecution(f, "execution_id", &ex));
  std::optional<WallTime> created;
  STOPGAP_RETURN_IF_ERROR(f.Time("created_at", &created));
  STOPGAP_RETURN_IF_ERROR(Required(created, "created_at"));
  m->created_at = *created;
  STOPGAP_RETURN_IF_ERROR(f.Time("finished_at", &m->finished_at));
  STOPGAP_RETURN_IF_ERROR(f.Bool("complete", &m->complete));
  m->execution = std::move(ex);
  return ParseSteps(f, &m->steps);
}

}  // namespace

Result<Manifest> ParseManifest(std::string_view text) {
  json root = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded()) return InvalidArgument("manifest: not JSON");
  if (!root.is_object()) return InvalidArgument("manifest: expected a JSON object");
  Fields f(root, "");
  Manifest m;
  m.schema.clear();
  STOPGAP_RETURN_IF_ERROR(f.Str("schema", &m.schema));
  if (m.schema == kManifestSchema) {
    STOPGAP_RETURN_IF_ERROR(f.Int("version", &m.version));
    STOPGAP_RETURN_IF_ERROR(ParseV2(f, root, &m));
  } else if (m.schema == kManifestSchemaDiagV1) {
    m.version = 1;
    STOPGAP_RETURN_IF_ERROR(ParseDiagV1(f, &m));
  } else if (m.schema == kManifestSchemaExecutionV1) {
    m.version = 1;
    STOPGAP_RETURN_IF_ERROR(ParseExecutionV1(f, &m));
  } else {
    return InvalidArgument("manifest: schema \"" + m.schema.substr(0, 64) +
                           "\": unknown (known: " + kManifestSchema + ", " + kManifestSchemaDiagV1 +
                           ", " + kManifestSchemaExecutionV1 + ")");
  }
  return m;
}

Result<Manifest> ReadManifest(const std::string& dir) {
  Result<std::string> text = ReadFile(dir + "/manifest.json", 64 << 20);
  if (!text.ok()) return text.status();
  Result<Manifest> m = ParseManifest(*text);
  if (!m.ok()) return m.status().WithContext(dir + "/manifest.json");
  return m;
}

}  // namespace stopgap::diag
