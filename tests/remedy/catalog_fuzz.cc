// libFuzzer target for the remedy parsers of outside input: the catalog YAML
// loader (ParseCatalog), issue references (ParseIssueRef) and label templates.
// Seeds: fuzz/corpus/catalog/. Must never crash, hang or leak; errors are fine.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "remedy/catalog.h"
#include "remedy/issue_ref.h"
#include "remedy/secrets.h"
#include "remedy/template.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  using namespace stopgap;
  using namespace stopgap::remedy;

  Result<IssueRef> ref = ParseIssueRef(text);
  if (ref.ok()) (void)ref->Slug();
  (void)ValidateTemplateArg(text);
  // The default label rule's invariants: no option, no ".." segment, no NUL/CR/LF.
  if (IsSafeLabelValue(text) &&
      (text[0] == '-' || text == ".." || text.starts_with("../") || text.ends_with("/..") ||
       text.find("/../") != std::string_view::npos ||
       text.find_first_of(std::string_view("\0\r\n ", 4)) != std::string_view::npos)) {
    std::abort();
  }
  // The masker never echoes a value it masks, and never throws.
  (void)SecretMasker::Defaults().MaskValue(text, text);
  (void)SecretMasker::Defaults().MaskArgv({"x", std::string(text), "--token", std::string(text)});
  (void)SubstituteLabels({std::string(text), "{{labels.x}}"}, {{"x", std::string(text)}});

  std::vector<Violation> violations;
  Result<Catalog> c = ParseCatalog(text, "fuzz.yaml", CivilDay{2026, 11, 25}, &violations);
  for (const Violation& v : violations) (void)v.ToString();
  if (c.ok()) {
    for (const Workaround& w : c->workarounds) {
      (void)StateOf(w, CivilDay{2026, 11, 25});
      for (const Step& s : w.diagnostics) (void)s.Describe();
      for (const Step& s : w.action) (void)s.Describe();
    }
  }
  return 0;
}
