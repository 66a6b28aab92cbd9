/**
 * Licence gate: datasets whose lock entry says `requiresAcceptance` (MVTec AD, CC BY-NC-SA 4.0) are
 * downloaded only after the user passed `--accept-license` once; the acceptance is recorded in
 * `<dataDir>/licences-accepted.json`.
 *
 * @module
 */
import { join } from "node:path";
import { writeJsonAtomic } from "../util/atomic_write.ts";
import type { LockDataset } from "./lock.ts";

/** The licence was not accepted. */
export class LicenceError extends Error {
  override name = "LicenceError";
}

/** Path of the acceptance record in a data dir. */
export function licenceRecordPath(dataDir: string): string {
  return join(dataDir, "licences-accepted.json");
}

type Record_ = Record<string, { licence: string; url: string; acceptedAt: string }>;

async function readRecord(dataDir: string): Promise<Record_> {
  try {
    return JSON.parse(await Deno.readTextFile(licenceRecordPath(dataDir))) as Record_;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return {};
    throw new Error(`cannot read ${licenceRecordPath(dataDir)}: ${(error as Error).message} (delete it)`);
  }
}

/**
 * Passes when the dataset needs no acceptance, or it was accepted before for this licence, or
 * `accept` is true now (then records it). Otherwise throws a {@linkcode LicenceError} showing the licence.
 */
export async function checkLicence(
  dataset: string,
  entry: LockDataset,
  dataDir: string,
  accept = false,
): Promise<void> {
  if (!entry.licence.requiresAcceptance) return;
  const record = await readRecord(dataDir);
  if (record[dataset]?.licence === entry.licence.name) return;
  if (accept) {
    record[dataset] = {
      licence: entry.licence.name,
      url: entry.licence.url,
      acceptedAt: new Date().toISOString(),
    };
    await writeJsonAtomic(licenceRecordPath(dataDir), record);
    return;
  }
  throw new LicenceError(
    `${entry.title} is licensed ${entry.licence.name} (${entry.licence.url})${
      entry.licence.notes ? `: ${entry.licence.notes}` : ""
    } Run again with --accept-license to accept it (recorded once in ${licenceRecordPath(dataDir)}).`,
  );
}
