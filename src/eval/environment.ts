/**
 * The facts about the machine and code a run record needs to be traced: git commit, runtime and library
 * versions, OS and CPU. Every probe is optional: a missing permission or tool yields `null`, never an
 * error, because a run must not fail for want of metadata.
 *
 * @module
 */
import { arch, cpus, platform, release, totalmem } from "node:os";

/** The code version: the git commit of the working tree, and whether it had uncommitted changes. */
export interface CodeVersion {
  commit: string;
  dirty: boolean;
}

/** Where and with what a run ran. */
export interface EnvironmentInfo {
  code: CodeVersion | null;
  versions: Record<string, string>;
  os: { platform: string; release: string | null; arch: string };
  cpu: { model: string | null; logicalCores: number | null };
  memoryBytes: number | null;
}

async function runGit(args: string[]): Promise<string | null> {
  try {
    const out = await new Deno.Command("git", { args, stdout: "piped", stderr: "null" }).output();
    return out.success ? new TextDecoder().decode(out.stdout).trim() : null;
  } catch {
    return null; // git missing, or no --allow-run=git
  }
}

/** `git rev-parse HEAD` and `git status --porcelain` of the current directory, or null. */
export async function codeVersion(): Promise<CodeVersion | null> {
  const commit = await runGit(["rev-parse", "HEAD"]);
  if (commit === null || !/^[0-9a-f]{40}$/.test(commit)) return null;
  const status = await runGit(["status", "--porcelain", "--untracked-files=no"]);
  return { commit, dirty: status !== null && status.length > 0 };
}

function probe<T>(f: () => T): T | null {
  try {
    return f();
  } catch {
    return null;
  }
}

/** Version of the sharp library and its libvips, or an empty object if sharp cannot load. */
async function sharpVersions(): Promise<Record<string, string>> {
  try {
    const sharp = (await import("sharp")).default;
    return { sharp: sharp.versions.sharp ?? "unknown", libvips: sharp.versions.vips };
  } catch {
    return {};
  }
}

/**
 * Collects the environment of this process. `extraVersions` (e.g. the tfjs versions of the backend)
 * are merged into `versions`.
 *
 * @example
 * ```ts
 * const env = await collectEnvironment({ "tfjs-core": "4.22.0" });
 * ```
 */
export async function collectEnvironment(
  extraVersions: Record<string, string> = {},
): Promise<EnvironmentInfo> {
  const cpuList = probe(() => cpus());
  return {
    code: await codeVersion(),
    versions: {
      deno: Deno.version.deno,
      v8: Deno.version.v8,
      typescript: Deno.version.typescript,
      ...(await sharpVersions()),
      ...extraVersions,
    },
    os: { platform: probe(() => platform()) ?? Deno.build.os, release: probe(() => release()), arch: arch() },
    cpu: {
      model: cpuList && cpuList.length > 0 ? cpuList[0].model : null,
      logicalCores: cpuList ? cpuList.length : null,
    },
    memoryBytes: probe(() => totalmem()),
  };
}
