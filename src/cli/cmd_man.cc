// `stopgap man DIR`: writes the man pages from the CLI11 definitions --help
// prints (cli_walk.h), at build time: stopgap(1), one page per subcommand
// (stopgap-serve(8), the others in section 1; logship's subcommands inside
// stopgap-logship(1)), and stopgap.yaml(5) from docs/catalog.md (embedded at
// build time). Hidden from --help: it is the build's tool.
//
// Threading: single-threaded.
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "cli/cli_walk.h"
#include "cli/command.h"
#include "cli/generated/catalog_md.h"
#include "core/file.h"

#ifndef STOPGAP_VERSION
#define STOPGAP_VERSION "0.0.0"
#endif

namespace stopgap::cli {
namespace {

// roff-escapes one line of text: backslashes, dashes (so flags print as
// typed and search as typed), and a leading '.' or '\''.
std::string Esc(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c == '\\') {
      out += "\\e";
    } else if (c == '-') {
      out += "\\-";
    } else if (c >= 0x80) {
      // UTF-8 -> groff's \[uXXXX], so the page is plain ASCII.
      int len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
      uint32_t cp = c & (len == 4 ? 0x07 : len == 3 ? 0x0f : 0x1f);
      for (int k = 1; k < len && i + 1 < s.size(); ++k) {
        cp = (cp << 6) | (static_cast<unsigned char>(s[++i]) & 0x3f);
      }
      char buf[16];
      std::snprintf(buf, sizeof buf, "\\[u%04X]", static_cast<unsigned>(cp));
      out += buf;
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  if (!out.empty() && (out[0] == '.' || out[0] == '\'')) out = "\\&" + out;
  return out;
}

std::string Header(const std::string& name, int section, const std::string& what) {
  std::string upper;
  for (char c : name)
    upper.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  return ".TH " + upper + " " + std::to_string(section) +
         " \"\" \"stopgap " STOPGAP_VERSION "\" \"" + what + "\"\n";
}

std::string Options(const CLI::App& app) {
  std::string out;
  for (const CLI::Option* p : Positionals(app)) {
    out += ".TP\n.I " + Esc(p->get_name()) + "\n" + Esc(p->get_description()) + "\n";
  }
  for (const CLI::Option* o : Flags(app)) {
    std::string names;
    for (const std::string& n : FlagNames(*o)) names += (names.empty() ? "" : ", ") + n;
    out += ".TP\n\\fB" + Esc(names) + "\\fR";
    if (TakesValue(*o)) out += " \\fI" + Esc(o->get_type_name()) + "\\fR";
    out += "\n" + Esc(o->get_description());
    if (!o->get_default_str().empty()) out += " (default: " + Esc(o->get_default_str()) + ")";
    if (o->get_required()) out += " (required)";
    out += "\n";
  }
  return out;
}

std::string Synopsis(const std::string& path, const CLI::App& app) {
  std::string s = ".SH SYNOPSIS\n.B " + Esc(path) + "\n";
  if (!Subcommands(app).empty()) s += ".I COMMAND\n";
  if (!Flags(app).empty()) s += "[\\fIOPTIONS\\fR]\n";
  for (const CLI::Option* p : Positionals(app)) s += ".I " + Esc(p->get_name()) + "\n";
  return s;
}

std::string ExitStatus() {
  return ".SH EXIT STATUS\n.TP\n0\nsuccess\n.TP\n1\nthe job failed (or was refused)\n.TP\n2\n"
         "bad usage or bad input (the message names the file, line and field at fault)\n";
}

int Section(const std::string& name) { return name == "serve" ? 8 : 1; }

std::string CommandPage(const CLI::App& sub) {
  const std::string name = sub.get_name();
  std::string p = Header("stopgap-" + name, Section(name), "stopgap");
  p += ".SH NAME\nstopgap\\-" + Esc(name) + " \\- " + Esc(sub.get_description()) + "\n";
  p += Synopsis("stopgap " + name, sub);
  p += ".SH DESCRIPTION\n" + Esc(sub.get_description()) + ".\n";
  if (!Flags(sub).empty() || !Positionals(sub).empty()) p += ".SH OPTIONS\n" + Options(sub);
  for (const CLI::App* s : Subcommands(sub)) {
    p += ".SH \"" + Esc("stopgap " + name + " " + s->get_name()) + "\"\n" +
         Esc(s->get_description()) + ".\n" + Options(*s);
  }
  p += ExitStatus();
  p += ".SH SEE ALSO\n.BR stopgap (1),\n.BR stopgap.yaml (5)\n";
  return p;
}

std::string MainPage(const CLI::App& app) {
  std::string p = Header("stopgap", 1, "stopgap");
  p += ".SH NAME\nstopgap \\- accountable automated remediation for operations teams\n";
  p += Synopsis("stopgap", app);
  p += ".SH DESCRIPTION\n" + Esc(app.get_description()) +
       ".\nEvery workaround names a tracker issue, is counted, expires, and is marked diagnosed "
       "or undiagnosed. The same binary holds a StatsD server, a TCP\\-counters collector and a "
       "log archiver.\n";
  p += ".SH OPTIONS\n" + Options(app);
  p += ".SH COMMANDS\n";
  for (const CLI::App* s : Subcommands(app)) {
    p += ".TP\n.BR stopgap\\-" + Esc(s->get_name()) + " (" +
         std::to_string(Section(s->get_name())) + ")\n" + Esc(s->get_description()) + "\n";
  }
  p += ExitStatus();
  p += ".SH FILES\n.TP\n/etc/stopgap/stopgap.yaml\nthe catalog (stopgap.yaml(5))\n"
       ".TP\n/etc/stopgap/token\nthe API token, mode 0600\n"
       ".TP\n/var/lib/stopgap\nthe ledger and the diagnostics bundles\n";
  p += ".SH SEE ALSO\n.BR stopgap.yaml (5)";
  for (const CLI::App* s : Subcommands(app)) {
    p += ",\n.BR stopgap\\-" + Esc(s->get_name()) + " (" + std::to_string(Section(s->get_name())) +
         ")";
  }
  return p + "\n";
}

// docs/catalog.md as roff: headings, paragraphs, lists, code blocks and
// tables (kept as preformatted text); links keep their text.
std::string MarkdownToRoff(std::string_view md) {
  std::string out = Header("stopgap.yaml", 5, "stopgap");
  out += ".SH NAME\nstopgap.yaml \\- the stopgap workaround catalog\n";
  bool code = false, table = false;
  size_t pos = 0;
  auto plain = [](std::string line) {
    std::string o;
    for (size_t i = 0; i < line.size(); ++i) {
      char c = line[i];
      if (c == '`' || c == '*') continue;
      if (c == '[') {  // [text](url) -> text
        size_t close = line.find("](", i);
        size_t end = close == std::string::npos ? close : line.find(')', close);
        if (end != std::string::npos) {
          o += line.substr(i + 1, close - i - 1);
          i = end;
          continue;
        }
      }
      o.push_back(c);
    }
    return o;
  };
  while (pos <= md.size()) {
    size_t nl = md.find('\n', pos);
    std::string line(md.substr(pos, nl == std::string_view::npos ? md.npos : nl - pos));
    pos = nl == std::string_view::npos ? md.size() + 1 : nl + 1;
    if (line.starts_with("```")) {
      out += code ? ".fi\n.RE\n" : ".RS 4\n.nf\n";
      code = !code;
      continue;
    }
    if (code) {
      out += Esc(line) + "\n";
      continue;
    }
    bool row = line.starts_with("|");
    if (row != table) {
      out += row ? ".RS 4\n.nf\n" : ".fi\n.RE\n";
      table = row;
    }
    if (row) {
      if (line.find("---") != std::string::npos) continue;
      out += Esc(plain(line)) + "\n";
    } else if (line.starts_with("# ")) {
      out += ".SH DESCRIPTION\n";
    } else if (line.starts_with("## ")) {
      std::string h = plain(line.substr(3));
      for (char& c : h) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      out += ".SH \"" + Esc(h) + "\"\n";
    } else if (line.starts_with("### ")) {
      out += ".SS \"" + Esc(plain(line.substr(4))) + "\"\n";
    } else if (line.starts_with("- ")) {
      out += ".IP \\(bu 2\n" + Esc(plain(line.substr(2))) + "\n";
    } else if (line.empty()) {
      out += ".PP\n";
    } else {
      size_t i = line.find_first_not_of(' ');
      out += Esc(plain(i == std::string::npos ? "" : line.substr(i))) + "\n";
    }
  }
  if (code || table) out += ".fi\n.RE\n";
  out += ".SH SEE ALSO\n.BR stopgap (1),\n.BR stopgap\\-check (1),\n.BR stopgap\\-serve (8)\n";
  return out;
}

int WriteMan(const CLI::App& root, const std::string& dir) {
  auto write = [&](const std::string& name, const std::string& text) {
    if (Status s = WriteFileAtomic(dir + "/" + name, text, 0644); !s.ok()) {
      std::fprintf(stderr, "stopgap man: %s\n", s.message().c_str());
      return false;
    }
    return true;
  };
  if (Status s = MakeDirs(dir, 0755); !s.ok()) {
    std::fprintf(stderr, "stopgap man: %s\n", s.message().c_str());
    return kExitFailed;
  }
  if (!write("stopgap.1", MainPage(root))) return kExitFailed;
  if (!write("stopgap.yaml.5", MarkdownToRoff(kCatalogMarkdown))) return kExitFailed;
  for (const CLI::App* s : Subcommands(root)) {
    std::string name = "stopgap-" + s->get_name() + "." + std::to_string(Section(s->get_name()));
    if (!write(name, CommandPage(*s))) return kExitFailed;
  }
  return kExitOk;
}

}  // namespace

CommandMain SetupMan(CLI::App& sub) {
  auto dir = std::make_shared<std::string>();
  sub.group("");  // hidden: the build's tool
  sub.add_option("dir", *dir, "Directory to write the pages into")->required();
  CLI::App* self = &sub;
  return [self, dir] { return WriteMan(*self->get_parent(), *dir); };
}

}  // namespace stopgap::cli
