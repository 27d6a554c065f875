// Domain types (types.hpp, requests.hpp) <-> floodwarn.v1 messages: the one
// conversion, shared by the gRPC service (domain -> proto for what it sends,
// proto -> domain for requests) and the client (the other way round), so
// that both ends read every field the same way. Internal to the alerting
// libraries: it exposes the generated proto types.
//
// Times: the zero TimePoint means "never"; it is left unset in a message, and
// an unset Timestamp reads back as the zero TimePoint. Enums: UNSPECIFIED and
// values this build does not know (a newer peer) read as the first domain
// value (kWaterLevel, kPending, kActual, kRaised); requests that must refuse
// an unknown value check it first (v1::Mode_IsValid).
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
v1::RuleCondition ToProto(Condition c);
AlertState FromProto(v1::AlertState s);
Mode FromProto(v1::Mode m);
RuleKind FromProto(v1::RuleKind k);
EventKind FromProto(v1::EventKind k);

void ToProto(const Alert& a, v1::Alert* out);
void ToProto(const AlertEvent& e, v1::AlertEvent* out);
void ToProto(const Silence& s, v1::Silence* out);
Alert FromProto(const v1::Alert& p);
AlertEvent FromProto(const v1::AlertEvent& p);
Silence FromProto(const v1::Silence& p);

void ToProto(const AlertFilter& f, v1::AlertFilter* out);
void ToProto(const ManualAlertRequest& r, v1::IssueManualRequest* out);
void ToProto(const SilenceRequest& r, v1::SilenceRequest* out);
AlertFilter FromProto(const v1::AlertFilter& f);
ManualAlertRequest FromProto(const v1::IssueManualRequest& r);
SilenceRequest FromProto(const v1::SilenceRequest& r);

}  // namespace floodwarn::alerting::convert
