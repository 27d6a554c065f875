// QC tests with hand-computed cases, including the values exactly at each
// threshold (strict comparisons: at the limit passes).
#include <gtest/gtest.h>

#include <cmath>

#include "floodwarn/ingest/qc.hpp"

namespace fi = floodwarn::ingest;
using namespace std::chrono_literals;

namespace {

fi::TimePoint T(int minutes) { return fi::TimePoint(std::chrono::minutes(minutes)); }

fi::Reading R(int minutes, double v) {
  fi::Reading r;
  r.station_id = "s";
  r.observed = T(minutes);
  r.value = v;
  return r;
}

}  // namespace

TEST(Qc, GrossRange) {
  fi::QcParams p;
  EXPECT_EQ(fi::GrossRangeTest(5, p).flag, fi::QcFlag::kNotEvaluated);
  p.gross_min = 0;
  p.gross_max = 800;
  EXPECT_EQ(fi::GrossRangeTest(800, p).flag, fi::QcFlag::kPass);
  EXPECT_EQ(fi::GrossRangeTest(0, p).flag, fi::QcFlag::kPass);
  const auto hi = fi::GrossRangeTest(800.01, p);
  EXPECT_EQ(hi.flag, fi::QcFlag::kFail);
  EXPECT_EQ(hi.reason, "gross_range: 800.01 above the sensor maximum 800");
  EXPECT_EQ(fi::GrossRangeTest(-0.5, p).flag, fi::QcFlag::kFail);
}

TEST(Qc, Climatology) {
  fi::QcParams p;
  p.climate_min = 20;
  p.climate_max = 600;
  EXPECT_EQ(fi::ClimatologyTest(600, p).flag, fi::QcFlag::kPass);
  EXPECT_EQ(fi::ClimatologyTest(20, p).flag, fi::QcFlag::kPass);
  EXPECT_EQ(fi::ClimatologyTest(600.5, p).flag, fi::QcFlag::kSuspect);
  EXPECT_EQ(fi::ClimatologyTest(19, p).flag, fi::QcFlag::kSuspect);
  EXPECT_NE(fi::ClimatologyTest(19, p).reason.find("climatology"), std::string::npos);
}

TEST(Qc, Spike) {
  fi::QcParams p;
  p.spike_suspect = 30;
  p.spike_fail = 80;
  // neighbours 100 and 120: mean 110
  EXPECT_EQ(fi::SpikeTest(100, 140, 120, p).flag, fi::QcFlag::kPass);       // 30: at the limit
  EXPECT_EQ(fi::SpikeTest(100, 140.5, 120, p).flag, fi::QcFlag::kSuspect);  // 30.5
  EXPECT_EQ(fi::SpikeTest(100, 190, 120, p).flag, fi::QcFlag::kSuspect);    // 80: at fail limit
  EXPECT_EQ(fi::SpikeTest(100, 191, 120, p).flag, fi::QcFlag::kFail);       // 81
  EXPECT_EQ(fi::SpikeTest(100, 29, 120, p).flag, fi::QcFlag::kFail);        // 81 downwards
  // A steady rise is no spike: 100, 150, 200 -> deviation 0.
  EXPECT_EQ(fi::SpikeTest(100, 150, 200, p).flag, fi::QcFlag::kPass);
}

TEST(Qc, RateOfChange) {
  fi::QcParams p;
  p.max_rate_per_hour = 120;
  // 30 cm in 15 min = 120 cm/h: at the limit passes; 30.5 cm -> 122 cm/h suspect.
  EXPECT_EQ(fi::RateOfChangeTest(100, T(0), 130, T(15), p).flag, fi::QcFlag::kPass);
  const auto o = fi::RateOfChangeTest(100, T(0), 69.5, T(15), p);
  EXPECT_EQ(o.flag, fi::QcFlag::kSuspect);
  EXPECT_EQ(o.reason, "rate_of_change: 122 per hour (max 120)");
  EXPECT_EQ(fi::RateOfChangeTest(100, T(15), 500, T(15), p).flag, fi::QcFlag::kNotEvaluated);
}

TEST(Qc, FlatLine) {
  fi::QcParams p;
  p.flat_suspect_count = 3;
  p.flat_fail_count = 5;
  p.flat_epsilon = 0.5;
  // run includes the value itself: 2 previous within 0.5 -> run 3 -> suspect
  EXPECT_EQ(fi::FlatLineTest({7, 100.2, 99.8}, 100, p, false).flag, fi::QcFlag::kSuspect);
  EXPECT_EQ(fi::FlatLineTest({7, 100.6, 99.8}, 100, p, false).flag, fi::QcFlag::kPass);  // run 2
  EXPECT_EQ(fi::FlatLineTest({100.5, 100.5, 100, 100.5}, 100, p, false).flag,
            fi::QcFlag::kFail);  // run 5, |0.5| at epsilon counts as flat
  const auto o = fi::FlatLineTest({1, 1, 1, 1, 1, 1}, 1, p, false);
  EXPECT_EQ(o.reason, "flat_line: 7 consecutive values within 0.5 (fail at 5)");
  // Rain: zeros are dry weather, a stuck non-zero value is not.
  EXPECT_EQ(fi::FlatLineTest({0, 0, 0, 0, 0}, 0, p, true).flag, fi::QcFlag::kNotEvaluated);
  EXPECT_EQ(fi::FlatLineTest({2, 2, 2, 2, 2}, 2, p, true).flag, fi::QcFlag::kFail);
}

TEST(Qc, Missing) {
  fi::Reading r = R(0, std::nan(""));
  EXPECT_EQ(fi::MissingTest(r).flag, fi::QcFlag::kMissing);
  r.value = 3;
  r.flag = fi::QcFlag::kMissing;
  EXPECT_EQ(fi::MissingTest(r).flag, fi::QcFlag::kMissing);
  EXPECT_EQ(fi::MissingTest(R(0, 3)).flag, fi::QcFlag::kPass);
}

TEST(Qc, ApplyQcOverASeries) {
  fi::Station st;
  st.id = "s";
  st.qc.gross_min = 0;
  st.qc.gross_max = 800;
  st.qc.spike_suspect = 30;
  st.qc.spike_fail = 80;
  st.qc.max_rate_per_hour = 400;
  st.qc.flat_suspect_count = 3;
  st.qc.flat_epsilon = 0.0;
  const std::vector<fi::Reading> history = {R(0, 100), R(15, 102)};
  // 30: 104 is next to the spike: |104 - (102 + 250) / 2| = 72 > 30 -> suspect
  // (QARTOD's spike test flags a spike's neighbours too; suspect stays usable);
  // 45: 250 spike (mean of 104 and 106 = 105, dev 145 > 80 -> fail;
  // also rate 146 cm / 0.25 h = 584/h);
  // 60: 106 pass (neighbour 104 -- the failed 250 is not a neighbour);
  // 75: 900 gross fail; 90: missing; 105: 106, 120: 106 -> flat run 3 at 120;
  // the last reading has no successor: no spike test.
  std::vector<fi::Reading> batch = {R(45, 250),          R(30, 104),  R(60, 106), R(75, 900),
                                    R(90, std::nan("")), R(105, 106), R(120, 106)};
  fi::ApplyQc(batch, st, history);
  ASSERT_EQ(batch.size(), 7u);
  EXPECT_EQ(batch[0].observed, T(30));  // sorted
  EXPECT_EQ(batch[0].flag, fi::QcFlag::kSuspect);
  EXPECT_EQ(batch[0].reason, "spike: 72 off the mean of its neighbours (suspect above 30)");
  EXPECT_EQ(batch[1].flag, fi::QcFlag::kFail);
  EXPECT_NE(batch[1].reason.find("spike: 145"), std::string::npos) << batch[1].reason;
  EXPECT_NE(batch[1].reason.find("rate_of_change: 584"), std::string::npos) << batch[1].reason;
  EXPECT_EQ(batch[2].flag, fi::QcFlag::kPass) << batch[2].reason;
  EXPECT_EQ(batch[3].flag, fi::QcFlag::kFail);
  EXPECT_NE(batch[3].reason.find("gross_range"), std::string::npos);
  EXPECT_EQ(batch[4].flag, fi::QcFlag::kMissing);
  EXPECT_EQ(batch[4].reason, "missing");
  EXPECT_EQ(batch[5].flag, fi::QcFlag::kPass) << batch[5].reason;  // run 2 (106, 106)
  EXPECT_EQ(batch[6].flag, fi::QcFlag::kSuspect);                  // run 3
  EXPECT_NE(batch[6].reason.find("flat_line: 3"), std::string::npos) << batch[6].reason;
  // No QC configured: nothing evaluated.
  std::vector<fi::Reading> plain = {R(0, 1)};
  fi::ApplyQc(plain, fi::Station{}, {});
  EXPECT_EQ(plain[0].flag, fi::QcFlag::kNotEvaluated);
}

TEST(Qc, StaleCheck) {
  const auto now = T(60);
  // expected every 15 min, factor 2: stale after more than 30 min.
  EXPECT_FALSE(fi::StaleCheck(T(30), now, 900s, 2.0).stale);  // exactly 30 min
  const auto s = fi::StaleCheck(T(13), now, 900s, 2.0);       // 47 min
  EXPECT_TRUE(s.stale);
  EXPECT_EQ(s.age, std::chrono::minutes(47));
  EXPECT_EQ(s.reason, "no reading for 47 min (expected every 15 min)");
  EXPECT_TRUE(fi::StaleCheck(std::nullopt, now, 900s, 2.0).stale);
  EXPECT_TRUE(fi::StaleCheck(T(30) - 1s, now, 900s, 2.0).stale);  // 30 min 1 s
  // 29 min 59 s = 1799 s: fresh at factor 2 (1800 s), stale at 1.998 (1798.2 s)
  EXPECT_FALSE(fi::StaleCheck(T(30) + 1s, now, 900s, 2.0).stale);
  EXPECT_TRUE(fi::StaleCheck(T(30) + 1s, now, 900s, 1.998).stale);
}

TEST(Qc, ApplyQcByStationUsesEachStationsParametersAndHistory) {
  fi::Station a;
  a.id = "a";
  a.qc.gross_max = 10;
  a.qc.max_rate_per_hour = 4;
  fi::Station b;
  b.id = "b";
  b.qc.gross_max = 100;
  const fi::StationRegistry reg({a, b});
  std::vector<fi::Reading> batch = {R(60, 50), R(30, 9), R(0, 5), R(0, 50)};
  batch[0].station_id = "b";
  batch[1].station_id = "a";
  batch[2].station_id = "unknown";
  batch[3].station_id = "b";
  std::vector<std::string> asked;
  fi::ApplyQcByStation(batch, reg, [&](const std::string& id, fi::TimePoint before) {
    asked.push_back(id);
    std::vector<fi::Reading> h;
    if (id == "a") {
      EXPECT_EQ(before, T(30));
      h.push_back(R(15, 8));  // 8 -> 9 in 15 min = 4 per hour: at the limit
      h.back().flag = fi::QcFlag::kPass;
    }
    return h;
  });
  EXPECT_EQ(asked, (std::vector<std::string>{"a", "b"}));  // not for unknown stations
  ASSERT_EQ(batch.size(), 4u);
  EXPECT_EQ(batch[0].station_id, "a");
  EXPECT_EQ(batch[0].flag, fi::QcFlag::kPass);
  EXPECT_EQ(batch[1].station_id, "b");
  EXPECT_EQ(batch[1].observed, T(0));
  EXPECT_EQ(batch[1].flag, fi::QcFlag::kPass);  // 50 <= 100 at b, would fail at a
  EXPECT_EQ(batch[3].station_id, "unknown");
  EXPECT_EQ(batch[3].flag, fi::QcFlag::kNotEvaluated);
}

TEST(Qc, MonthlyClimatology) {
  fi::QcParams p;
  p.climate_max = 600;  // replaced by the monthly limits where they are set
  p.climate_monthly_max =
      std::array<double, 12>{300, 300, 400, 400, 400, 500, 500, 500, 400, 400, 300, 300};
  // Epoch seconds: 1722470399 = 2024-07-31T23:59:59Z, 1709208000 = 2024-02-29T12:00Z,
  // 1709251200 = 2024-03-01T00:00Z, 1733011140 = 2024-11-30T23:59Z,
  // 1733011200 = 2024-12-01T00:00Z (python3 datetime.utcfromtimestamp).
  const auto at = [](long s) { return fi::TimePoint(std::chrono::seconds(s)); };
  EXPECT_EQ(fi::ClimatologyTest(450, at(1722470399), p).flag, fi::QcFlag::kPass);
  EXPECT_EQ(fi::ClimatologyTest(350, at(1709208000), p).flag, fi::QcFlag::kSuspect);
  EXPECT_EQ(fi::ClimatologyTest(350, at(1709251200), p).flag, fi::QcFlag::kPass);
  const auto o = fi::ClimatologyTest(301, at(1733011140), p);
  EXPECT_EQ(o.flag, fi::QcFlag::kSuspect);
  EXPECT_EQ(o.reason, "climatology: 301 above the plausible maximum 300 (month 11)");
  EXPECT_EQ(fi::ClimatologyTest(300, at(1733011200), p).flag, fi::QcFlag::kPass);
  // Before 1970 too: 1969-12-31T23:00Z is December.
  EXPECT_NE(fi::ClimatologyTest(301, at(-3600), p).reason.find("month 12"), std::string::npos);
}
