/**
 * The report's extra tables, rendered from the optional parts of run records: the per-defect-type
 * breakdown, the other metric dialects asked for with `--dialects`, and efficiency under the fixed
 * protocol. Each renders nothing when no record holds its part, so reports of older records stay as
 * they were.
 *
 * @module
 */
import { categoryLabel, type DatasetName, DATASETS } from "../core/datasets.ts";
import type { RunRecord } from "../runs/record.ts";
import { datasetsOf, formatMeanStd, groupRecords, markdownTable, type RecordGroup } from "./tables.ts";

/** Values over seeds of one group and category, via `pick` (undefined = absent). */
function seedValues(
  group: RecordGroup,
  category: string,
  pick: (r: RunRecord) => number | null | undefined,
): number[] {
  return group.records
    .filter((r) => r.dataset.category === category)
    .sort((a, b) => a.seed - b.seed)
    .map(pick)
    .filter((v): v is number => typeof v === "number");
}

/** Categories of a dataset in the registry's row order, then any others the records have. */
function categoriesOf(dataset: DatasetName, records: RunRecord[]): string[] {
  const known = DATASETS[dataset].categories;
  const present = new Set(records.map((r) => r.dataset.category));
  return [...known.filter((c) => present.has(c)), ...[...present].filter((c) => !known.includes(c)).sort()];
}

/**
 * Per-defect-type image AUROC and AU-PRO (each defect type against the category's good images; official
 * dialect), one table per run group; "" when no record has a breakdown.
 *
 * @example
 * ```ts
 * const md = renderBreakdownTables("mvtec", records);
 * ```
 */
export function renderBreakdownTables(dataset: DatasetName, allRecords: RunRecord[]): string {
  const records = allRecords.filter((r) => r.dataset.name === dataset && r.breakdowns);
  const groups = groupRecords(records);
  if (groups.length === 0) return "";
  const out = [`### ${DATASETS[dataset].label}: per defect type (each vs the good images, official dialect)`];
  for (const g of groups) {
    const rows: string[][] = [];
    for (const category of categoriesOf(dataset, g.records)) {
      const types = [
        ...new Set(
          g.records.filter((r) => r.dataset.category === category)
            .flatMap((r) => r.breakdowns!.rows.map((x) => x.defectType)),
        ),
      ].sort();
      for (const type of types) {
        const row = (r: RunRecord) => r.breakdowns?.rows.find((x) => x.defectType === type);
        const n = g.records.map(row).find((x) => x !== undefined)!;
        rows.push([
          `${categoryLabel(dataset, category)} / ${type}`,
          String(n.nAnomalous),
          String(n.nNormal),
          formatMeanStd(seedValues(g, category, (r) => row(r)?.imageAuroc)),
          formatMeanStd(seedValues(g, category, (r) => row(r)?.auPro)),
        ]);
      }
    }
    const limit = g.records[0].breakdowns!.integrationLimit;
    out.push(
      "",
      `**${g.label}**`,
      "",
      markdownTable(["category / defect", "defective", "good", "image AUROC", `AU-PRO@${limit}`], rows),
    );
  }
  return out.join("\n") + "\n";
}

/**
 * The `--dialects` variants per category, one table per run group, each column naming its dialect;
 * "" when no record has any.
 */
export function renderDialectTables(dataset: DatasetName, allRecords: RunRecord[]): string {
  const records = allRecords.filter((r) => r.dataset.name === dataset && (r.dialectValues?.length ?? 0) > 0);
  const groups = groupRecords(records);
  if (groups.length === 0) return "";
  const out = [`### ${DATASETS[dataset].label}: other metric dialects (\`--dialects\`)`];
  for (const g of groups) {
    const variants = new Map<string, string>();
    for (const r of g.records) for (const d of r.dialectValues ?? []) variants.set(d.variant, d.dialect);
    const keys = [...variants.keys()];
    const rows = categoriesOf(dataset, g.records).map((c) => [
      categoryLabel(dataset, c),
      ...keys.map((k) =>
        formatMeanStd(seedValues(g, c, (r) => r.dialectValues?.find((d) => d.variant === k)?.value))
      ),
    ]);
    out.push(
      "",
      `**${g.label}**`,
      "",
      markdownTable(
        [DATASETS[dataset].categoryHeader, ...keys.map((k) => `${k} [${variants.get(k)}]`)],
        rows,
      ),
    );
  }
  out.push(
    "",
    "- Each column is one variant [its dialect]; only a published number in the same dialect is comparable.",
  );
  return out.join("\n") + "\n";
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * Efficiency per dataset × run group (median over its cells): parameters, forward GFLOPs per image, peak
 * resident memory, training time per cell, batch-1 latency and batch throughput, with the protocol;
 * "" when no record has efficiency.
 *
 * @example
 * ```ts
 * console.log(renderEfficiencyTable(records));
 * ```
 */
export function renderEfficiencyTable(records: RunRecord[]): string {
  const rows: string[][] = [];
  for (const dataset of datasetsOf(records)) {
    for (const g of groupRecords(records.filter((r) => r.dataset.name === dataset && r.efficiency))) {
      const effs = g.records.map((r) => r.efficiency!);
      const m = (pick: (e: (typeof effs)[number]) => number) => median(effs.map(pick));
      const peaks = effs.map((e) => e.peakRssBytes).filter((v): v is number => v !== null);
      const protocols = [
        ...new Set(
          effs.map((e) =>
            `${e.protocol.name} (${e.protocol.warmupRuns}+${e.protocol.timedRuns}, batch ${e.protocol.batchSize})`
          ),
        ),
      ];
      rows.push([
        dataset,
        g.label,
        String(effs.length),
        (effs[0].parameters / 1e6).toFixed(3) + " M",
        (effs[0].flopsPerImage / 1e9).toFixed(3),
        peaks.length > 0 ? `${(Math.max(...peaks) / 2 ** 20).toFixed(0)} MiB` : "—",
        `${m((e) => e.trainSeconds).toFixed(1)} s`,
        m((e) => e.latencyMs.median).toFixed(2),
        m((e) => e.throughputImagesPerSecond).toFixed(1),
        protocols.join(", "),
        [...new Set(effs.map((e) => e.backend))].join(", "),
      ]);
    }
  }
  if (rows.length === 0) return "";
  return [
    "### Efficiency (fixed protocol; medians over each group's cells)",
    "",
    markdownTable([
      "dataset",
      "run group",
      "cells",
      "parameters",
      "GFLOPs/image",
      "peak RSS",
      "train time/cell",
      "latency ms (batch 1)",
      "throughput img/s",
      "protocol (warm-up+timed)",
      "backend",
    ], rows),
    "",
    "- Warm-up forwards untimed, then timed forwards, the clock read after the outputs reached the CPU " +
    "(docs/metrics.md §9). Peak RSS: the largest high-water mark of the group's cells. Timings depend on " +
    "the machine and its load; compare them only within one run.",
  ].join("\n") + "\n";
}
