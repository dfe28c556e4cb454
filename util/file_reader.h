// FileReadBuf: a read-only std::streambuf over a file, read ahead with io_uring where the
// kernel allows it, else with plain read(2).
//
// A bulk import reads a feed file of gigabytes once, front to back (12M children are a
// 2 GB CSV). With io_uring the next `depth` blocks are already being read while the
// parser works on the current one, so the parsing thread waits on the disk only when the
// disk is slower than the parser. Where io_uring is refused (io_uring_queue_init fails:
// EPERM or ENOSYS in containers whose seccomp profile forbids it, io_uring_disabled,
// an old kernel), kAuto falls back to read(2) of one block at a time and says why.
//
// Contract:
// - The bytes delivered are the file's, in order, exactly once, whichever way it is read.
// - A read error ends the stream early (the istream sees end of input) and is kept:
//   callers check status() after reading, so that an I/O error is never mistaken for the
//   end of the file.
// - Open fails with IOError when the file cannot be opened, and with NotSupported when
//   io_uring was required (kIoUring) and refused.
//
// Thread safety: one thread at a time, as any streambuf.
#pragma once

#include <cstddef>
#include <memory>
#include <streambuf>
#include <string>
#include <vector>

#include "util/status.h"

namespace cp {

class FileReadBuf : public std::streambuf {
 public:
  enum class Mode {
    kAuto,     // io_uring, else read(2)
    kIoUring,  // io_uring or fail
    kRead,     // read(2) only
  };
  struct Options {
    Mode mode = Mode::kAuto;
    size_t block_bytes = 1 << 20;  // bytes per read
    unsigned depth = 4;            // reads in flight with io_uring (submission queue size)
  };

  static Result<std::unique_ptr<FileReadBuf>> Open(const std::string& path, Options options);
  ~FileReadBuf() override;
  FileReadBuf(const FileReadBuf&) = delete;
  FileReadBuf& operator=(const FileReadBuf&) = delete;

  bool uses_io_uring() const { return ring_ != nullptr; }
  // Why io_uring is not used (empty when it is, or when kRead was asked for).
  const std::string& fallback_reason() const { return fallback_reason_; }
  // OK, or the first read error (the stream ended early because of it).
  const Status& status() const { return status_; }

 protected:
  int_type underflow() override;

 private:
  struct Ring;
  struct Block {
    std::vector<char> data;
    size_t offset = 0;  // file offset of data[0]
    size_t want = 0;    // bytes asked for
    long result = 0;    // bytes read, or -errno; valid once done
    bool done = false;
  };

  FileReadBuf(int fd, size_t size, Options options);
  Status StartRing();
  void Submit(size_t block);
  Status WaitFor(size_t block);
  bool FillPlain();
  bool FillRing();

  int fd_;
  size_t size_;        // the file's size when opened
  Options options_;
  std::unique_ptr<Ring> ring_;
  std::vector<Block> blocks_;
  size_t next_offset_ = 0;   // where the next submitted read starts
  size_t current_ = 0;       // block being consumed (ring)
  bool started_ = false;
  std::string fallback_reason_;
  Status status_;
};

}  // namespace cp
