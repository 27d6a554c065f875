// Writing a file so that a reader sees the old file or the complete new one,
// never a half-written one (after a crash, a full disk, an exception): the
// bytes go to PATH.tmp in the same folder, which is flushed to the disk
// (fsync) and renamed over PATH. On an error the temporary file is removed
// and PATH is left as it was.
//
//   common::WriteFileAtomic(path, text);          // a whole text at once
//
//   common::AtomicFile f(path);                    // in pieces, or through a
//   f.Write(piece);                                // library that writes the
//   nc_create(f.temp_path().c_str(), ...);         // file itself (GDAL, HDF5,
//   f.Commit();                                    // NetCDF, cairo)
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace floodwarn::common {

// "PATH: cannot write PATH.tmp: No space left on device": names the file and
// the operating system's reason.
class FileError : public std::runtime_error {
 public:
  FileError(std::string path, std::string detail);
  const std::string& path() const noexcept { return path_; }
  // The message without the leading "PATH: " (for callers with their own prefix).
  const std::string& detail() const noexcept { return detail_; }

 private:
  std::string path_;
  std::string detail_;
};

class AtomicFile {
 public:
  // Nothing is created yet; temp_path() is path + ".tmp".
  explicit AtomicFile(std::string path);
  // Abort() unless committed.
  ~AtomicFile();
  AtomicFile(AtomicFile&& other) noexcept;
  AtomicFile& operator=(AtomicFile&& other) noexcept;
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  const std::string& path() const { return path_; }
  const std::string& temp_path() const { return temp_path_; }

  // Appends to the temporary file (created, or emptied, by the first call).
  // Throws FileError; the temporary file is removed then.
  void Write(std::string_view bytes);

  // Flushes the temporary file to the disk (whoever wrote it: Write() or a
  // library that has closed it) and renames it over path(). Throws FileError
  // (the temporary file removed, path() untouched) or std::logic_error when
  // called twice.
  void Commit();

  // Removes the temporary file; path() is untouched. Idempotent.
  void Abort() noexcept;

  bool committed() const { return committed_; }

 private:
  [[noreturn]] void Fail(const std::string& step, int err);

  std::string path_;
  std::string temp_path_;
  int fd_ = -1;
  bool committed_ = false;
  bool done_ = false;  // committed or aborted
};

// Writes `bytes` to `path` atomically (see above). Throws FileError.
void WriteFileAtomic(const std::string& path, std::string_view bytes);

}  // namespace floodwarn::common
