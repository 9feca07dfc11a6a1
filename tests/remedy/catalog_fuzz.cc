// libFuzzer target for the remedy parsers of outside input: the catalog YAML
// loader (ParseCatalog), issue references (ParseIssueRef) and label templates.
// Seeds: fuzz/corpus/catalog/. Must never crash, hang or leak; errors are fine.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "remedy/catalog.h"
#include "remedy/issue_ref.h"
#include "remedy/template.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  using namespace stopgap;
  using namespace stopgap::remedy;

  Result<IssueRef> ref = ParseIssueRef(text);
  if (ref.ok()) (void)ref->Slug();
  (void)ValidateTemplateArg(text);
  (void)IsSafeLabelValue(text);
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
