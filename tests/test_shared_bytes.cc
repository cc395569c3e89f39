// core/shared_bytes.h: copies share one buffer, equality is by content,
// and "the same buffer" holds only for copies of one non-empty buffer, so
// that the checker can skip re-hashing a copy without ever taking two
// different entries for one.
#include <gtest/gtest.h>

#include <vector>

#include "core/shared_bytes.h"

namespace ws {
namespace {

TEST(SharedBytes, CopiesShareTheBufferAndCompareByContent) {
  const std::vector<uint8_t> v{1, 2, 3};
  SharedBytes a(v);
  SharedBytes b = a;
  SharedBytes c(v);  // equal bytes, its own buffer
  EXPECT_EQ(a.data(), b.data());
  EXPECT_NE(a.data(), c.data());
  EXPECT_TRUE(a.same_buffer(b));
  EXPECT_FALSE(a.same_buffer(c));
  EXPECT_EQ(a, c);
  EXPECT_EQ(a, v);
  EXPECT_FALSE(a == SharedBytes({1, 2, 4}));
  EXPECT_FALSE(a == SharedBytes({1, 2}));
  EXPECT_EQ(std::vector<uint8_t>(a.begin(), a.end()), v);
  EXPECT_EQ(a.span().size(), 3u);
  EXPECT_EQ(a[2], 3);
}

TEST(SharedBytes, EmptyOnesAreEqualButNeverTheSameBuffer) {
  SharedBytes e;
  SharedBytes f(std::vector<uint8_t>{});
  EXPECT_TRUE(e.empty());
  EXPECT_EQ(e.size(), 0u);
  EXPECT_EQ(e, f);
  EXPECT_FALSE(e.same_buffer(f));
  EXPECT_FALSE(e.same_buffer(e));
  SharedBytes g({7});
  EXPECT_FALSE(e.same_buffer(g));
  EXPECT_FALSE(g.same_buffer(e));
}

TEST(SharedBytes, OutlivesTheCopyItWasMadeFrom) {
  SharedBytes kept;
  {
    std::vector<uint8_t> v(1000, 0xab);
    SharedBytes a(std::move(v));
    kept = a;
  }
  ASSERT_EQ(kept.size(), 1000u);
  for (uint8_t x : kept) ASSERT_EQ(x, 0xab);
}

}  // namespace
}  // namespace ws
