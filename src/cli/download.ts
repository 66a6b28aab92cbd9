/**
 * `download` subcommand: download (or generate), verify, extract and check one dataset from
 * `datasets.lock.json`.
 *
 * @module
 */
import { join } from "node:path";
import { type FlagValues, UsageError } from "./command.ts";
import type { Command } from "./command.ts";

const DATASETS = ["mvtec", "btad", "mnist", "fashion-mnist", "synthetic"] as const;
type Dataset = typeof DATASETS[number];

/** The `download` subcommand. */
export const command: Command = {
  name: "download",
  summary: "Download and verify a dataset from datasets.lock.json",
  usage: "<mvtec|btad|mnist|fashion-mnist|synthetic> [--data-dir DIR] [--mirror URL]... [--offline]",
  description: "Streams each file to NAME.part while hashing it, resumes with HTTP Range, tries --mirror " +
    "bases (URL, file:// URL or folder; the file name is appended) before the lock's URLs, verifies size and " +
    "hash, extracts safely into a temporary folder, checks the per-category counts, then moves it into " +
    "place. `synthetic` without --mirror is generated locally. Example: download fashion-mnist --mirror " +
    "/usr/share/datasets/fashion-mnist",
  flags: {
    "data-dir": { type: "string", description: "Data folder.", default: "data", valueName: "DIR" },
    mirror: {
      type: "string",
      multiple: true,
      description: "Base URL or folder tried first.",
      valueName: "URL",
    },
    lock: { type: "string", description: "Lock file.", default: "datasets.lock.json", valueName: "FILE" },
    offline: { type: "boolean", description: "No network: local mirrors and files already present only." },
    "accept-license": { type: "boolean", description: "Accept the dataset's licence (recorded in DIR)." },
    quiet: { type: "boolean", short: "q", description: "No progress output." },
    pack: {
      type: "string",
      description: "synthetic only: also write synthetic.tar.xz into DIR (to host as a mirror).",
      valueName: "DIR",
    },
  },
  positionals: { min: 1, max: 1, names: "DATASET" },
  async run(flags: FlagValues, positionals: string[]): Promise<number> {
    const dataset = positionals[0];
    if (!(DATASETS as readonly string[]).includes(dataset)) {
      throw new UsageError(`download: unknown dataset '${dataset}' (expected one of ${DATASETS.join(", ")})`);
    }
    if (flags.pack !== undefined && dataset !== "synthetic") {
      throw new UsageError("download: --pack works only for synthetic");
    }
    // Pack first: when the generator's output changed, these digests are what to pin in the lock.
    if (typeof flags.pack === "string") {
      const { packSyntheticArchive } = await import("../datasets/synthetic.ts");
      const packed = await packSyntheticArchive(join(flags.pack, "synthetic.tar.xz"));
      console.error(
        `packed ${join(flags.pack, "synthetic.tar.xz")}: ${packed.size} bytes, sha256 ${packed.sha256}, ` +
          `manifest sha256 ${packed.manifestSha256}`,
      );
    }
    const { ensureDataset } = await import("../datasets/ensure.ts");
    const mirrors = (flags.mirror as string[] | undefined) ?? [];
    const result = await ensureDataset(dataset as Dataset, {
      dataDir: flags["data-dir"] as string,
      mirrors,
      lockPath: flags.lock as string,
      offline: flags.offline === true,
      acceptLicense: flags["accept-license"] === true,
      quiet: flags.quiet === true,
    });
    console.log(JSON.stringify(result, null, 2));
    return 0;
  },
};
