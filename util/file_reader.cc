#include "util/file_reader.h"

#include <fcntl.h>
#include <liburing.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace cp {

struct FileReadBuf::Ring {
  io_uring ring{};
};

namespace {

std::string ErrnoText(int err) { return std::strerror(err); }

}  // namespace

Result<std::unique_ptr<FileReadBuf>> FileReadBuf::Open(const std::string& path, Options options) {
  if (options.block_bytes == 0) return Status::InvalidArgument("block_bytes must be positive");
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::IOError("cannot open " + path + ": " + ErrnoText(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    return Status::IOError("cannot stat " + path + ": " + ErrnoText(err));
  }
  std::unique_ptr<FileReadBuf> buf(new FileReadBuf(fd, static_cast<size_t>(st.st_size), options));
  // A pipe or a character device has no size to read ahead against: read(2) it.
  if (options.mode != Mode::kRead && S_ISREG(st.st_mode)) {
    Status s = buf->StartRing();
    if (!s.ok()) {
      if (options.mode == Mode::kIoUring) return Status::NotSupported(s.message());
      buf->fallback_reason_ = s.message();
    }
  } else if (options.mode == Mode::kIoUring) {
    return Status::NotSupported(path + " is not a regular file: io_uring read-ahead needs one");
  }
  return buf;
}

FileReadBuf::FileReadBuf(int fd, size_t size, Options options)
    : fd_(fd), size_(size), options_(options) {}

FileReadBuf::~FileReadBuf() {
  if (ring_) {
    // Reads still in flight write into blocks_: wait for them before the memory goes.
    for (size_t i = 0; i < blocks_.size(); ++i) {
      if (blocks_[i].want > 0 && !blocks_[i].done) (void)WaitFor(i);
    }
    io_uring_queue_exit(&ring_->ring);
  }
  ::close(fd_);
}

Status FileReadBuf::StartRing() {
  auto ring = std::make_unique<Ring>();
  const int rc = io_uring_queue_init(options_.depth, &ring->ring, 0);
  if (rc < 0) return Status::IOError("io_uring refused (" + ErrnoText(-rc) + "): reading with read(2)");
  ring_ = std::move(ring);
  blocks_.resize(options_.depth);
  for (auto& b : blocks_) b.data.resize(options_.block_bytes);
  return Status::OK();
}

void FileReadBuf::Submit(size_t i) {
  Block& b = blocks_[i];
  b.offset = next_offset_;
  b.want = next_offset_ < size_ ? std::min(options_.block_bytes, size_ - next_offset_) : 0;
  b.done = b.want == 0;
  b.result = 0;
  next_offset_ += b.want;
  if (b.want == 0) return;
  io_uring_sqe* sqe = io_uring_get_sqe(&ring_->ring);  // never null: one sqe per block
  io_uring_prep_read(sqe, fd_, b.data.data(), static_cast<unsigned>(b.want), b.offset);
  io_uring_sqe_set_data64(sqe, i);
}

Status FileReadBuf::WaitFor(size_t i) {
  while (!blocks_[i].done) {
    io_uring_cqe* cqe = nullptr;
    const int rc = io_uring_wait_cqe(&ring_->ring, &cqe);
    if (rc == -EINTR) continue;
    if (rc < 0) return Status::IOError("io_uring wait: " + ErrnoText(-rc));
    Block& done = blocks_[io_uring_cqe_get_data64(cqe)];
    done.result = cqe->res;
    done.done = true;
    io_uring_cqe_seen(&ring_->ring, cqe);
  }
  Block& b = blocks_[i];
  if (b.result < 0) return Status::IOError("read at offset " + std::to_string(b.offset) + ": " + ErrnoText(static_cast<int>(-b.result)));
  // A short read (rare for a regular file) is completed synchronously.
  size_t have = static_cast<size_t>(b.result);
  while (have < b.want) {
    const ssize_t n = ::pread(fd_, b.data.data() + have, b.want - have, static_cast<off_t>(b.offset + have));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::IOError("read at offset " + std::to_string(b.offset + have) + ": " + ErrnoText(errno));
    if (n == 0) break;  // the file shrank while being read: deliver what is there
    have += static_cast<size_t>(n);
  }
  b.result = static_cast<long>(have);
  return Status::OK();
}

bool FileReadBuf::FillRing() {
  if (!started_) {
    started_ = true;
    for (size_t i = 0; i < blocks_.size(); ++i) Submit(i);
    io_uring_submit(&ring_->ring);
  } else {
    // The consumed block goes back to the queue for the next part of the file.
    Submit(current_);
    io_uring_submit(&ring_->ring);
    current_ = (current_ + 1) % blocks_.size();
  }
  Block& b = blocks_[current_];
  if (b.want == 0) return false;
  if (Status s = WaitFor(current_); !s.ok()) {
    status_ = s;
    return false;
  }
  if (b.result == 0) return false;
  setg(b.data.data(), b.data.data(), b.data.data() + b.result);
  return true;
}

bool FileReadBuf::FillPlain() {
  if (blocks_.empty()) {
    blocks_.resize(1);
    blocks_[0].data.resize(options_.block_bytes);
  }
  char* data = blocks_[0].data.data();
  for (;;) {
    const ssize_t n = ::read(fd_, data, options_.block_bytes);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      status_ = Status::IOError("read: " + ErrnoText(errno));
      return false;
    }
    if (n == 0) return false;
    setg(data, data, data + n);
    return true;
  }
}

FileReadBuf::int_type FileReadBuf::underflow() {
  if (gptr() < egptr()) return traits_type::to_int_type(*gptr());
  if (!status_.ok()) return traits_type::eof();
  const bool more = ring_ ? FillRing() : FillPlain();
  return more ? traits_type::to_int_type(*gptr()) : traits_type::eof();
}

}  // namespace cp
