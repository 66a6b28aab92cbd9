/**
 * Markdown tables in the paper's layouts, rendered from run records only (never from memory):
 * Table II (MNIST / Fashion-MNIST), Table III (MVTec AD), Table IV (BTAD), and a generic per-category
 * table for the `synthetic` dataset. Published columns come first (from `published.ts`, means computed),
 * then ours as mean ± std over seeds. Missing cells are `—`, never a guess.
 *
 * @module
 */
import {
  categoryLabel,
  DATASET_NAMES,
  type DatasetName,
  DATASETS,
  type PaperTable,
} from "../core/datasets.ts";
import { DEFAULT_INTEGRATION_LIMIT, type MetricKey, metricKeysOf, METRICS } from "../core/metrics.ts";
import { MODEL_NAMES, MODELS } from "../core/models.ts";
import type { RunRecord } from "../runs/record.ts";
import {
  columnMean,
  printedMeanNote,
  PUBLISHED_TABLES,
  type PublishedColumn,
  type PublishedTable,
} from "./published.ts";
import { renderDialectComparison } from "./dialect_compare.ts";

/** Which of our metrics a layout shows, in order: each paper table's, and one for datasets without one. */
const OUR_METRICS: Record<PaperTable | "generic", MetricKey[]> = {
  table2: ["imageAuroc"],
  table3: ["auPro", "vtadlCodePro", "imageAuroc"],
  table4: ["vtadlCodePro", "prAucTrapezoid", "auPro"],
  generic: ["imageAuroc", "vtadlCodePro", "auPro", "prAucTrapezoid", "averagePrecision"],
};

/** Column header of one of our metrics. */
function headerOf(key: MetricKey): string {
  return METRICS[key].header(DEFAULT_INTEGRATION_LIMIT);
}

/** Our runs of one model + config + evaluation setting: one group of "ours" columns. */
export interface RecordGroup {
  key: string;
  label: string;
  model: string;
  configName: string;
  configHash: string;
  imageScore: string;
  records: RunRecord[];
}

/** Arithmetic mean. */
export function mean(values: number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

/** Sample standard deviation (n − 1); 0 for one value. */
export function sampleStd(values: number[]): number {
  if (values.length < 2) return 0;
  const m = mean(values);
  return Math.sqrt(values.reduce((a, v) => a + (v - m) ** 2, 0) / (values.length - 1));
}

/** `mean ± std` over seeds (3 decimals), or the single value. */
export function formatMeanStd(values: number[]): string {
  if (values.length === 0) return "—";
  if (values.length === 1) return values[0].toFixed(3);
  return `${mean(values).toFixed(3)} ± ${sampleStd(values).toFixed(3)}`;
}

/**
 * Groups completed records by model, config (name + hash) and evaluation settings, so that runs that
 * differ in anything but the seed never share a column.
 */
export function groupRecords(records: RunRecord[]): RecordGroup[] {
  const groups = new Map<string, RecordGroup>();
  for (const r of records) {
    if (r.status !== "completed") continue;
    const ev = r.evaluation;
    const sub = r.dataset.subsample ?? null;
    const subText = sub ? `subsampled: train ≤ ${sub.maxTrain ?? "all"}, test ≤ ${sub.maxTest ?? "all"}` : "";
    const key = [
      r.model,
      r.config.name,
      r.config.hash,
      ev.imageScore,
      ev.anomalyMap,
      ev.heatmapSigma,
      ev.resolution,
      subText,
      r.weights ? "imported" : "trained",
    ].join("|");
    let g = groups.get(key);
    if (!g) {
      g = {
        key,
        label: `${MODELS[r.model].label} ours (${r.config.name}, score ${ev.imageScore}${
          subText ? `, ${subText}` : ""
        }${r.weights ? ", imported weights" : ""})`,
        model: r.model,
        configName: r.config.name,
        configHash: r.config.hash,
        imageScore: ev.imageScore,
        records: [],
      };
      groups.set(key, g);
    }
    g.records.push(r);
  }
  const list = [...groups.values()];
  // Same label for different hashes/settings: tell them apart by hash.
  for (const g of list) {
    if (list.filter((o) => o.label === g.label).length > 1) {
      g.label = `${g.label.slice(0, -1)}, ${g.configHash.slice(0, 8)}, σ ${
        g.records[0].evaluation.heatmapSigma
      })`;
    }
  }
  const order: readonly string[] = MODEL_NAMES;
  return list.sort((a, b) =>
    order.indexOf(a.model) - order.indexOf(b.model) || a.label.localeCompare(b.label)
  );
}

/** Metric values of a group for one category, one per seed (seed order). */
function seedValues(group: RecordGroup, category: string, key: MetricKey): { seed: number; value: number }[] {
  return group.records
    .filter((r) => r.dataset.category === category)
    .flatMap((r) => {
      const m = r.metrics.find((e) => e.key === key);
      return m ? [{ seed: r.seed, value: m.value }] : [];
    })
    .sort((a, b) => a.seed - b.seed);
}

/**
 * The Mean-row cell of ours: mean over categories of the per-category seed means, marked `(k/n)` when it
 * covers k of the n rows (n: every category of the dataset).
 */
function oursMeanCell(group: RecordGroup, rows: readonly string[], key: MetricKey): string {
  const perRow = rows.map((row) => seedValues(group, row, key)).filter((v) => v.length > 0);
  if (perRow.length === 0) return "—";
  const m = mean(perRow.map((v) => mean(v.map((x) => x.value))));
  const seeds = [...new Set(perRow.flatMap((v) => v.map((x) => x.seed)))].sort((a, b) => a - b);
  let text = m.toFixed(3);
  // ± over seeds only when every seed covers every row: then per-seed means are comparable.
  if (seeds.length > 1 && perRow.length === rows.length && perRow.every((v) => v.length === seeds.length)) {
    const perSeed = seeds.map((s) => mean(perRow.map((v) => v.find((x) => x.seed === s)!.value)));
    text = `${mean(perSeed).toFixed(3)} ± ${sampleStd(perSeed).toFixed(3)}`;
  }
  return perRow.length < rows.length ? `${text} (${perRow.length}/${rows.length})` : text;
}

/** Renders a markdown table from a header row and body rows. */
export function markdownTable(header: string[], rows: string[][]): string {
  const esc = (s: string) => s.replaceAll("|", "\\|");
  return [
    `| ${header.map(esc).join(" | ")} |`,
    `|${header.map(() => "---").join("|")}|`,
    ...rows.map((r) => `| ${r.map(esc).join(" | ")} |`),
  ].join("\n");
}

/** `, weights trained elsewhere: cat: a.pt (sha256 1a2b…) + …` for a group of imported runs, else "". */
function importedWeightsText(records: RunRecord[]): string {
  const imported = records.filter((r) => r.weights);
  if (imported.length === 0) return "";
  const per = imported.map((r) =>
    `${r.dataset.category}: ${
      r.weights!.files.map((f) => `${f.name} (sha256 ${f.sha256.slice(0, 12)})`).join(" + ")
    }`
  );
  return `, weights trained elsewhere (not trained here): ${[...new Set(per)].sort().join("; ")}`;
}

/** The provenance lines every table states: dataset digest, configs, seeds, backends, code versions. */
export function provenanceLines(records: RunRecord[], groups: RecordGroup[]): string[] {
  const uniq = (xs: string[]) => [...new Set(xs)].sort();
  const lines = [
    `- Dataset lock digest: ${
      uniq(records.map((r) => r.dataset.lockDigest.slice(0, 16))).join(", ") || "—"
    }` +
    ` (licence: ${uniq(records.map((r) => r.dataset.licence)).join(", ") || "—"})`,
  ];
  for (const g of groups) {
    const seeds = uniq(g.records.map((r) => String(r.seed))).map(Number).sort((a, b) => a - b);
    const backends = uniq(g.records.map((r) => {
      const a = r.backend.adapter;
      return a
        ? `${r.backend.name} (${a.description || a.device}${a.isFallbackAdapter ? ", fallback" : ""})`
        : r.backend.name;
    }));
    const commits = uniq(
      g.records.map((r) =>
        r.environment.code
          ? r.environment.code.commit.slice(0, 10) + (r.environment.code.dirty ? "+dirty" : "")
          : "unknown"
      ),
    );
    const ev = g.records[0].evaluation;
    const pixelKeys: readonly string[] = metricKeysOf("pixel");
    const hasPixelMetrics = g.records.some((r) => r.metrics.some((m) => pixelKeys.includes(m.key)));
    lines.push(
      `- ${g.label}: config \`${g.configName}\` (hash ${g.configHash.slice(0, 12)}), seeds ${
        seeds.join(", ")
      }, ` +
        `backend ${backends.join(", ")}, image score \`${ev.imageScore}\`, ` +
        (hasPixelMetrics
          ? `maps \`${ev.anomalyMap}\`${ev.anomalyMap === "patchNll" ? ` σ=${ev.heatmapSigma}` : ""}, ` +
            `pixel metrics at ${ev.resolution} resolution`
          : "no pixel masks (image metrics only)") +
        `, code ${commits.join(", ")}` + importedWeightsText(g.records),
    );
  }
  return lines;
}

/** Footnote collector: returns ` [n]` markers and lists the notes once each. */
class Footnotes {
  #notes: string[] = [];
  mark(note: string): string {
    let i = this.#notes.indexOf(note);
    if (i < 0) i = this.#notes.push(note) - 1;
    return ` [${i + 1}]`;
  }
  lines(): string[] {
    return this.#notes.map((n, i) => `[${i + 1}] ${n}`);
  }
}

function publishedCell(col: PublishedColumn, row: string, notes: Footnotes): string {
  const v = col.values[row];
  if (v === null || v === undefined) return "—";
  const note = col.cellNotes?.[row];
  return String(v) + (note ? notes.mark(note) : "");
}

function publishedMeanCell(table: PublishedTable, col: PublishedColumn, notes: Footnotes): string {
  const computed = columnMean(table, col);
  if (computed === null) {
    if (col.printedMean === null) return "—";
    return `${col.printedMean} (printed mean only)`;
  }
  const note = printedMeanNote(table, col);
  return computed.toFixed(4) + (note ? notes.mark(note) : "");
}

/**
 * Renders one dataset's table in the paper's layout from its run records.
 *
 * @example
 * ```ts
 * const md = renderDatasetTable("mvtec", records); // Table III layout
 * ```
 */
export function renderDatasetTable(dataset: DatasetName, allRecords: RunRecord[]): string {
  const records = allRecords.filter((r) => r.dataset.name === dataset);
  const spec = DATASETS[dataset];
  const layout = spec.paperTable ?? "generic";
  const published = PUBLISHED_TABLES[dataset] ?? null;
  const groups = groupRecords(records);
  // Every category of the dataset is a row, so a mean over fewer of them is marked (k/n).
  const ourCategories = [...new Set(records.map((r) => r.dataset.category))].sort();
  const rows = [...spec.categories, ...ourCategories.filter((c) => !spec.categories.includes(c))];
  const rowLabel = (row: string) => categoryLabel(dataset, row);
  const notes = new Footnotes();
  const pubCols = published?.columns ?? [];
  const ours = OUR_METRICS[layout];

  const header = [
    spec.categoryHeader,
    ...pubCols.map((c) => `${c.label}${c.tag === "verified" ? "" : ` [${c.tag}]`}`),
    ...groups.flatMap((g) => ours.map((key) => `${g.label}: ${headerOf(key)}`)),
  ];
  const body = rows.map((row) => [
    rowLabel(row),
    ...pubCols.map((c) => publishedCell(c, row, notes)),
    ...groups.flatMap((g) => ours.map((key) => formatMeanStd(seedValues(g, row, key).map((x) => x.value)))),
  ]);
  body.push([
    "Mean",
    ...pubCols.map((c) => publishedMeanCell(published!, c, notes)),
    ...groups.flatMap((g) => ours.map((key) => oursMeanCell(g, rows, key))),
  ]);
  for (const c of pubCols) {
    for (const caveat of c.caveats) notes.mark(caveat);
  }

  const title = published?.title ?? `${spec.label}: per category (ours only; no published numbers)`;
  const out = [`### ${title}`, "", ...provenanceLines(records, groups), ""];
  if (layout === "generic" && groups.length > 1) {
    // Without published columns, one table per run group keeps the metric columns readable.
    for (const g of groups) {
      out.push(
        `**${g.label}**`,
        "",
        markdownTable([header[0], ...ours.map(headerOf)], [
          ...rows.map((row) => [
            rowLabel(row),
            ...ours.map((key) => formatMeanStd(seedValues(g, row, key).map((x) => x.value))),
          ]),
          ["Mean", ...ours.map((key) => oursMeanCell(g, rows, key))],
        ]),
        "",
      );
    }
    out.pop();
  } else {
    out.push(markdownTable(header, body));
    if (published) out.push(...renderDialectComparison(published, groups, markdownTable));
  }
  const metricNotes = pubCols.map((c) => `${c.label}: ${c.metric}, ${c.source}`);
  const unfinished = records.filter((r) => r.status !== "completed");
  const tail: string[] = [];
  if (published) tail.push(...published.notes.map((n) => `- ${n}`), ...metricNotes.map((n) => `- ${n}`));
  if (groups.length === 0) tail.push("- No completed runs of ours for this dataset yet.");
  if (unfinished.length > 0) {
    tail.push(
      `- Not shown (${unfinished.length} unfinished cell${unfinished.length > 1 ? "s" : ""}): ` +
        unfinished.map((r) =>
          `${r.dataset.category} ${r.model} seed ${r.seed} (${r.status}${
            r.error ? `: ${r.error.message}` : ""
          })`
        )
          .join("; "),
    );
  }
  tail.push(
    "- Means are computed from the per-row values; ours: mean over seeds per row (± sample std when several); " +
      "(k/n): a mean over k of the dataset's n categories.",
  );
  out.push("", ...tail);
  const footnotes = notes.lines();
  if (footnotes.length > 0) out.push("", ...footnotes);
  return out.join("\n") + "\n";
}

/**
 * The leaderboard: one row per dataset × model × config × score, averaged over the categories it covers.
 *
 * @example
 * ```ts
 * console.log(renderLeaderboard(records));
 * ```
 */
export function renderLeaderboard(records: RunRecord[]): string {
  const datasets = datasetsOf(records);
  const rows: { dataset: string; sortKey: number; cells: string[] }[] = [];
  for (const dataset of datasets) {
    const recs = records.filter((r) => r.dataset.name === dataset);
    const nCategories = DATASETS[dataset].categories.length;
    for (const g of groupRecords(recs)) {
      const categories = [...new Set(g.records.map((r) => r.dataset.category))];
      const avg = (key: MetricKey) => {
        const perCat = categories.map((c) => seedValues(g, c, key).map((x) => x.value)).filter((v) =>
          v.length > 0
        );
        return perCat.length === 0 ? null : mean(perCat.map(mean));
      };
      const fmt = (v: number | null) => (v === null ? "—" : v.toFixed(3));
      const image = avg("imageAuroc");
      // Sum of the epochs' own times, so a cell re-evaluated from its checkpoint still shows its training cost.
      const trainSeconds = g.records.reduce(
        (a, r) =>
          a +
          (r.training && r.training.epochs.length > 0
            ? r.training.epochs.reduce((b, e) => b + e.seconds, 0)
            : r.durations.trainSeconds),
        0,
      );
      rows.push({
        dataset,
        sortKey: image ?? -1,
        cells: [
          dataset,
          g.label,
          `${categories.length}/${nCategories}`,
          String(new Set(g.records.map((r) => r.seed)).size),
          fmt(image),
          fmt(avg("vtadlCodePro")),
          fmt(avg("auPro")),
          fmt(avg("prAucTrapezoid")),
          `${(trainSeconds / 60).toFixed(1)} min`,
          [...new Set(g.records.map((r) => r.backend.name))].join(", "),
        ],
      });
    }
  }
  rows.sort((a, b) => a.dataset.localeCompare(b.dataset) || b.sortKey - a.sortKey);
  const header = [
    "dataset",
    "run group",
    "categories",
    "seeds",
    "image AUROC",
    'pixel AUROC (code "PRO")',
    "AU-PRO@0.3",
    "PR-AUC/trap",
    "train time",
    "backend",
  ];
  return [
    "### Leaderboard (ours, mean over the categories each group covers)",
    "",
    rows.length > 0 ? markdownTable(header, rows.map((r) => r.cells)) : "No completed runs yet.",
    ...(rows.length > 0 ? ["", "- Every metric column is the official dialect (docs/metrics.md §7)."] : []),
  ].join("\n") + "\n";
}

/** The datasets present in the records, in the registry's order (paper tables first). */
export function datasetsOf(records: RunRecord[]): DatasetName[] {
  const present = new Set(records.map((r) => r.dataset.name));
  return DATASET_NAMES.filter((d) => present.has(d));
}
