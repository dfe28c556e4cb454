#include "index/similarity.h"

#include <algorithm>
#include <array>
#include <memory>
#include <string_view>
#include <utility>

namespace cp {
namespace {

// Names are shorter than this, so scoring a candidate never touches the heap; longer input
// still works through a heap fallback.
constexpr size_t kStackSize = 64;

// A zero-filled array of `n` elements, on the stack when it fits.
template <typename T>
class Scratch {
 public:
  explicit Scratch(size_t n) {
    if (n > kStackSize) {
      heap_ = std::make_unique<T[]>(n);  // value-initialised: zero
      data_ = heap_.get();
    } else {
      stack_.fill(T{});
      data_ = stack_.data();
    }
  }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;

  T& operator[](size_t i) { return data_[i]; }
  T* data() { return data_; }

 private:
  std::array<T, kStackSize> stack_;
  std::unique_ptr<T[]> heap_;
  T* data_;
};

constexpr double kWinklerScale = 0.1;
constexpr size_t kWinklerMaxPrefix = 4;
constexpr double kWinklerThreshold = 0.7;

// Marks the characters of `a` and `b` that match within the Jaro window; returns how many.
size_t MarkMatches(std::string_view a, std::string_view b, bool* a_matched, bool* b_matched) {
  const size_t longer = std::max(a.size(), b.size());
  const size_t window = longer / 2 > 0 ? longer / 2 - 1 : 0;
  size_t matches = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const size_t lo = i > window ? i - window : 0;
    const size_t hi = std::min(b.size(), i + window + 1);
    for (size_t j = lo; j < hi; ++j) {
      if (b_matched[j] || a[i] != b[j]) continue;
      a_matched[i] = b_matched[j] = true;
      ++matches;
      break;
    }
  }
  return matches;
}

// Matched characters that appear in a different order, halved as Jaro defines.
size_t HalfTranspositions(std::string_view a, std::string_view b, const bool* a_matched,
                          const bool* b_matched) {
  size_t out_of_order = 0;
  size_t j = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    if (!a_matched[i]) continue;
    while (!b_matched[j]) ++j;
    if (a[i] != b[j]) ++out_of_order;
    ++j;
  }
  return out_of_order / 2;
}

double Jaro(std::string_view a, std::string_view b) {
  Scratch<bool> a_matched(a.size());
  Scratch<bool> b_matched(b.size());
  const size_t m = MarkMatches(a, b, a_matched.data(), b_matched.data());
  if (m == 0) return 0.0;
  const size_t t = HalfTranspositions(a, b, a_matched.data(), b_matched.data());
  const double md = static_cast<double>(m);
  return (md / a.size() + md / b.size() + (md - t) / md) / 3.0;
}

size_t CommonPrefix(std::string_view a, std::string_view b, size_t limit) {
  size_t n = 0;
  while (n < limit && n < a.size() && n < b.size() && a[n] == b[n]) ++n;
  return n;
}

// One row of the OSA table from the two rows above it; returns the row's minimum.
size_t FillRow(std::string_view a, std::string_view b, size_t i, const size_t* above2,
               const size_t* above, size_t* row) {
  row[0] = i;
  size_t row_min = i;
  for (size_t j = 1; j <= b.size(); ++j) {
    const size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
    size_t d = std::min({above[j] + 1, row[j - 1] + 1, above[j - 1] + cost});
    if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
      d = std::min(d, above2[j - 2] + 1);
    }
    row[j] = d;
    row_min = std::min(row_min, d);
  }
  return row_min;
}

// The longest strings CountsBound takes: its counts are 16-bit.
constexpr size_t kMaxCounted = 4096;

// Half the difference of the two strings' byte counts, rounded up: a lower bound on their
// edit distance, since an edit changes the counts by at most two (a substitution takes one
// byte away and adds another; a transposition changes none).
size_t CountsBound(std::string_view a, std::string_view b) {
  int16_t counts[256] = {};
  for (unsigned char c : a) ++counts[c];
  for (unsigned char c : b) --counts[c];
  // A byte `a` holds more of is in `a`, one `b` holds more of in `b`: each counted once.
  size_t diff = 0;
  for (unsigned char c : a) {
    if (counts[c] > 0) {
      diff += static_cast<size_t>(counts[c]);
      counts[c] = 0;
    }
  }
  for (unsigned char c : b) {
    if (counts[c] < 0) {
      diff += static_cast<size_t>(-counts[c]);
      counts[c] = 0;
    }
  }
  return (diff + 1) / 2;
}

}  // namespace

double JaroWinkler(std::string_view a, std::string_view b) {
  if (a.empty() && b.empty()) return 1.0;
  if (a.empty() || b.empty()) return 0.0;
  const double jaro = Jaro(a, b);
  if (jaro <= kWinklerThreshold) return jaro;
  const size_t prefix = CommonPrefix(a, b, kWinklerMaxPrefix);
  return jaro + prefix * kWinklerScale * (1.0 - jaro);
}

size_t EditDistance(std::string_view a, std::string_view b, size_t max_distance) {
  if (a.size() < b.size()) std::swap(a, b);  // rows span the shorter string
  // The distance never exceeds the longer length, so a larger limit can never stop early
  // (and max_distance + 1 below cannot overflow).
  const bool can_stop = max_distance < a.size();
  if (can_stop && a.size() - b.size() > max_distance) return max_distance + 1;
  // Most pairs of different names are told apart here, without the table.
  if (can_stop && a.size() <= kMaxCounted && CountsBound(a, b) > max_distance)
    return max_distance + 1;

  const size_t width = b.size() + 1;
  Scratch<size_t> above2(width), above(width), row(width);
  for (size_t j = 0; j < width; ++j) above[j] = j;
  size_t* rows[3] = {above2.data(), above.data(), row.data()};
  for (size_t i = 1; i <= a.size(); ++i) {
    // Row minima never decrease down the table, so a row wholly above the limit is final.
    const size_t row_min = FillRow(a, b, i, rows[0], rows[1], rows[2]);
    if (can_stop && row_min > max_distance) return max_distance + 1;
    std::rotate(rows, rows + 1, rows + 3);
  }
  return rows[1][b.size()];
}

}  // namespace cp
