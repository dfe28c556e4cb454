#include "util/file_reader.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>

namespace cp {
namespace {

using Mode = FileReadBuf::Mode;

class FileReadBufTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cp-file-reader-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  std::string Write(const std::string& bytes) {
    const std::string path = dir_ + "/f" + std::to_string(files_++);
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
  }

  // Every byte the buffer delivers, read through an istream as the CSV reader does.
  static std::string ReadAll(FileReadBuf* buf) {
    std::istream in(buf);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }

  // Bytes 0..255 repeated: a misplaced or repeated block shows.
  static std::string Pattern(size_t n) {
    std::string s(n, '\0');
    for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 7 + i / 251) & 0xff);
    return s;
  }

  // Whether this kernel (or container) lets us use io_uring at all.
  bool IoUringAvailable() {
    return FileReadBuf::Open(Write("x"), {Mode::kIoUring, 64, 4}).ok();
  }

  std::string dir_;
  int files_ = 0;
};

TEST_F(FileReadBufTest, EveryModeDeliversTheFileExactlyAtEverySizeAroundABlock) {
  constexpr size_t kBlock = 7;
  const bool uring = IoUringAvailable();
  for (Mode mode : {Mode::kAuto, Mode::kIoUring, Mode::kRead}) {
    if (mode == Mode::kIoUring && !uring) continue;  // RequiredIoUring... covers refusal
    for (size_t size : {size_t{0}, size_t{1}, kBlock - 1, kBlock, kBlock + 1, 3 * kBlock,
                        4 * kBlock + 3, 100 * kBlock + 5}) {
      const std::string bytes = Pattern(size);
      auto buf = FileReadBuf::Open(Write(bytes), {mode, kBlock, 3});
      ASSERT_TRUE(buf.ok()) << buf.status().ToString();
      EXPECT_EQ((*buf)->uses_io_uring(), mode != Mode::kRead && uring);
      EXPECT_EQ(ReadAll(buf->get()), bytes) << "mode " << static_cast<int>(mode) << ", " << size << " bytes";
      EXPECT_TRUE((*buf)->status().ok());
    }
  }
}

TEST_F(FileReadBufTest, ALargeFileThroughTheDefaultOptionsIsIdentical) {
  const std::string bytes = Pattern((5 << 20) + 12345);  // five blocks of 1 MiB and a bit
  const std::string path = Write(bytes);
  for (Mode mode : {Mode::kAuto, Mode::kRead}) {
    auto buf = FileReadBuf::Open(path, {mode, size_t{1} << 20, 4});
    ASSERT_TRUE(buf.ok()) << buf.status().ToString();
    EXPECT_TRUE(ReadAll(buf->get()) == bytes) << "mode " << static_cast<int>(mode);
  }
}

// io_uring_queue_init refuses a queue of 0 entries (EINVAL), as it refuses with EPERM or
// ENOSYS in a container that forbids io_uring: the same fallback path.
TEST_F(FileReadBufTest, RefusedIoUringFallsBackToReadAndSaysWhy) {
  const std::string bytes = Pattern(1000);
  auto buf = FileReadBuf::Open(Write(bytes), {Mode::kAuto, 64, 0});
  ASSERT_TRUE(buf.ok()) << buf.status().ToString();
  EXPECT_FALSE((*buf)->uses_io_uring());
  EXPECT_NE((*buf)->fallback_reason().find("io_uring refused"), std::string::npos)
      << (*buf)->fallback_reason();
  EXPECT_EQ(ReadAll(buf->get()), bytes);
}

TEST_F(FileReadBufTest, RequiredIoUringThatIsRefusedIsAnError) {
  auto buf = FileReadBuf::Open(Write("abc"), {Mode::kIoUring, 64, 0});
  ASSERT_FALSE(buf.ok());
  EXPECT_EQ(buf.status().code(), Status::Code::kNotSupported);
}

TEST_F(FileReadBufTest, AMissingFileIsAnIOErrorNamingIt) {
  auto buf = FileReadBuf::Open(dir_ + "/missing.csv", {});
  ASSERT_FALSE(buf.ok());
  EXPECT_EQ(buf.status().code(), Status::Code::kIOError);
  EXPECT_NE(buf.status().message().find("missing.csv"), std::string::npos);
}

TEST_F(FileReadBufTest, AZeroBlockSizeIsRefused) {
  auto buf = FileReadBuf::Open(Write("abc"), {Mode::kRead, 0, 4});
  ASSERT_FALSE(buf.ok());
  EXPECT_TRUE(buf.status().IsInvalidArgument());
}

// A directory opens but every read(2) of it fails (EISDIR): the stream ends and the
// error is kept, so that it cannot pass for the end of the file.
TEST_F(FileReadBufTest, AReadErrorEndsTheStreamAndIsKept) {
  auto buf = FileReadBuf::Open(dir_, {});
  ASSERT_TRUE(buf.ok()) << buf.status().ToString();
  EXPECT_FALSE((*buf)->uses_io_uring());  // not a regular file: read(2)
  EXPECT_EQ(ReadAll(buf->get()), "");
  EXPECT_EQ((*buf)->status().code(), Status::Code::kIOError);
}

TEST_F(FileReadBufTest, ANonRegularFileCannotRequireIoUring) {
  auto buf = FileReadBuf::Open("/dev/null", {Mode::kIoUring, 64, 4});
  ASSERT_FALSE(buf.ok());
  EXPECT_EQ(buf.status().code(), Status::Code::kNotSupported);
}

TEST_F(FileReadBufTest, DestroyingWithReadsInFlightIsSafe) {
  if (!IoUringAvailable()) GTEST_SKIP() << "io_uring is refused here";
  const std::string path = Write(Pattern(1 << 16));
  auto buf = FileReadBuf::Open(path, {Mode::kIoUring, 1024, 8});
  ASSERT_TRUE(buf.ok());
  std::istream in(buf->get());
  char first[10];
  in.read(first, sizeof first);  // eight reads submitted, one consumed in part
  EXPECT_EQ(std::string(first, 10), Pattern(10));
  buf->reset();  // the destructor waits for the reads still in flight (ASan would see)
}

}  // namespace
}  // namespace cp
