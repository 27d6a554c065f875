// Checkpoint file format (HDF5): bit-exact round trip, the layout as the real
// h5dump shows it (skipped when h5dump is absent), and the errors.
#include <gtest/gtest.h>
#include <hdf5.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "floodwarn/grids/checkpoint_file.hpp"
#include "test_support.hpp"

using floodwarn::grids::CheckpointData;
using floodwarn::grids::ReadCheckpoint;
using floodwarn::grids::WriteCheckpoint;

namespace {
namespace fs = std::filesystem;

double FromBits(std::uint64_t bits) {
  double d;
  std::memcpy(&d, &bits, sizeof d);
  return d;
}

// nx = 5, ny = 3; the awkward values first, then ordinary ones.
CheckpointData Sample() {
  CheckpointData data;
  data.nx = 5;
  data.ny = 3;
  std::vector<double> h = {std::numeric_limits<double>::quiet_NaN(),
                           -std::numeric_limits<double>::quiet_NaN(),
                           FromBits(0x7ff0000000000123ULL),  // signalling NaN with a payload
                           FromBits(0x7ff8dead0000beefULL),  // quiet NaN with a payload
                           std::numeric_limits<double>::infinity(),
                           -std::numeric_limits<double>::infinity(),
                           std::numeric_limits<double>::denorm_min(),
                           -std::numeric_limits<double>::denorm_min(),
                           FromBits(0x000fffffffffffffULL),  // largest denormal
                           -0.0,
                           0.1 + 0.2,
                           std::numeric_limits<double>::max(),
                           std::numeric_limits<double>::lowest(),
                           std::numeric_limits<double>::epsilon(),
                           1.0 / 3.0};
  data.fields["h"] = h;
  std::vector<double> hu(15);
  for (int i = 0; i < 15; ++i) hu[i] = 0.1 * i - 0.7;
  data.fields["hu"] = hu;
  data.fields["hv"] = std::vector<double>(15, -0.0);
  data.scalars["time_s"] = 3600.0 + 0.1 + 0.2;
  data.scalars["steps"] = 123456789.0;
  data.scalars["mass_in_m3"] = std::numeric_limits<double>::denorm_min();
  data.scalars["nan_term"] = FromBits(0xfff8000000000042ULL);
  data.strings["floodwarn_version"] = "0.4.0";
  data.strings["config_path"] = "/srv/floodwarn/configs/Ahr Valley (2021).toml";
  data.strings["precision"] = "double";
  data.strings["empty"] = "";
  data.strings["utf8"] = "Bad Neuenahr-Ahrweiler \xc3\xa4\xc3\xb6\xc3\xbc \xe2\x82\xac";
  return data;
}

bool SameBits(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}
bool SameBits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

// The message of the runtime_error that `f` throws ("" when it throws none).
template <typename F>
std::string ErrorOf(F f) {
  try {
    f();
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

std::string RunCommand(const std::string& command) {
  std::string out;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return out;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
  pclose(pipe);
  return out;
}

bool OnPath(const std::string& tool) {
  return std::system(("command -v " + tool + " >/dev/null 2>&1").c_str()) == 0;
}

void WriteText(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

TEST(CheckpointFile, RoundTripIsBitExact) {
  const std::string path = floodwarn::testing::MakeTempDir() + "/state.h5";
  const CheckpointData in = Sample();
  WriteCheckpoint(path, in);
  const CheckpointData out = ReadCheckpoint(path);

  EXPECT_EQ(out.nx, 5);
  EXPECT_EQ(out.ny, 3);
  ASSERT_EQ(out.fields.size(), in.fields.size());
  for (const auto& [name, values] : in.fields) {
    ASSERT_EQ(out.fields.count(name), 1u) << name;
    EXPECT_TRUE(SameBits(out.fields.at(name), values)) << name;
  }
  ASSERT_EQ(out.scalars.size(), in.scalars.size());
  for (const auto& [name, value] : in.scalars) {
    ASSERT_EQ(out.scalars.count(name), 1u) << name;
    EXPECT_TRUE(SameBits(out.scalars.at(name), value)) << name;
  }
  EXPECT_EQ(out.strings, in.strings);
}

TEST(CheckpointFile, OverwritesAtomicallyAndLeavesNoTmp) {
  const std::string dir = floodwarn::testing::MakeTempDir();
  const std::string path = dir + "/state.h5";
  CheckpointData first = Sample();
  WriteCheckpoint(path, first);
  CheckpointData second = Sample();
  second.scalars["time_s"] = 7200.0;
  second.fields.erase("hv");
  WriteCheckpoint(path, second);  // replaces the first
  EXPECT_FALSE(fs::exists(path + ".tmp"));
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) names.push_back(entry.path().filename());
  EXPECT_EQ(names, std::vector<std::string>{"state.h5"});
  const CheckpointData out = ReadCheckpoint(path);
  EXPECT_EQ(out.scalars.at("time_s"), 7200.0);
  EXPECT_EQ(out.fields.count("hv"), 0u);
}

TEST(CheckpointFile, EmptyGridAndNoContent) {
  const std::string path = floodwarn::testing::MakeTempDir() + "/empty.h5";
  CheckpointData in;
  in.fields["h"] = {};  // 0 x 0 grid
  WriteCheckpoint(path, in);
  const CheckpointData out = ReadCheckpoint(path);
  EXPECT_EQ(out.nx, 0);
  EXPECT_EQ(out.ny, 0);
  ASSERT_EQ(out.fields.count("h"), 1u);
  EXPECT_TRUE(out.fields.at("h").empty());
  EXPECT_TRUE(out.scalars.empty());
  EXPECT_TRUE(out.strings.empty());
}

TEST(CheckpointFile, FieldsAreChunkedShuffledAndDeflated) {
  const std::string path = floodwarn::testing::MakeTempDir() + "/state.h5";
  WriteCheckpoint(path, Sample());
  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  ASSERT_GE(file, 0);
  const hid_t dset = H5Dopen2(file, "/fields/h", H5P_DEFAULT);
  ASSERT_GE(dset, 0);
  const hid_t dcpl = H5Dget_create_plist(dset);
  EXPECT_EQ(H5Pget_layout(dcpl), H5D_CHUNKED);
  ASSERT_EQ(H5Pget_nfilters(dcpl), 2);
  unsigned flags = 0, values[4] = {0, 0, 0, 0};
  std::size_t nvalues = 4;
  EXPECT_EQ(H5Pget_filter2(dcpl, 0, &flags, &nvalues, values, 0, nullptr, nullptr),
            H5Z_FILTER_SHUFFLE);
  nvalues = 4;
  EXPECT_EQ(H5Pget_filter2(dcpl, 1, &flags, &nvalues, values, 0, nullptr, nullptr),
            H5Z_FILTER_DEFLATE);
  ASSERT_EQ(nvalues, 1u);
  EXPECT_EQ(values[0], 1u);  // level
  const hid_t type = H5Dget_type(dset);
  EXPECT_GT(H5Tequal(type, H5T_NATIVE_DOUBLE), 0);
  H5Tclose(type);
  H5Pclose(dcpl);
  H5Dclose(dset);
  H5Fclose(file);
}

TEST(CheckpointFile, H5dumpShowsTheLayout) {
  if (!OnPath("h5dump")) GTEST_SKIP() << "h5dump not on PATH (Debian package hdf5-tools)";
  const std::string path = floodwarn::testing::MakeTempDir() + "/state.h5";
  WriteCheckpoint(path, Sample());
  const std::string header = RunCommand("h5dump -H -p '" + path + "' 2>&1");
  for (const char* expected :
       {"ATTRIBUTE \"floodwarn_checkpoint_format\"", "ATTRIBUTE \"nx\"", "ATTRIBUTE \"ny\"",
        "GROUP \"fields\"", "GROUP \"scalars\"", "GROUP \"strings\"", "DATASET \"h\"",
        "DATASET \"hu\"", "ATTRIBUTE \"time_s\"", "ATTRIBUTE \"config_path\"", "H5T_IEEE_F64LE",
        "SIMPLE { ( 3, 5 ) / ( 3, 5 ) }", "SHUFFLE", "DEFLATE { LEVEL 1 }"})
    EXPECT_NE(header.find(expected), std::string::npos) << expected << "\n" << header;
  // The format version as h5dump reads it.
  const std::string version =
      RunCommand("h5dump -a /floodwarn_checkpoint_format '" + path + "' 2>&1");
  EXPECT_NE(version.find("(0): 1"), std::string::npos) << version;
}

TEST(CheckpointFile, MissingFileThrowsWithPath) {
  const std::string path = floodwarn::testing::MakeTempDir() + "/nothing.h5";
  const std::string msg = ErrorOf([&] { ReadCheckpoint(path); });
  EXPECT_NE(msg.find(path), std::string::npos) << msg;
  EXPECT_NE(msg.find("no such file"), std::string::npos) << msg;
}

TEST(CheckpointFile, TextFileThrowsWithPath) {
  const std::string path = floodwarn::testing::MakeTempDir() + "/state.h5";
  WriteText(path, "time_s = 3600\nthis is not HDF5\n");
  const std::string msg = ErrorOf([&] { ReadCheckpoint(path); });
  EXPECT_NE(msg.find(path), std::string::npos) << msg;
  EXPECT_NE(msg.find("not an HDF5 file"), std::string::npos) << msg;
}

TEST(CheckpointFile, HdfFileWithoutFormatAttributeThrows) {
  const std::string path = floodwarn::testing::MakeTempDir() + "/other.h5";
  const hid_t file = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  ASSERT_GE(file, 0);
  const hid_t group = H5Gcreate2(file, "fields", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  H5Gclose(group);
  H5Fclose(file);
  const std::string msg = ErrorOf([&] { ReadCheckpoint(path); });
  EXPECT_NE(msg.find(path), std::string::npos) << msg;
  EXPECT_NE(msg.find("not a floodwarn checkpoint"), std::string::npos) << msg;
}

// Sets the root attribute `name` of an existing file to `value`.
void SetRootInt(const std::string& path, const char* name, int value) {
  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  ASSERT_GE(file, 0);
  const hid_t attr = H5Aopen(file, name, H5P_DEFAULT);
  ASSERT_GE(attr, 0);
  EXPECT_GE(H5Awrite(attr, H5T_NATIVE_INT, &value), 0);
  H5Aclose(attr);
  H5Fclose(file);
}

TEST(CheckpointFile, UnknownFormatVersionThrows) {
  const std::string path = floodwarn::testing::MakeTempDir() + "/state.h5";
  WriteCheckpoint(path, Sample());
  SetRootInt(path, "floodwarn_checkpoint_format", 2);
  const std::string msg = ErrorOf([&] { ReadCheckpoint(path); });
  EXPECT_NE(msg.find(path), std::string::npos) << msg;
  EXPECT_NE(msg.find("unknown checkpoint format version 2"), std::string::npos) << msg;
}

TEST(CheckpointFile, FieldOfWrongSizeInFileThrows) {
  const std::string path = floodwarn::testing::MakeTempDir() + "/state.h5";
  WriteCheckpoint(path, Sample());
  {  // a (3, 3) field in a 5 x 3 grid
    const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    ASSERT_GE(file, 0);
    const hsize_t dims[2] = {3, 3};
    const hid_t space = H5Screate_simple(2, dims, nullptr);
    const hid_t dset = H5Dcreate2(file, "/fields/zb", H5T_IEEE_F64LE, space, H5P_DEFAULT,
                                  H5P_DEFAULT, H5P_DEFAULT);
    ASSERT_GE(dset, 0);
    const std::vector<double> values(9, 1.0);
    EXPECT_GE(H5Dwrite(dset, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()), 0);
    H5Dclose(dset);
    H5Sclose(space);
    H5Fclose(file);
  }
  const std::string msg = ErrorOf([&] { ReadCheckpoint(path); });
  EXPECT_NE(msg.find(path), std::string::npos) << msg;
  EXPECT_NE(msg.find("field 'zb' has shape (3, 3)"), std::string::npos) << msg;
}

TEST(CheckpointFile, GridSizeChangedInFileThrows) {
  const std::string path = floodwarn::testing::MakeTempDir() + "/state.h5";
  WriteCheckpoint(path, Sample());
  SetRootInt(path, "nx", 4);
  const std::string msg = ErrorOf([&] { ReadCheckpoint(path); });
  EXPECT_NE(msg.find(path), std::string::npos) << msg;
  EXPECT_NE(msg.find("expected (ny, nx) = (3, 4)"), std::string::npos) << msg;
}

TEST(CheckpointFile, WritingFieldOfWrongSizeThrowsAndWritesNothing) {
  const std::string path = floodwarn::testing::MakeTempDir() + "/state.h5";
  CheckpointData data = Sample();
  data.fields["hu"].pop_back();
  const std::string msg = ErrorOf([&] { WriteCheckpoint(path, data); });
  EXPECT_NE(msg.find(path), std::string::npos) << msg;
  EXPECT_NE(msg.find("field 'hu' has 14 values, expected nx*ny = 5*3 = 15"), std::string::npos)
      << msg;
  EXPECT_FALSE(fs::exists(path));
  EXPECT_FALSE(fs::exists(path + ".tmp"));
}

TEST(CheckpointFile, WritingIntoMissingDirectoryThrowsWithPath) {
  const std::string path = floodwarn::testing::MakeTempDir() + "/no/such/dir/state.h5";
  const std::string msg = ErrorOf([&] { WriteCheckpoint(path, Sample()); });
  EXPECT_NE(msg.find(path), std::string::npos) << msg;
  EXPECT_FALSE(fs::exists(path + ".tmp"));
}

TEST(CheckpointFile, ReadsVariableLengthStrings) {
  // h5py and most other writers store strings variable-length.
  const std::string path = floodwarn::testing::MakeTempDir() + "/state.h5";
  WriteCheckpoint(path, Sample());
  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  ASSERT_GE(file, 0);
  const hid_t group = H5Gopen2(file, "strings", H5P_DEFAULT);
  const hid_t type = H5Tcopy(H5T_C_S1);
  H5Tset_size(type, H5T_VARIABLE);
  const hid_t space = H5Screate(H5S_SCALAR);
  const hid_t attr = H5Acreate2(group, "written_by", type, space, H5P_DEFAULT, H5P_DEFAULT);
  const char* value = "h5py";
  EXPECT_GE(H5Awrite(attr, type, &value), 0);
  H5Aclose(attr);
  H5Sclose(space);
  H5Tclose(type);
  H5Gclose(group);
  H5Fclose(file);
  EXPECT_EQ(ReadCheckpoint(path).strings.at("written_by"), "h5py");
}

}  // namespace
