// The file format of model-state checkpoints (hot start, issue #3): HDF5.
//
// Layout (format version 1):
//   /                      root attributes
//     floodwarn_checkpoint_format   int32, = 1 (its absence: not a checkpoint)
//     nx, ny                        int32, the grid size of every field
//   /scalars               group, one scalar float64 attribute per scalar
//   /strings               group, one scalar fixed-length UTF-8 string
//                          attribute (NULLPAD) per string
//   /fields                group, one float64 dataset of shape (ny, nx) per
//                          field (row-major, row j = y index), chunked (at most
//                          256 x 256), shuffle + deflate level 1
//
// Values are stored as IEEE-754 little-endian doubles (what H5T_NATIVE_DOUBLE
// is on every host we build for, and defined on the others too), so fields
// and scalars round-trip bit for bit: NaN payloads, +-inf, -0.0, denormals.
// Strings round-trip byte for byte, except that trailing NUL bytes are lost.
//
// The HDF5 library is not thread-safe in Debian's serial build: do not call
// these while another thread uses HDF5 (the netCDF writer included).
#pragma once

#include <map>
#include <string>
#include <vector>

namespace floodwarn::grids {

struct CheckpointData {
  int nx = 0, ny = 0;                                 // grid size of every field
  std::map<std::string, double> scalars;              // time_s, steps, mass-balance terms, ...
  std::map<std::string, std::string> strings;         // version, config path, fingerprint, ...
  std::map<std::string, std::vector<double>> fields;  // name -> nx*ny values, row-major (ny, nx)
};

// The format version this build writes and reads.
inline constexpr int kCheckpointFormatVersion = 1;

// Writes path + ".tmp", then renames it to path (a half-written checkpoint never
// looks valid; an existing checkpoint at path is replaced atomically). Throws
// std::runtime_error naming the file: bad data (a field whose size is not
// nx*ny, an empty name, a field name with '/'), or an HDF5 / file-system error.
void WriteCheckpoint(const std::string& path, const CheckpointData& data);

// Reads a checkpoint back. Throws std::runtime_error naming the file and what is
// wrong: missing, not HDF5, not a floodwarn checkpoint (format attribute
// missing), unknown format version, a group missing, a field whose shape is not
// (ny, nx), a value of the wrong type.
CheckpointData ReadCheckpoint(const std::string& path);

}  // namespace floodwarn::grids
