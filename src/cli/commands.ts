/**
 * The list of subcommands. Each is loaded lazily so that a command pulls in only the modules (and needs
 * only the permissions) it uses.
 *
 * @module
 */
import type { Command } from "./command.ts";

/** A subcommand's name, summary and loader. */
export interface CommandEntry {
  name: string;
  summary: string;
  load: () => Promise<Command>;
}

/** Every subcommand, in the order `help` lists them. */
export const COMMANDS: CommandEntry[] = [
  {
    name: "reproduce",
    summary: "Download, train, score and evaluate; print tables in the paper's layout",
    load: async () => (await import("./reproduce.ts")).command,
  },
  {
    name: "plan",
    summary: "Print the cells reproduce would run, as JSON (a GitHub Actions matrix)",
    load: async () => (await import("./plan.ts")).command,
  },
  {
    name: "download",
    summary: "Download and verify a dataset from datasets.lock.json",
    load: async () => (await import("./download.ts")).command,
  },
  {
    name: "train",
    summary: "Train one model on one category with a pinned seed",
    load: async () => (await import("./train.ts")).command,
  },
  {
    name: "model-summary",
    summary: "Print parameter counts per model part as JSON",
    load: async () => (await import("./model_summary.ts")).command,
  },
  {
    name: "metrics",
    summary: "Compute AUROC / AP / PR-AUC / pixel AUROC / AU-PRO from a JSON file",
    load: async () => (await import("./metrics.ts")).command,
  },
  {
    name: "evaluate",
    summary: "Evaluate anomaly maps (TIFF/.npy) against MVTec-style ground truth",
    load: async () => (await import("./evaluate.ts")).command,
  },
  {
    name: "verify-metrics",
    summary: "Check the metric engine against golden cases and brute-force definitions",
    load: async () => (await import("./verify_metrics.ts")).command,
  },
  {
    name: "check-links",
    summary: "Check every dataset URL of the lock: reachable, size, hash, not an HTML page",
    load: async () => (await import("./check_links.ts")).command,
  },
  {
    name: "weights",
    summary: "Convert weights: original .pt pair ↔ safetensors ↔ harness checkpoint",
    load: async () => (await import("./weights.ts")).command,
  },
  {
    name: "infer",
    summary: "Run a model with given weights on images; write recon, patch NLL, maps and scores (.npy)",
    load: async () => (await import("./infer.ts")).command,
  },
  {
    name: "report",
    summary: "Render paper tables and the leaderboard from run records",
    load: async () => (await import("./report.ts")).command,
  },
];
