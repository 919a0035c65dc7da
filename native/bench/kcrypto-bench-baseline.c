/*
 * The C baseline of `kcrypto bench`: the same request as the benchmark's, made straight from C
 * with no Node.js in between. `kcrypto bench` compiles this file at run time with `cc` (with
 * -DKCRYPTO_WITH_LIBCRYPTO -lcrypto where OpenSSL's headers and library are installed, without
 * otherwise) and runs it once per measured point.
 *
 * usage: kcrypto-bench-baseline afalg|libcrypto cipher|hash NAME KEYLEN SIZE SECONDS THREADS
 *   afalg      one AF_ALG request at a time per thread, with the raw socket API: a cipher request
 *              is one sendmsg() carrying ALG_SET_OP and ALG_SET_IV plus the data, then one
 *              read(); a hash is one send() and one recv(). NAME is what bind() gets (cbc(aes),
 *              sha256): the kernel's highest-priority driver for it.
 *   libcrypto  OpenSSL's EVP interface, a context per thread keyed once: per request a new IV,
 *              one update and final (no padding), or a digest init, update and final. NAME is
 *              OpenSSL's name (aes-256-cbc, sha256).
 *   THREADS    threads issuing requests at once (the C counterpart of requests in flight).
 *
 * Prints one JSON line on stdout, {"ops":N,"bytes":N,"seconds":S}, or {"error":"..."} with exit
 * status 1 when the interface or the algorithm is unusable here. Key, IV and data are fixed
 * patterns: this measures speed, it is not a use of the cipher.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifdef __linux__
#include <linux/if_alg.h>
#include <sys/socket.h>
#ifndef AF_ALG
#define AF_ALG 38
#endif
#ifndef SOL_ALG
#define SOL_ALG 279
#endif
#endif

#ifdef KCRYPTO_WITH_LIBCRYPTO
#include <openssl/evp.h>
#endif

static void json_string(const char* s) {
  putchar('"');
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') printf("\\%c", c);
    else if (c < 0x20) printf("\\u%04x", c);
    else putchar(c);
  }
  putchar('"');
}

/* Prints {"error": "..."} and exits 1; errors from any thread end the whole run. */
static void fail(const char* what, const char* why) {
  char buf[320];
  snprintf(buf, sizeof buf, "%s: %s", what, why);
  printf("{\"error\":");
  json_string(buf);
  printf("}\n");
  fflush(stdout);
  exit(1);
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/*
 * What every thread shares: the request's shape, and when warm-up and measuring end (set once
 * every thread is ready, so that the time it takes to start threads is no part of either).
 */
struct job {
  pthread_barrier_t ready;
  int is_hash;
  const char* name;
  long keylen, size;
  double warm_end, end;
#ifdef __linux__
  int tfm;
#endif
};

/* One thread's state: its buffers, its count, and when its last counted request completed. */
struct worker {
  struct job* job;
  pthread_t thread;
  unsigned char *in, *out;
  unsigned long long ops;
  double last;
};

static unsigned char KEY[64], IV[16];

/*
 * After each request: whether to make another. Requests until warm_end are not counted. A thread
 * that comes out of its warm-up after the end (the scheduler starved it) counts none, rather
 * than stretching the measured time with a late request of its own.
 */
static int next_request(struct worker* w, int* warm) {
  const double t = now();
  if (*warm) {
    if (t < w->job->warm_end) return 1;
    *warm = 0;
    return t < w->job->end;
  }
  w->ops++;
  w->last = t;
  return t < w->job->end;
}

#ifdef __linux__
static void* afalg_worker(void* arg) {
  struct worker* w = arg;
  struct job* j = w->job;
  int op = accept4(j->tfm, NULL, 0, SOCK_CLOEXEC);
  if (op < 0) fail("accept", strerror(errno));
  /* The control messages do not change between requests: built once. */
  union {
    struct cmsghdr align;
    unsigned char buf[CMSG_SPACE(sizeof(uint32_t)) + CMSG_SPACE(sizeof(struct af_alg_iv) + 16)];
  } control;
  memset(&control, 0, sizeof control);
  struct iovec iov = {w->in, (size_t)j->size};
  struct msghdr msg;
  memset(&msg, 0, sizeof msg);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (!j->is_hash) {
    msg.msg_control = control.buf;
    msg.msg_controllen = sizeof control.buf;
    struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_ALG;
    c->cmsg_type = ALG_SET_OP;
    c->cmsg_len = CMSG_LEN(sizeof(uint32_t));
    uint32_t enc = ALG_OP_ENCRYPT;
    memcpy(CMSG_DATA(c), &enc, sizeof enc);
    c = CMSG_NXTHDR(&msg, c);
    c->cmsg_level = SOL_ALG;
    c->cmsg_type = ALG_SET_IV;
    c->cmsg_len = CMSG_LEN(sizeof(struct af_alg_iv) + 16);
    struct af_alg_iv* iv = (struct af_alg_iv*)CMSG_DATA(c);
    iv->ivlen = 16;
    memcpy(iv->iv, IV, 16);
  }
  const size_t out_len = j->is_hash ? 64 : (size_t)j->size;
  pthread_barrier_wait(&j->ready);
  int warm = 1;
  do {
    ssize_t n;
    if (j->is_hash) {
      if (send(op, w->in, (size_t)j->size, 0) != (ssize_t)j->size) fail("send", strerror(errno));
      n = recv(op, w->out, out_len, 0);
      if (n <= 0) fail("recv", n < 0 ? strerror(errno) : "no digest");
    } else {
      if (sendmsg(op, &msg, 0) != (ssize_t)j->size) fail("sendmsg", strerror(errno));
      n = read(op, w->out, out_len);
      if (n != (ssize_t)out_len) fail("read", n < 0 ? strerror(errno) : "short read");
    }
  } while (next_request(w, &warm));
  close(op);
  return NULL;
}

/* Binds and keys the one transform every thread accepts its own request socket from. */
static void afalg_open(struct job* j) {
  int tfm = socket(AF_ALG, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (tfm < 0) fail("socket(AF_ALG)", strerror(errno));
  struct sockaddr_alg sa;
  memset(&sa, 0, sizeof sa);
  sa.salg_family = AF_ALG;
  snprintf((char*)sa.salg_type, sizeof sa.salg_type, "%s", j->is_hash ? "hash" : "skcipher");
  snprintf((char*)sa.salg_name, sizeof sa.salg_name, "%s", j->name);
  if (bind(tfm, (struct sockaddr*)&sa, sizeof sa) != 0) fail("bind", strerror(errno));
  if (j->keylen > 0 && setsockopt(tfm, SOL_ALG, ALG_SET_KEY, KEY, (socklen_t)j->keylen) != 0)
    fail("setsockopt(ALG_SET_KEY)", strerror(errno));
  j->tfm = tfm;
}
#endif

#ifdef KCRYPTO_WITH_LIBCRYPTO
static void* libcrypto_worker(void* arg) {
  struct worker* w = arg;
  struct job* j = w->job;
  const EVP_CIPHER* cipher = j->is_hash ? NULL : EVP_get_cipherbyname(j->name);
  const EVP_MD* md = j->is_hash ? EVP_get_digestbyname(j->name) : NULL;
  EVP_CIPHER_CTX* cctx = cipher ? EVP_CIPHER_CTX_new() : NULL;
  EVP_MD_CTX* mctx = md ? EVP_MD_CTX_new() : NULL;
  if (cctx) {
    if (EVP_EncryptInit_ex(cctx, cipher, NULL, KEY, IV) != 1) fail("EVP_EncryptInit_ex", j->name);
    EVP_CIPHER_CTX_set_padding(cctx, 0);
  }
  pthread_barrier_wait(&j->ready);
  int warm = 1;
  do {
    int n = 0, m = 0;
    unsigned int dlen = 0;
    if (cctx) {
      if (EVP_EncryptInit_ex(cctx, NULL, NULL, NULL, IV) != 1 || EVP_EncryptUpdate(cctx, w->out, &n, w->in, (int)j->size) != 1 ||
          EVP_EncryptFinal_ex(cctx, w->out + n, &m) != 1)
        fail("EVP_Encrypt", j->name);
    } else if (EVP_DigestInit_ex(mctx, md, NULL) != 1 || EVP_DigestUpdate(mctx, w->in, (size_t)j->size) != 1 ||
               EVP_DigestFinal_ex(mctx, w->out, &dlen) != 1) {
      fail("EVP_Digest", j->name);
    }
  } while (next_request(w, &warm));
  EVP_CIPHER_CTX_free(cctx);
  EVP_MD_CTX_free(mctx);
  return NULL;
}
#endif

int main(int argc, char** argv) {
  if (argc != 8) {
    fprintf(stderr, "usage: %s afalg|libcrypto cipher|hash NAME KEYLEN SIZE SECONDS THREADS\n", argv[0]);
    return 2;
  }
  const char* backend = argv[1];
  struct job job;
  memset(&job, 0, sizeof job);
  job.is_hash = strcmp(argv[2], "hash") == 0;
  job.name = argv[3];
  job.keylen = strtol(argv[4], NULL, 10);
  job.size = strtol(argv[5], NULL, 10);
  const double seconds = strtod(argv[6], NULL);
  const long threads = strtol(argv[7], NULL, 10);
  if (job.keylen < 0 || job.keylen > 64 || job.size < 1 || job.size > (64L << 20) || !(seconds > 0) || threads < 1 || threads > 1024) {
    fprintf(stderr, "bad KEYLEN, SIZE, SECONDS or THREADS\n");
    return 2;
  }
  for (int i = 0; i < 64; i++) KEY[i] = (unsigned char)(0x11 * (i + 1));
  for (int i = 0; i < 16; i++) IV[i] = (unsigned char)(0xa0 + i);

  void* (*worker)(void*) = NULL;
  if (strcmp(backend, "afalg") == 0) {
#ifdef __linux__
    afalg_open(&job);
    worker = afalg_worker;
#else
    fail("AF_ALG", "Linux only");
#endif
  } else if (strcmp(backend, "libcrypto") == 0) {
#ifdef KCRYPTO_WITH_LIBCRYPTO
    if (job.is_hash ? EVP_get_digestbyname(job.name) == NULL : EVP_get_cipherbyname(job.name) == NULL)
      fail("libcrypto", "unknown algorithm");
    worker = libcrypto_worker;
#else
    fail("libcrypto", "compiled without OpenSSL's headers or library");
#endif
  } else {
    fprintf(stderr, "unknown backend %s\n", backend);
    return 2;
  }

  struct worker* ws = calloc((size_t)threads, sizeof *ws);
  if (!ws) fail("calloc", strerror(ENOMEM));
  for (long i = 0; i < threads; i++) {
    ws[i].job = &job;
    ws[i].in = malloc((size_t)job.size);
    ws[i].out = malloc((size_t)job.size + 64);
    if (!ws[i].in || !ws[i].out) fail("malloc", strerror(ENOMEM));
    for (long b = 0; b < job.size; b++) ws[i].in[b] = (unsigned char)(b * 7 + 3);
  }
  int rc = pthread_barrier_init(&job.ready, NULL, (unsigned)threads + 1);
  if (rc != 0) fail("pthread_barrier_init", strerror(rc));
  for (long i = 0; i < threads; i++) {
    rc = pthread_create(&ws[i].thread, NULL, worker, &ws[i]);
    if (rc != 0) fail("pthread_create", strerror(rc));
  }
  /* Warm-up: a tenth of the time; then every thread counts until the same end. */
  const double start = now() + seconds / 10;
  job.warm_end = start;
  job.end = start + seconds;
  pthread_barrier_wait(&job.ready);
  unsigned long long ops = 0;
  double last = start;
  for (long i = 0; i < threads; i++) {
    pthread_join(ws[i].thread, NULL);
    ops += ws[i].ops;
    if (ws[i].last > last) last = ws[i].last;
    free(ws[i].in);
    free(ws[i].out);
  }
  printf("{\"ops\":%llu,\"bytes\":%llu,\"seconds\":%.6f}\n", ops, ops * (unsigned long long)job.size, last - start);
  free(ws);
  return 0;
}
