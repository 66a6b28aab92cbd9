/**
 * `download` subcommand: download (or generate), verify, extract and check one dataset from
 * `datasets.lock.json`; with `--verify`, hash every installed file again.
 *
 * @module
 */
import { join } from "node:path";
import { DATASET_NAMES } from "../core/datasets.ts";
import { UsageError } from "../core/errors.ts";
import { booleanFlag, defineCommand, oneOf, stringFlag } from "./command.ts";
import { DATA_FLAGS } from "./flags.ts";

/** The `download` subcommand. */
export const command = defineCommand({
  name: "download",
  summary: "Download and verify a dataset from datasets.lock.json",
  usage: `<${DATASET_NAMES.join("|")}> [--data-dir DIR] [--mirror URL]... [--offline] [--verify]`,
  description: "Streams each file to NAME.part while hashing it, resumes with HTTP Range, tries --mirror " +
    "bases (URL, file:// URL or folder; the file name is appended) before the lock's URLs, verifies size and " +
    "hash, extracts safely into a temporary folder, checks the per-category counts, records every file's " +
    "SHA-256, then moves it into place. A present dataset is checked file by file (size and mtime; every " +
    "hash with --verify). `synthetic` without --mirror is generated locally. Example: download " +
    "fashion-mnist --mirror /usr/share/datasets/fashion-mnist",
  flags: {
    ...DATA_FLAGS,
    verify: booleanFlag("Hash every installed file and archive again instead of trusting size and mtime."),
    quiet: booleanFlag("No progress output.", "q"),
    pack: stringFlag({
      description: "synthetic only: also write synthetic.tar.xz into DIR (to host as a mirror).",
      valueName: "DIR",
    }),
  },
  positionals: { min: 1, max: 1, names: "DATASET" },
  async run(flags, positionals) {
    const dataset = oneOf("DATASET", positionals[0], DATASET_NAMES);
    if (flags.pack !== undefined && dataset !== "synthetic") {
      throw new UsageError("download: --pack works only for synthetic");
    }
    // Pack first: when the generator's output changed, these digests are what to pin in the lock.
    if (flags.pack !== undefined) {
      const { packSyntheticArchive } = await import("../datasets/synthetic.ts");
      const packed = await packSyntheticArchive(join(flags.pack, "synthetic.tar.xz"));
      console.error(
        `packed ${join(flags.pack, "synthetic.tar.xz")}: ${packed.size} bytes, sha256 ${packed.sha256}, ` +
          `manifest sha256 ${packed.manifestSha256}`,
      );
    }
    const { ensureDataset } = await import("../datasets/ensure.ts");
    const result = await ensureDataset(dataset, {
      dataDir: flags["data-dir"],
      mirrors: flags.mirror,
      lockPath: flags.lock,
      offline: flags.offline,
      acceptLicense: flags["accept-license"],
      quiet: flags.quiet,
      verify: flags.verify,
    });
    console.log(JSON.stringify(result, null, 2));
    return 0;
  },
});
