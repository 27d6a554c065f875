// Private to floodwarn::alerting_cap: the libxml2 plumbing the checks and the
// schema validation share: a parser without network access or entity
// expansion, errors with line numbers, and navigation in the CAP namespace.
#pragma once

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlversion.h>

#include <memory>
#include <string>
#include <vector>

namespace floodwarn::alerting::cap_internal {

#if LIBXML_VERSION >= 21200
using XmlErrorArg = const xmlError*;
#else
using XmlErrorArg = xmlError*;
#endif

void InitLibXml();
// libxml2 structured-error callback: appends "line N: message" to the
// std::vector<std::string> passed as `user`.
void CollectError(void* user, XmlErrorArg err);

struct DocDeleter {
  void operator()(xmlDoc* d) const { xmlFreeDoc(d); }
};
using DocPtr = std::unique_ptr<xmlDoc, DocDeleter>;

// Parses without network access and without entity expansion; a parse
// error comes back in `error`.
DocPtr ParseXml(const std::string& xml, std::string* error);

// Element `name` in the CAP 1.2 namespace?
bool IsCap(const xmlNode* n, const char* name);
std::vector<const xmlNode*> Children(const xmlNode* parent, const char* name);
const xmlNode* Child(const xmlNode* parent, const char* name);
std::string Text(const xmlNode* n);  // the text content, "" for nullptr

}  // namespace floodwarn::alerting::cap_internal
