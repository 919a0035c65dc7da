/**
 * Per-driver statistics: the counters the framework keeps while requests come and go, and the
 * snapshot stats() gives of them.
 */
import type { Driver } from './driver.js';

/** Per-driver statistics. */
export interface DriverStats {
  id: number;
  name: string;
  flags: number;
  sessions: number;
  requests: number;
  errors: number;
  blocks: number;
  queueLength: number;
  inFlight: number;
  bytes: number;
  /**
   * Completion latency percentiles in ms over the recent requests: each of a driver's first 64,
   * then one in eight.
   */
  latency: { p50: number; p90: number; p99: number; samples: number };
  migrated: number;
  /** The driver is gone: failed by failDriver() (device removed, deadline passed). */
  gone: boolean;
  /** What the driver reports of itself (kernel drivers: stuck threads, deadlines passed). */
  driver?: Record<string, number>;
}

/** What the framework counts of one driver. */
export interface DriverCounters {
  requests: number;
  errors: number;
  blocks: number;
  bytes: number;
  migrated: number;
  /** The recent requests' latencies (ms), a ring of LATENCY_WINDOW once full; `next` is its head. */
  latencies: number[];
  next: number;
}

const LATENCY_WINDOW = 1024;

export function newCounters(): DriverCounters {
  return { requests: 0, errors: 0, blocks: 0, bytes: 0, migrated: 0, latencies: [], next: 0 };
}

/** Adds one request's latency (ms) to a driver's window of recent ones. */
export function recordLatency(w: DriverCounters, ms: number): void {
  if (w.latencies.length < LATENCY_WINDOW) w.latencies.push(ms);
  else w.latencies[w.next++ % LATENCY_WINDOW] = ms;
}

function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/** The statistics of driver `d` now. */
export function statsOf(d: Driver): DriverStats {
  const lat = [...d.stats.latencies].sort((a, b) => a - b);
  return {
    id: d.id,
    name: d.name,
    flags: d.flags,
    sessions: d.sessions,
    requests: d.stats.requests,
    errors: d.stats.errors,
    blocks: d.stats.blocks,
    queueLength: d.queue.length + d.kqueue.length,
    inFlight: d.inFlight.size,
    bytes: d.stats.bytes,
    latency: { p50: percentile(lat, 0.5), p90: percentile(lat, 0.9), p99: percentile(lat, 0.99), samples: lat.length },
    migrated: d.stats.migrated,
    gone: d.gone,
    ...(d.impl?.driverStats ? { driver: d.impl.driverStats(d.arg) } : {}),
  };
}
