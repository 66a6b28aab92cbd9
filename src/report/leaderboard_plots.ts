/**
 * The leaderboard's plots as vega-lite specs, rendered at build time to SVG strings with vega's headless
 * view (`renderer: "none"`, no DOM, no canvas), so the page needs no script to show them.
 *
 * Why vega-lite + vega: a declarative spec is plain data (the plots are reviewable and testable as
 * objects), the libraries are maintained by the UW Interactive Data Lab with regular releases, and vega's
 * `View.toSVG()` runs headless in Deno without a DOM shim (Observable Plot needs one).
 *
 * @module
 */
import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";
import type { Leaderboard, LeaderboardRow } from "./leaderboard_data.ts";

/** One plot of the page: where it belongs and its SVG. */
export interface RenderedPlot {
  /** `bars`, `pro` or `loss`. */
  kind: "bars" | "pro" | "loss";
  title: string;
  /** The dataset (bars, PRO) or row id (loss) it belongs to. */
  scope: string;
  svg: string;
}

/**
 * Renders a vega-lite spec to an SVG string without a browser.
 *
 * @example
 * ```ts
 * const svg = await renderSvg({ data: { values: [{ x: 1 }] }, mark: "point", encoding: { x: { field: "x" } } });
 * ```
 */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Vega's default categorical palette (tableau10), assigned to methods by {@linkcode MethodColours}. */
const PALETTE = [
  "#4c78a8",
  "#f58518",
  "#e45756",
  "#72b7b2",
  "#54a24b",
  "#eeca3b",
  "#b279a2",
  "#ff9da6",
  "#9d755d",
  "#bab0ac",
];

/** Method name → colour, the same in every plot of the page (ours first, then published methods). */
export type MethodColours = Map<string, string>;

/** Gives every method of the board its colour: ours in row order, then the published ones. */
export function methodColours(board: Leaderboard): MethodColours {
  const ours = board.rows.filter((r) => r.kind === "ours").map((r) => r.method);
  const published = board.rows.filter((r) => r.kind === "published").map((r) => r.method);
  return new Map([...new Set([...ours, ...published])].map((m, i) => [m, PALETTE[i % PALETTE.length]]));
}

/** A colour scale over the methods present, with each method's page-wide colour. */
function colourScale(present: Iterable<string>, colours: MethodColours) {
  const shown = new Set(present);
  const domain = [...colours.keys()].filter((m) => shown.has(m));
  return { domain, range: domain.map((m) => colours.get(m)!) };
}

const FONT = { config: { font: "system-ui, sans-serif", axis: { labelFontSize: 11, titleFontSize: 11 } } };

/**
 * Per-category bars of one dataset and metric: each method's mean (ours with ± std error bars, published
 * values as they are), grouped by category.
 */
export function barsSpec(
  dataset: string,
  metric: string,
  rows: LeaderboardRow[],
  colours: MethodColours,
): TopLevelSpec | null {
  const values = rows.flatMap((r) => {
    const c = r.cells[metric];
    return c
      ? [{
        category: r.categoryLabel,
        method: r.method,
        kind: r.kind,
        mean: c.mean,
        lo: c.mean - c.std,
        hi: c.mean + c.std,
        n: c.values.length,
      }]
      : [];
  });
  if (values.length === 0) return null;
  // Ours first: the left bars of each category.
  const scale = colourScale(values.map((v) => v.method), colours);
  return {
    ...FONT,
    title: `${dataset}: ${metric}, reproduced vs published`,
    data: { values },
    // With xOffset, the step is one bar's width (vega-lite's `step.for` defaults to the offset).
    width: { step: 12 },
    height: 180,
    encoding: {
      x: { field: "category", type: "nominal", title: null, sort: null },
      color: {
        field: "method",
        type: "nominal",
        scale,
        legend: { orient: "bottom", columns: 2, labelLimit: 420 },
      },
      xOffset: { field: "method", type: "nominal", scale: { domain: scale.domain } },
    },
    layer: [
      {
        mark: { type: "bar", tooltip: true },
        encoding: {
          y: { field: "mean", type: "quantitative", title: metric },
          // Published bars lighter than ours, without a second legend.
          opacity: { condition: { test: "datum.kind === 'published'", value: 0.55 }, value: 1 },
        },
      },
      {
        mark: { type: "rule" },
        transform: [{ filter: "datum.n > 1" }],
        encoding: {
          y: { field: "lo", type: "quantitative" },
          y2: { field: "hi" },
          color: { value: "black" },
        },
      },
    ],
  } as TopLevelSpec;
}

/** PRO curves of one dataset and category: every run's curve up to the AU-PRO limit, coloured by method. */
export function proSpec(title: string, rows: LeaderboardRow[], colours: MethodColours): TopLevelSpec | null {
  const values = rows.flatMap((r) =>
    r.proCurves.flatMap((c) =>
      c.fpr.map((fpr, i) => ({ method: r.method, run: `${r.method} seed ${c.seed}`, fpr, pro: c.pro[i], i }))
    )
  );
  if (values.length === 0) return null;
  const limit = Math.max(...rows.flatMap((r) => r.proCurves.map((c) => c.integrationLimit)));
  return {
    ...FONT,
    title,
    data: { values },
    width: 260,
    height: 200,
    mark: { type: "line", clip: true, interpolate: "linear" },
    encoding: {
      x: { field: "fpr", type: "quantitative", title: "FPR", scale: { domain: [0, limit], nice: false } },
      y: { field: "pro", type: "quantitative", title: "PRO", scale: { domain: [0, 1] } },
      color: {
        field: "method",
        type: "nominal",
        scale: colourScale(rows.map((r) => r.method), colours),
        legend: { orient: "bottom", labelLimit: 420 },
      },
      detail: { field: "run", type: "nominal" },
      order: { field: "i", type: "quantitative" },
    },
  } as TopLevelSpec;
}

/** Training loss per epoch of one row, one line per seed. */
export function lossSpec(row: LeaderboardRow): TopLevelSpec | null {
  const values = row.lossCurves.flatMap((c) =>
    c.points.map((p) => ({ seed: String(c.seed), epoch: p.epoch, loss: p.loss }))
  );
  if (values.length === 0) return null;
  return {
    ...FONT,
    title: "training loss",
    data: { values },
    width: 220,
    height: 120,
    mark: { type: "line", point: values.length <= 60 },
    encoding: {
      x: { field: "epoch", type: "quantitative", axis: { tickMinStep: 1 } },
      y: { field: "loss", type: "quantitative", scale: { zero: false } },
      color: { field: "seed", type: "nominal", title: "seed" },
    },
  } as TopLevelSpec;
}

/**
 * Every plot of the leaderboard: per dataset, bars for each metric with a published value (or the first
 * of ours when none is published); PRO curves per dataset and category; a loss curve per row of ours.
 *
 * @example
 * ```ts
 * const plots = await renderLeaderboardPlots(buildLeaderboard(runs));
 * ```
 */
export async function renderLeaderboardPlots(board: Leaderboard): Promise<RenderedPlot[]> {
  const plots: RenderedPlot[] = [];
  const colours = methodColours(board);
  const datasets = [...new Set(board.rows.map((r) => r.dataset))];
  for (const dataset of datasets) {
    const rows = board.rows.filter((r) => r.dataset === dataset);
    const ours = rows.filter((r) => r.kind === "ours");
    const publishedMetrics = new Set(
      rows.filter((r) => r.kind === "published").flatMap((r) => Object.keys(r.cells)),
    );
    const oursMetrics = board.columns.filter((m) => ours.some((r) => r.cells[m]));
    const metrics = board.columns.filter((m) => publishedMetrics.has(m) && oursMetrics.includes(m));
    if (metrics.length === 0 && oursMetrics.length > 0) metrics.push(oursMetrics[0]);
    for (const metric of metrics) {
      const spec = barsSpec(dataset, metric, rows, colours);
      if (spec) {
        plots.push({
          kind: "bars",
          title: `${dataset} ${metric}`,
          scope: dataset,
          svg: await renderSvg(spec),
        });
      }
    }
    for (const category of [...new Set(ours.map((r) => r.category))]) {
      const catRows = ours.filter((r) => r.category === category);
      const label = catRows[0].categoryLabel;
      const spec = proSpec(`${dataset} ${label}: PRO curve`, catRows, colours);
      if (spec) {
        plots.push({
          kind: "pro",
          title: `${dataset} ${label} PRO`,
          scope: dataset,
          svg: await renderSvg(spec),
        });
      }
    }
  }
  for (const row of board.rows) {
    const spec = lossSpec(row);
    if (spec) {
      plots.push({ kind: "loss", title: `${row.id} loss`, scope: row.id, svg: await renderSvg(spec) });
    }
  }
  return plots;
}
