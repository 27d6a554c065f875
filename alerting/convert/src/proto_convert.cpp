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
  }
  return v1::RULE_KIND_UNSPECIFIED;
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

AlertFilter FromProto(const v1::AlertFilter& f) {
  AlertFilter out;
  out.area_ids.assign(f.area_ids().begin(), f.area_ids().end());
  out.station_ids.assign(f.station_ids().begin(), f.station_ids().end());
  out.min_level = f.min_level();
  out.include_resolved = f.include_resolved();
  return out;
}

}  // namespace floodwarn::alerting::convert
