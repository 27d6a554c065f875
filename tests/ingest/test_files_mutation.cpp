// Deterministic "mutation smoke" test of the file decoders (the g++ builds'
// stand-in for the libFuzzer targets in fuzz/): thousands of randomly mutated
// copies of the real sample files go through each decoder. Asserted: no crash
// and no exception other than the decoder's documented one; when exactly one
// data line is destroyed, exactly that line is reported (with its line number
// and byte offset) and every other record is still decoded with its value.
#include <gtest/gtest.h>
#include <zlib.h>

#include <cmath>
#include <fstream>
#include <random>
#include <set>
#include <sstream>

#include "floodwarn/ingest/csv.hpp"
#include "floodwarn/ingest/radolan.hpp"
#include "floodwarn/ingest/zrxp.hpp"
#include "test_support.hpp"

namespace fi = floodwarn::ingest;

namespace {

// One random edit: flip a bit, overwrite a byte, insert or delete a run,
// truncate, or duplicate a slice.
std::string Mutate(std::string s, std::mt19937& rng, std::size_t from = 0) {
  if (s.size() <= from + 1) return s;
  std::uniform_int_distribution<int> byte(0, 255);
  const int edits = 1 + static_cast<int>(rng() % 4);
  for (int e = 0; e < edits && s.size() > from + 1; ++e) {
    const std::size_t p = std::uniform_int_distribution<std::size_t>(from, s.size() - 1)(rng);
    switch (rng() % 7) {
      case 0:
        s[p] = static_cast<char>(s[p] ^ (1 << (rng() % 8)));
        break;
      case 1:
        s[p] = static_cast<char>(byte(rng));
        break;
      case 2:
        s.insert(p, std::string(1 + rng() % 16, static_cast<char>(byte(rng))));
        break;
      case 3:
        s.erase(p, 1 + rng() % 32);
        break;
      case 4:
        s.resize(p);
        break;
      case 5: {
        const std::size_t q = std::uniform_int_distribution<std::size_t>(0, s.size() - 1)(rng);
        const std::size_t len = std::min<std::size_t>(64, s.size() - q);
        s.insert(p, s.substr(q, len));
        break;
      }
      default:
        s[p] = "0123456789|*#;\n\r -+.E\"x"[rng() % 24];
    }
  }
  return s;
}

// Byte offsets of the starts of the lines (1-based index -> offset).
std::vector<std::size_t> LineStarts(const std::string& s) {
  std::vector<std::size_t> v = {0, 0};
  for (std::size_t i = 0; i < s.size(); ++i)
    if (s[i] == '\n') v.push_back(i + 1);
  return v;
}

}  // namespace

TEST(FilesMutation, ZrxpSamplesSurviveRandomMutations) {
  FLOODWARN_REQUIRE_SHARED(a, "reference/zrxp_gauge_K-Greim_excerpt_jackieleng.zrx");
  FLOODWARN_REQUIRE_SHARED(b, "reference/zrxp_multi_ts_forecast_jackieleng.zrx");
  std::mt19937 rng(20240101);
  std::size_t errors = 0;
  std::size_t readings = 0;
  for (const std::string& path : {a, b}) {
    const std::string original = floodwarn::testing::ReadText(path);
    fi::ZrxpReadingOptions opt;
    opt.default_station_id = "s";
    for (int i = 0; i < 2500; ++i) {
      const std::string m = Mutate(original, rng);
      fi::DecodeResult r;
      std::vector<fi::ForecastValue> fc;
      ASSERT_NO_THROW(r = fi::DecodeZrxp(m, path, opt, &fc));
      for (const auto& e : r.errors) ASSERT_LE(e.offset, m.size());
      for (const auto& rd : r.readings)
        ASSERT_TRUE(rd.flag == fi::QcFlag::kMissing || std::isfinite(rd.value));
      for (const auto& v : fc) ASSERT_TRUE(std::isnan(v.value) || std::isfinite(v.value));
      errors += r.errors.size();
      readings += r.readings.size() + fc.size();
    }
  }
  EXPECT_GT(errors, 500u);     // the mutations were noticed ...
  EXPECT_GT(readings, 1000u);  // ... and the intact records were kept
}

TEST(FilesMutation, ZrxpOneDestroyedLineLosesOnlyThatLine) {
  FLOODWARN_REQUIRE_SHARED(path, "reference/zrxp_gauge_K-Greim_excerpt_jackieleng.zrx");
  const std::string original = floodwarn::testing::ReadText(path);
  fi::ZrxpReadingOptions opt;
  opt.default_station_id = "s";
  const fi::DecodeResult base = fi::DecodeZrxp(original, path, opt);
  ASSERT_EQ(base.readings.size(), 96u);
  std::mt19937 rng(7);
  for (int i = 0; i < 1000; ++i) {
    // Replace data line k (2..97) with junk that cannot be a record.
    const std::size_t k = 2 + rng() % 96;
    const auto starts = LineStarts(original);
    const std::size_t begin = starts[k];
    const std::size_t end = original.find('\n', begin);
    std::string junk = "x";
    for (std::size_t n = rng() % 30; n > 0; --n) junk.push_back(" 0123456789abc.-+"[rng() % 17]);
    const std::string m = original.substr(0, begin) + junk + original.substr(end);
    const fi::DecodeResult r = fi::DecodeZrxp(m, path, opt);
    ASSERT_EQ(r.errors.size(), 1u);
    EXPECT_EQ(r.errors[0].line, k);
    EXPECT_EQ(r.errors[0].offset, begin);
    ASSERT_EQ(r.readings.size(), 95u);
    for (std::size_t j = 0, o = 0; j < base.readings.size(); ++j) {
      if (j == k - 2) continue;  // the destroyed record
      EXPECT_EQ(r.readings[o].observed, base.readings[j].observed);
      EXPECT_EQ(r.readings[o].value, base.readings[j].value);
      ++o;
    }
  }
}

TEST(FilesMutation, CsvSurvivesRandomMutationsAndKeepsGoodLines) {
  std::string original = "station_id,time,value,unit\n";
  for (int i = 0; i < 200; ++i)
    original += "g" + std::to_string(i % 7) + ",2024-03-0" + std::to_string(1 + i % 9) + "T" +
                (i % 24 < 10 ? "0" : "") + std::to_string(i % 24) + ":15:00+01:00," +
                std::to_string(100 + i) + ".5,cm\n";
  const fi::DecodeResult base = fi::DecodeCsv(original, "m.csv", {});
  ASSERT_EQ(base.readings.size(), 200u);
  ASSERT_TRUE(base.errors.empty());
  std::mt19937 rng(99);
  const auto original_lines = LineStarts(original);
  std::set<std::string> good_lines;
  for (std::size_t k = 2; k + 1 < original_lines.size(); ++k)
    good_lines.insert(
        original.substr(original_lines[k], original_lines[k + 1] - original_lines[k] - 1));
  for (int i = 0; i < 3000; ++i) {
    const std::string m = Mutate(original, rng, 30);  // header kept intact
    fi::DecodeResult r;
    ASSERT_NO_THROW(r = fi::DecodeCsv(m, "m.csv", {}));
    for (const auto& e : r.errors) ASSERT_LE(e.offset, m.size());
    // Every line that survived the mutation intact is decoded.
    std::size_t intact = 0;
    std::istringstream ss(m);
    std::string line;
    while (std::getline(ss, line)) intact += good_lines.count(line);
    ASSERT_GE(r.readings.size(), intact);
  }
  // One destroyed line: exactly one error, 199 readings.
  for (int i = 0; i < 500; ++i) {
    const std::size_t k = 2 + rng() % 200;
    const auto starts = LineStarts(original);
    const std::size_t end = original.find('\n', starts[k]);
    const std::string m =
        original.substr(0, starts[k]) + "x,y" + std::string(rng() % 5, ',') + original.substr(end);
    const fi::DecodeResult r = fi::DecodeCsv(m, "m.csv", {});
    ASSERT_EQ(r.errors.size(), 1u);
    EXPECT_EQ(r.errors[0].line, k);
    EXPECT_EQ(r.errors[0].offset, starts[k]);
    EXPECT_EQ(r.readings.size(), 199u);
  }
}

TEST(FilesMutation, RadolanSampleSurvivesRandomMutations) {
  FLOODWARN_REQUIRE_SHARED(path, "reference/raa01-rw_10000-1408030950-dwd---bin.gz");
  const std::string gz = floodwarn::testing::ReadText(path);
  const std::string raw = fi::Gunzip(gz, path);
  std::mt19937 rng(3);
  int decoded = 0;
  int refused = 0;
  // Header mutations: decode or a RadolanError, nothing else.
  for (int i = 0; i < 600; ++i) {
    std::string m = raw;
    const std::size_t p = rng() % 140;
    m[p] = "0123456789 xEGPBYVSINT<>,\x03"[rng() % 26];
    if (rng() % 3 == 0) m.erase(rng() % 140, 1 + rng() % 4);
    if (rng() % 5 == 0) m.resize(rng() % m.size());
    try {
      const fi::RadolanComposite c = fi::DecodeRadolan(m, path);
      ASSERT_EQ(c.rain_rate.rows(), c.header.rows);
      ASSERT_EQ(c.flags.size(), c.rain_rate.size());
      ++decoded;
    } catch (const fi::RadolanError&) {
      ++refused;
    }
  }
  EXPECT_GT(decoded, 50);
  EXPECT_GT(refused, 50);
  // Mutated data bytes: always decodes, the header is unchanged.
  for (int i = 0; i < 30; ++i) {
    std::string m = raw;
    for (int k = 0; k < 1000; ++k) m[130 + rng() % (m.size() - 130)] = static_cast<char>(rng());
    const fi::RadolanComposite c = fi::DecodeRadolan(m, path);
    EXPECT_EQ(c.header.rows, 900);
    EXPECT_EQ(c.header.product, "RW");
  }
  // Mutated gzip streams: a RadolanError (corrupt/truncated) or a decode.
  for (int i = 0; i < 300; ++i) {
    const std::string m = Mutate(gz, rng, 10);
    try {
      fi::DecodeRadolan(m, path);
    } catch (const fi::RadolanError&) {
    }
  }
}
