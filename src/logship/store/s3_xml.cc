// S3 XML via pugixml (no exceptions). Thread safety: pure functions.
#include "logship/store/s3_xml.h"

#include <pugixml.hpp>

#include <charconv>

#include "logship/internal/md5.h"

namespace stopgap::logship {
namespace {

bool Load(pugi::xml_document* doc, std::string_view xml) {
  return doc->load_buffer(xml.data(), xml.size(), pugi::parse_default, pugi::encoding_utf8);
}

}  // namespace

S3Error ParseS3Error(std::string_view xml) {
  pugi::xml_document doc;
  S3Error e;
  if (!Load(&doc, xml)) return e;
  pugi::xml_node err = doc.child("Error");
  if (!err) return e;
  e.code = err.child_value("Code");
  e.message = err.child_value("Message");
  return e;
}

Result<std::string> ParseInitiateMultipart(std::string_view xml) {
  pugi::xml_document doc;
  if (!Load(&doc, xml)) return DataLoss("multipart initiate: unparseable XML");
  std::string id = doc.child("InitiateMultipartUploadResult").child_value("UploadId");
  if (id.empty()) return DataLoss("multipart initiate: no UploadId in the answer");
  return id;
}

namespace {

// The ETag in a <root> answer; an <Error> document is kUnavailable.
Result<std::string> ResultEtag(std::string_view xml, const char* root, const std::string& what) {
  pugi::xml_document doc;
  if (!Load(&doc, xml)) return DataLoss(what + ": unparseable XML");
  if (pugi::xml_node err = doc.child("Error")) {
    return Unavailable(what + " failed: " + err.child_value("Code") + ": " +
                       err.child_value("Message"));
  }
  pugi::xml_node r = doc.child(root);
  if (!r) return DataLoss(what + ": unexpected answer");
  std::string etag = internal::Unquote(r.child_value("ETag"));
  if (etag.empty()) return DataLoss(what + ": no ETag in the answer");
  return etag;
}

}  // namespace

Result<std::string> ParseCompleteMultipart(std::string_view xml) {
  return ResultEtag(xml, "CompleteMultipartUploadResult", "multipart complete");
}

Result<std::string> ParseCopyPartResult(std::string_view xml) {
  return ResultEtag(xml, "CopyPartResult", "part copy");
}

Result<S3ListPage> ParseListBucket(std::string_view xml) {
  pugi::xml_document doc;
  if (!Load(&doc, xml)) return DataLoss("list: unparseable XML");
  pugi::xml_node r = doc.child("ListBucketResult");
  if (!r) return DataLoss("list: no ListBucketResult");
  S3ListPage page;
  for (pugi::xml_node c : r.children("Contents")) {
    ObjectInfo o;
    o.key = c.child_value("Key");
    std::string_view size = c.child_value("Size");
    auto [p, ec] = std::from_chars(size.data(), size.data() + size.size(), o.size);
    if (ec != std::errc() || p != size.data() + size.size() || o.key.empty()) {
      return DataLoss("list: bad Contents entry");
    }
    o.etag = internal::Unquote(c.child_value("ETag"));
    o.last_modified = c.child_value("LastModified");
    page.objects.push_back(std::move(o));
  }
  page.truncated = std::string_view(r.child_value("IsTruncated")) == "true";
  page.next_marker = r.child_value("NextMarker");
  if (page.next_marker.empty() && !page.objects.empty()) page.next_marker = page.objects.back().key;
  if (page.truncated && page.next_marker.empty())
    return DataLoss("list: truncated without a marker");
  return page;
}

Result<S3UploadsPage> ParseListMultipartUploads(std::string_view xml) {
  pugi::xml_document doc;
  if (!Load(&doc, xml)) return DataLoss("list multipart uploads: unparseable XML");
  pugi::xml_node r = doc.child("ListMultipartUploadsResult");
  if (!r) return DataLoss("list multipart uploads: no ListMultipartUploadsResult");
  S3UploadsPage page;
  for (pugi::xml_node u : r.children("Upload")) {
    S3MultipartUpload m{u.child_value("Key"), u.child_value("UploadId")};
    if (m.key.empty() || m.upload_id.empty()) {
      return DataLoss("list multipart uploads: an Upload without Key or UploadId");
    }
    page.uploads.push_back(std::move(m));
  }
  page.truncated = std::string_view(r.child_value("IsTruncated")) == "true";
  page.next_key_marker = r.child_value("NextKeyMarker");
  page.next_upload_id_marker = r.child_value("NextUploadIdMarker");
  if (page.truncated && page.next_key_marker.empty()) {
    if (page.uploads.empty()) return DataLoss("list multipart uploads: truncated without a marker");
    page.next_key_marker = page.uploads.back().key;
    page.next_upload_id_marker = page.uploads.back().upload_id;
  }
  return page;
}

std::string BuildCompleteMultipart(const std::vector<CompletedPart>& parts) {
  std::string out = "<CompleteMultipartUpload>";
  for (const CompletedPart& p : parts) {
    out += "<Part><PartNumber>" + std::to_string(p.number) + "</PartNumber><ETag>\"" + p.etag +
           "\"</ETag></Part>";
  }
  out += "</CompleteMultipartUpload>";
  return out;
}

std::string BuildLifecycle(const std::string& prefix, int keep_days, int abort_days) {
  std::string escaped;
  for (char c : prefix) {
    switch (c) {
      case '&':
        escaped += "&amp;";
        break;
      case '<':
        escaped += "&lt;";
        break;
      case '>':
        escaped += "&gt;";
        break;
      default:
        escaped += c;
    }
  }
  return "<LifecycleConfiguration><Rule><ID>stopgap-logship-keep-" + std::to_string(keep_days) +
         "d</ID><Filter><Prefix>" + escaped +
         "</Prefix></Filter><Status>Enabled</Status><Expiration><Days>" +
         std::to_string(keep_days) +
         "</Days></Expiration><AbortIncompleteMultipartUpload><DaysAfterInitiation>" +
         std::to_string(abort_days) +
         "</DaysAfterInitiation></AbortIncompleteMultipartUpload></Rule></LifecycleConfiguration>";
}

}  // namespace stopgap::logship
