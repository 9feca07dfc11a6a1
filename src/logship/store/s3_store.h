// s3://bucket/prefix backend: SigV4-signed requests (path-style or
// virtual-host style), single PUT below the multipart threshold, multipart
// with parallel parts above it (aborted on failure), every part's ETag and
// the final "md5-N" ETag checked against MD5s computed while reading.
// Credentials: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN,
// else ~/.aws/credentials ([AWS_PROFILE] or [default]).
// Thread safety: all methods may be called concurrently.
#pragma once

#include <memory>
#include <string>

#include "logship/store/object_store.h"
#include "logship/store/sigv4.h"

namespace stopgap::logship {

Result<std::unique_ptr<ObjectStore>> NewS3Store(const std::string& bucket,
                                                const std::string& prefix,
                                                const StoreOptions& options);

// Reads credentials from the environment, then the shared credentials file.
Result<AwsCredentials> LoadAwsCredentials(const StoreOptions& options);

}  // namespace stopgap::logship
