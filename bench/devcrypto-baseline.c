/*
 * devcrypto-baseline: the C reference for kcrypto's /dev/crypto rows. One request at a time
 * through the raw cryptodev-linux ioctls, the way a careful C programmer would write it:
 *
 *   open(DEVICE), CIOCGSESSION once, CIOCGSESSINFO once (to name the kernel driver), then per
 *   request one CIOCCRYPT (AES-CBC, SHA-256) or one CIOCAUTHCRYPT (AES-GCM).
 *
 * With DEPTH, DEPTH requests are kept in flight through the module's queue instead:
 * CIOCASYNCCRYPT to submit, poll() for POLLIN, CIOCASYNCFETCH to collect (completions come back
 * in submission order), each completion replaced by a new submission. Modules built without
 * ENABLE_ASYNC have no queue: the first submission fails and the error line says so.
 *
 * usage: devcrypto-baseline DEVICE ALG KEYLEN SIZE SECONDS [DEPTH]
 *        devcrypto-baseline --abi-table
 *   DEVICE   the device node (/dev/crypto, or the CUSE fixture's node); cryptodev-linux ABI
 *   ALG      aes-cbc | aes-gcm | sha256
 *   KEYLEN   key bytes (0 for sha256)
 *   SIZE     bytes of input per request
 *   SECONDS  how long to measure (after a short warm-up)
 *   DEPTH    requests in flight through CIOCASYNCCRYPT/CIOCASYNCFETCH (aes-cbc, sha256 only);
 *            absent: serial
 *
 * Prints one JSON line on stdout: ops, bytes, seconds, the driver CIOCGSESSINFO reports
 * (cra_driver_name) and whether the module flags it as hardware, or {"error": ...} with exit
 * status 1 when the device, the algorithm or the queue is unusable. --abi-table prints the
 * struct sizes, request numbers and ids compiled in, which the unit tests compare with the
 * addon's own (native/devcrypto/abi/cryptodev_linux.h). AEAD requests carry no associated data
 * and a 16-byte tag; IVs and keys are fixed (this is a speed test, not a use of the cipher).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "baseline-common.h"

/*
 * The cryptodev-linux ABI, restated from the project's native/devcrypto/abi/cryptodev_linux.h
 * (a C++ header, so it cannot be included here): only what this program uses, with the same
 * names. The layout and request-number checks below are that header's; --abi-table lets the
 * unit tests compare the whole set with the addon's compiled table.
 */
#define CRYPTODEV_MAX_ALG_NAME 64
#define CRYPTO_AES_CBC 11
#define CRYPTO_AES_GCM 50
#define CRYPTO_SHA2_256 104
#define COP_ENCRYPT 0
#define SIOP_FLAG_KERNEL_DRIVER_ONLY 1

struct session_op {
  uint32_t cipher;
  uint32_t mac;
  uint32_t keylen;
  uint8_t *key;
  uint32_t mackeylen;
  uint8_t *mackey;
  uint32_t ses;
};

struct alg_info {
  char cra_name[CRYPTODEV_MAX_ALG_NAME];
  char cra_driver_name[CRYPTODEV_MAX_ALG_NAME];
};

struct session_info_op {
  uint32_t ses;
  struct alg_info cipher_info;
  struct alg_info hash_info;
  uint16_t alignmask;
  uint32_t flags;
};

struct crypt_op {
  uint32_t ses;
  uint16_t op;
  uint16_t flags;
  uint32_t len;
  uint8_t *src;
  uint8_t *dst;
  uint8_t *mac;
  uint8_t *iv;
};

struct crypt_auth_op {
  uint32_t ses;
  uint16_t op;
  uint16_t flags;
  uint32_t len;
  uint32_t auth_len;
  uint8_t *auth_src;
  uint8_t *src;
  uint8_t *dst;
  uint8_t *tag;
  uint32_t tag_len;
  uint8_t *iv;
  uint32_t iv_len;
};

#define CIOCGSESSION _IOWR('c', 102, struct session_op)
#define CIOCFSESSION _IOW('c', 103, uint32_t)
#define CIOCCRYPT _IOWR('c', 104, struct crypt_op)
#define CIOCGSESSINFO _IOWR('c', 107, struct session_info_op)
#define CIOCAUTHCRYPT _IOWR('c', 109, struct crypt_auth_op)
#define CIOCASYNCCRYPT _IOW('c', 110, struct crypt_op)
#define CIOCASYNCFETCH _IOR('c', 111, struct crypt_op)

#if defined(__LP64__) || defined(_LP64)
_Static_assert(sizeof(struct session_op) == 48, "session_op");
_Static_assert(offsetof(struct session_op, ses) == 40, "session_op.ses");
_Static_assert(sizeof(struct session_info_op) == 268, "session_info_op");
_Static_assert(offsetof(struct session_info_op, flags) == 264, "session_info_op.flags");
_Static_assert(sizeof(struct crypt_op) == 48, "crypt_op");
_Static_assert(offsetof(struct crypt_op, iv) == 40, "crypt_op.iv");
_Static_assert(sizeof(struct crypt_auth_op) == 72, "crypt_auth_op");
_Static_assert(offsetof(struct crypt_auth_op, iv_len) == 64, "crypt_auth_op.iv_len");
#endif
#if (defined(__LP64__) || defined(_LP64)) && !defined(__alpha__) && !defined(__mips__) && !defined(__powerpc__) && \
    !defined(__sparc__)
_Static_assert(CIOCGSESSION == 0xc0306366, "CIOCGSESSION");
_Static_assert(CIOCFSESSION == 0x40046367, "CIOCFSESSION");
_Static_assert(CIOCCRYPT == 0xc0306368, "CIOCCRYPT");
_Static_assert(CIOCGSESSINFO == 0xc10c636b, "CIOCGSESSINFO");
_Static_assert(CIOCAUTHCRYPT == 0xc048636d, "CIOCAUTHCRYPT");
_Static_assert(CIOCASYNCCRYPT == 0x4030636e, "CIOCASYNCCRYPT");
_Static_assert(CIOCASYNCFETCH == 0x8030636f, "CIOCASYNCFETCH");
#endif

#define TAG_LEN 16
#define MAX_DEPTH 64 /* the module's largest ring (MAX_COP_RINGSIZE) */

static void abi_table(void) {
  printf("{\"sizes\":{\"session_op\":%zu,\"session_info_op\":%zu,\"crypt_op\":%zu,\"crypt_auth_op\":%zu},", sizeof(struct session_op),
         sizeof(struct session_info_op), sizeof(struct crypt_op), sizeof(struct crypt_auth_op));
  printf("\"requests\":{\"CIOCGSESSION\":%lu,\"CIOCFSESSION\":%lu,\"CIOCCRYPT\":%lu,\"CIOCGSESSINFO\":%lu,\"CIOCAUTHCRYPT\":%lu,"
         "\"CIOCASYNCCRYPT\":%lu,\"CIOCASYNCFETCH\":%lu},",
         (unsigned long)CIOCGSESSION, (unsigned long)CIOCFSESSION, (unsigned long)CIOCCRYPT, (unsigned long)CIOCGSESSINFO,
         (unsigned long)CIOCAUTHCRYPT, (unsigned long)CIOCASYNCCRYPT, (unsigned long)CIOCASYNCFETCH);
  printf("\"constants\":{\"COP_ENCRYPT\":%d,\"SIOP_FLAG_KERNEL_DRIVER_ONLY\":%d},", COP_ENCRYPT, SIOP_FLAG_KERNEL_DRIVER_ONLY);
  printf("\"algorithms\":{\"CRYPTO_AES_CBC\":%d,\"CRYPTO_AES_GCM\":%d,\"CRYPTO_SHA2_256\":%d}}\n", CRYPTO_AES_CBC, CRYPTO_AES_GCM, CRYPTO_SHA2_256);
}

/* ioctl() retried on EINTR; returns 0 or an errno. */
static int xioctl(int fd, unsigned long req, void *arg) {
  for (;;) {
    if (ioctl(fd, req, arg) == 0) return 0;
    if (errno != EINTR) return errno;
  }
}

enum alg { ALG_CBC, ALG_GCM, ALG_SHA256 };

struct bench {
  int fd;
  enum alg alg;
  uint32_t ses;
  size_t size;
  uint8_t *in;
  uint8_t iv[16];
};

/* The CIOCCRYPT / CIOCASYNCCRYPT request for one encryption (CBC) or digest (SHA-256) into out. */
static void crypt_op_of(const struct bench *b, uint8_t *out, struct crypt_op *c) {
  memset(c, 0, sizeof *c);
  c->ses = b->ses;
  c->op = COP_ENCRYPT;
  c->len = (uint32_t)b->size;
  c->src = b->in;
  if (b->alg == ALG_CBC) {
    c->dst = out;
    c->iv = (uint8_t *)b->iv;
  } else {
    c->mac = out;
  }
}

/* One serial request (CIOCCRYPT or CIOCAUTHCRYPT); out has room for size + tag (or a digest). */
static void request(const struct bench *b, uint8_t *out) {
  int err;
  if (b->alg == ALG_GCM) {
    struct crypt_auth_op a;
    memset(&a, 0, sizeof a);
    a.ses = b->ses;
    a.op = COP_ENCRYPT;
    a.len = (uint32_t)b->size;
    a.src = b->in;
    a.dst = out;
    a.tag_len = TAG_LEN;
    a.iv = (uint8_t *)b->iv;
    a.iv_len = 12;
    if ((err = xioctl(b->fd, CIOCAUTHCRYPT, &a)) != 0) fail("CIOCAUTHCRYPT", err);
    return;
  }
  struct crypt_op c;
  crypt_op_of(b, out, &c);
  if ((err = xioctl(b->fd, CIOCCRYPT, &c)) != 0) fail("CIOCCRYPT", err);
}

/* Submits one request to the module's queue, its output in out; returns 0 or an errno (EBUSY: ring full). */
static int submit(const struct bench *b, uint8_t *out) {
  struct crypt_op c;
  crypt_op_of(b, out, &c);
  return xioctl(b->fd, CIOCASYNCCRYPT, &c);
}

/*
 * Keeps up to `depth` requests queued until `end`, then lets the queue drain. Returns the
 * requests completed (those submitted before `end`, all waited for) and sets *last to when the
 * last one completed and *most to the most that were in flight at once.
 */
static unsigned long long queued_run(const struct bench *b, uint8_t **outs, unsigned depth, double end, double *last, unsigned *most) {
  unsigned inflight = 0, head = 0; /* slot of the oldest request in flight: completions are FIFO */
  unsigned long long done = 0;
  int stopping = 0;
  for (;;) {
    while (!stopping && inflight < depth) {
      int err = submit(b, outs[(head + inflight) % depth]);
      if (err == EBUSY && inflight > 0) break; /* the ring is smaller than depth */
      if (err != 0)
        fail(err == EINVAL || err == ENOTTY ? "CIOCASYNCCRYPT (no request queue: a module built without ENABLE_ASYNC?)" : "CIOCASYNCCRYPT", err);
      inflight++;
      if (inflight > *most) *most = inflight;
    }
    if (inflight == 0) break;
    struct pollfd p = {b->fd, POLLIN, 0};
    if (poll(&p, 1, -1) < 0) {
      if (errno == EINTR) continue;
      fail("poll", errno);
    }
    while (inflight > 0) {
      struct crypt_op c;
      memset(&c, 0, sizeof c);
      int err = xioctl(b->fd, CIOCASYNCFETCH, &c);
      if (err == EBUSY) break; /* nothing more has completed */
      if (err != 0) fail("CIOCASYNCFETCH", err);
      inflight--;
      head = (head + 1) % depth;
      done++;
    }
    *last = now();
    if (*last >= end) stopping = 1;
  }
  return done;
}

int main(int argc, char **argv) {
  if (argc == 2 && strcmp(argv[1], "--abi-table") == 0) {
    abi_table();
    return 0;
  }
  if (argc != 6 && argc != 7) {
    fprintf(stderr, "usage: %s DEVICE aes-cbc|aes-gcm|sha256 KEYLEN SIZE SECONDS [DEPTH]\n       %s --abi-table\n", argv[0], argv[0]);
    return 2;
  }
  const char *device = argv[1];
  const char *alg_name = argv[2];
  const long keylen = strtol(argv[3], NULL, 10);
  const long size = strtol(argv[4], NULL, 10);
  const double seconds = strtod(argv[5], NULL);
  const long depth = argc == 7 ? strtol(argv[6], NULL, 10) : 0;
  struct bench b;
  memset(&b, 0, sizeof b);
  if (strcmp(alg_name, "aes-cbc") == 0) b.alg = ALG_CBC;
  else if (strcmp(alg_name, "aes-gcm") == 0) b.alg = ALG_GCM;
  else if (strcmp(alg_name, "sha256") == 0) b.alg = ALG_SHA256;
  else {
    fprintf(stderr, "unknown algorithm %s\n", alg_name);
    return 2;
  }
  if (keylen < 0 || keylen > 64 || (b.alg == ALG_SHA256) != (keylen == 0) || size <= 0 || size > (64L << 20) ||
      !(seconds > 0) || depth < 0 || depth > MAX_DEPTH) {
    fprintf(stderr, "bad KEYLEN, SIZE, SECONDS or DEPTH\n");
    return 2;
  }
  /* The queue carries CIOCCRYPT requests only; the module has no asynchronous CIOCAUTHCRYPT. */
  if (depth > 0 && b.alg == ALG_GCM) {
    fprintf(stderr, "DEPTH needs aes-cbc or sha256\n");
    return 2;
  }
  b.size = (size_t)size;

  b.fd = open(device, O_RDWR | O_CLOEXEC);
  if (b.fd < 0) {
    char what[300];
    snprintf(what, sizeof what, "open(%s)", device);
    fail(what, errno);
  }
  uint8_t key[64];
  for (long i = 0; i < keylen; i++) key[i] = (uint8_t)(0x11 * (i + 1));
  struct session_op s;
  memset(&s, 0, sizeof s);
  if (b.alg == ALG_SHA256) s.mac = CRYPTO_SHA2_256;
  else {
    s.cipher = b.alg == ALG_CBC ? CRYPTO_AES_CBC : CRYPTO_AES_GCM;
    s.keylen = (uint32_t)keylen;
    s.key = key;
  }
  int err = xioctl(b.fd, CIOCGSESSION, &s);
  if (err != 0) fail("CIOCGSESSION", err);
  b.ses = s.ses;

  struct session_info_op info;
  memset(&info, 0, sizeof info);
  info.ses = b.ses;
  if ((err = xioctl(b.fd, CIOCGSESSINFO, &info)) != 0) fail("CIOCGSESSINFO", err);
  const struct alg_info *ai = b.alg == ALG_SHA256 ? &info.hash_info : &info.cipher_info;
  char driver[CRYPTODEV_MAX_ALG_NAME + 1], name[CRYPTODEV_MAX_ALG_NAME + 1];
  snprintf(driver, sizeof driver, "%.*s", CRYPTODEV_MAX_ALG_NAME, ai->cra_driver_name);
  snprintf(name, sizeof name, "%.*s", CRYPTODEV_MAX_ALG_NAME, ai->cra_name);

  const size_t out_len = b.alg == ALG_SHA256 ? 64 : b.size + (b.alg == ALG_GCM ? TAG_LEN : 0);
  b.in = malloc(b.size);
  if (!b.in) fail("malloc", ENOMEM);
  for (size_t i = 0; i < b.size; i++) b.in[i] = (uint8_t)(i * 7 + 3);
  for (unsigned i = 0; i < sizeof b.iv; i++) b.iv[i] = (uint8_t)(0xa0 + i);
  /* One output buffer per request in flight: the module writes each while others are queued. */
  const unsigned slots = depth > 0 ? (unsigned)depth : 1;
  uint8_t *outs[MAX_DEPTH];
  for (unsigned i = 0; i < slots; i++)
    if (!(outs[i] = malloc(out_len))) fail("malloc", ENOMEM);

  unsigned long long ops = 0;
  unsigned most = 0;
  double start, t;
  if (depth == 0) {
    /* Warm-up: a tenth of the time (at least a few requests), not counted. */
    t = now();
    const double warm_end = t + seconds / 10;
    for (int i = 0; i < 3 || now() < warm_end; i++) request(&b, outs[0]);
    start = now();
    const double end = start + seconds;
    do {
      request(&b, outs[0]);
      ops++;
      t = now();
    } while (t < end);
  } else {
    t = now();
    (void)queued_run(&b, outs, (unsigned)depth, t + seconds / 10, &t, &most);
    most = 0;
    start = now();
    ops = queued_run(&b, outs, (unsigned)depth, start + seconds, &t, &most);
  }
  const double elapsed = t - start;

  printf("{\"alg\":");
  json_string(alg_name);
  printf(",\"device\":");
  json_string(device);
  printf(",\"name\":");
  json_string(name);
  printf(",\"driver\":");
  json_string(driver);
  printf(",\"hardware\":%s,\"size\":%ld,\"depth\":%ld,\"most_in_flight\":%u,\"ops\":%llu,\"bytes\":%llu,\"seconds\":%.6f}\n",
         (info.flags & SIOP_FLAG_KERNEL_DRIVER_ONLY) ? "true" : "false", size, depth, most, ops, ops * (unsigned long long)size, elapsed);
  uint32_t ses = b.ses;
  (void)xioctl(b.fd, CIOCFSESSION, &ses);
  close(b.fd);
  free(b.in);
  for (unsigned i = 0; i < slots; i++) free(outs[i]);
  return 0;
}
