#include "app/static/file_cache.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace rws::app {
namespace {

namespace fs = std::filesystem;
using std::chrono::hours;
using std::chrono::milliseconds;

class FileCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("rws-cache-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_ / "v1");
    fs::create_directories(dir_ / "v2");
    write("a.txt", "first");
    write("v1/page.txt", "one");
    write("v2/page.txt", "two!");
    fs::create_symlink("v1", dir_ / "current");
    root_ = std::make_unique<RootDirectory>(dir_.string());
  }
  void TearDown() override { fs::remove_all(dir_); }
  void write(const std::string& name, const std::string& text) { std::ofstream(dir_ / name) << text; }

  std::string read(const CachedFile& f) {
    std::string out(static_cast<std::size_t>(f.info.st_size), '\0');
    EXPECT_EQ(::pread(f.file->fd(), out.data(), out.size(), 0), static_cast<ssize_t>(out.size()));
    return out;
  }

  fs::path dir_;
  std::unique_ptr<RootDirectory> root_;
};

TEST_F(FileCacheTest, HitsShareTheOpenFile) {
  FileCache cache(*root_, hours(1));
  CachedFile a;
  CachedFile b;
  ASSERT_TRUE(cache.open_regular("a.txt", a));
  ASSERT_TRUE(cache.open_regular("a.txt", b));
  EXPECT_EQ(a.file, b.file);
  EXPECT_EQ(read(b), "first");
  ASSERT_NE(b.content, nullptr);  // small files keep their content
  EXPECT_EQ(*b.content, "first");

  write("big.bin", std::string(FileCache::kMaxContentBytes + 1, 'x'));
  CachedFile big;
  ASSERT_TRUE(cache.open_regular("big.bin", big));
  EXPECT_EQ(big.content, nullptr);
}

TEST_F(FileCacheTest, InPlaceEditIsSeenAtOnce) {
  FileCache cache(*root_, hours(1));
  CachedFile before;
  ASSERT_TRUE(cache.open_regular("a.txt", before));
  write("a.txt", "second version");
  CachedFile after;
  ASSERT_TRUE(cache.open_regular("a.txt", after));
  EXPECT_EQ(after.info.st_size, 14);
  EXPECT_EQ(read(after), "second version");
  ASSERT_NE(after.content, nullptr);
  EXPECT_EQ(*after.content, "second version");
}

TEST_F(FileCacheTest, ReplacementAndDeletionAreSeenAtOnce) {
  FileCache cache(*root_, hours(1));
  CachedFile before;
  ASSERT_TRUE(cache.open_regular("a.txt", before));
  write("new.txt", "replaced");
  fs::rename(dir_ / "new.txt", dir_ / "a.txt");  // atomic deploy: the old inode is unlinked
  CachedFile after;
  ASSERT_TRUE(cache.open_regular("a.txt", after));
  EXPECT_NE(after.info.st_ino, before.info.st_ino);
  EXPECT_EQ(read(after), "replaced");

  fs::remove(dir_ / "a.txt");
  CachedFile gone;
  EXPECT_FALSE(cache.open_regular("a.txt", gone));
}

TEST_F(FileCacheTest, NotFoundAndPathChangesWaitForRevalidation) {
  FileCache slow(*root_, hours(1));
  CachedFile f;
  EXPECT_FALSE(slow.open_regular("late.txt", f));
  ASSERT_TRUE(slow.open_regular("current/page.txt", f));
  EXPECT_EQ(read(f), "one");
  write("late.txt", "here");
  fs::remove(dir_ / "current");
  fs::create_symlink("v2", dir_ / "current");
  EXPECT_FALSE(slow.open_regular("late.txt", f));  // remembered as missing
  ASSERT_TRUE(slow.open_regular("current/page.txt", f));
  EXPECT_EQ(read(f), "one");  // the path is resolved again only after revalidate_after

  FileCache eager(*root_, milliseconds(0));
  ASSERT_TRUE(eager.open_regular("late.txt", f));
  ASSERT_TRUE(eager.open_regular("current/page.txt", f));
  EXPECT_EQ(read(f), "two!");
}

TEST_F(FileCacheTest, DirectoriesAreReturnedUncached) {
  FileCache cache(*root_, hours(1));
  CachedFile file;
  OpenedFile other;
  ASSERT_EQ(cache.open("v1", file, other), OpenStatus::kOk);
  EXPECT_EQ(file.file, nullptr);
  EXPECT_TRUE(S_ISDIR(other.info.st_mode));
  EXPECT_FALSE(cache.open_regular("v1", file));
}

}  // namespace
}  // namespace rws::app
