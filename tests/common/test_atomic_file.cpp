// Atomic writes: the target is either the old file or the complete new one;
// errors name the file and the operating system's reason.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>

#include "floodwarn/common/atomic_file.hpp"
#include "test_support.hpp"

namespace {

namespace fs = std::filesystem;
using floodwarn::common::AtomicFile;
using floodwarn::common::FileError;
using floodwarn::common::WriteFileAtomic;

std::string Read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string ErrorOf(const std::function<void()>& f) {
  try {
    f();
  } catch (const FileError& e) {
    return e.what();
  }
  return "";
}

TEST(AtomicFile, WritesAndReplaces) {
  const std::string dir = floodwarn::testing::MakeTempDir("atomic_file");
  const std::string path = dir + "/a.txt";
  WriteFileAtomic(path, "first\n");
  EXPECT_EQ(Read(path), "first\n");
  WriteFileAtomic(path, "second\n");
  EXPECT_EQ(Read(path), "second\n");
  WriteFileAtomic(path, "");
  EXPECT_EQ(Read(path), "");
  EXPECT_FALSE(fs::exists(path + ".tmp"));
}

TEST(AtomicFile, PiecesBecomeVisibleOnlyOnCommit) {
  const std::string dir = floodwarn::testing::MakeTempDir("atomic_file");
  const std::string path = dir + "/b.txt";
  WriteFileAtomic(path, "old");
  {
    AtomicFile f(path);
    EXPECT_EQ(f.temp_path(), path + ".tmp");
    f.Write("new ");
    f.Write("text");
    EXPECT_EQ(Read(path), "old");
    EXPECT_TRUE(fs::exists(path + ".tmp"));
    f.Commit();
    EXPECT_TRUE(f.committed());
    EXPECT_THROW(f.Commit(), std::logic_error);
    EXPECT_THROW(f.Write("x"), std::logic_error);
  }
  EXPECT_EQ(Read(path), "new text");
  EXPECT_FALSE(fs::exists(path + ".tmp"));
}

TEST(AtomicFile, DroppedWithoutCommitLeavesTheOldFile) {
  const std::string dir = floodwarn::testing::MakeTempDir("atomic_file");
  const std::string path = dir + "/c.txt";
  WriteFileAtomic(path, "old");
  {
    AtomicFile f(path);
    f.Write("half");
  }
  EXPECT_EQ(Read(path), "old");
  EXPECT_FALSE(fs::exists(path + ".tmp"));
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator()), 1);
}

TEST(AtomicFile, CommitsAFileALibraryWroteToTheTemporaryPath) {
  const std::string dir = floodwarn::testing::MakeTempDir("atomic_file");
  AtomicFile f(dir + "/lib.bin");
  std::ofstream(f.temp_path(), std::ios::binary) << "written by a library";
  f.Commit();
  EXPECT_EQ(Read(dir + "/lib.bin"), "written by a library");
  EXPECT_FALSE(fs::exists(f.temp_path()));
  // Nothing at the temporary path: the commit fails and names the file.
  AtomicFile g(dir + "/none.bin");
  const std::string e = ErrorOf([&] { g.Commit(); });
  EXPECT_NE(e.find(dir + "/none.bin"), std::string::npos) << e;
  EXPECT_NE(e.find("No such file or directory"), std::string::npos) << e;
  EXPECT_FALSE(fs::exists(dir + "/none.bin"));
}

TEST(AtomicFile, ErrorsNameTheFileAndTheReason) {
  const std::string dir = floodwarn::testing::MakeTempDir("atomic_file");
  const std::string missing = dir + "/no/such/dir/a.txt";
  const std::string e = ErrorOf([&] { WriteFileAtomic(missing, "x"); });
  EXPECT_EQ(e.rfind(missing + ": cannot create " + missing + ".tmp: ", 0), 0u) << e;
  EXPECT_NE(e.find("No such file or directory"), std::string::npos) << e;
  try {
    WriteFileAtomic(missing, "x");
  } catch (const FileError& f) {
    EXPECT_EQ(f.path(), missing);
    EXPECT_EQ(f.detail().rfind("cannot create " + missing + ".tmp: No such file", 0), 0u)
        << f.detail();
  }
  // Renaming onto a directory fails after the data were written: the
  // temporary file goes, the directory stays.
  fs::create_directories(dir + "/target");
  fs::create_directories(dir + "/target/inside");
  const std::string r = ErrorOf([&] { WriteFileAtomic(dir + "/target", "x"); });
  EXPECT_NE(r.find("cannot rename"), std::string::npos) << r;
  EXPECT_FALSE(fs::exists(dir + "/target.tmp"));
  EXPECT_TRUE(fs::is_directory(dir + "/target"));
}

TEST(AtomicFile, AFullDiskIsReportedAsSuch) {
  // /dev/full: every write fails with ENOSPC. Not a regular folder, so the
  // temporary file cannot be made there; instead, write through a symlink
  // named like the temporary file.
  if (!fs::exists("/dev/full")) GTEST_SKIP() << "no /dev/full";
  const std::string dir = floodwarn::testing::MakeTempDir("atomic_file");
  fs::create_symlink("/dev/full", dir + "/full.txt.tmp");
  const std::string e = ErrorOf([&] { WriteFileAtomic(dir + "/full.txt", "some bytes"); });
  EXPECT_NE(e.find(dir + "/full.txt"), std::string::npos) << e;
  EXPECT_NE(e.find("No space left on device"), std::string::npos) << e;
  EXPECT_FALSE(fs::exists(dir + "/full.txt"));
}

}  // namespace
