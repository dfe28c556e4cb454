// Tests for storage/crypto.h: sealing, keyed hashes, and the key file.
//
// The known-answer vectors below were computed independently with Python's `cryptography`
// package (HKDF-SHA256 / HMAC-SHA256 / AESGCM). They pin the on-disk format: if one of them
// fails, existing databases and key files would no longer be readable.

#include "storage/crypto.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <xxhash.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "util/status.h"

namespace cp {
namespace {

using Key = std::array<uint8_t, Crypto::kKeyBytes>;

constexpr size_t kOverhead = 1 + 12 + 16;  // version | nonce | ... | tag

Key CountingKey() {
  Key key;
  for (size_t i = 0; i < key.size(); ++i) key[i] = static_cast<uint8_t>(i);
  return key;
}

Key FilledKey(uint8_t b) {
  Key key;
  key.fill(b);
  return key;
}

std::string FromHex(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

std::string ToHex(const std::string& bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 0xf]);
  }
  return out;
}

bool HasSubstr(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

// --- Sealing -----------------------------------------------------------------------------

TEST(CryptoSealTest, RoundTripsEmptyShortAndLargePlaintexts) {
  auto crypto = Crypto::FromKey(CountingKey());
  std::string large(10 * 1024, '\0');
  for (size_t i = 0; i < large.size(); ++i) large[i] = static_cast<char>(i * 31 + 7);
  const std::string binary("a\0b\xff", 4);
  for (const std::string& plaintext :
       {std::string(), std::string("x"), std::string("12 Example Street, Leeds LS1 1AA"), binary,
        large}) {
    SCOPED_TRACE("plaintext size " + std::to_string(plaintext.size()));
    std::string sealed = crypto->Seal(plaintext, "child-0001");
    EXPECT_EQ(sealed.size(), plaintext.size() + kOverhead);
    EXPECT_EQ(static_cast<uint8_t>(sealed[0]), 0x01);
    if (plaintext.size() >= 8) {
      EXPECT_FALSE(HasSubstr(sealed, plaintext.substr(0, 8))) << "plaintext visible";
    }
    Result<std::string> opened = crypto->Open(sealed, "child-0001");
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    EXPECT_EQ(*opened, plaintext);
  }
}

TEST(CryptoSealTest, EmptyAssociatedDataRoundTrips) {
  auto crypto = Crypto::FromKey(CountingKey());
  Result<std::string> opened = crypto->Open(crypto->Seal("address", ""), "");
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(*opened, "address");
  EXPECT_EQ(crypto->Open(crypto->Seal("address", ""), "x").status().code(),
            Status::Code::kCorruption);
}

TEST(CryptoSealTest, NonceDiffersBetweenSealsOfTheSamePlaintext) {
  auto crypto = Crypto::FromKey(CountingKey());
  std::string a = crypto->Seal("same address", "child-0001");
  std::string b = crypto->Seal("same address", "child-0001");
  EXPECT_NE(a.substr(1, 12), b.substr(1, 12));
  EXPECT_NE(a, b);
}

// Nonces come from a per-thread buffer of random bytes: across a refill, across threads
// and across a fork (whose child holds a copy of its parent's buffer) none may repeat.
TEST(CryptoSealTest, NoncesNeverRepeatAcrossRefillsThreadsOrAFork) {
  auto crypto = Crypto::FromKey(CountingKey());
  auto nonce = [&] { return crypto->Seal("x", "").substr(1, 12); };
  std::set<std::string> seen;
  for (int i = 0; i < 2000; ++i) EXPECT_TRUE(seen.insert(nonce()).second) << i;  // several refills
  std::vector<std::string> from_threads[2];
  std::thread t0([&] { for (int i = 0; i < 500; ++i) from_threads[0].push_back(nonce()); });
  std::thread t1([&] { for (int i = 0; i < 500; ++i) from_threads[1].push_back(nonce()); });
  t0.join();
  t1.join();
  for (const auto& list : from_threads) {
    for (const auto& n : list) EXPECT_TRUE(seen.insert(n).second);
  }
  // The parent has nonces buffered; the child's next ones must not be the parent's.
  nonce();
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    std::string out;
    for (int i = 0; i < 10; ++i) out += nonce();
    ssize_t n = write(fds[1], out.data(), out.size());
    _exit(n == static_cast<ssize_t>(out.size()) ? 0 : 1);
  }
  close(fds[1]);
  std::string child(120, '\0');
  size_t got = 0;
  while (got < child.size()) {
    ssize_t n = read(fds[0], child.data() + got, child.size() - got);
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  close(fds[0]);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_EQ(got, child.size());
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(seen.insert(nonce()).second);
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(seen.insert(child.substr(12 * i, 12)).second) << "child nonce " << i;
}

TEST(CryptoSealTest, OpensKnownAnswerVector) {
  // Sealed by Python AESGCM under HKDF(key 00..1f, "contactpoint hidden-fields aes-256-gcm
  // v1") with nonce a0..ab.
  const std::string sealed = FromHex(
      "01a0a1a2a3a4a5a6a7a8a9aaab53dcdef0b12d098433616e239847117627b3844d1a77244876acc03fc3ede6"
      "f036");
  auto crypto = Crypto::FromKey(CountingKey());
  Result<std::string> opened = crypto->Open(sealed, "child-0001");
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(*opened, "12 Example Street");
}

TEST(CryptoSealTest, TamperingWithAnyByteOfAnyRegionIsDetected) {
  auto crypto = Crypto::FromKey(CountingKey());
  const std::string plaintext = "12 Example Street, Leeds LS1 1AA";
  const std::string sealed = crypto->Seal(plaintext, "child-0001");
  ASSERT_EQ(sealed.size(), kOverhead + plaintext.size());
  const size_t nonce_end = 1 + 12;
  const size_t ciphertext_end = nonce_end + plaintext.size();
  for (size_t i = 0; i < sealed.size(); ++i) {
    const char* region = i == 0               ? "version"
                         : i < nonce_end      ? "nonce"
                         : i < ciphertext_end ? "ciphertext"
                                              : "tag";
    for (uint8_t flip : {uint8_t{0x01}, uint8_t{0x80}}) {
      SCOPED_TRACE(std::string(region) + " byte " + std::to_string(i) + " xor " +
                   std::to_string(flip));
      std::string bad = sealed;
      bad[i] = static_cast<char>(bad[i] ^ flip);
      Result<std::string> opened = crypto->Open(bad, "child-0001");
      ASSERT_FALSE(opened.ok());
      EXPECT_EQ(opened.status().code(), Status::Code::kCorruption);
    }
  }
}

TEST(CryptoSealTest, UnknownVersionIsNamed) {
  auto crypto = Crypto::FromKey(CountingKey());
  std::string sealed = crypto->Seal("x", "a");
  sealed[0] = 0x02;
  Result<std::string> opened = crypto->Open(sealed, "a");
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), Status::Code::kCorruption);
  EXPECT_TRUE(HasSubstr(opened.status().message(), "version")) << opened.status().ToString();
}

TEST(CryptoSealTest, ShortAndTruncatedInputsAreCorruption) {
  auto crypto = Crypto::FromKey(CountingKey());
  const std::string sealed = crypto->Seal("address", "a");
  for (size_t len = 0; len < sealed.size(); ++len) {
    SCOPED_TRACE("length " + std::to_string(len));
    Result<std::string> opened = crypto->Open(sealed.substr(0, len), "a");
    ASSERT_FALSE(opened.ok());
    EXPECT_EQ(opened.status().code(), Status::Code::kCorruption);
  }
  // Appending bytes also breaks authentication.
  EXPECT_EQ(crypto->Open(sealed + "x", "a").status().code(), Status::Code::kCorruption);
}

TEST(CryptoSealTest, WrongAssociatedDataIsDetected) {
  auto crypto = Crypto::FromKey(CountingKey());
  const std::string sealed = crypto->Seal("12 Example Street", "child-0001");
  for (const char* other : {"child-0002", "child-000", "child-00011", ""}) {
    SCOPED_TRACE(other);
    Result<std::string> opened = crypto->Open(sealed, other);
    ASSERT_FALSE(opened.ok());
    EXPECT_EQ(opened.status().code(), Status::Code::kCorruption);
  }
}

TEST(CryptoSealTest, AnotherKeyCannotOpen) {
  auto a = Crypto::FromKey(CountingKey());
  auto b = Crypto::FromKey(FilledKey(0x42));
  Result<std::string> opened = b->Open(a->Seal("12 Example Street", "child-0001"), "child-0001");
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), Status::Code::kCorruption);
}

TEST(CryptoSealTest, ConcurrentUseFromManyThreads) {
  auto crypto = Crypto::FromKey(CountingKey());
  const std::string expected_hash = crypto->KeyedHash("LS1 1AA");
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        std::string plaintext = "address " + std::to_string(t) + "/" + std::to_string(i);
        std::string ad = "child-" + std::to_string(i);
        Result<std::string> opened = crypto->Open(crypto->Seal(plaintext, ad), ad);
        if (!opened.ok() || *opened != plaintext) ++failures;
        if (crypto->KeyedHash("LS1 1AA") != expected_hash) ++failures;
      }
    });
  }
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
}

// Seal and Open reuse keyed cipher contexts: a context that has just failed an
// authentication (or sealed a long message) must start the next message clean.
TEST(CryptoSealTest, ReusedContextsStartEachMessageClean) {
  auto crypto = Crypto::FromKey(CountingKey());
  const std::string long_text(100000, 'x');
  for (int round = 0; round < 50; ++round) {
    std::string sealed = crypto->Seal("9 Example Road", "child-" + std::to_string(round));
    std::string tampered = sealed;
    tampered[tampered.size() - 1] ^= 0x01;
    EXPECT_FALSE(crypto->Open(tampered, "child-" + std::to_string(round)).ok());
    EXPECT_FALSE(crypto->Open(sealed, "another child").ok());
    Result<std::string> opened = crypto->Open(sealed, "child-" + std::to_string(round));
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    EXPECT_EQ(*opened, "9 Example Road");
    // A long message then a short one on the same contexts.
    Result<std::string> long_opened = crypto->Open(crypto->Seal(long_text, "ad"), "ad");
    ASSERT_TRUE(long_opened.ok());
    EXPECT_EQ(*long_opened, long_text);
    EXPECT_EQ(crypto->Seal("", "ad").size(), 1u + 12u + 16u);  // version, nonce, tag
  }
  // The known-answer vector still opens after all that reuse.
  auto other = Crypto::FromKey(CountingKey());
  EXPECT_TRUE(other->Open(crypto->Seal("12 Example Street", "child-0001"), "child-0001").ok());
}

// --- Keyed hash and fingerprint ----------------------------------------------------------

TEST(CryptoKeyedHashTest, DeterministicKeyDependentAndSixteenBytes) {
  auto a = Crypto::FromKey(CountingKey());
  auto a_again = Crypto::FromKey(CountingKey());
  auto b = Crypto::FromKey(FilledKey(0x42));
  EXPECT_EQ(a->KeyedHash("SW1A 1AA").size(), 16u);
  EXPECT_EQ(a->KeyedHash("").size(), 16u);
  EXPECT_EQ(a->KeyedHash("SW1A 1AA"), a->KeyedHash("SW1A 1AA"));
  EXPECT_EQ(a->KeyedHash("SW1A 1AA"), a_again->KeyedHash("SW1A 1AA"));
  EXPECT_NE(a->KeyedHash("SW1A 1AA"), b->KeyedHash("SW1A 1AA"));
  EXPECT_NE(a->KeyedHash("SW1A 1AA"), a->KeyedHash("SW1A 1AB"));
}

TEST(CryptoKeyedHashTest, KnownAnswerVector) {
  // HMAC-SHA256(HKDF(key 00..1f, "contactpoint keyed-hash v1"), "SW1A 1AA")[:16].
  auto crypto = Crypto::FromKey(CountingKey());
  EXPECT_EQ(ToHex(crypto->KeyedHash("SW1A 1AA")), "dab929f0d622170059952c7c17893573");
}

TEST(CryptoRowFingerprintTest, KnownAnswerVector) {
  // AES-256-ECB(HKDF(key 00..1f, "contactpoint row-fingerprint xxh3-aes v1"),
  //             XXH3-128 of the row, big-endian)[:8], computed with the openssl CLI:
  //   openssl kdf -keylen 32 -kdfopt digest:SHA256 -kdfopt hexkey:00..1f
  //     -kdfopt "info:contactpoint row-fingerprint xxh3-aes v1" HKDF
  //   XXH3-128("gen-1,Amelia,Smith") = 546cc3c106a7dd29fd7a77f29852e5b8
  //   openssl enc -aes-256-ecb -nopad -K <subkey> = 7a0307229d567c87...
  auto crypto = Crypto::FromKey(CountingKey());
  EXPECT_EQ(crypto->RowFingerprint("gen-1,Amelia,Smith"), 0x7a0307229d567c87ull);
}

TEST(CryptoRowFingerprintTest, DeterministicKeyDependentAndUnlikeTheOtherHashes) {
  auto a = Crypto::FromKey(CountingKey());
  auto a_again = Crypto::FromKey(CountingKey());
  auto b = Crypto::FromKey(FilledKey(0x42));
  const std::string row = "gen-1,Amelia,Smith,2015-03-01,F,\"1 High Street\",LS1 1AA";
  EXPECT_EQ(a->RowFingerprint(row), a_again->RowFingerprint(row));
  EXPECT_NE(a->RowFingerprint(row), b->RowFingerprint(row));
  EXPECT_NE(a->RowFingerprint(row), a->RowFingerprint(row + " "));
  EXPECT_NE(a->RowFingerprint(""), a->RowFingerprint(std::string(1, '\0')));
  EXPECT_NE(a->RowFingerprint(row), XXH3_64bits(row.data(), row.size()));
  // Many threads at once share the pooled contexts and get the same answers.
  const uint64_t expected = a->RowFingerprint(row);
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 2000; ++i) {
        if (a->RowFingerprint(row) != expected) ++wrong;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(wrong.load(), 0);
}

TEST(CryptoPlaceHashTest, SixteenBytesKeyDependentAndNotTheHmac) {
  auto a = Crypto::FromKey(CountingKey());
  auto b = Crypto::FromKey(FilledKey(0x42));
  EXPECT_EQ(a->PlaceHash("LS1 1AA").size(), 16u);
  EXPECT_EQ(a->PlaceHash("LS1 1AA"), Crypto::FromKey(CountingKey())->PlaceHash("LS1 1AA"));
  EXPECT_NE(a->PlaceHash("LS1 1AA"), b->PlaceHash("LS1 1AA"));
  EXPECT_NE(a->PlaceHash("LS1 1AA"), a->PlaceHash("LS1 1AB"));
  EXPECT_NE(a->PlaceHash("LS1 1AA"), a->KeyedHash("LS1 1AA"));
  // Its own subkey: not the row fingerprint's bytes either.
  uint64_t head = 0;
  for (int i = 0; i < 8; ++i) head = (head << 8) | static_cast<uint8_t>(a->PlaceHash("LS1 1AA")[i]);
  EXPECT_NE(head, a->RowFingerprint("LS1 1AA"));
}

TEST(CryptoPlaceHashTest, KnownAnswerVector) {
  // AES-256-ECB(HKDF(key 00..1f, "contactpoint place-hash xxh3-aes v1"), XXH3-128("LS1 1AA"))
  // with the openssl CLI, as the row fingerprint's vector above.
  auto crypto = Crypto::FromKey(CountingKey());
  EXPECT_EQ(ToHex(crypto->PlaceHash("LS1 1AA")), "95da61556b4e1b393ae5224916e73ae4");
}

TEST(CryptoFingerprintTest, KnownAnswersAndKeyDependence) {
  // First 8 bytes of SHA-256 over the master key, hex.
  EXPECT_EQ(Crypto::FromKey(FilledKey(0))->KeyFingerprint(), "66687aadf862bd77");
  EXPECT_EQ(Crypto::FromKey(CountingKey())->KeyFingerprint(), "630dcd2966c43366");
  EXPECT_NE(Crypto::FromKey(FilledKey(0x42))->KeyFingerprint(),
            Crypto::FromKey(CountingKey())->KeyFingerprint());
}

// --- Key file ----------------------------------------------------------------------------

class CryptoKeyFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cp-crypto-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  std::string Path(const std::string& name) const { return dir_ + "/" + name; }

  // Writes `content` to `name` with exactly `mode`; returns the path.
  std::string WriteFile(const std::string& name, const std::string& content, mode_t mode = 0600) {
    std::string path = Path(name);
    {
      std::ofstream out(path, std::ios::binary | std::ios::trunc);
      out << content;
      EXPECT_TRUE(out.good());
    }
    EXPECT_EQ(::chmod(path.c_str(), mode), 0);
    return path;
  }

  // Expects LoadKeyFile(path) to fail with `code`, with the path and `fragment` in the message.
  void ExpectRefused(const std::string& path, Status::Code code, const std::string& fragment) {
    Result<std::unique_ptr<Crypto>> loaded = Crypto::LoadKeyFile(path);
    ASSERT_FALSE(loaded.ok());
    EXPECT_EQ(loaded.status().code(), code) << loaded.status().ToString();
    EXPECT_TRUE(HasSubstr(loaded.status().message(), path)) << loaded.status().ToString();
    EXPECT_TRUE(HasSubstr(loaded.status().message(), fragment)) << loaded.status().ToString();
  }

  static std::string KeyText(const std::string& hex) {
    return "contactpoint-key v1\n" + hex + "\n";
  }

  std::string dir_;
};

TEST_F(CryptoKeyFileTest, CreateMakesA0600FileInTheDocumentedFormat) {
  // A permissive umask must not widen the mode; a strict one must not narrow it.
  mode_t old = ::umask(0);
  Result<std::unique_ptr<Crypto>> created = Crypto::CreateKeyFile(Path("master.key"));
  ::umask(old);
  ASSERT_TRUE(created.ok()) << created.status().ToString();

  struct stat st;
  ASSERT_EQ(::stat(Path("master.key").c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0600u);

  std::ifstream in(Path("master.key"), std::ios::binary);
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_EQ(content.size(), 20u + 64u + 1u);
  EXPECT_EQ(content.substr(0, 20), "contactpoint-key v1\n");
  EXPECT_EQ(content.back(), '\n');
  for (char c : content.substr(20, 64)) {
    EXPECT_TRUE((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) << c;
  }
  // The fingerprint is that of the key written to the file.
  Key key;
  std::string raw = FromHex(content.substr(20, 64));
  std::copy(raw.begin(), raw.end(), key.begin());
  EXPECT_EQ((*created)->KeyFingerprint(), Crypto::FromKey(key)->KeyFingerprint());
}

TEST_F(CryptoKeyFileTest, CreateRefusesToOverwrite) {
  const std::string path = Path("master.key");
  Result<std::unique_ptr<Crypto>> first = Crypto::CreateKeyFile(path);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  std::ifstream in(path, std::ios::binary);
  std::string before((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());

  Result<std::unique_ptr<Crypto>> second = Crypto::CreateKeyFile(path);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), Status::Code::kAlreadyExists);
  EXPECT_TRUE(HasSubstr(second.status().message(), path));

  std::ifstream again(path, std::ios::binary);
  std::string after((std::istreambuf_iterator<char>(again)), std::istreambuf_iterator<char>());
  EXPECT_EQ(before, after);

  // Any existing file, even an unrelated one, is refused too.
  const std::string other = WriteFile("other", "not a key");
  EXPECT_EQ(Crypto::CreateKeyFile(other).status().code(), Status::Code::kAlreadyExists);
}

TEST_F(CryptoKeyFileTest, CreateInMissingDirectoryFails) {
  Result<std::unique_ptr<Crypto>> created = Crypto::CreateKeyFile(Path("no/such/dir/key"));
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.status().code(), Status::Code::kIOError);
  EXPECT_TRUE(HasSubstr(created.status().message(), Path("no/such/dir/key")));
}

TEST_F(CryptoKeyFileTest, LoadedKeyOpensWhatTheCreatedOneSealed) {
  const std::string path = Path("master.key");
  Result<std::unique_ptr<Crypto>> created = Crypto::CreateKeyFile(path);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  const std::string sealed = (*created)->Seal("12 Example Street", "child-0001");
  const std::string hash = (*created)->KeyedHash("LS1 1AA");

  Result<std::unique_ptr<Crypto>> loaded = Crypto::LoadKeyFile(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  Result<std::string> opened = (*loaded)->Open(sealed, "child-0001");
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(*opened, "12 Example Street");
  EXPECT_EQ((*loaded)->KeyedHash("LS1 1AA"), hash);
}

TEST_F(CryptoKeyFileTest, FingerprintIsStableAcrossLoads) {
  const std::string path = Path("master.key");
  Result<std::unique_ptr<Crypto>> created = Crypto::CreateKeyFile(path);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  Result<std::unique_ptr<Crypto>> first = Crypto::LoadKeyFile(path);
  Result<std::unique_ptr<Crypto>> second = Crypto::LoadKeyFile(path);
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ((*created)->KeyFingerprint().size(), 16u);
  EXPECT_EQ((*first)->KeyFingerprint(), (*created)->KeyFingerprint());
  EXPECT_EQ((*second)->KeyFingerprint(), (*created)->KeyFingerprint());

  // Two created keys differ.
  Result<std::unique_ptr<Crypto>> other = Crypto::CreateKeyFile(Path("other.key"));
  ASSERT_TRUE(other.ok());
  EXPECT_NE((*other)->KeyFingerprint(), (*created)->KeyFingerprint());
}

TEST_F(CryptoKeyFileTest, LoadsAKnownKeyFile) {
  // Upper-case hex and a missing final newline are accepted.
  const std::string hex = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
  std::string upper = hex;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  for (const std::string& content : {KeyText(hex), KeyText(upper), "contactpoint-key v1\n" + hex}) {
    SCOPED_TRACE(content);
    const std::string path = WriteFile("known.key", content);
    Result<std::unique_ptr<Crypto>> loaded = Crypto::LoadKeyFile(path);
    ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
    EXPECT_EQ((*loaded)->KeyFingerprint(), "630dcd2966c43366");
  }
}

TEST_F(CryptoKeyFileTest, LoadRefusesMissingPath) {
  ExpectRefused(Path("absent.key"), Status::Code::kNotFound, "does not exist");
}

TEST_F(CryptoKeyFileTest, LoadRefusesDirectory) {
  ASSERT_EQ(::mkdir(Path("keydir").c_str(), 0700), 0);
  ExpectRefused(Path("keydir"), Status::Code::kInvalidArgument, "not a regular file");
}

TEST_F(CryptoKeyFileTest, LoadRefusesGroupOrOtherAccessAndNamesTheFix) {
  const std::string hex(64, 'a');
  for (mode_t mode : {mode_t{0644}, mode_t{0640}, mode_t{0604}, mode_t{0601}, mode_t{0660}}) {
    SCOPED_TRACE(std::to_string(mode));
    const std::string path = WriteFile("open.key", KeyText(hex), mode);
    ExpectRefused(path, Status::Code::kFailedPrecondition, "chmod 600 " + path);
  }
  // Following the advice fixes it.
  const std::string path = WriteFile("open.key", KeyText(hex), 0644);
  ExpectRefused(path, Status::Code::kFailedPrecondition, "0644");
  ASSERT_EQ(::chmod(path.c_str(), 0600), 0);
  EXPECT_TRUE(Crypto::LoadKeyFile(path).ok());
  // Owner read-only is fine too.
  ASSERT_EQ(::chmod(path.c_str(), 0400), 0);
  EXPECT_TRUE(Crypto::LoadKeyFile(path).ok());
}

TEST_F(CryptoKeyFileTest, LoadRefusesMalformedContent) {
  const std::string hex(64, 'a');
  const std::vector<std::string> bad = {
      "",
      "\n",
      "contactpoint-key v1",
      "contactpoint-key v1\n",
      "contactpoint-key v2\n" + hex + "\n",
      "Contactpoint-key v1\n" + hex + "\n",
      hex + "\n",
      "\n" + KeyText(hex),
      KeyText(hex) + "\n",
      KeyText(hex) + "extra\n",
      "contactpoint-key v1\r\n" + hex + "\r\n",
      "contactpoint-key v1 \n" + hex + "\n",
  };
  for (size_t i = 0; i < bad.size(); ++i) {
    SCOPED_TRACE("case " + std::to_string(i));
    const std::string path = WriteFile("bad.key", bad[i]);
    ExpectRefused(path, Status::Code::kCorruption, "malformed");
  }
}

TEST_F(CryptoKeyFileTest, LoadRefusesWrongLengthHex) {
  for (size_t len : {0u, 2u, 62u, 63u, 65u, 66u, 128u}) {
    SCOPED_TRACE(len);
    const std::string path = WriteFile("short.key", KeyText(std::string(len, 'b')));
    ExpectRefused(path, Status::Code::kCorruption, "64 hex digits");
  }
}

TEST_F(CryptoKeyFileTest, LoadRefusesNonHex) {
  for (char c : {'g', 'G', ' ', 'z', '-', '\t'}) {
    for (size_t pos : {0u, 1u, 31u, 63u}) {
      std::string hex(64, 'c');
      hex[pos] = c;
      SCOPED_TRACE("char " + std::to_string(c) + " at " + std::to_string(pos));
      const std::string path = WriteFile("nonhex.key", KeyText(hex));
      ExpectRefused(path, Status::Code::kCorruption, "not a hex digit");
    }
  }
}

TEST_F(CryptoKeyFileTest, MessagesNeverQuoteKeyMaterial) {
  // A plausible key with one bad character: the message must not echo the line.
  std::string hex = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
  hex[40] = 'x';
  const std::string path = WriteFile("leak.key", KeyText(hex));
  Result<std::unique_ptr<Crypto>> loaded = Crypto::LoadKeyFile(path);
  ASSERT_FALSE(loaded.ok());
  EXPECT_FALSE(HasSubstr(loaded.status().message(), "00112233")) << loaded.status().ToString();
  // Same for a key line of the wrong length.
  const std::string path2 = WriteFile("leak2.key", KeyText(hex.substr(0, 60)));
  Result<std::unique_ptr<Crypto>> loaded2 = Crypto::LoadKeyFile(path2);
  ASSERT_FALSE(loaded2.ok());
  EXPECT_FALSE(HasSubstr(loaded2.status().message(), "00112233")) << loaded2.status().ToString();
}

TEST_F(CryptoKeyFileTest, LoadRefusesOversizedFile) {
  const std::string path =
      WriteFile("huge.key", KeyText(std::string(64, 'a')) + std::string(8192, '#'));
  ExpectRefused(path, Status::Code::kCorruption, "bytes");
}

}  // namespace
}  // namespace cp
