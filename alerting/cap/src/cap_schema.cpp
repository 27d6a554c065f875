// XSD validation of CAP messages in-process (libxml2), so that the service
// can refuse to send a message that would not validate.
#include <libxml/xmlschemas.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "cap_xml.hpp"
#include "floodwarn/alerting/cap.hpp"

namespace floodwarn::alerting {

using cap_internal::CollectError;
using cap_internal::DocPtr;
using cap_internal::InitLibXml;
using cap_internal::ParseXml;

struct CapSchemaValidator::Impl {
  xmlSchemaPtr schema = nullptr;
  std::string error;
  ~Impl() {
    if (schema) xmlSchemaFree(schema);
  }
};

CapSchemaValidator::CapSchemaValidator(const std::string& xsd_path) : impl_(new Impl) {
  InitLibXml();
  if (!std::ifstream(xsd_path).good()) {
    impl_->error = fmt::format("cannot read the CAP schema {}: {}", xsd_path, std::strerror(errno));
    return;
  }
  xmlSchemaParserCtxtPtr pc = xmlSchemaNewParserCtxt(xsd_path.c_str());
  if (pc == nullptr) {
    impl_->error = fmt::format("cannot read the CAP schema {}", xsd_path);
    return;
  }
  std::vector<std::string> errs;
  xmlSchemaSetParserStructuredErrors(pc, CollectError, &errs);
  impl_->schema = xmlSchemaParse(pc);
  xmlSchemaFreeParserCtxt(pc);
  if (impl_->schema == nullptr) {
    impl_->error = fmt::format("cannot load the CAP schema {}: {}", xsd_path,
                               errs.empty() ? "unknown error" : errs.front());
  }
}

CapSchemaValidator::~CapSchemaValidator() = default;

const std::string& CapSchemaValidator::error() const { return impl_->error; }

std::vector<std::string> CapSchemaValidator::Validate(const std::string& xml) const {
  if (impl_->schema == nullptr) return {impl_->error};
  std::string perr;
  DocPtr doc = ParseXml(xml, &perr);
  if (!doc) return {perr};
  xmlSchemaValidCtxtPtr vc = xmlSchemaNewValidCtxt(impl_->schema);
  if (vc == nullptr) return {"cannot allocate a schema validation context"};
  std::vector<std::string> errs;
  xmlSchemaSetValidStructuredErrors(vc, CollectError, &errs);
  const int rc = xmlSchemaValidateDoc(vc, doc.get());
  xmlSchemaFreeValidCtxt(vc);
  if (rc != 0 && errs.empty())
    errs.push_back(rc > 0 ? "does not validate against the CAP schema"
                          : "internal error while validating against the CAP schema");
  return errs;
}

std::vector<std::string> ValidateCapSchema(const std::string& xml, const std::string& xsd_path) {
  CapSchemaValidator v(xsd_path);
  return v.Validate(xml);
}

}  // namespace floodwarn::alerting
