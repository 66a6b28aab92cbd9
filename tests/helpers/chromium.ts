/**
 * Launches Debian's system Chromium through playwright-core (no browser download) for browser tests.
 * `CHROMIUM_PATH` overrides where it is looked for. Flags: `--no-sandbox` because CI containers run as
 * root (Chromium refuses its sandbox there), `--disable-dev-shm-usage` because containers have a small
 * /dev/shm. playwright-core's default pipe transport works under Deno, so no CDP connection is needed.
 *
 * @module
 */
import { type Browser, chromium } from "playwright-core";

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

/** Launches headless Chromium from `executablePath`. */
export function launchChromium(executablePath: string): Promise<Browser> {
  return chromium.launch({
    executablePath,
    headless: true,
    args: ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
    timeout: 120_000,
  });
}
