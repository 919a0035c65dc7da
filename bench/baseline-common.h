/*
 * What both C baselines (afalg-baseline.c, devcrypto-baseline.c) print and time with: results
 * and failures as one JSON line for bench/measure.ts, and a monotonic clock.
 */
#ifndef KCRYPTO_BENCH_BASELINE_COMMON_H
#define KCRYPTO_BENCH_BASELINE_COMMON_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void json_string(const char *s) {
  putchar('"');
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') printf("\\%c", c);
    else if (c < 0x20) printf("\\u%04x", c);
    else putchar(c);
  }
  putchar('"');
}

/* Prints {"error": "...", "errno": N} and exits 1. */
static void fail(const char *what, int err) {
  printf("{\"error\":");
  char buf[320];
  snprintf(buf, sizeof buf, "%s: %s", what, strerror(err));
  json_string(buf);
  printf(",\"errno\":%d}\n", err);
  exit(1);
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

#endif
