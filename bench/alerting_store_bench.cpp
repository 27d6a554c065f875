// Alert store benchmark: committed events per second and Apply latency
// (p50/p99) for batch sizes 1 and 10, with synchronous=FULL (the default,
// survives power loss) and NORMAL (survives a process crash), plus the
// outbox read rate. Figures go to docs/alerting/STORE.md.
//
//   alerting_store_bench [--events N] [--dir DIR]
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <memory>
#include <random>

#include "floodwarn/alerting/store.hpp"

namespace {
using namespace floodwarn::alerting;
using Clock2 = std::chrono::steady_clock;

AlertEvent MakeEvent(int n) {
  AlertEvent e;
  e.kind = EventKind::kUpdated;
  e.at = TimePoint(Duration(1700000000000 + n));
  Alert& a = e.alert;
  a.id = "fw.bench." + std::to_string(n % 50);
  a.rule_id = "talstadt.stage";
  a.subject = "pegel-" + std::to_string(n % 50);
  a.level = 2;
  a.state = AlertState::kActive;
  a.station_id = "DE-2730010";
  a.subject_name = "Pegel Talstadt";
  a.area.id = "unterstadt";
  a.area.name = "Talstadt, Unterstadt";
  a.area.polygon = {{50.1, 8.2}, {50.2, 8.25}, {50.15, 8.3}, {50.1, 8.2}};
  a.value = 412.0;
  a.threshold = 400.0;
  a.unit = "cm";
  a.reason = "level 412 cm >= 400 cm (Meldestufe 2)";
  a.headline_de = "Hochwasserwarnung Meldestufe 2";
  a.description_de = "Ausuferungen an der Uferstraße möglich.";
  a.messages = {{"floodwarn@talstadt.example", "fw.1", e.at}};
  e.actor = "system";
  // A CAP message of typical size (~1.5 kB).
  e.cap_xml = std::string(1500, 'x');
  e.cap_identifier = "fw.bench." + std::to_string(n);
  return e;
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  auto i = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

void Run(const std::string& dir, bool full, int batch, int events) {
  std::string path = fmt::format("{}/bench_{}_{}.db", dir, full ? "full" : "normal", batch);
  auto remove_db = [&path] {
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
  };
  remove_db();
  StoreOptions opt;
  opt.synchronous_full = full;
  auto owned = std::make_unique<AlertStore>(path, opt);
  AlertStore& store = *owned;
  std::vector<double> lat_ms;
  int n = 0;
  auto t0 = Clock2::now();
  while (n < events) {
    Changeset c;
    for (int i = 0; i < batch; ++i) c.events.push_back(MakeEvent(n + i));
    c.alerts.push_back(c.events.back().alert);
    AuditEntry a;
    a.at = c.events.back().at;
    a.actor = "rules";
    a.action = "transition";
    a.alert_id = c.alerts.back().id;
    a.detail = "level=2";
    c.audit.push_back(a);
    auto s = Clock2::now();
    auto r = store.Apply(c);
    lat_ms.push_back(std::chrono::duration<double, std::milli>(Clock2::now() - s).count());
    if (!r.ok()) throw std::runtime_error(r.error.message);
    n += batch;
  }
  double secs = std::chrono::duration<double>(Clock2::now() - t0).count();
  fmt::print(
      "sync={:<6} batch={:>2}  {:>6} events  {:>9.0f} events/s  Apply p50 {:.3f} ms  p99 "
      "{:.3f} ms\n",
      full ? "FULL" : "NORMAL", batch, n, n / secs, Percentile(lat_ms, 0.5),
      Percentile(lat_ms, 0.99));

  // Outbox read rate (subscriber catch-up), pages of 256.
  auto r0 = Clock2::now();
  std::uint64_t after = 0;
  std::size_t read = 0;
  for (;;) {
    auto page = store.ReadEvents(after, 256);
    if (page.empty()) break;
    read += page.size();
    after = page.back().sequence;
  }
  double rsecs = std::chrono::duration<double>(Clock2::now() - r0).count();
  fmt::print("                     ReadEvents catch-up: {:>9.0f} events/s\n", read / rsecs);
  owned.reset();
  remove_db();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"floodwarn alert store benchmark (SQLite WAL outbox)"};
  int events = 2000;
  std::string dir = std::filesystem::temp_directory_path().string();
  app.add_option("--events", events, "events committed per configuration")
      ->check(CLI::PositiveNumber);
  app.add_option("--dir", dir, "folder for the benchmark databases (its file system matters)")
      ->check(CLI::ExistingDirectory);
  CLI11_PARSE(app, argc, argv);
  spdlog::set_level(spdlog::level::warn);
  try {
    fmt::print("alert store benchmark: {} events per configuration, databases in {}\n", events,
               dir);
    for (bool full : {true, false})
      for (int batch : {1, 10}) Run(dir, full, batch, events);
  } catch (const std::exception& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return 1;
  }
  return 0;
}
