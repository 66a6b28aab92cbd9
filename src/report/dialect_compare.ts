/**
 * Ours against a published number, only where both are in the same metric dialect. For every published
 * column that is the published result of one of our models (`model` in `published.ts`), and every run
 * group of that model, each of our values of the column's metric (the official one and any `--dialects`
 * variant of it) gets one row: a difference when the dialects match, and otherwise the dialect the
 * published number used instead of a difference. Means are over the rows both sides have.
 *
 * @module
 */
import { type MetricDialectName, type MetricKey, METRICS } from "../core/metrics.ts";
import type { RunRecord } from "../runs/record.ts";
import type { PublishedColumn, PublishedTable } from "./published.ts";
import type { RecordGroup } from "./tables.ts";

/** One value of ours that a published column can be set against. */
interface OurCandidate {
  /** `official` metric entry, or a `--dialects` variant key. */
  variant: string | null;
  dialect: MetricDialectName;
  label: string;
  value(record: RunRecord): number | undefined;
}

/** Our candidates for metric `key` in a group: the official entry, then the variants the records hold. */
function candidatesOf(group: RecordGroup, key: MetricKey): OurCandidate[] {
  const official: OurCandidate = {
    variant: null,
    dialect: "official",
    label: METRICS[key].header(0.3),
    value: (r) => r.metrics.find((m) => m.key === key && (m.dialect ?? "official") === "official")?.value,
  };
  const variants = new Map<string, OurCandidate>();
  for (const r of group.records) {
    for (const d of r.dialectValues ?? []) {
      if (d.metric !== key || variants.has(d.variant)) continue;
      variants.set(d.variant, {
        variant: d.variant,
        dialect: d.dialect,
        label: d.variant,
        value: (rec) => rec.dialectValues?.find((x) => x.variant === d.variant)?.value,
      });
    }
  }
  return [official, ...variants.values()];
}

/** Mean over seeds of a candidate in one category, or null. */
function categoryValue(group: RecordGroup, category: string, c: OurCandidate): number | null {
  const values = group.records
    .filter((r) => r.dataset.category === category)
    .map((r) => c.value(r))
    .filter((v): v is number => v !== undefined);
  return values.length === 0 ? null : values.reduce((a, b) => a + b, 0) / values.length;
}

/** One comparison row, as data (tests read these; the renderer prints them). */
export interface ComparisonRow {
  published: string;
  publishedDialect: MetricDialectName | "unknown";
  ours: string;
  ourDialect: MetricDialectName;
  /** Rows (categories) both sides have. */
  rows: number;
  publishedMean: number | null;
  oursMean: number | null;
  /** ours − published over the common rows; null when the dialects differ or nothing is common. */
  delta: number | null;
  /** Why there is no delta, naming the published dialect. */
  note: string;
}

function compareOne(
  table: PublishedTable,
  col: PublishedColumn,
  g: RecordGroup,
  c: OurCandidate,
): ComparisonRow {
  const common = table.rows.filter((row) => {
    const p = col.values[row];
    return p !== null && p !== undefined && categoryValue(g, row, c) !== null;
  });
  const mean = (xs: number[]) => (xs.length === 0 ? null : xs.reduce((a, b) => a + b, 0) / xs.length);
  const publishedMean = mean(common.map((row) => col.values[row]!));
  const oursMean = mean(common.map((row) => categoryValue(g, row, c)!));
  const base = {
    published: col.label,
    publishedDialect: col.dialect,
    ours: `${g.label}: ${c.label}`,
    ourDialect: c.dialect,
    rows: common.length,
    publishedMean,
    oursMean,
  };
  if (col.dialect === "unknown") {
    return { ...base, delta: null, note: `not compared: the published dialect is unknown (${col.metric})` };
  }
  if (col.dialect !== c.dialect) {
    return {
      ...base,
      delta: null,
      note: `not compared: the published number is in the ${col.dialect} dialect, ours in ${c.dialect}`,
    };
  }
  if (publishedMean === null || oursMean === null) {
    return { ...base, delta: null, note: "no category that both have" };
  }
  return { ...base, delta: oursMean - publishedMean, note: "" };
}

/**
 * Every comparison row of a table: published columns of our models × our groups of that model × our
 * values of the column's metric.
 *
 * @example
 * ```ts
 * const rows = dialectComparisonRows(TABLE3_MVTEC, groupRecords(records));
 * ```
 */
export function dialectComparisonRows(table: PublishedTable, groups: RecordGroup[]): ComparisonRow[] {
  const out: ComparisonRow[] = [];
  for (const col of table.columns) {
    if (col.model === undefined) continue;
    for (const g of groups.filter((x) => x.model === col.model)) {
      for (const c of candidatesOf(g, col.compareWith)) out.push(compareOne(table, col, g, c));
    }
  }
  return out;
}

/**
 * The comparison as markdown lines (a heading, a table and a note), or no lines when no published column
 * is one of our models' or no group of ours matches.
 */
export function renderDialectComparison(
  table: PublishedTable,
  groups: RecordGroup[],
  markdownTable: (header: string[], rows: string[][]) => string,
): string[] {
  const rows = dialectComparisonRows(table, groups);
  if (rows.length === 0) return [];
  const f = (v: number | null) => (v === null ? "—" : v.toFixed(3));
  const body = rows.map((r) => [
    r.published,
    r.publishedDialect,
    r.ours,
    r.ourDialect,
    String(r.rows),
    f(r.publishedMean),
    f(r.oursMean),
    r.delta === null ? r.note : `${r.delta >= 0 ? "+" : "−"}${Math.abs(r.delta).toFixed(3)}`,
  ]);
  return [
    "",
    "**Ours vs published, same dialect only**",
    "",
    markdownTable(
      [
        "published",
        "published dialect",
        "ours",
        "our dialect",
        "rows",
        "published mean",
        "ours mean",
        "Δ (ours − published)",
      ],
      body,
    ),
    "",
    "- Means over the rows both sides have. A difference is shown only when both numbers are in the same " +
    "dialect (docs/metrics.md §7); otherwise the row says which dialect the published number used.",
  ];
}
