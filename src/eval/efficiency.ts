/**
 * Efficiency of a trained model under one fixed protocol, recorded with every run: parameters, analytic
 * FLOPs per image, the process's peak resident memory, training wall time, batch-1 latency and batch
 * throughput.
 *
 * The timing follows MVTec AD 2's runtime measurement: a few warm-up forwards that are not timed (they
 * pay for kernel compilation, weight upload and allocator growth), then timed forwards, each read on the
 * clock only after the backend has finished (`synchronize`; the harness's scorer already downloads its
 * outputs to the CPU, which waits for an asynchronous backend such as WebGPU). A protocol is data
 * ({@linkcode EFFICIENCY_PROTOCOLS}); which one a run used is recorded beside its numbers.
 *
 * @module
 */
import process from "node:process";
import { modelOf } from "../core/models.ts";
import type { ModelConfig } from "../models/configs.ts";
import { flopCounts } from "../models/flops.ts";
import type { Efficiency } from "../runs/record.ts";

export type { Efficiency };

/** How a run's forward passes are timed. */
export interface EfficiencyProtocol {
  name: string;
  /** Untimed forwards before the timed ones (of each kind: batch 1 and batch). */
  warmupRuns: number;
  /** Timed forwards of each kind. */
  timedRuns: number;
  /** Images per forward for throughput. */
  batchSize: number;
}

/**
 * The protocols: `standard` for every real run (2 warm-up + 10 timed forwards, batch 8), `smoke` for the
 * offline default's tiny models (1 + 3).
 */
export const EFFICIENCY_PROTOCOLS = {
  standard: { name: "standard", warmupRuns: 2, timedRuns: 10, batchSize: 8 },
  smoke: { name: "smoke", warmupRuns: 1, timedRuns: 3, batchSize: 4 },
} as const satisfies Record<string, EfficiencyProtocol>;

/** A protocol name. */
export type EfficiencyProtocolName = keyof typeof EFFICIENCY_PROTOCOLS;
/** Protocol names, for flags. */
export const EFFICIENCY_PROTOCOL_NAMES = Object.keys(EFFICIENCY_PROTOCOLS) as EfficiencyProtocolName[];

/**
 * The protocol a config is measured with: `smoke` for the `smoke` config, `standard` otherwise.
 *
 * @example
 * ```ts
 * efficiencyProtocolFor("code").timedRuns; // 10
 * ```
 */
export function efficiencyProtocolFor(configName: string): EfficiencyProtocol {
  return configName === "smoke" ? EFFICIENCY_PROTOCOLS.smoke : EFFICIENCY_PROTOCOLS.standard;
}

/** Parameter counts of a config's model, from shapes only (nothing is allocated). */
export function parameterCounts(config: ModelConfig): { parameters: number; trainableParameters: number } {
  let parameters = 0, trainableParameters = 0;
  for (const spec of modelOf(config).paramSpecs(config)) {
    const n = spec.shape.reduce((a, b) => a * b, 1);
    parameters += n;
    if (spec.trainable) trainableParameters += n;
  }
  return { parameters, trainableParameters };
}

/** Median of a non-empty list. */
function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** What {@linkcode timeForwards} needs. */
export interface TimingOptions<T> {
  /** One forward over `batch` inputs (resolves when its outputs are available). */
  forward: (batch: T[]) => Promise<unknown>;
  /** Inputs to draw batches from (cycled when fewer than the batch size). */
  inputs: readonly T[];
  protocol: EfficiencyProtocol;
  /** Waits until the backend has finished queued work; called before every clock read. Default: none. */
  synchronize?: () => Promise<void>;
  /** Clock in milliseconds. Default `performance.now`. */
  now?: () => number;
}

/** Batch-1 latencies and batch forward times, in milliseconds, one per timed run. */
export interface Timings {
  latencyMs: number[];
  batchMs: number[];
}

/**
 * Times forwards under a protocol: `warmupRuns` untimed then `timedRuns` timed batch-1 forwards, then the
 * same for batches of `batchSize`. The clock is read after `synchronize()` on both sides of each run.
 *
 * @example
 * ```ts
 * const t = await timeForwards({ forward: (b) => scoreImages(model, b), inputs: test, protocol });
 * ```
 */
export async function timeForwards<T>(options: TimingOptions<T>): Promise<Timings> {
  const { forward, inputs, protocol } = options;
  const synchronize = options.synchronize ?? (() => Promise.resolve());
  const now = options.now ?? (() => performance.now());
  if (inputs.length === 0) throw new Error("timeForwards: no inputs to time");
  if (protocol.timedRuns < 1) throw new Error(`timeForwards: protocol ${protocol.name} has no timed run`);
  const batchOf = (size: number) => Array.from({ length: size }, (_, i) => inputs[i % inputs.length]);
  const run = async (batch: T[], times: number[] | null) => {
    await synchronize();
    const start = now();
    await forward(batch);
    await synchronize();
    times?.push(now() - start);
  };
  const single = batchOf(1), batch = batchOf(protocol.batchSize);
  const latencyMs: number[] = [], batchMs: number[] = [];
  for (let i = 0; i < protocol.warmupRuns; i++) await run(single, null);
  for (let i = 0; i < protocol.timedRuns; i++) await run(single, latencyMs);
  for (let i = 0; i < protocol.warmupRuns; i++) await run(batch, null);
  for (let i = 0; i < protocol.timedRuns; i++) await run(batch, batchMs);
  return { latencyMs, batchMs };
}

/**
 * The process's resident-set high-water mark in bytes: Linux `VmHWM` where Deno may read
 * `/proc/self/status` (it needs `--allow-all` for that), else `getrusage`'s `ru_maxrss`, which Linux keeps
 * across `exec` (so under `npx` it can be the launcher's peak, if that was higher); null where neither is
 * available. {@linkcode resetPeakMemory} starts a new window where it can.
 */
export function peakMemoryBytes(): number | null {
  try {
    const match = /^VmHWM:\s+(\d+)\s+kB/m.exec(Deno.readTextFileSync("/proc/self/status"));
    if (match) return Number(match[1]) * 1024;
  } catch {
    // not Linux, or no permission: fall through
  }
  try {
    const kib = process.resourceUsage().maxRSS;
    return kib > 0 ? kib * (Deno.build.os === "darwin" ? 1 / 1024 : 1) * 1024 : null;
  } catch {
    return null;
  }
}

/**
 * Resets the resident-set high-water mark to the current size (Linux ≥ 4.0: `5` → `/proc/self/clear_refs`),
 * so that a later {@linkcode peakMemoryBytes} covers only what ran since. Returns whether it could.
 */
export function resetPeakMemory(): boolean {
  try {
    Deno.writeTextFileSync("/proc/self/clear_refs", "5");
    return true;
  } catch {
    return false;
  }
}

/** Everything {@linkcode efficiencyOf} combines. */
export interface EfficiencyInput {
  config: ModelConfig;
  protocol: EfficiencyProtocol;
  timings: Timings;
  trainSeconds: number;
  peakRssBytes: number | null;
  /** `cell` when the high-water mark was reset at the cell's start, else `process`. */
  peakRssScope: "cell" | "process";
  backend: string;
}

/**
 * The `efficiency` record of a run from its config (parameters, FLOPs), timings and measurements.
 * Throughput is the batch size over the median timed batch forward.
 */
export function efficiencyOf(input: EfficiencyInput): Efficiency {
  const { config, protocol, timings } = input;
  const lat = timings.latencyMs;
  const batchMedianSeconds = Math.max(median(timings.batchMs), 1e-6) / 1000;
  return {
    protocol: { ...protocol },
    ...parameterCounts(config),
    flopsPerImage: flopCounts(config).forward,
    imageSize: config.imageSize,
    peakRssBytes: input.peakRssBytes,
    peakRssScope: input.peakRssScope,
    trainSeconds: input.trainSeconds,
    latencyMs: {
      median: median(lat),
      mean: lat.reduce((a, b) => a + b, 0) / lat.length,
      min: Math.min(...lat),
      max: Math.max(...lat),
    },
    throughputImagesPerSecond: protocol.batchSize / batchMedianSeconds,
    backend: input.backend,
  };
}
