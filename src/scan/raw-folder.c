/*
 * A folder's raw read for the local walk (see raw-folder.ts): one call lists a folder and
 * lstat's each entry, and hands back a digest of what it found together with the facts of its
 * subfolders, without a JavaScript object, string or BigInt per entry. A no-op pass over a large
 * tree spent most of its time on those.
 *
 * readFolder(path, budgetMs) returns an errno number when the folder cannot be read whole (the
 * walk then reads it itself and reports why), else an array:
 *   [digest, folder inode, entries, then name, inode, mtimeMs for each subfolder]
 * The digest covers each entry's name, mode, inode and device, size, and modification and change
 * times to the nanosecond (a subfolder's change with what it holds, which costs its parent one
 * read by the walk, and show a subfolder renamed away and back). Entries are summed, not chained,
 * so the directory's order does not matter.
 *
 * Not read whole, with the walk reading the folder instead: a name that is not UTF-8 (the walk
 * sees such a name spelled otherwise, and cannot look at it), and a read that takes longer than
 * the budget (a slow disk, where the walk's own reads keep several calls in flight and give the
 * event loop its turns).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <node_api.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static uint64_t fmix64(uint64_t k) {
  k ^= k >> 33;
  k *= 0xff51afd7ed558ccdULL;
  k ^= k >> 33;
  k *= 0xc4ceb9fe1a85ec53ULL;
  k ^= k >> 33;
  return k;
}

typedef struct {
  uint64_t a, b;
} hash128;

static void absorb(hash128 *h, uint64_t word) {
  h->a = fmix64(h->a ^ word) + 0x9e3779b97f4a7c15ULL;
  h->b = fmix64(h->b + word * 0x87c37b91114253d5ULL) ^ h->a;
}

static hash128 entry_hash(const char *name, size_t length, const struct stat *st) {
  hash128 h = {0x243f6a8885a308d3ULL, 0x13198a2e03707344ULL};
  absorb(&h, length);
  for (size_t i = 0; i < length; i += 8) {
    uint64_t word = 0;
    memcpy(&word, name + i, length - i < 8 ? length - i : 8);
    absorb(&h, word);
  }
  absorb(&h, (uint64_t)st->st_mode);
  absorb(&h, (uint64_t)st->st_ino);
  absorb(&h, (uint64_t)st->st_dev);
  absorb(&h, (uint64_t)st->st_size);
  absorb(&h, (uint64_t)st->st_mtim.tv_sec);
  absorb(&h, (uint64_t)st->st_mtim.tv_nsec);
  absorb(&h, (uint64_t)st->st_ctim.tv_sec);
  absorb(&h, (uint64_t)st->st_ctim.tv_nsec);
  return h;
}

/* Whether `text` is well-formed UTF-8 (no overlong forms, surrogates or code points past U+10FFFF). */
static int is_utf8(const unsigned char *text, size_t length) {
  for (size_t i = 0; i < length;) {
    unsigned char c = text[i];
    size_t extra;
    uint32_t point;
    if (c < 0x80) {
      i++;
      continue;
    } else if (c >= 0xc2 && c <= 0xdf) {
      extra = 1;
      point = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
      extra = 2;
      point = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      extra = 3;
      point = c & 0x07;
    } else {
      return 0;
    }
    for (size_t k = 1; k <= extra; k++) {
      if (i + k >= length || (text[i + k] & 0xc0) != 0x80) return 0;
      point = (point << 6) | (text[i + k] & 0x3f);
    }
    if ((extra == 2 && (point < 0x800 || (point >= 0xd800 && point <= 0xdfff))) || (extra == 3 && (point < 0x10000 || point > 0x10ffff))) return 0;
    i += extra + 1;
  }
  return 1;
}

static double now_ms(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (double)now.tv_sec * 1000.0 + (double)now.tv_nsec / 1e6;
}

/* Whole milliseconds, truncated toward zero as the scan's BigInt division does. */
static double mtime_ms(const struct stat *st) {
  int64_t ns = (int64_t)st->st_mtim.tv_sec * 1000000000LL + st->st_mtim.tv_nsec;
  return (double)(ns / 1000000LL);
}

static napi_value number(napi_env env, double value) {
  napi_value result;
  napi_create_double(env, value, &result);
  return result;
}

/* Signed, as Node's BigInt stats read it (a BigInt64Array): an inode of 2^63 or more (some NFS
 * servers give those) must be spelled the same by both readers. */
static napi_value inode_string(napi_env env, const struct stat *st) {
  char text[24];
  snprintf(text, sizeof text, "%" PRId64, (int64_t)st->st_ino);
  napi_value result;
  napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &result);
  return result;
}

static napi_value read_folder(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  double budget_ms;
  size_t length;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2 || napi_get_value_double(env, argv[1], &budget_ms) != napi_ok ||
      napi_get_value_string_utf8(env, argv[0], NULL, 0, &length) != napi_ok) {
    napi_throw_type_error(env, NULL, "readFolder(path, budgetMs) expects a string and a number");
    return NULL;
  }
  char path[4096];
  if (length >= sizeof path) return number(env, ENAMETOOLONG);
  napi_get_value_string_utf8(env, argv[0], path, sizeof path, &length);
  const double deadline = now_ms() + budget_ms;

  int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return number(env, errno);
  struct stat self;
  if (fstat(fd, &self) != 0) {
    int error = errno;
    close(fd);
    return number(env, error);
  }
  DIR *dir = fdopendir(fd);
  if (dir == NULL) {
    int error = errno;
    close(fd);
    return number(env, error);
  }

  napi_value result;
  napi_create_array(env, &result);
  uint32_t at = 3;
  hash128 sum = {0, 0};
  uint64_t entries = 0;
  int error = 0;
  for (;;) {
    errno = 0;
    struct dirent *entry = readdir(dir);
    if (entry == NULL) {
      error = errno;
      break;
    }
    const char *name = entry->d_name;
    if (name[0] == '.' && (name[1] == 0 || (name[1] == '.' && name[2] == 0))) continue;
    size_t name_length = strlen(name);
    if (!is_utf8((const unsigned char *)name, name_length)) {
      error = EILSEQ;
      break;
    }
    struct stat st;
    if (fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
      error = errno;
      break;
    }
    if ((entries & 63) == 63 && now_ms() > deadline) {
      error = ETIMEDOUT;
      break;
    }
    hash128 h = entry_hash(name, name_length, &st);
    sum.a += h.a;
    sum.b += h.b;
    entries++;
    if (S_ISDIR(st.st_mode)) {
      napi_value text;
      napi_create_string_utf8(env, name, name_length, &text);
      napi_set_element(env, result, at++, text);
      napi_set_element(env, result, at++, inode_string(env, &st));
      napi_set_element(env, result, at++, number(env, mtime_ms(&st)));
    }
  }
  closedir(dir);
  if (error != 0) return number(env, error);

  hash128 final = sum;
  absorb(&final, entries);
  char digest[33];
  snprintf(digest, sizeof digest, "%016" PRIx64 "%016" PRIx64, final.a, final.b);
  napi_value text;
  napi_create_string_utf8(env, digest, 32, &text);
  napi_set_element(env, result, 0, text);
  napi_set_element(env, result, 1, inode_string(env, &self));
  napi_set_element(env, result, 2, number(env, (double)entries));
  return result;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "readFolder", NAPI_AUTO_LENGTH, read_folder, NULL, &fn);
  napi_set_named_property(env, exports, "readFolder", fn);
  return exports;
}
