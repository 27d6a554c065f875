#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>

#include "floodwarn/grids/raster.hpp"
#include "test_support.hpp"

using floodwarn::grids::GeoTransform;
using floodwarn::grids::RasterD;
using floodwarn::grids::RasterError;
using floodwarn::grids::ReadAsciiGrid;
using floodwarn::grids::WriteAsciiGrid;

namespace {
std::string WriteText(const std::string& name, const std::string& text) {
  const std::string path = floodwarn::testing::MakeTempDir() + "/" + name;
  std::ofstream(path) << text;
  return path;
}
}  // namespace

TEST(AsciiGrid, ReadsHeaderOrientationAndNodata) {
  const auto path = WriteText("a.asc",
                              "ncols 3\nNROWS 2\nxllcorner 100\nyllcorner 200\ncellsize 5\n"
                              "NODATA_value -9999\n1 2 3\n4 -9999 6\n");
  const RasterD r = ReadAsciiGrid(path);
  ASSERT_EQ(r.cols(), 3);
  ASSERT_EQ(r.rows(), 2);
  // Row 0 is the first (northernmost) line of the file.
  EXPECT_EQ(r(0, 0), 1);
  EXPECT_EQ(r(2, 1), 6);
  EXPECT_TRUE(r.IsNodata(1, 1));
  EXPECT_FALSE(r.IsNodata(1, 0));
  EXPECT_EQ(r.CountNodata(), 1u);
  EXPECT_DOUBLE_EQ(r.geo().x_west, 100);
  EXPECT_DOUBLE_EQ(r.geo().y_north, 210);  // yllcorner + nrows * cellsize
  EXPECT_DOUBLE_EQ(r.geo().CellCenterX(0), 102.5);
  EXPECT_DOUBLE_EQ(r.geo().CellCenterY(1), 202.5);
  EXPECT_EQ(r.geo().ColumnOf(109.9), 1);
  EXPECT_EQ(r.geo().RowOf(209.0), 0);
}

TEST(AsciiGrid, CenterRegistrationShiftsByHalfACell) {
  const auto path =
      WriteText("c.asc", "ncols 1\nnrows 1\nxllcenter 10\nyllcenter 20\ncellsize 2\n7\n");
  const RasterD r = ReadAsciiGrid(path);
  EXPECT_DOUBLE_EQ(r.geo().x_west, 9);
  EXPECT_DOUBLE_EQ(r.geo().y_north, 21);
}

TEST(AsciiGrid, RoundTripIsExact) {
  GeoTransform gt{1000.5, 2000.25, 0.5, 0.5};
  RasterD r(4, 3, gt, 0.0);
  for (int row = 0; row < 3; ++row)
    for (int col = 0; col < 4; ++col) r(col, row) = std::sqrt(2.0) * (col + 10 * row) + 1e-9;
  r.set_nodata(-9999.0);
  r(3, 2) = -9999.0;
  const std::string path = floodwarn::testing::MakeTempDir() + "/rt.asc";
  WriteAsciiGrid(path, r);
  const RasterD back = ReadAsciiGrid(path);
  ASSERT_EQ(back.cols(), 4);
  ASSERT_EQ(back.rows(), 3);
  EXPECT_TRUE(back.geo().SameGrid(gt, 1e-15));
  for (int row = 0; row < 3; ++row)
    for (int col = 0; col < 4; ++col) {
      if (col == 3 && row == 2) {
        EXPECT_TRUE(back.IsNodata(col, row));
      } else {
        EXPECT_EQ(back(col, row), r(col, row)) << col << "," << row;
      }
    }
}

// With few significant digits the values are rounded, but nodata cells keep
// the header's exact value (else -9999 at 3 digits reads back as -1e+04).
TEST(AsciiGrid, FewDigitsKeepNodataExact) {
  RasterD r(3, 1, GeoTransform{0, 1, 1, 1}, 0.0);
  r.set_nodata(-9999.0);
  r(0, 0) = 1.23456;
  r(1, 0) = -9999.0;
  r(2, 0) = 98765.4;
  const std::string path = floodwarn::testing::MakeTempDir() + "/few.asc";
  WriteAsciiGrid(path, r, 3);
  const RasterD back = ReadAsciiGrid(path);
  EXPECT_DOUBLE_EQ(back(0, 0), 1.23);
  EXPECT_TRUE(back.IsNodata(1, 0));
  EXPECT_FALSE(back.IsNodata(2, 0));
  EXPECT_DOUBLE_EQ(back(2, 0), 98800.0);
}

// Bad input: the message names the file and the line and what was expected.
TEST(AsciiGrid, ErrorsNameFileAndLine) {
  struct Case {
    const char* text;
    const char* expect;
  } cases[] = {
      {"ncols 2\nnrows 1\nxllcorner 0\nyllcorner 0\ncellsize 1\n1\n", "expected ncols*nrows"},
      {"ncols 2\nnrows 1\nxllcorner 0\nyllcorner 0\ncellsize 1\n1 2 3\n", "more values"},
      {"ncols 2\nnrows 1\nxllcorner 0\nyllcorner 0\ncellsize 1\n1 x\n", "expected a number"},
      {"ncols 2\nnrows 1\nxllcorner 0\ncellsize 1\n1 2\n", "yllcorner"},
      {"ncols 2\nnrows 1\nxllcorner 0\nyllcorner 0\ncellsize -1\n1 2\n", "cell size"},
      {"ncols 2\nnrows 1\nxllcorner 0\nyllcorner 0\ncellsize 1\nfoo 3\n1 2\n", "unknown header"},
      {"ncols two\nnrows 1\n", "expected a number"},
  };
  for (const auto& c : cases) {
    const auto path = WriteText("bad.asc", c.text);
    try {
      ReadAsciiGrid(path);
      ADD_FAILURE() << "no error for: " << c.text;
    } catch (const RasterError& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find(path + ":"), std::string::npos) << msg;
      EXPECT_NE(msg.find(c.expect), std::string::npos) << msg;
    }
  }
  EXPECT_THROW(ReadAsciiGrid("/nonexistent/dem.asc"), RasterError);
}

// A full disk (/dev/full behind the temporary name) or a missing folder:
// RasterError names the file and the operating system's reason; the old file
// stays and no temporary file is left.
TEST(AsciiGrid, WriteErrorsNameTheFileAndTheReasonAndKeepTheOldFile) {
  RasterD r(2, 2, GeoTransform{0.0, 10.0, 1.0, 1.0}, 1.0);
  const std::string dir = floodwarn::testing::MakeTempDir();
  const std::string path = dir + "/old.asc";
  WriteAsciiGrid(path, r);
  const std::string before = floodwarn::testing::ReadText(path);
  auto error_of = [&](const std::string& p) {
    try {
      WriteAsciiGrid(p, r);
    } catch (const RasterError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  if (std::filesystem::exists("/dev/full")) {
    std::filesystem::create_symlink("/dev/full", path + ".tmp");
    const std::string e = error_of(path);
    EXPECT_NE(e.find(path), std::string::npos) << e;
    EXPECT_NE(e.find("No space left on device"), std::string::npos) << e;
    EXPECT_EQ(floodwarn::testing::ReadText(path), before);
    EXPECT_FALSE(std::filesystem::exists(std::filesystem::symlink_status(path + ".tmp")));
  }
  const std::string missing = dir + "/no/such/dir/x.asc";
  const std::string e = error_of(missing);
  EXPECT_NE(e.find(missing), std::string::npos) << e;
  EXPECT_NE(e.find("No such file or directory"), std::string::npos) << e;
}
