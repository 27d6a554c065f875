#include "floodwarn/common/atomic_file.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <utility>

namespace floodwarn::common {
namespace {

// Flushes a directory entry (the rename) to the disk; best effort: some file
// systems refuse fsync on a directory, and the data are already safe.
void SyncDirectoryOf(const std::string& path) {
  std::string dir = std::filesystem::path(path).parent_path().string();
  if (dir.empty()) dir = ".";
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

}  // namespace

FileError::FileError(std::string path, std::string detail)
    : std::runtime_error(path + ": " + detail),
      path_(std::move(path)),
      detail_(std::move(detail)) {}

AtomicFile::AtomicFile(std::string path) : path_(std::move(path)), temp_path_(path_ + ".tmp") {}

AtomicFile::~AtomicFile() { Abort(); }

AtomicFile::AtomicFile(AtomicFile&& other) noexcept
    : path_(std::move(other.path_)),
      temp_path_(std::move(other.temp_path_)),
      fd_(std::exchange(other.fd_, -1)),
      committed_(other.committed_),
      done_(std::exchange(other.done_, true)) {}

AtomicFile& AtomicFile::operator=(AtomicFile&& other) noexcept {
  if (this != &other) {
    Abort();
    path_ = std::move(other.path_);
    temp_path_ = std::move(other.temp_path_);
    fd_ = std::exchange(other.fd_, -1);
    committed_ = other.committed_;
    done_ = std::exchange(other.done_, true);
  }
  return *this;
}

void AtomicFile::Fail(const std::string& step, int err) {
  Abort();  // may change errno: `err` was taken before
  throw FileError(path_, fmt::format("{}: {}", step, std::strerror(err)));
}

void AtomicFile::Write(std::string_view bytes) {
  if (done_) throw std::logic_error(fmt::format("{}: Write() after Commit()/Abort()", path_));
  if (fd_ < 0) {
    fd_ = ::open(temp_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd_ < 0) {
      const int err = errno;
      Fail("cannot create " + temp_path_, err);
    }
  }
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd_, bytes.data(), bytes.size());
    if (n < 0) {
      const int err = errno;
      if (err == EINTR) continue;
      Fail("cannot write " + temp_path_, err);
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
}

void AtomicFile::Commit() {
  if (done_) throw std::logic_error(fmt::format("{}: Commit() after Commit()/Abort()", path_));
  if (fd_ < 0) {
    // Written by a library that closed it: open it again to flush it.
    fd_ = ::open(temp_path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) {
      const int err = errno;
      Fail("cannot open " + temp_path_, err);
    }
  }
  if (::fsync(fd_) != 0) {
    const int err = errno;
    Fail("cannot flush " + temp_path_ + " to the disk", err);
  }
  if (::close(std::exchange(fd_, -1)) != 0) {
    const int err = errno;
    Fail("cannot write " + temp_path_, err);
  }
  if (std::rename(temp_path_.c_str(), path_.c_str()) != 0) {
    const int err = errno;
    Fail("cannot rename " + temp_path_ + " into place", err);
  }
  committed_ = true;
  done_ = true;
  SyncDirectoryOf(path_);
}

void AtomicFile::Abort() noexcept {
  if (done_) return;
  done_ = true;
  if (fd_ >= 0) ::close(std::exchange(fd_, -1));
  std::remove(temp_path_.c_str());
}

void WriteFileAtomic(const std::string& path, std::string_view bytes) {
  AtomicFile f(path);
  f.Write(bytes);
  f.Commit();
}

}  // namespace floodwarn::common
