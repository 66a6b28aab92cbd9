/**
 * The dataset-link check behind `check-links`: for every mirror URL of every file in the lock, a HEAD and
 * a small Range GET, and for small files a full download and hash. A URL passes only on evidence about
 * its content, never on a 200 by itself: its first bytes must be the archive's magic bytes (an HTML error
 * or login page served with 200 fails), its size must match a pinned size (from Content-Length or
 * Content-Range), and a file small enough to fetch whole must hash to an accepted copy.
 *
 * @module
 */
import { magicMismatch, matchAcceptedCopy } from "./download.ts";
import { StreamingHasher } from "./hashing.ts";
import type { DatasetsLock, LockFile } from "./lock.ts";

/** Options of {@linkcode checkLinks}. */
export interface LinkCheckOptions {
  /** Only these datasets (default: all with URLs). */
  datasets?: string[];
  /** Files up to this many bytes are downloaded whole and hashed. Default 16 MB. */
  fullDownloadLimit?: number;
  /** Per-request timeout. Default 30 s. */
  timeoutMs?: number;
  /** Bytes asked for by the Range GET. Default 1024. */
  probeBytes?: number;
  /** Progress lines. Default: none. */
  log?: (line: string) => void;
  /** The fetch to use (tests). */
  fetch?: typeof fetch;
}

/** What was found at one URL. */
export interface LinkReport {
  dataset: string;
  file: string;
  url: string;
  /** HEAD status, or null when the request failed (the reason is in `problems`). */
  headStatus: number | null;
  /** Range GET status (206 when Range is honoured). */
  rangeStatus: number | null;
  /** The server answered with a 2xx to HEAD or the Range GET. */
  reachable: boolean;
  /** Range requests are honoured (206 with a Content-Range). */
  rangeSupported: boolean | null;
  /** Size the server announced (Content-Length of HEAD, or the total of Content-Range). */
  size: number | null;
  /** Sizes pinned in the lock (empty when none is pinned). */
  expectedSizes: number[];
  /** null: nothing to compare (no size pinned or none announced). */
  sizeMatches: boolean | null;
  /** The first bytes are the archive's magic bytes. */
  magicMatches: boolean | null;
  /** The server sent an HTML page (by Content-Type or by the first bytes). */
  servesHtml: boolean;
  /** Whether the file was downloaded whole and hashed (small files only). */
  hashed: boolean;
  /** null when not hashed; else whether it matched an accepted copy (and which). */
  hashMatches: boolean | null;
  matchedCopy: string | null;
  /** Every reason this URL fails. */
  problems: string[];
  ok: boolean;
}

function looksLikeHtml(contentType: string | null, head: Uint8Array): boolean {
  if (contentType !== null && /text\/html|application\/xhtml/i.test(contentType)) return true;
  const text = new TextDecoder().decode(head.subarray(0, 256)).trimStart().toLowerCase();
  return text.startsWith("<!doctype html") || text.startsWith("<html") || text.startsWith("<head");
}

/** Reads at most `limit` bytes of a body, then cancels the rest. */
async function readPrefix(response: Response, limit: number): Promise<Uint8Array> {
  if (!response.body) return new Uint8Array();
  const reader = response.body.getReader();
  const parts: Uint8Array[] = [];
  let length = 0;
  try {
    while (length < limit) {
      const { done, value } = await reader.read();
      if (done) break;
      parts.push(value);
      length += value.length;
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  const out = new Uint8Array(length);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out.subarray(0, limit);
}

function reason(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** Checks one URL of one lock file. */
export async function checkLink(
  dataset: string,
  file: LockFile,
  url: string,
  options: LinkCheckOptions = {},
): Promise<LinkReport> {
  const {
    fullDownloadLimit = 16_000_000,
    timeoutMs = 30_000,
    probeBytes = 1024,
    fetch: get = fetch,
  } = options;
  const expectedSizes = [...new Set(file.accept.flatMap((c) => (c.size === null ? [] : [c.size])))];
  const report: LinkReport = {
    dataset,
    file: file.name,
    url,
    headStatus: null,
    rangeStatus: null,
    reachable: false,
    rangeSupported: null,
    size: null,
    expectedSizes,
    sizeMatches: null,
    magicMatches: null,
    servesHtml: false,
    hashed: false,
    hashMatches: null,
    matchedCopy: null,
    problems: [],
    ok: false,
  };
  const problems = report.problems;

  try {
    const head = await get(url, {
      method: "HEAD",
      redirect: "follow",
      signal: AbortSignal.timeout(timeoutMs),
    });
    await head.body?.cancel();
    report.headStatus = head.status;
    const length = head.headers.get("content-length");
    if (head.ok && length !== null && /^\d+$/.test(length)) report.size = Number(length);
    if (head.ok && looksLikeHtml(head.headers.get("content-type"), new Uint8Array())) {
      report.servesHtml = true;
    }
    if (!head.ok) problems.push(`HEAD answered ${head.status}`);
  } catch (error) {
    problems.push(`HEAD failed: ${reason(error)}`);
  }

  let prefix: Uint8Array = new Uint8Array();
  try {
    const range = await get(url, {
      headers: { range: `bytes=0-${probeBytes - 1}` },
      redirect: "follow",
      signal: AbortSignal.timeout(timeoutMs),
    });
    report.rangeStatus = range.status;
    if (range.ok) {
      report.reachable = true;
      const contentRange = range.headers.get("content-range");
      const total = contentRange ? /\/(\d+)$/.exec(contentRange)?.[1] : undefined;
      report.rangeSupported = range.status === 206 && contentRange !== null;
      if (total !== undefined) report.size ??= Number(total);
      if (range.status === 200) {
        const length = range.headers.get("content-length");
        if (length !== null && /^\d+$/.test(length)) report.size ??= Number(length);
      }
      prefix = await readPrefix(range, probeBytes);
      if (looksLikeHtml(range.headers.get("content-type"), prefix)) report.servesHtml = true;
      report.magicMatches = magicMismatch(file.archive, prefix) === null;
      if (!report.magicMatches) problems.push(magicMismatch(file.archive, prefix)!);
    } else {
      await range.body?.cancel();
      problems.push(`Range GET answered ${range.status}`);
    }
  } catch (error) {
    problems.push(`Range GET failed: ${reason(error)}`);
  }
  if (report.servesHtml) problems.push("serves an HTML page, not the file");

  if (report.size !== null && expectedSizes.length > 0) {
    report.sizeMatches = expectedSizes.includes(report.size);
    if (!report.sizeMatches) {
      problems.push(`size ${report.size} bytes, expected ${expectedSizes.join(" or ")}`);
    }
  }

  const knownSize = report.size ?? (expectedSizes.length > 0 ? Math.max(...expectedSizes) : null);
  const small = knownSize !== null && knownSize <= fullDownloadLimit;
  if (report.reachable && report.magicMatches && small) {
    try {
      const response = await get(url, { redirect: "follow", signal: AbortSignal.timeout(timeoutMs) });
      if (!response.ok || !response.body) {
        await response.body?.cancel();
        problems.push(`full GET answered ${response.status}`);
      } else {
        const hasher = new StreamingHasher();
        for await (const chunk of response.body) {
          hasher.update(chunk);
          if (hasher.size > fullDownloadLimit * 2) {
            throw new Error(`more than ${fullDownloadLimit * 2} bytes`);
          }
        }
        const digests = hasher.digest();
        report.hashed = true;
        report.size ??= digests.size;
        const copy = matchAcceptedCopy(file.accept, digests);
        report.hashMatches = copy !== null;
        report.matchedCopy = copy?.source ?? null;
        if (!copy) {
          problems.push(
            `content (${digests.size} bytes, sha256 ${
              digests.sha256.slice(0, 16)
            }…) matches no accepted copy`,
          );
        }
      }
    } catch (error) {
      problems.push(`full GET failed: ${reason(error)}`);
    }
  }

  // Success needs evidence about the content: the magic bytes, and no size or hash contradiction.
  report.ok = report.reachable && report.magicMatches === true && !report.servesHtml &&
    report.sizeMatches !== false && report.hashMatches !== false && problems.length === 0;
  return report;
}

/**
 * Checks every mirror URL of the lock's files (datasets without URLs, e.g. the generated `synthetic`, have
 * none), one URL at a time.
 *
 * @example
 * ```ts
 * const reports = await checkLinks(await loadLock(), { datasets: ["mnist"] });
 * ```
 */
export async function checkLinks(lock: DatasetsLock, options: LinkCheckOptions = {}): Promise<LinkReport[]> {
  const reports: LinkReport[] = [];
  for (const [dataset, entry] of Object.entries(lock.datasets)) {
    if (options.datasets && !options.datasets.includes(dataset)) continue;
    for (const file of entry.files) {
      for (const url of file.mirrors) {
        options.log?.(`check-links: ${dataset}/${file.name} ${url}`);
        reports.push(await checkLink(dataset, file, url, options));
      }
    }
  }
  return reports;
}
