// swift://container/prefix backend: OpenStack Swift with TempAuth v1
// (ST_AUTH, ST_USER, ST_KEY) or Keystone v3 (OS_AUTH_URL, OS_USERNAME,
// OS_PASSWORD, OS_PROJECT_NAME, OS_USER_DOMAIN_NAME, OS_PROJECT_DOMAIN_NAME,
// optional OS_REGION_NAME, OS_INTERFACE). The token is cached until it
// expires (and renewed once on a 401). Above the threshold, files become
// Static Large Objects: segments in "<container>_segments" uploaded in
// parallel, each ETag checked, then the manifest, whose ETag is checked too.
// Thread safety: all methods may be called concurrently.
#pragma once

#include <memory>
#include <string>

#include "logship/store/object_store.h"

namespace stopgap::logship {

Result<std::unique_ptr<ObjectStore>> NewSwiftStore(const std::string& container,
                                                   const std::string& prefix,
                                                   const StoreOptions& options);

// Keystone v3: the object-store endpoint from a token's catalog (pure; tested).
Result<std::string> FindObjectStoreEndpoint(std::string_view token_json, const std::string& region,
                                            const std::string& interface);

}  // namespace stopgap::logship
