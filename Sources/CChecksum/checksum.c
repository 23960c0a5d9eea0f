#include <immintrin.h>
#include <string.h>

#include "CChecksum.h"

// Each 64-bit lane keeps its low and its high 32-bit half in separate accumulators, so no
// carry is ever lost: 2^32 additions of 32-bit values would be needed to overflow a lane.
__attribute__((target("avx2"))) static uint64_t sum_avx2(const uint8_t *p, size_t length) {
  const __m256i low32 = _mm256_set1_epi64x(0xffffffff);
  __m256i lowA = _mm256_setzero_si256(), highA = lowA, lowB = lowA, highB = lowA;
  for (size_t i = 0; i < length; i += 64) {
    __m256i a = _mm256_loadu_si256((const __m256i *)(p + i));
    __m256i b = _mm256_loadu_si256((const __m256i *)(p + i + 32));
    lowA = _mm256_add_epi64(lowA, _mm256_and_si256(a, low32));
    highA = _mm256_add_epi64(highA, _mm256_srli_epi64(a, 32));
    lowB = _mm256_add_epi64(lowB, _mm256_and_si256(b, low32));
    highB = _mm256_add_epi64(highB, _mm256_srli_epi64(b, 32));
  }
  __m256i all = _mm256_add_epi64(_mm256_add_epi64(lowA, highA), _mm256_add_epi64(lowB, highB));
  uint64_t lanes[4];
  _mm256_storeu_si256((__m256i *)lanes, all);
  return lanes[0] + lanes[1] + lanes[2] + lanes[3];
}

static uint64_t sum_portable(const uint8_t *p, size_t length) {
  uint64_t sum = 0;
  for (size_t i = 0; i < length; i += 4) {
    uint32_t word;
    memcpy(&word, p + i, 4);
    sum += word;
  }
  return sum;
}

static uint64_t (*sum_blocks)(const uint8_t *, size_t) = sum_portable;

// Chosen once at load time, before any forwarder thread exists.
__attribute__((constructor)) static void choose_sum(void) {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2")) sum_blocks = sum_avx2;
}

uint64_t flannel_sum32_blocks(const void *bytes, size_t length) {
  return sum_blocks((const uint8_t *)bytes, length);
}

uint64_t flannel_sum32_blocks_portable(const void *bytes, size_t length) {
  return sum_portable((const uint8_t *)bytes, length);
}

int flannel_checksum_uses_avx2(void) { return sum_blocks == sum_avx2; }
