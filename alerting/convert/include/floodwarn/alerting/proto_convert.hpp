// Domain types (types.hpp, requests.hpp) <-> floodwarn.v1 messages for the
// gRPC service.
#pragma once

#include "floodwarn/alerting/requests.hpp"
#include "floodwarn/alerting/types.hpp"
#include "floodwarn/v1/alerts.pb.h"

namespace floodwarn::alerting::convert {

void ToProto(TimePoint t, google::protobuf::Timestamp* out);  // leaves 0 unset by the caller
TimePoint FromProto(const google::protobuf::Timestamp& t);

v1::AlertState ToProto(AlertState s);
v1::Mode ToProto(Mode m);
v1::RuleKind ToProto(RuleKind k);
v1::EventKind ToProto(EventKind k);

void ToProto(const Alert& a, v1::Alert* out);
void ToProto(const AlertEvent& e, v1::AlertEvent* out);
void ToProto(const Silence& s, v1::Silence* out);

AlertFilter FromProto(const v1::AlertFilter& f);

}  // namespace floodwarn::alerting::convert
