/**
 * Worker entry of {@linkcode defectBreakdownInWorker}: computes one {@linkcode defectBreakdown} from the
 * message it receives (maps backed by SharedArrayBuffers arrive without a copy) and posts the result, or
 * the error's message, back.
 *
 * @module
 */
/// <reference lib="deno.worker" />
import { type BreakdownInput, defectBreakdown } from "./breakdown.ts";
import { setKeyArrayAdvisor } from "../metrics/mod.ts";
import { adviseHugePages } from "../util/huge_pages.ts";

// As `evaluate` on the main thread: the breakdown's pixel indexes are big too.
setKeyArrayAdvisor(adviseHugePages);

self.onmessage = (event: MessageEvent<BreakdownInput>) => {
  try {
    self.postMessage({ ok: true, breakdowns: defectBreakdown(event.data) });
  } catch (error) {
    self.postMessage({ ok: false, message: error instanceof Error ? error.message : String(error) });
  }
};
