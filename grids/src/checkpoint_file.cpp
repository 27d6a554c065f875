// Model-state checkpoints in HDF5 (C API). Layout: see checkpoint_file.hpp.
#include "floodwarn/grids/checkpoint_file.hpp"

#include <fmt/format.h>
#include <hdf5.h>

#include <algorithm>
#include <climits>
#include <cstddef>
#include <filesystem>
#include <stdexcept>
#include <system_error>
#include <utility>

#include "floodwarn/common/atomic_file.hpp"

namespace floodwarn::grids {
namespace {

namespace fs = std::filesystem;

constexpr const char* kFormatAttr = "floodwarn_checkpoint_format";
constexpr hsize_t kMaxChunk = 256;  // 256 x 256 doubles = 512 KiB per chunk

[[noreturn]] void Fail(const std::string& path, const std::string& what) {
  throw std::runtime_error(fmt::format("checkpoint '{}': {}", path, what));
}

// The innermost (most specific) message of HDF5's error stack, as
// " (HDF5: ...)", or "" when the stack is empty. Call right after the failing
// HDF5 call: the next API call clears the stack.
herr_t KeepInnermost(unsigned n, const H5E_error2_t* err, void* out) {
  if (n == 0 && err->desc != nullptr) *static_cast<std::string*>(out) = err->desc;
  return 0;
}
std::string Hdf5Detail() {
  std::string desc;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, KeepInnermost, &desc);
  return desc.empty() ? std::string() : " (HDF5: " + desc + ")";
}

void Check(herr_t status, const std::string& path, const std::string& what) {
  if (status < 0) Fail(path, what + Hdf5Detail());
}

// Turns HDF5's automatic error printing off for its lifetime, and restores
// whatever handler was installed before (other HDF5 users keep theirs).
class ErrorSilencer {
 public:
  ErrorSilencer() {
    H5Eget_auto2(H5E_DEFAULT, &func_, &data_);
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  }
  ~ErrorSilencer() { H5Eset_auto2(H5E_DEFAULT, func_, data_); }
  ErrorSilencer(const ErrorSilencer&) = delete;
  ErrorSilencer& operator=(const ErrorSilencer&) = delete;

 private:
  H5E_auto2_t func_ = nullptr;
  void* data_ = nullptr;
};

// Owns an HDF5 identifier and closes it with its own H5?close.
class Handle {
 public:
  using Closer = herr_t (*)(hid_t);
  Handle(hid_t id, Closer close) : id_(id), close_(close) {}
  Handle(Handle&& other) noexcept : id_(std::exchange(other.id_, -1)), close_(other.close_) {}
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  Handle& operator=(Handle&&) = delete;
  ~Handle() {
    if (id_ >= 0) close_(id_);
  }
  hid_t get() const { return id_; }
  // Closes now and returns HDF5's status (a file's close flushes: check it).
  herr_t Close() { return close_(std::exchange(id_, -1)); }

 private:
  hid_t id_;
  Closer close_;
};

Handle Make(hid_t id, Handle::Closer close, const std::string& path, const std::string& what) {
  if (id < 0) Fail(path, what + Hdf5Detail());
  return Handle(id, close);
}

// ---------------------------------------------------------------- writing

void WriteAttribute(hid_t loc, const std::string& name, hid_t file_type, hid_t mem_type,
                    const void* value, const std::string& path) {
  const Handle space = Make(H5Screate(H5S_SCALAR), H5Sclose, path, "cannot create a dataspace");
  const Handle attr =
      Make(H5Acreate2(loc, name.c_str(), file_type, space.get(), H5P_DEFAULT, H5P_DEFAULT),
           H5Aclose, path, fmt::format("cannot create attribute '{}'", name));
  Check(H5Awrite(attr.get(), mem_type, value), path,
        fmt::format("cannot write attribute '{}'", name));
}

void WriteInt(hid_t loc, const std::string& name, int value, const std::string& path) {
  WriteAttribute(loc, name, H5T_STD_I32LE, H5T_NATIVE_INT, &value, path);
}

void WriteString(hid_t loc, const std::string& name, const std::string& value,
                 const std::string& path) {
  // Fixed-length, NUL-padded, exactly the bytes of the value (HDF5 has no
  // zero-length string type: "" is stored as one NUL).
  const std::string bytes = value.empty() ? std::string(1, '\0') : value;
  const Handle type = Make(H5Tcopy(H5T_C_S1), H5Tclose, path, "cannot create a string type");
  Check(H5Tset_size(type.get(), bytes.size()), path, "cannot size a string type");
  Check(H5Tset_strpad(type.get(), H5T_STR_NULLPAD), path, "cannot pad a string type");
  Check(H5Tset_cset(type.get(), H5T_CSET_UTF8), path, "cannot set a string type's charset");
  WriteAttribute(loc, name, type.get(), type.get(), bytes.data(), path);
}

void WriteField(hid_t group, const std::string& name, const std::vector<double>& values, int nx,
                int ny, const std::string& path) {
  const hsize_t dims[2] = {static_cast<hsize_t>(ny), static_cast<hsize_t>(nx)};
  const Handle space =
      Make(H5Screate_simple(2, dims, nullptr), H5Sclose, path, "cannot create a dataspace");
  const Handle dcpl =
      Make(H5Pcreate(H5P_DATASET_CREATE), H5Pclose, path, "cannot create a dataset property list");
  if (nx > 0 && ny > 0) {  // chunks must not be empty; an empty field stays contiguous
    const hsize_t chunk[2] = {std::min(dims[0], kMaxChunk), std::min(dims[1], kMaxChunk)};
    Check(H5Pset_chunk(dcpl.get(), 2, chunk), path, "cannot set chunking");
    Check(H5Pset_shuffle(dcpl.get()), path, "cannot set the shuffle filter");
    Check(H5Pset_deflate(dcpl.get(), 1), path, "cannot set the deflate filter");
    Check(H5Pset_fill_time(dcpl.get(), H5D_FILL_TIME_NEVER), path, "cannot set the fill time");
  }
  const Handle dset = Make(H5Dcreate2(group, name.c_str(), H5T_IEEE_F64LE, space.get(), H5P_DEFAULT,
                                      dcpl.get(), H5P_DEFAULT),
                           H5Dclose, path, fmt::format("cannot create field '{}'", name));
  Check(H5Dwrite(dset.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()), path,
        fmt::format("cannot write field '{}'", name));
}

Handle CreateGroup(hid_t file, const char* name, const std::string& path) {
  return Make(H5Gcreate2(file, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose, path,
              fmt::format("cannot create group '{}'", name));
}

void Validate(const CheckpointData& data, const std::string& path) {
  if (data.nx < 0 || data.ny < 0)
    Fail(path, fmt::format("negative grid size nx={} ny={}", data.nx, data.ny));
  const std::size_t cells = static_cast<std::size_t>(data.nx) * static_cast<std::size_t>(data.ny);
  for (const auto& [name, values] : data.fields) {
    if (name.empty() || name == "." || name.find('/') != std::string::npos)
      Fail(path, fmt::format("invalid field name '{}' (empty, '.' or with '/')", name));
    if (values.size() != cells)
      Fail(path, fmt::format("field '{}' has {} values, expected nx*ny = {}*{} = {}", name,
                             values.size(), data.nx, data.ny, cells));
  }
  for (const auto& kv : data.scalars)
    if (kv.first.empty()) Fail(path, "a scalar has an empty name");
  for (const auto& kv : data.strings)
    if (kv.first.empty()) Fail(path, "a string has an empty name");
}

// Writes the whole file at tmp and closes it (the close is checked: it flushes).
void WriteFile(const std::string& tmp, const CheckpointData& data, const std::string& path) {
  Handle file = Make(H5Fcreate(tmp.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Fclose,
                     path, fmt::format("cannot create '{}'", tmp));
  WriteInt(file.get(), kFormatAttr, kCheckpointFormatVersion, path);
  WriteInt(file.get(), "nx", data.nx, path);
  WriteInt(file.get(), "ny", data.ny, path);
  {
    const Handle group = CreateGroup(file.get(), "scalars", path);
    for (const auto& [name, value] : data.scalars)
      WriteAttribute(group.get(), name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &value, path);
  }
  {
    const Handle group = CreateGroup(file.get(), "strings", path);
    for (const auto& [name, value] : data.strings) WriteString(group.get(), name, value, path);
  }
  {
    const Handle group = CreateGroup(file.get(), "fields", path);
    for (const auto& [name, values] : data.fields)
      WriteField(group.get(), name, values, data.nx, data.ny, path);
  }
  Check(file.Close(), path, fmt::format("cannot close '{}'", tmp));
}

// ---------------------------------------------------------------- reading

// Collects the names of a location's attributes / links (in name order).
herr_t CollectAttrName(hid_t, const char* name, const H5A_info_t*, void* out) {
  try {
    static_cast<std::vector<std::string>*>(out)->emplace_back(name);
    return 0;
  } catch (...) {
    return -1;  // no exception may cross HDF5's C frames
  }
}
herr_t CollectLinkName(hid_t, const char* name, const H5L_info_t*, void* out) {
  try {
    static_cast<std::vector<std::string>*>(out)->emplace_back(name);
    return 0;
  } catch (...) {
    return -1;
  }
}

std::vector<std::string> AttributeNames(hid_t loc, const std::string& where,
                                        const std::string& path) {
  std::vector<std::string> names;
  Check(H5Aiterate2(loc, H5_INDEX_NAME, H5_ITER_INC, nullptr, CollectAttrName, &names), path,
        fmt::format("cannot list the attributes of {}", where));
  return names;
}

std::vector<std::string> LinkNames(hid_t group, const std::string& where, const std::string& path) {
  std::vector<std::string> names;
  Check(H5Literate(group, H5_INDEX_NAME, H5_ITER_INC, nullptr, CollectLinkName, &names), path,
        fmt::format("cannot list the members of {}", where));
  return names;
}

// An attribute of one value; fails unless its type class is `expected`
// (`expected_name` in the message).
Handle OpenSingleAttribute(hid_t loc, const std::string& name, H5T_class_t expected,
                           const char* expected_name, const std::string& where,
                           const std::string& path) {
  Handle attr = Make(H5Aopen(loc, name.c_str(), H5P_DEFAULT), H5Aclose, path,
                     fmt::format("cannot open attribute '{}' of {}", name, where));
  const Handle type = Make(H5Aget_type(attr.get()), H5Tclose, path, "cannot get a type");
  const Handle space = Make(H5Aget_space(attr.get()), H5Sclose, path, "cannot get a dataspace");
  if (H5Tget_class(type.get()) != expected)
    Fail(path, fmt::format("attribute '{}' of {} is not {}", name, where, expected_name));
  if (H5Sget_simple_extent_npoints(space.get()) != 1)
    Fail(path, fmt::format("attribute '{}' of {} is not a single value", name, where));
  return attr;
}

long long ReadInteger(hid_t loc, const std::string& name, const std::string& path) {
  const Handle attr = OpenSingleAttribute(loc, name, H5T_INTEGER, "an integer", "the root", path);
  long long value = 0;
  Check(H5Aread(attr.get(), H5T_NATIVE_LLONG, &value), path,
        fmt::format("cannot read attribute '{}'", name));
  return value;
}

int ReadGridSize(hid_t file, const char* name, const std::string& path) {
  if (H5Aexists(file, name) <= 0) Fail(path, fmt::format("root attribute '{}' missing", name));
  const long long value = ReadInteger(file, name, path);
  if (value < 0 || value > INT_MAX)
    Fail(path, fmt::format("root attribute '{}' = {} is not a grid size", name, value));
  return static_cast<int>(value);
}

double ReadDouble(hid_t loc, const std::string& name, const std::string& path) {
  const Handle attr = OpenSingleAttribute(loc, name, H5T_FLOAT, "a float", "/scalars", path);
  double value = 0.0;
  Check(H5Aread(attr.get(), H5T_NATIVE_DOUBLE, &value), path,
        fmt::format("cannot read scalar '{}'", name));
  return value;
}

// Fixed-length (as written) or variable-length (as h5py writes) strings.
std::string ReadString(hid_t loc, const std::string& name, const std::string& path) {
  const Handle attr = OpenSingleAttribute(loc, name, H5T_STRING, "a string", "/strings", path);
  const Handle type = Make(H5Aget_type(attr.get()), H5Tclose, path, "cannot get a type");
  const std::string what = fmt::format("cannot read string '{}'", name);
  if (H5Tis_variable_str(type.get()) > 0) {
    const Handle mem = Make(H5Tcopy(H5T_C_S1), H5Tclose, path, what);
    Check(H5Tset_size(mem.get(), H5T_VARIABLE), path, what);
    Check(H5Tset_cset(mem.get(), H5Tget_cset(type.get())), path, what);
    char* value = nullptr;
    Check(H5Aread(attr.get(), mem.get(), &value), path, what);
    std::string out = value != nullptr ? value : "";
    H5free_memory(value);
    return out;
  }
  std::string out(H5Tget_size(type.get()), '\0');
  Check(H5Aread(attr.get(), type.get(), out.data()), path, what);
  switch (H5Tget_strpad(type.get())) {
    case H5T_STR_NULLTERM:
      out.resize(out.find('\0') == std::string::npos ? out.size() : out.find('\0'));
      break;
    case H5T_STR_SPACEPAD:
      while (!out.empty() && out.back() == ' ') out.pop_back();
      break;
    default:  // NULLPAD
      while (!out.empty() && out.back() == '\0') out.pop_back();
  }
  return out;
}

std::vector<double> ReadField(hid_t group, const std::string& name, int nx, int ny,
                              const std::string& path) {
  const Handle dset = Make(H5Dopen2(group, name.c_str(), H5P_DEFAULT), H5Dclose, path,
                           fmt::format("field '{}' is not a dataset", name));
  const Handle type = Make(H5Dget_type(dset.get()), H5Tclose, path, "cannot get a type");
  if (H5Tget_class(type.get()) != H5T_FLOAT)
    Fail(path, fmt::format("field '{}' is not of a floating-point type", name));
  const Handle space = Make(H5Dget_space(dset.get()), H5Sclose, path, "cannot get a dataspace");
  const int rank = H5Sget_simple_extent_ndims(space.get());
  std::vector<hsize_t> dims(static_cast<std::size_t>(std::max(rank, 0)));
  if (rank > 0) H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
  if (rank != 2 || dims[0] != static_cast<hsize_t>(ny) || dims[1] != static_cast<hsize_t>(nx)) {
    std::string shape;
    for (const hsize_t d : dims) shape += (shape.empty() ? "" : ", ") + std::to_string(d);
    Fail(path, fmt::format("field '{}' has shape ({}) = {} values, expected (ny, nx) = ({}, {}) "
                           "= nx*ny values",
                           name, shape, H5Sget_simple_extent_npoints(space.get()), ny, nx));
  }
  std::vector<double> values(static_cast<std::size_t>(nx) * static_cast<std::size_t>(ny));
  Check(H5Dread(dset.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()), path,
        fmt::format("cannot read field '{}'", name));
  return values;
}

Handle OpenGroup(hid_t file, const char* name, const std::string& path) {
  if (H5Lexists(file, name, H5P_DEFAULT) <= 0) Fail(path, fmt::format("group '/{}' missing", name));
  return Make(H5Gopen2(file, name, H5P_DEFAULT), H5Gclose, path,
              fmt::format("'/{}' is not a group", name));
}

}  // namespace

void WriteCheckpoint(const std::string& path, const CheckpointData& data) {
  Validate(data, path);
  const ErrorSilencer silencer;
  // HDF5 writes the temporary file; Commit() pushes its bytes to the disk
  // before the rename (after a crash the name never points at a file whose
  // data were still in the page cache). An error removes it.
  common::AtomicFile file(path);
  WriteFile(file.temp_path(), data, path);
  try {
    file.Commit();
  } catch (const common::FileError& e) {
    Fail(path, e.detail());
  }
}

CheckpointData ReadCheckpoint(const std::string& path) {
  const ErrorSilencer silencer;
  std::error_code ec;
  if (!fs::exists(path, ec)) Fail(path, "no such file");
  if (!fs::is_regular_file(path, ec)) Fail(path, "not a regular file");
  const htri_t is_hdf5 = H5Fis_hdf5(path.c_str());
  if (is_hdf5 < 0) Fail(path, "cannot read the file" + Hdf5Detail());
  if (is_hdf5 == 0) Fail(path, "not an HDF5 file");
  const Handle file = Make(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose, path,
                           "cannot open the file");

  if (H5Aexists(file.get(), kFormatAttr) <= 0)
    Fail(path,
         fmt::format("not a floodwarn checkpoint (root attribute '{}' missing)", kFormatAttr));
  const long long version = ReadInteger(file.get(), kFormatAttr, path);
  if (version != kCheckpointFormatVersion)
    Fail(path, fmt::format("unknown checkpoint format version {} (this build reads version {})",
                           version, kCheckpointFormatVersion));

  CheckpointData data;
  data.nx = ReadGridSize(file.get(), "nx", path);
  data.ny = ReadGridSize(file.get(), "ny", path);
  {
    const Handle group = OpenGroup(file.get(), "scalars", path);
    for (const auto& name : AttributeNames(group.get(), "/scalars", path))
      data.scalars[name] = ReadDouble(group.get(), name, path);
  }
  {
    const Handle group = OpenGroup(file.get(), "strings", path);
    for (const auto& name : AttributeNames(group.get(), "/strings", path))
      data.strings[name] = ReadString(group.get(), name, path);
  }
  {
    const Handle group = OpenGroup(file.get(), "fields", path);
    for (const auto& name : LinkNames(group.get(), "/fields", path))
      data.fields[name] = ReadField(group.get(), name, data.nx, data.ny, path);
  }
  return data;
}

}  // namespace floodwarn::grids
