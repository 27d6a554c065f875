#include "floodwarn/alerting/proto_convert.hpp"

namespace floodwarn::alerting::convert {

void ToProto(TimePoint t, google::protobuf::Timestamp* out) {
  const auto ms = t.time_since_epoch().count();
  auto sec = ms / 1000;
  auto rem = ms % 1000;
  if (rem < 0) {  // floor for times before 1970
    rem += 1000;
    sec -= 1;
  }
  out->set_seconds(sec);
  out->set_nanos(static_cast<std::int32_t>(rem * 1000000));
}

TimePoint FromProto(const google::protobuf::Timestamp& t) {
  return TimePoint(Duration(t.seconds() * 1000 + t.nanos() / 1000000));
}

namespace {
// The zero time means "never" in the domain types: the field stays unset.
template <typename MutableField>
void SetTime(TimePoint t, MutableField mutable_field) {
  if (t != TimePoint{}) ToProto(t, mutable_field());
}
}  // namespace

v1::AlertState ToProto(AlertState s) {
  switch (s) {
    case AlertState::kPending:
      return v1::ALERT_STATE_PENDING;
    case AlertState::kActive:
      return v1::ALERT_STATE_ACTIVE;
    case AlertState::kAcknowledged:
      return v1::ALERT_STATE_ACKNOWLEDGED;
    case AlertState::kResolved:
      return v1::ALERT_STATE_RESOLVED;
  }
  return v1::ALERT_STATE_UNSPECIFIED;
}

v1::Mode ToProto(Mode m) {
  switch (m) {
    case Mode::kActual:
      return v1::MODE_ACTUAL;
    case Mode::kExercise:
      return v1::MODE_EXERCISE;
    case Mode::kTest:
      return v1::MODE_TEST;
  }
  return v1::MODE_UNSPECIFIED;
}

v1::RuleKind ToProto(RuleKind k) {
  switch (k) {
    case RuleKind::kWaterLevel:
      return v1::RULE_KIND_WATER_LEVEL;
    case RuleKind::kRateOfRise:
      return v1::RULE_KIND_RATE_OF_RISE;
    case RuleKind::kRainfall:
      return v1::RULE_KIND_RAINFALL;
    case RuleKind::kForecastDepth:
      return v1::RULE_KIND_FORECAST_DEPTH;
    case RuleKind::kSensorOutage:
      return v1::RULE_KIND_SENSOR_OUTAGE;
    case RuleKind::kManual:
      return v1::RULE_KIND_MANUAL;
    case RuleKind::kForecastOutage:
      return v1::RULE_KIND_FORECAST_OUTAGE;
  }
  return v1::RULE_KIND_UNSPECIFIED;
}

v1::RuleCondition ToProto(Condition c) {
  switch (c) {
    case Condition::kClear:
      return v1::RULE_CONDITION_CLEAR;
    case Condition::kRaised:
      return v1::RULE_CONDITION_RAISED;
    case Condition::kUnknown:
      return v1::RULE_CONDITION_UNKNOWN;
  }
  return v1::RULE_CONDITION_UNSPECIFIED;
}

v1::EventKind ToProto(EventKind k) {
  switch (k) {
    case EventKind::kRaised:
      return v1::EVENT_KIND_RAISED;
    case EventKind::kUpdated:
      return v1::EVENT_KIND_UPDATED;
    case EventKind::kResolved:
      return v1::EVENT_KIND_RESOLVED;
    case EventKind::kAcknowledged:
      return v1::EVENT_KIND_ACKNOWLEDGED;
    case EventKind::kEscalated:
      return v1::EVENT_KIND_ESCALATED;
    case EventKind::kSuppressed:
      return v1::EVENT_KIND_SUPPRESSED;
    case EventKind::kUnsuppressed:
      return v1::EVENT_KIND_UNSUPPRESSED;
    case EventKind::kSilenceChanged:
      return v1::EVENT_KIND_SILENCE_CHANGED;
    case EventKind::kPending:
      return v1::EVENT_KIND_PENDING;
  }
  return v1::EVENT_KIND_UNSPECIFIED;
}

AlertState FromProto(v1::AlertState s) {
  switch (s) {
    case v1::ALERT_STATE_ACTIVE:
      return AlertState::kActive;
    case v1::ALERT_STATE_ACKNOWLEDGED:
      return AlertState::kAcknowledged;
    case v1::ALERT_STATE_RESOLVED:
      return AlertState::kResolved;
    default:
      return AlertState::kPending;
  }
}

Mode FromProto(v1::Mode m) {
  switch (m) {
    case v1::MODE_EXERCISE:
      return Mode::kExercise;
    case v1::MODE_TEST:
      return Mode::kTest;
    default:
      return Mode::kActual;
  }
}

RuleKind FromProto(v1::RuleKind k) {
  switch (k) {
    case v1::RULE_KIND_RATE_OF_RISE:
      return RuleKind::kRateOfRise;
    case v1::RULE_KIND_RAINFALL:
      return RuleKind::kRainfall;
    case v1::RULE_KIND_FORECAST_DEPTH:
      return RuleKind::kForecastDepth;
    case v1::RULE_KIND_SENSOR_OUTAGE:
      return RuleKind::kSensorOutage;
    case v1::RULE_KIND_MANUAL:
      return RuleKind::kManual;
    case v1::RULE_KIND_FORECAST_OUTAGE:
      return RuleKind::kForecastOutage;
    default:
      return RuleKind::kWaterLevel;
  }
}

EventKind FromProto(v1::EventKind k) {
  switch (k) {
    case v1::EVENT_KIND_UPDATED:
      return EventKind::kUpdated;
    case v1::EVENT_KIND_RESOLVED:
      return EventKind::kResolved;
    case v1::EVENT_KIND_ACKNOWLEDGED:
      return EventKind::kAcknowledged;
    case v1::EVENT_KIND_ESCALATED:
      return EventKind::kEscalated;
    case v1::EVENT_KIND_SUPPRESSED:
      return EventKind::kSuppressed;
    case v1::EVENT_KIND_UNSUPPRESSED:
      return EventKind::kUnsuppressed;
    case v1::EVENT_KIND_SILENCE_CHANGED:
      return EventKind::kSilenceChanged;
    case v1::EVENT_KIND_PENDING:
      return EventKind::kPending;
    default:
      return EventKind::kRaised;
  }
}

void ToProto(const Alert& a, v1::Alert* out) {
  out->set_id(a.id);
  out->set_rule_id(a.rule_id);
  out->set_subject(a.subject);
  out->set_kind(ToProto(a.kind));
  out->set_level(a.level);
  out->set_state(ToProto(a.state));
  out->set_mode(ToProto(a.mode));
  out->set_suppressed(a.suppressed);
  out->set_silenced(a.silenced);
  out->set_station_id(a.station_id);
  out->set_subject_name(a.subject_name);
  v1::Area* area = out->mutable_area();
  area->set_id(a.area.id);
  area->set_name(a.area.name);
  for (const GeoPoint& p : a.area.polygon) {
    v1::GeoPoint* g = area->add_polygon();
    g->set_lat(p.lat);
    g->set_lon(p.lon);
  }
  if (a.area.circle) {
    v1::Circle* c = area->mutable_circle();
    c->mutable_centre()->set_lat(a.area.circle->first.lat);
    c->mutable_centre()->set_lon(a.area.circle->first.lon);
    c->set_radius_km(a.area.circle->second);
  }
  area->set_ars(a.area.ars);
  out->set_value(a.value);
  out->set_threshold(a.threshold);
  out->set_unit(a.unit);
  out->set_reason(a.reason);
  out->set_headline_de(a.headline_de);
  out->set_headline_en(a.headline_en);
  out->set_description_de(a.description_de);
  out->set_description_en(a.description_en);
  out->set_instruction_de(a.instruction_de);
  out->set_instruction_en(a.instruction_en);
  SetTime(a.first_seen, [&] { return out->mutable_first_seen(); });
  SetTime(a.activated, [&] { return out->mutable_activated(); });
  SetTime(a.last_change, [&] { return out->mutable_last_change(); });
  SetTime(a.onset, [&] { return out->mutable_onset(); });
  SetTime(a.expires, [&] { return out->mutable_expires(); });
  if (a.ack) {
    v1::Acknowledgement* k = out->mutable_ack();
    k->set_by(a.ack->by);
    k->set_note(a.ack->note);
    SetTime(a.ack->at, [&] { return k->mutable_at(); });
  }
  out->set_escalated(a.escalated);
  for (const MessageRef& m : a.messages) {
    v1::MessageRef* r = out->add_messages();
    r->set_sender(m.sender);
    r->set_identifier(m.identifier);
    SetTime(m.sent, [&] { return r->mutable_sent(); });
  }
  out->set_incident(a.incident);
}

void ToProto(const AlertEvent& e, v1::AlertEvent* out) {
  out->set_sequence(e.sequence);
  out->set_kind(ToProto(e.kind));
  SetTime(e.at, [&] { return out->mutable_at(); });
  ToProto(e.alert, out->mutable_alert());
  out->set_actor(e.actor);
  out->set_note(e.note);
  out->set_cap_xml(e.cap_xml);
  out->set_cap_identifier(e.cap_identifier);
}

void ToProto(const Silence& s, v1::Silence* out) {
  out->set_id(s.id);
  out->set_alert_id(s.alert_id);
  out->set_station_id(s.station_id);
  out->set_rule_id(s.rule_id);
  out->set_author(s.author);
  out->set_reason(s.reason);
  SetTime(s.created, [&] { return out->mutable_created(); });
  SetTime(s.expires, [&] { return out->mutable_expires(); });
  out->set_approved_by(s.approved_by);
  out->set_needs_approval(s.needs_approval);
  out->set_removed(s.removed);
  out->set_removed_by(s.removed_by);
}

namespace {
GeoPoint FromProto(const v1::GeoPoint& p) { return GeoPoint{p.lat(), p.lon()}; }
}  // namespace

Alert FromProto(const v1::Alert& p) {
  Alert a;
  a.id = p.id();
  a.rule_id = p.rule_id();
  a.subject = p.subject();
  a.kind = FromProto(p.kind());
  a.level = p.level();
  a.state = FromProto(p.state());
  a.mode = FromProto(p.mode());
  a.suppressed = p.suppressed();
  a.silenced = p.silenced();
  a.station_id = p.station_id();
  a.subject_name = p.subject_name();
  a.area.id = p.area().id();
  a.area.name = p.area().name();
  for (const auto& g : p.area().polygon()) a.area.polygon.push_back(FromProto(g));
  if (p.area().has_circle())
    a.area.circle =
        std::make_pair(FromProto(p.area().circle().centre()), p.area().circle().radius_km());
  a.area.ars = p.area().ars();
  a.value = p.value();
  a.threshold = p.threshold();
  a.unit = p.unit();
  a.reason = p.reason();
  a.headline_de = p.headline_de();
  a.headline_en = p.headline_en();
  a.description_de = p.description_de();
  a.description_en = p.description_en();
  a.instruction_de = p.instruction_de();
  a.instruction_en = p.instruction_en();
  a.first_seen = FromProto(p.first_seen());
  a.activated = FromProto(p.activated());
  a.last_change = FromProto(p.last_change());
  if (p.has_onset()) a.onset = FromProto(p.onset());
  a.expires = FromProto(p.expires());
  if (p.has_ack()) a.ack = Acknowledgement{p.ack().by(), p.ack().note(), FromProto(p.ack().at())};
  a.escalated = p.escalated();
  for (const auto& m : p.messages())
    a.messages.push_back(MessageRef{m.sender(), m.identifier(), FromProto(m.sent())});
  a.incident = p.incident();
  return a;
}

AlertEvent FromProto(const v1::AlertEvent& p) {
  AlertEvent e;
  e.sequence = p.sequence();
  e.kind = FromProto(p.kind());
  e.at = FromProto(p.at());
  e.alert = FromProto(p.alert());
  e.actor = p.actor();
  e.note = p.note();
  e.cap_xml = p.cap_xml();
  e.cap_identifier = p.cap_identifier();
  return e;
}

Silence FromProto(const v1::Silence& p) {
  Silence s;
  s.id = p.id();
  s.alert_id = p.alert_id();
  s.station_id = p.station_id();
  s.rule_id = p.rule_id();
  s.author = p.author();
  s.reason = p.reason();
  s.created = FromProto(p.created());
  s.expires = FromProto(p.expires());
  s.approved_by = p.approved_by();
  s.needs_approval = p.needs_approval();
  s.removed = p.removed();
  s.removed_by = p.removed_by();
  return s;
}

void ToProto(const AlertFilter& f, v1::AlertFilter* out) {
  for (const auto& a : f.area_ids) out->add_area_ids(a);
  for (const auto& s : f.station_ids) out->add_station_ids(s);
  out->set_min_level(f.min_level);
  out->set_include_resolved(f.include_resolved);
}

void ToProto(const ManualAlertRequest& r, v1::IssueManualRequest* out) {
  out->set_subject(r.subject);
  out->set_level(r.level);
  out->set_area_id(r.area_id);
  out->set_headline_de(r.headline_de);
  out->set_headline_en(r.headline_en);
  out->set_description_de(r.description_de);
  out->set_description_en(r.description_en);
  out->set_instruction_de(r.instruction_de);
  out->set_instruction_en(r.instruction_en);
  out->set_mode(ToProto(r.mode));
}

void ToProto(const SilenceRequest& r, v1::SilenceRequest* out) {
  out->set_alert_id(r.alert_id);
  out->set_station_id(r.station_id);
  out->set_rule_id(r.rule_id);
  out->set_reason(r.reason);
  SetTime(r.expires, [&] { return out->mutable_expires(); });
}

AlertFilter FromProto(const v1::AlertFilter& f) {
  AlertFilter out;
  out.area_ids.assign(f.area_ids().begin(), f.area_ids().end());
  out.station_ids.assign(f.station_ids().begin(), f.station_ids().end());
  out.min_level = f.min_level();
  out.include_resolved = f.include_resolved();
  return out;
}

ManualAlertRequest FromProto(const v1::IssueManualRequest& r) {
  ManualAlertRequest out;
  out.subject = r.subject();
  out.level = r.level();
  out.area_id = r.area_id();
  out.headline_de = r.headline_de();
  out.headline_en = r.headline_en();
  out.description_de = r.description_de();
  out.description_en = r.description_en();
  out.instruction_de = r.instruction_de();
  out.instruction_en = r.instruction_en();
  out.mode = FromProto(r.mode());
  return out;
}

SilenceRequest FromProto(const v1::SilenceRequest& r) {
  SilenceRequest out;
  out.alert_id = r.alert_id();
  out.station_id = r.station_id();
  out.rule_id = r.rule_id();
  out.reason = r.reason();
  out.expires = FromProto(r.expires());
  return out;
}

}  // namespace floodwarn::alerting::convert
