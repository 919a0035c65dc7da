/*
 * afalg-baseline: the C reference for kcrypto's benchmark. One AF_ALG request at a time, the
 * way a careful C programmer would write it with the raw socket API (no libkcapi):
 *
 *   skcipher / aead: one sendmsg() carrying ALG_SET_OP, ALG_SET_IV (and for AEAD
 *                    ALG_SET_AEAD_ASSOCLEN) control messages plus the data, then one read;
 *   hash:            one send() of the data, then one recv() of the digest.
 *
 * usage: afalg-baseline TYPE NAME KEYLEN SIZE SECONDS [THREADS]
 *   TYPE     skcipher | aead | hash
 *   NAME     what bind() gets: a generic name (gcm(aes), sha256) or a driver name
 *            (cbc-aes-aesni, virtio_crypto_aes_cbc)
 *   KEYLEN   key bytes (0 for an unkeyed hash)
 *   SIZE     bytes of input per request
 *   SECONDS  how long to measure (after a short warm-up)
 *   THREADS  threads issuing requests at once, each on its own op socket of the one transform
 *            (default 1): the C counterpart of kcrypto with that many requests in flight
 *
 * Prints one JSON line on stdout: ops, bytes, seconds, the driver that serves NAME (from
 * /proc/crypto), or {"error": ...} with exit status 1 when AF_ALG or the driver is unusable.
 * AEAD requests carry no associated data and a 16-byte tag; IVs are fixed (this is a speed
 * test, not a use of the cipher).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/if_alg.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "baseline-common.h"

#ifndef AF_ALG
#define AF_ALG 38
#endif
#ifndef SOL_ALG
#define SOL_ALG 279
#endif

#define TAG_LEN 16

static void trim(char *s) {
  size_t n = strlen(s);
  while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == ' ' || s[n - 1] == '\t')) s[--n] = '\0';
}

/*
 * The driver serving NAME: NAME itself when /proc/crypto lists it as a driver, otherwise the
 * highest-priority entry whose algorithm name is NAME (the kernel's own rule when binding a
 * generic name). Writes "" when /proc/crypto cannot be read.
 */
static void driver_of(const char *name, char *out, size_t outlen) {
  out[0] = '\0';
  FILE *f = fopen("/proc/crypto", "r");
  if (!f) return;
  char line[512], cur_name[256] = "", cur_driver[256] = "";
  long cur_prio = -1, best_prio = -1;
  int exact = 0;
  for (;;) {
    char *got = fgets(line, sizeof line, f);
    if (!got || line[0] == '\n') {
      /* end of an entry */
      if (cur_driver[0]) {
        if (strcmp(cur_driver, name) == 0) {
          snprintf(out, outlen, "%s", cur_driver);
          exact = 1;
        } else if (!exact && strcmp(cur_name, name) == 0 && cur_prio > best_prio) {
          snprintf(out, outlen, "%s", cur_driver);
          best_prio = cur_prio;
        }
      }
      cur_name[0] = cur_driver[0] = '\0';
      cur_prio = -1;
      if (!got) break;
      continue;
    }
    char *colon = strchr(line, ':');
    if (!colon) continue;
    *colon = '\0';
    char *key = line, *val = colon + 1;
    trim(key);
    while (*val == ' ') val++;
    trim(val);
    if (strcmp(key, "name") == 0) snprintf(cur_name, sizeof cur_name, "%s", val);
    else if (strcmp(key, "driver") == 0) snprintf(cur_driver, sizeof cur_driver, "%s", val);
    else if (strcmp(key, "priority") == 0) cur_prio = strtol(val, NULL, 10);
  }
  fclose(f);
}

/* What every thread shares: the bound transform and the request's shape and timing. */
struct job {
  int tfm;
  int is_hash, is_aead;
  long size;
  double warm_end, end;
};

/* One thread's loop and its count. */
struct worker {
  const struct job *job;
  pthread_t thread;
  unsigned long long ops;
  double last; /* when its last counted request completed */
};

static void *run_worker(void *arg) {
  struct worker *w = arg;
  const struct job *j = w->job;
  const int is_hash = j->is_hash, is_aead = j->is_aead;
  const long size = j->size;
  int op = accept4(j->tfm, NULL, 0, SOCK_CLOEXEC);
  if (op < 0) fail("accept", errno);

  const size_t out_len = is_hash ? 64 : (size_t)size + (is_aead ? TAG_LEN : 0);
  unsigned char *in = malloc(size > 0 ? (size_t)size : 1);
  unsigned char *out = malloc(out_len > 0 ? out_len : 1);
  if (!in || !out) fail("malloc", ENOMEM);
  for (long i = 0; i < size; i++) in[i] = (unsigned char)(i * 7 + 3);

  /* Control messages: built once, as a careful programmer would (they do not change). */
  const unsigned ivlen = is_aead ? 12 : 16;
  union {
    struct cmsghdr align;
    unsigned char buf[CMSG_SPACE(sizeof(uint32_t)) * 2 + CMSG_SPACE(sizeof(struct af_alg_iv) + 16)];
  } control;
  memset(&control, 0, sizeof control);
  struct iovec iov = {in, (size_t)size};
  struct msghdr msg;
  memset(&msg, 0, sizeof msg);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (!is_hash) {
    msg.msg_control = control.buf;
    msg.msg_controllen = CMSG_SPACE(sizeof(uint32_t)) + CMSG_SPACE(sizeof(struct af_alg_iv) + ivlen) + (is_aead ? CMSG_SPACE(sizeof(uint32_t)) : 0);
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_ALG;
    c->cmsg_type = ALG_SET_OP;
    c->cmsg_len = CMSG_LEN(sizeof(uint32_t));
    uint32_t enc = ALG_OP_ENCRYPT;
    memcpy(CMSG_DATA(c), &enc, sizeof enc);
    c = CMSG_NXTHDR(&msg, c);
    c->cmsg_level = SOL_ALG;
    c->cmsg_type = ALG_SET_IV;
    c->cmsg_len = CMSG_LEN(sizeof(struct af_alg_iv) + ivlen);
    struct af_alg_iv *iv = (struct af_alg_iv *)CMSG_DATA(c);
    iv->ivlen = ivlen;
    for (unsigned i = 0; i < ivlen; i++) iv->iv[i] = (unsigned char)(0xa0 + i);
    if (is_aead) {
      c = CMSG_NXTHDR(&msg, c);
      c->cmsg_level = SOL_ALG;
      c->cmsg_type = ALG_SET_AEAD_ASSOCLEN;
      c->cmsg_len = CMSG_LEN(sizeof(uint32_t));
      uint32_t assoclen = 0;
      memcpy(CMSG_DATA(c), &assoclen, sizeof assoclen);
    }
  }

  /* One request; returns 0 or an errno. */
#define REQUEST()                                                                  \
  do {                                                                             \
    ssize_t n;                                                                     \
    if (is_hash) {                                                                 \
      if (size > 0 && send(op, in, (size_t)size, 0) != (ssize_t)size)              \
        fail("send", errno ? errno : EIO);                                         \
      n = recv(op, out, out_len, 0);                                               \
      if (n <= 0) fail("recv", n < 0 ? errno : EIO);                               \
    } else {                                                                       \
      if (sendmsg(op, &msg, 0) != (ssize_t)size) fail("sendmsg", errno ? errno : EIO); \
      n = read(op, out, out_len);                                                  \
      if (n != (ssize_t)out_len) fail("read", n < 0 ? errno : EIO);                \
    }                                                                              \
  } while (0)

  /* Warm-up until the shared start (at least a few requests), not counted. */
  for (int i = 0; i < 3 || now() < j->warm_end; i++) {
    errno = 0;
    REQUEST();
  }
  double t;
  do {
    errno = 0;
    REQUEST();
    w->ops++;
    t = now();
  } while (t < j->end);
  w->last = t;
  close(op);
  free(in);
  free(out);
  return NULL;
}

int main(int argc, char **argv) {
  if (argc != 6 && argc != 7) {
    fprintf(stderr, "usage: %s skcipher|aead|hash NAME KEYLEN SIZE SECONDS [THREADS]\n", argv[0]);
    return 2;
  }
  const char *type = argv[1];
  const char *name = argv[2];
  const long keylen = strtol(argv[3], NULL, 10);
  const long size = strtol(argv[4], NULL, 10);
  const double seconds = strtod(argv[5], NULL);
  const long threads = argc == 7 ? strtol(argv[6], NULL, 10) : 1;
  const int is_hash = strcmp(type, "hash") == 0;
  const int is_aead = strcmp(type, "aead") == 0;
  if (!is_hash && !is_aead && strcmp(type, "skcipher") != 0) {
    fprintf(stderr, "unknown type %s\n", type);
    return 2;
  }
  if (keylen < 0 || keylen > 64 || size < 0 || size > (64L << 20) || !(seconds > 0) || threads < 1 || threads > 256) {
    fprintf(stderr, "bad KEYLEN, SIZE, SECONDS or THREADS\n");
    return 2;
  }
  if (strlen(name) >= sizeof(((struct sockaddr_alg *)0)->salg_name)) {
    fprintf(stderr, "name too long\n");
    return 2;
  }

  int tfm = socket(AF_ALG, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (tfm < 0) fail("socket(AF_ALG)", errno);
  struct sockaddr_alg sa;
  memset(&sa, 0, sizeof sa);
  sa.salg_family = AF_ALG;
  snprintf((char *)sa.salg_type, sizeof sa.salg_type, "%s", type);
  snprintf((char *)sa.salg_name, sizeof sa.salg_name, "%s", name);
  if (bind(tfm, (struct sockaddr *)&sa, sizeof sa) != 0) fail("bind", errno);

  unsigned char key[64];
  for (long i = 0; i < keylen; i++) key[i] = (unsigned char)(0x11 * (i + 1));
  if (keylen > 0 && setsockopt(tfm, SOL_ALG, ALG_SET_KEY, key, (socklen_t)keylen) != 0) fail("setsockopt(ALG_SET_KEY)", errno);
  if (is_aead && setsockopt(tfm, SOL_ALG, ALG_SET_AEAD_AUTHSIZE, NULL, TAG_LEN) != 0) fail("setsockopt(ALG_SET_AEAD_AUTHSIZE)", errno);

  /* Warm-up: a tenth of the time; then every thread counts until the same end. */
  struct job job = {tfm, is_hash, is_aead, size, 0, 0};
  const double start = now() + seconds / 10;
  job.warm_end = start;
  job.end = start + seconds;
  struct worker *ws = calloc((size_t)threads, sizeof *ws);
  if (!ws) fail("calloc", ENOMEM);
  for (long i = 0; i < threads; i++) {
    ws[i].job = &job;
    int rc = pthread_create(&ws[i].thread, NULL, run_worker, &ws[i]);
    if (rc != 0) fail("pthread_create", rc);
  }
  unsigned long long ops = 0;
  double last = start;
  for (long i = 0; i < threads; i++) {
    pthread_join(ws[i].thread, NULL);
    ops += ws[i].ops;
    if (ws[i].last > last) last = ws[i].last;
  }
  const double elapsed = last - start;

  char driver[256];
  driver_of(name, driver, sizeof driver);
  printf("{\"type\":");
  json_string(type);
  printf(",\"bind\":");
  json_string(name);
  printf(",\"driver\":");
  json_string(driver);
  printf(",\"size\":%ld,\"threads\":%ld,\"ops\":%llu,\"bytes\":%llu,\"seconds\":%.6f}\n", size, threads, ops, ops * (unsigned long long)size, elapsed);
  free(ws);
  close(tfm);
  return 0;
}
