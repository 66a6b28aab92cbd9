/**
 * Transfer progress on stderr: a redrawn bar (bytes, rate, ETA) when stderr is a terminal, one line per
 * finished file otherwise.
 *
 * @module
 */

/** Receives transfer events from the downloader. */
export interface ProgressSink {
  /** A transfer starts (`total` in bytes when known; `resumedFrom` bytes already on disk). */
  start(name: string, total: number | null, resumedFrom: number): void;
  /** `done` bytes of the file are on disk now. */
  update(done: number): void;
  /** The transfer ended; `line` says how. */
  end(line: string): void;
}

/** Formats a byte count, e.g. `12.3 MB`. */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  const units = ["kB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = -1;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value.toFixed(value >= 100 ? 0 : 1)} ${units[unit]}`;
}

function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds)) return "?";
  if (seconds < 60) return `${Math.ceil(seconds)}s`;
  if (seconds < 3600) {
    return `${Math.floor(seconds / 60)}m${String(Math.ceil(seconds % 60)).padStart(2, "0")}s`;
  }
  return `${Math.floor(seconds / 3600)}h${String(Math.floor((seconds % 3600) / 60)).padStart(2, "0")}m`;
}

const encoder = new TextEncoder();

function writeStderr(text: string): void {
  Deno.stderr.writeSync(encoder.encode(text));
}

/** Writes one line to stderr, first clearing a progress bar drawn on the current terminal line. */
export function writeStderrLine(line: string): void {
  writeStderr(Deno.stderr.isTerminal() ? `\r\x1b[2K${line}\n` : `${line}\n`);
}

/** A bar redrawn in place at most 10 times a second. */
export class TerminalProgress implements ProgressSink {
  #name = "";
  #total: number | null = null;
  #startBytes = 0;
  #startTime = 0;
  #lastDraw = 0;
  #width: number;

  constructor(width = 30) {
    this.#width = width;
  }

  start(name: string, total: number | null, resumedFrom: number): void {
    this.#name = name;
    this.#total = total;
    this.#startBytes = resumedFrom;
    this.#startTime = performance.now();
    this.#lastDraw = 0;
    this.update(resumedFrom);
  }

  update(done: number): void {
    const now = performance.now();
    if (now - this.#lastDraw < 100 && done !== this.#total) return;
    this.#lastDraw = now;
    const seconds = Math.max(1e-3, (now - this.#startTime) / 1000);
    const rate = (done - this.#startBytes) / seconds;
    let bar = "";
    let eta = "";
    if (this.#total) {
      const filled = Math.min(this.#width, Math.round((done / this.#total) * this.#width));
      bar = `[${"#".repeat(filled)}${"-".repeat(this.#width - filled)}] `;
      eta = ` ETA ${formatSeconds(rate > 0 ? (this.#total - done) / rate : Infinity)}`;
    }
    const of = this.#total ? `/${formatBytes(this.#total)}` : "";
    writeStderr(`\r\x1b[2K${this.#name} ${bar}${formatBytes(done)}${of} ${formatBytes(rate)}/s${eta}`);
  }

  end(line: string): void {
    writeStderr(`\r\x1b[2K${line}\n`);
  }
}

/** One line per finished file (for logs and CI). */
export class LineProgress implements ProgressSink {
  #log: (line: string) => void;

  constructor(log: (line: string) => void = (line) => writeStderr(`${line}\n`)) {
    this.#log = log;
  }

  start(): void {}
  update(): void {}
  end(line: string): void {
    this.#log(line);
  }
}

/** Prints nothing. */
export class SilentProgress implements ProgressSink {
  start(): void {}
  update(): void {}
  end(): void {}
}

/** The bar when stderr is a terminal, else one line per file; nothing when `quiet`. */
export function defaultProgress(quiet = false): ProgressSink {
  if (quiet) return new SilentProgress();
  return Deno.stderr.isTerminal() ? new TerminalProgress() : new LineProgress();
}
