/**
 * Launches Debian's system Chromium through playwright-core (no browser download) for browser tests.
 * `CHROMIUM_PATH` overrides where it is looked for. Flags: `--no-sandbox` because CI containers run as
 * root (Chromium refuses its sandbox there), `--disable-dev-shm-usage` because containers have a small
 * /dev/shm. playwright-core's default pipe transport works under Deno, so no CDP connection is needed.
 *
 * Workaround: on load, playwright-core probes `/proc/sys/fs/binfmt_misc/WSLInterop` with `fs.existsSync`;
 * Deno answers a probe of `/proc/sys` without `--allow-all` by throwing `NotCapable` instead of returning
 * false, which would fail the test task (scoped permissions, no -A). `fs.existsSync` is wrapped to treat
 * that as "absent" before playwright-core is loaded (lazily, by {@linkcode launchChromium}).
 *
 * @module
 */
import fs from "node:fs";
import type { Browser } from "playwright-core";

const CANDIDATES = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/lib/chromium/chromium"];

/** The Chromium binary to use, or null when none is installed. */
export async function findChromium(): Promise<string | null> {
  const fromEnv = Deno.env.get("CHROMIUM_PATH");
  for (const path of fromEnv ? [fromEnv] : CANDIDATES) {
    try {
      if ((await Deno.stat(path)).isFile) return path;
    } catch {
      // not here; try the next one
    }
  }
  return null;
}

let patched = false;

function tolerateProbesDenoRefuses(): void {
  if (patched) return;
  patched = true;
  const existsSync = fs.existsSync;
  fs.existsSync = (path: fs.PathLike) => {
    try {
      return existsSync(path);
    } catch (error) {
      if (error instanceof Deno.errors.NotCapable) return false;
      throw error;
    }
  };
}

/** Launches headless Chromium from `executablePath`. */
export async function launchChromium(executablePath: string): Promise<Browser> {
  tolerateProbesDenoRefuses();
  const { chromium } = await import("playwright-core");
  return await chromium.launch({
    executablePath,
    headless: true,
    args: ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
    timeout: 120_000,
  });
}
