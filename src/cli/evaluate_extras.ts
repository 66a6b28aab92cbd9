/**
 * The optional parts of `evaluate`'s printed output: the dialect variants asked for with `--dialects`
 * and the per-defect-type breakdown. Each returns "" when the report has nothing to show, so the default
 * table prints as before.
 *
 * @module
 */
import type { CategoryResult, EvaluationReport } from "./evaluate.ts";

/** Plain-text table: first column left-aligned, the others right-aligned. */
function textTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (cells: string[]) =>
    cells.map((s, c) => (c === 0 ? s.padEnd(widths[c]) : s.padStart(widths[c]))).join("  ");
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

const fmt = (v: number | null | undefined) => (v === null || v === undefined ? "—" : v.toFixed(4));

/**
 * The unweighted mean over categories of each dialect variant any category has; null where some category
 * lacks it (as `mean` treats the official metrics).
 */
export function dialectMeans(categories: Record<string, CategoryResult>): Record<string, number | null> {
  const results = Object.values(categories);
  const variants = [...new Set(results.flatMap((r) => (r.dialect_values ?? []).map((d) => d.variant)))];
  return Object.fromEntries(variants.map((v) => {
    const values = results.map((r) => r.dialect_values?.find((d) => d.variant === v)?.value);
    return [
      v,
      values.some((x) => x === undefined)
        ? null
        : (values as number[]).reduce((a, b) => a + b, 0) / values.length,
    ];
  }));
}

/**
 * The dialect variants per category (one column per variant, each header naming its dialect), or "".
 *
 * @example
 * ```ts
 * console.log(renderDialectText(report));
 * ```
 */
export function renderDialectText(report: EvaluationReport): string {
  const categories = Object.entries(report.categories).filter(([, r]) => r.dialect_values !== undefined);
  if (categories.length === 0) return "";
  const variants = [...new Set(categories.flatMap(([, r]) => r.dialect_values!.map((d) => d.variant)))];
  if (variants.length === 0) {
    return "\n\nDialects: none of the asked-for variants applies (see the warnings).";
  }
  const dialectOf = new Map(
    categories.flatMap(([, r]) => r.dialect_values!.map((d) => [d.variant, d.dialect] as const)),
  );
  const rows = categories.map(([name, r]) => [
    name,
    ...variants.map((v) => fmt(r.dialect_values!.find((d) => d.variant === v)?.value)),
  ]);
  const means = report.mean_dialect_values ?? dialectMeans(report.categories);
  rows.push(["mean", ...variants.map((v) => fmt(means[v]))]);
  return "\n\nOther dialects (columns: variant [dialect]; the table above is the official dialect):\n" +
    textTable(["category", ...variants.map((v) => `${v} [${dialectOf.get(v)}]`)], rows);
}

/**
 * The per-defect-type table (image AUROC and AU-PRO of each defect type against the good images), or "".
 *
 * @example
 * ```ts
 * console.log(renderBreakdownText(report));
 * ```
 */
export function renderBreakdownText(report: EvaluationReport): string {
  const rows: string[][] = [];
  for (const [name, r] of Object.entries(report.categories)) {
    for (const row of r.breakdown?.rows ?? []) {
      rows.push([
        `${name}/${row.defectType}`,
        String(row.nAnomalous),
        String(row.nNormal),
        String(row.nRegions ?? "—"),
        fmt(row.imageAuroc),
        fmt(row.auPro),
      ]);
    }
  }
  if (rows.length === 0) return "";
  const limit = report.settings.integration_limit;
  return "\n\nPer defect type (each vs the good images; official dialect):\n" +
    textTable(["category/defect", "images", "good", "regions", "AUROC", `AU-PRO@${limit}`], rows);
}
