// libxml2 plumbing of the CAP checks and schema validation (cap_xml.hpp).
#include "cap_xml.hpp"

#include <fmt/format.h>

#include <mutex>

#include "cap_vocabulary.hpp"

namespace floodwarn::alerting::cap_internal {
namespace {

std::string TrimRight(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r')) s.pop_back();
  return s;
}

}  // namespace

void InitLibXml() {
  static std::once_flag once;
  std::call_once(once, [] { xmlInitParser(); });
}

void CollectError(void* user, XmlErrorArg err) {
  auto* out = static_cast<std::vector<std::string>*>(user);
  if (err == nullptr) return;
  out->push_back(fmt::format("line {}: {}", err->line,
                             TrimRight(err->message ? err->message : "unknown error")));
}

// Parses without network access and without entity expansion; a parse
// error comes back in `error`.
DocPtr ParseXml(const std::string& xml, std::string* error) {
  InitLibXml();
  xmlParserCtxtPtr ctxt = xmlNewParserCtxt();
  if (ctxt == nullptr) {
    *error = "cannot allocate an XML parser";
    return nullptr;
  }
  xmlDocPtr doc =
      xmlCtxtReadMemory(ctxt, xml.data(), static_cast<int>(xml.size()), "cap.xml", nullptr,
                        XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
  if (doc == nullptr) {
    xmlErrorPtr e = xmlCtxtGetLastError(ctxt);
    *error = e ? fmt::format("not well-formed XML: line {}: {}", e->line,
                             TrimRight(e->message ? e->message : ""))
               : "not well-formed XML";
  }
  xmlFreeParserCtxt(ctxt);
  return DocPtr(doc);
}

bool IsCap(const xmlNode* n, const char* name) {
  return n && n->type == XML_ELEMENT_NODE && n->ns && n->ns->href &&
         xmlStrEqual(n->ns->href, BAD_CAST kCapNamespace) && xmlStrEqual(n->name, BAD_CAST name);
}

std::vector<const xmlNode*> Children(const xmlNode* parent, const char* name) {
  std::vector<const xmlNode*> out;
  for (const xmlNode* c = parent->children; c; c = c->next)
    if (IsCap(c, name)) out.push_back(c);
  return out;
}

const xmlNode* Child(const xmlNode* parent, const char* name) {
  for (const xmlNode* c = parent->children; c; c = c->next)
    if (IsCap(c, name)) return c;
  return nullptr;
}

std::string Text(const xmlNode* n) {
  if (n == nullptr) return {};
  xmlChar* c = xmlNodeGetContent(n);
  std::string s = c ? reinterpret_cast<const char*>(c) : "";
  xmlFree(c);
  return s;
}

}  // namespace floodwarn::alerting::cap_internal
