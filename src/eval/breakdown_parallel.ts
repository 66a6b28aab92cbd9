/**
 * The per-defect breakdown on a second thread: `evaluate` starts it before the category's own metrics,
 * so that on a machine with two cores the breakdown's AU-PROs cost no wall time of their own. The numbers
 * are those of {@linkcode defectBreakdown} on the calling thread (the worker runs the same code); maps
 * whose data lies in SharedArrayBuffers (what `MapReader` returns) reach the worker without a copy,
 * others are copied.
 *
 * @module
 */
import { type BreakdownInput, type Breakdowns, defectBreakdown } from "./breakdown.ts";

/** What the worker posts back. */
type WorkerReply = { ok: true; breakdowns: Breakdowns | null } | { ok: false; message: string };

/**
 * A running breakdown: `result` settles with the worker's answer; `cancel` stops the worker (call it when
 * the result will not be awaited, e.g. because the category's own metrics failed).
 */
export interface PendingBreakdown {
  result: Promise<Breakdowns | null>;
  cancel(): void;
}

/**
 * Starts {@linkcode defectBreakdown} of `input` in a worker. Where a worker cannot start (no `Worker`,
 * or the runtime refuses one), it is computed on this thread when `result` is first awaited.
 *
 * @example
 * ```ts
 * const pending = defectBreakdownInWorker({ defectTypes, labels, scores, maps, masks });
 * const set = evaluateMaps(...); // meanwhile, on this thread
 * const breakdown = await pending.result;
 * ```
 */
export function defectBreakdownInWorker(input: BreakdownInput): PendingBreakdown {
  let worker: Worker;
  try {
    worker = new Worker(new URL("./breakdown_worker.ts", import.meta.url).href, { type: "module" });
  } catch {
    return { result: Promise.resolve().then(() => defectBreakdown(input)), cancel() {} };
  }
  const result = new Promise<Breakdowns | null>((resolve, reject) => {
    worker.onmessage = (event: MessageEvent<WorkerReply>) => {
      worker.terminate();
      const reply = event.data;
      if (reply.ok) resolve(reply.breakdowns);
      else reject(new Error(reply.message));
    };
    worker.onerror = (event) => {
      event.preventDefault();
      worker.terminate();
      reject(new Error(`per-defect breakdown worker failed: ${event.message}`));
    };
  });
  result.catch(() => {}); // reported where it is awaited; a cancelled one is not awaited
  worker.postMessage(input);
  return { result, cancel: () => worker.terminate() };
}
