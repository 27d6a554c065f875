// The batches the crash child writes, rebuilt by the parent to check them.
#pragma once

#include <string>

#include "floodwarn/alerting/store.hpp"

namespace floodwarn::alerting::crashtest {

constexpr int kBatch = 3;

inline AlertEvent MakeEvent(long pid, long n, int i) {
  AlertEvent e;
  e.kind = i == 0 ? EventKind::kRaised : EventKind::kUpdated;
  e.at = TimePoint(Duration(1700000000000 + n * 1000 + i));
  e.alert.id = "fw.crash." + std::to_string(n % 7);
  e.alert.rule_id = "crash.rule";
  e.alert.subject = "pegel-" + std::to_string(n % 7);
  e.alert.level = 1 + static_cast<int>(n % 4);
  e.alert.state = AlertState::kActive;
  e.alert.value = 400.0 + 0.1 * static_cast<double>(n);
  e.alert.reason = "pid=" + std::to_string(pid) + " n=" + std::to_string(n);
  e.alert.description_de = "Überflutung möglich, Ereignis " + std::to_string(n);
  e.actor = "system";
  e.note = "pid=" + std::to_string(pid) + " n=" + std::to_string(n) + " i=" + std::to_string(i);
  e.cap_xml = "<alert><identifier>fw." + std::to_string(pid) + "." + std::to_string(n) + "." +
              std::to_string(i) + "</identifier></alert>";
  e.cap_identifier =
      "fw." + std::to_string(pid) + "." + std::to_string(n) + "." + std::to_string(i);
  return e;
}

inline Changeset MakeBatch(long pid, long n) {
  Changeset c;
  for (int i = 0; i < kBatch; ++i) c.events.push_back(MakeEvent(pid, n, i));
  c.alerts.push_back(c.events.back().alert);
  AuditEntry a;
  a.at = c.events.back().at;
  a.actor = "rules";
  a.action = "transition";
  a.alert_id = c.alerts.back().id;
  a.detail = c.events.back().note;
  c.audit.push_back(a);
  return c;
}

}  // namespace floodwarn::alerting::crashtest
