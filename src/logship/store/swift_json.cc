// Swift JSON listing parser (nlohmann::json); see swift_json.h.
#include "logship/store/swift_json.h"

#include <nlohmann/json.hpp>

namespace stopgap::logship {

Result<SwiftListPage> ParseSwiftListing(std::string_view body, std::string_view prefix) {
  nlohmann::json j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return DataLoss("swift listing: not JSON");
  if (!j.is_array()) return DataLoss("swift listing: not a JSON array");
  SwiftListPage page;
  const std::string lead = prefix.empty() ? "" : std::string(prefix) + "/";
  for (const nlohmann::json& e : j) {
    if (!e.is_object()) return DataLoss("swift listing: an entry is not an object");
    auto name = e.find("name");
    if (name == e.end() || !name->is_string()) {
      return DataLoss("swift listing: an entry has no string \"name\"");
    }
    std::string full = name->get<std::string>();
    ++page.entries;
    if (full.empty()) continue;  // Swift has no such name; not a marker either
    page.last_name = full;
    if (!full.starts_with(lead) || full.size() == lead.size()) continue;
    ObjectInfo o;
    o.key = full.substr(lead.size());
    auto bytes = e.find("bytes");
    if (bytes != e.end() && bytes->is_number_unsigned()) o.size = bytes->get<uint64_t>();
    auto hash = e.find("hash");
    if (hash != e.end() && hash->is_string()) o.etag = hash->get<std::string>();
    auto modified = e.find("last_modified");
    if (modified != e.end() && modified->is_string())
      o.last_modified = modified->get<std::string>();
    page.objects.push_back(std::move(o));
  }
  return page;
}

ObjectMeta ParseMetaSidecar(std::string_view body) {
  ObjectMeta meta;
  nlohmann::json j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return meta;
  for (const auto& [k, v] : j.items()) {
    if (v.is_string()) meta.emplace_back(k, v.get<std::string>());
  }
  return meta;
}

std::string FormatMetaSidecar(const ObjectMeta& meta) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [k, v] : meta) j[k] = v;
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace stopgap::logship
