/**
 * The leaderboard page: one static, self-contained HTML file (style, script and plots inline, panels as
 * data URIs or relative links; no server, no CDN). The table sorts by any column (a button in each
 * header, `aria-sort` on the header cell) and filters by text and dataset, all by keyboard.
 *
 * @module
 */
import {
  type Leaderboard,
  type LeaderboardCell,
  type LeaderboardRow,
  MEAN_CATEGORY,
  type RunLink,
} from "./leaderboard_data.ts";
import type { RenderedPlot } from "./leaderboard_plots.ts";

/** Extra inputs of {@linkcode renderLeaderboardHtml}. */
export interface LeaderboardPage {
  board: Leaderboard;
  plots: RenderedPlot[];
  /** Panel path (as in the row) → data URI, for the panels embedded in the page. */
  embeddedPanels: Map<string, string>;
  generatedAt: Date;
}

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;").replaceAll(
    '"',
    "&quot;",
  )
    .replaceAll("'", "&#39;");
}

/**
 * Makes the ids of one inline SVG unique on the page: vega numbers clip paths and gradients from 1 in every
 * SVG it writes, so two plots on one page would otherwise share `#clip1`.
 */
export function scopeSvgIds(svg: string, prefix: string): string {
  return svg
    .replace(/\bid="([^"]+)"/g, `id="${prefix}-$1"`)
    .replace(/url\(#([^)]+)\)/g, `url(#${prefix}-$1)`)
    .replace(/href="#([^"]+)"/g, `href="#${prefix}-$1"`);
}

function formatNumber(v: number): string {
  return Math.abs(v) >= 1000 || (v !== 0 && Math.abs(v) < 0.001) ? v.toPrecision(4) : v.toFixed(3);
}

/** Links to run records, `s<seed>` (or `<category>·s<seed>` in a mean row, which spans categories). */
function runLinks(runs: RunLink[], withCategory = false): string {
  return runs.map((r) =>
    `<a class="run" href="${escapeHtml(r.path)}" title="${escapeHtml(`${r.path}\nsha256 ${r.sha256}`)}" ` +
    `data-sha256="${r.sha256}">${withCategory ? `${escapeHtml(r.category)}·` : ""}s${r.seed}</a>`
  ).join(" ");
}

function cellHtml(row: LeaderboardRow, cell: LeaderboardCell | undefined): string {
  if (!cell) return `<td class="num empty" data-value=""></td>`;
  if (row.kind === "published") {
    const title = `${cell.publishedMetric ?? ""} — ${row.source ?? ""} [${row.tag ?? ""}]`;
    return `<td class="num pub" data-value="${cell.mean}" title="${escapeHtml(title)}">${
      formatNumber(cell.mean)
    }` +
      `<sup class="tag">${escapeHtml(row.tag ?? "")}</sup></td>`;
  }
  const text = cell.std > 0 || (cell.values.length > 1 && !cell.coverage)
    ? `${formatNumber(cell.mean)} ± ${formatNumber(cell.std)}`
    : formatNumber(cell.mean);
  const count = cell.coverage
    ? `${cell.coverage.categories}/${cell.coverage.of} cat.`
    : `n=${cell.values.length}`;
  // Many runs (a mean row): the links fold away behind their count.
  const links = cell.runs.length > 6
    ? `<details><summary>${cell.runs.length} records</summary>${
      runLinks(cell.runs, !!cell.coverage)
    }</details>`
    : runLinks(cell.runs, !!cell.coverage);
  return `<td class="num" data-value="${cell.mean}">${text} <span class="n">(${count})</span>` +
    `<br><span class="runs">${links}</span></td>`;
}

function tableHtml(board: Leaderboard): string {
  const heads = ["dataset", "category", "method", "runs / source", ...board.columns];
  const numeric = (i: number) => i >= 4;
  const header = heads.map((h, i) =>
    `<th scope="col" aria-sort="none" data-type="${numeric(i) ? "number" : "text"}">` +
    `<button type="button" data-col="${i}">${
      escapeHtml(h)
    }<span class="arrow" aria-hidden="true"></span></button></th>`
  ).join("");
  const body = board.rows.map((row) => {
    const who = row.kind === "published"
      ? `<td class="src" data-value="${escapeHtml(row.source ?? "")}">${escapeHtml(row.source ?? "")}</td>`
      : `<td data-value="${row.runs.length}">${row.runs.length} run${row.runs.length === 1 ? "" : "s"}</td>`;
    return `<tr class="${row.kind}" data-dataset="${escapeHtml(row.dataset)}" id="row-${
      escapeHtml(row.id)
    }">` +
      `<td data-value="${escapeHtml(row.dataset)}">${escapeHtml(row.dataset)}</td>` +
      `<td data-value="${escapeHtml(row.categoryLabel)}">${escapeHtml(row.categoryLabel)}</td>` +
      `<td data-value="${escapeHtml(row.method)}">${escapeHtml(row.method)}</td>` + who +
      board.columns.map((c) => cellHtml(row, row.cells[c])).join("") + `</tr>`;
  }).join("\n");
  return `<table id="leaderboard"><thead><tr>${header}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

function figure(plot: RenderedPlot, index: number): string {
  return `<figure class="plot plot-${plot.kind}" data-kind="${plot.kind}" aria-label="${
    escapeHtml(plot.title)
  }">` +
    `${scopeSvgIds(plot.svg, `p${index}`)}</figure>`;
}

function detailsHtml(page: LeaderboardPage, plotIndex: Map<RenderedPlot, number>): string {
  const ours = page.board.rows.filter((r) => r.kind === "ours" && r.category !== MEAN_CATEGORY);
  return ours.map((row) => {
    const loss = page.plots.filter((p) => p.kind === "loss" && p.scope === row.id);
    // Embedded panels show even when the page travels alone; the others load from the run folders.
    const panels = row.panels.map((p) => {
      const name = escapeHtml(`s${p.run.seed} ${p.path.split("/").pop() ?? p.path}`);
      const src = page.embeddedPanels.get(p.path) ?? escapeHtml(p.path);
      const lazy = page.embeddedPanels.has(p.path) ? "" : ` loading="lazy"`;
      return `<a href="${
        escapeHtml(p.path)
      }"><img src="${src}"${lazy} alt="heat-map panel ${name}" title="${name}"></a>`;
    }).join("");
    return `<section class="cell" aria-labelledby="h-${escapeHtml(row.id)}">` +
      `<h3 id="h-${escapeHtml(row.id)}">${
        escapeHtml(`${row.dataset} · ${row.categoryLabel} · ${row.method}`)
      }</h3>` +
      `<p class="records">records: ${
        row.runs.map((r) =>
          `<a href="${escapeHtml(r.path)}">${escapeHtml(r.runId)}</a> <code title="sha256">${
            r.sha256.slice(0, 12)
          }</code>`
        ).join(", ")
      }</p>` +
      `<div class="plots">${loss.map((p) => figure(p, plotIndex.get(p)!)).join("")}</div>` +
      (panels ? `<div class="panels">${panels}</div>` : "") +
      `</section>`;
  }).join("\n");
}

const STYLE = `
body{font:14px/1.4 system-ui,sans-serif;margin:1.5rem;color:#111;background:#fff}
h1{font-size:1.4rem}h2{font-size:1.15rem;margin-top:2rem}h3{font-size:1rem;margin:.2rem 0}
.controls{display:flex;gap:1rem;align-items:center;margin:.5rem 0}
table{border-collapse:collapse;font-size:13px}
th,td{border:1px solid #ccc;padding:.25rem .4rem;vertical-align:top}
th button{font:inherit;font-weight:600;background:none;border:0;padding:0;cursor:pointer;text-align:left}
th button:focus-visible{outline:2px solid #1565c0}
th[aria-sort=ascending] .arrow::after{content:" ▲"}th[aria-sort=descending] .arrow::after{content:" ▼"}
td.num{text-align:right;white-space:nowrap}td.empty{background:#fafafa}
tr.published{background:#f4f6fb;color:#333}td.src{max-width:22rem;font-size:12px}
.n,.runs,.tag{color:#666;font-size:11px}.runs a{margin-left:.2rem}
.plots{display:flex;flex-wrap:wrap;gap:1rem}figure{margin:0}
.panels img{max-width:260px;margin:.3rem .3rem 0 0;border:1px solid #ddd}
section.cell{border-top:1px solid #ddd;padding:.5rem 0}
.notes{color:#444;font-size:12px}
`;

/** The inline script: sort by a header button (toggles ascending/descending), filter by text and dataset. */
const SCRIPT = `
(() => {
  const table = document.getElementById("leaderboard");
  const tbody = table.tBodies[0];
  const heads = [...table.tHead.rows[0].cells];
  const key = (tr, col, numeric) => {
    const v = tr.cells[col].dataset.value;
    return numeric ? (v === "" ? null : Number(v)) : v;
  };
  const sortBy = (col) => {
    const th = heads[col];
    const numeric = th.dataset.type === "number";
    const dir = th.getAttribute("aria-sort") === "ascending" ? "descending" : "ascending";
    const sign = dir === "ascending" ? 1 : -1;
    const rows = [...tbody.rows];
    rows.sort((a, b) => {
      const x = key(a, col, numeric), y = key(b, col, numeric);
      if (x === null || y === null) return (x === null) - (y === null);
      return sign * (numeric ? x - y : String(x).localeCompare(String(y)));
    });
    for (const h of heads) h.setAttribute("aria-sort", "none");
    th.setAttribute("aria-sort", dir);
    tbody.append(...rows);
  };
  for (const b of table.querySelectorAll("th button")) b.addEventListener("click", () => sortBy(Number(b.dataset.col)));
  const text = document.getElementById("filter-text");
  const dataset = document.getElementById("filter-dataset");
  const kind = document.getElementById("filter-published");
  const count = document.getElementById("row-count");
  const apply = () => {
    const q = text.value.trim().toLowerCase();
    let shown = 0;
    for (const tr of tbody.rows) {
      const ok = (!q || tr.textContent.toLowerCase().includes(q)) &&
        (!dataset.value || tr.dataset.dataset === dataset.value) &&
        (kind.checked || !tr.classList.contains("published"));
      tr.hidden = !ok;
      if (ok) shown++;
    }
    count.textContent = shown + " of " + tbody.rows.length + " rows";
  };
  text.addEventListener("input", apply);
  dataset.addEventListener("change", apply);
  kind.addEventListener("change", apply);
  apply();
})();
`;

/**
 * Renders the whole leaderboard page.
 *
 * @example
 * ```ts
 * const html = renderLeaderboardHtml({ board, plots, embeddedPanels: new Map(), generatedAt: new Date() });
 * ```
 */
export function renderLeaderboardHtml(page: LeaderboardPage): string {
  const { board, plots } = page;
  const plotIndex = new Map(plots.map((p, i) => [p, i]));
  const datasets = [...new Set(board.rows.map((r) => r.dataset))];
  const summaryPlots = datasets.map((d) => {
    const bars = plots.filter((p) => p.kind === "bars" && p.scope === d);
    const pro = plots.filter((p) => p.kind === "pro" && p.scope === d);
    return `<h3>${escapeHtml(d)}</h3>` +
      `<div class="plots">${[...bars, ...pro].map((p) => figure(p, plotIndex.get(p)!)).join("")}</div>`;
  }).join("\n");
  const options = datasets.map((d) => `<option value="${escapeHtml(d)}">${escapeHtml(d)}</option>`).join("");
  const skipped = board.skipped.length > 0
    ? `<p class="notes">Not shown (unfinished): ${escapeHtml(board.skipped.join(", "))}.</p>`
    : "";
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>vtadl-bench leaderboard</title>
<style>${STYLE}</style>
</head>
<body>
<h1>vtadl-bench leaderboard</h1>
<p>From ${board.recordCount} completed run record(s); generated ${escapeHtml(page.generatedAt.toISOString())}.
Ours: mean ± sample std over seeds (n = runs; each <em>sN</em> links to the record of seed N, its SHA-256 in the
tooltip). Mean rows average the categories a method covers (k/n cat.), ± over seeds when every seed covers
every category. Published rows carry their source and verification tag; an empty cell has no record.
Machine-readable: <a href="results.json">results.json</a>.</p>
${skipped}
<h2 id="table-heading">Results</h2>
<div class="controls" role="search">
<label>Filter <input id="filter-text" type="search" placeholder="text in any cell"></label>
<label>Dataset <select id="filter-dataset"><option value="">all</option>${options}</select></label>
<label><input id="filter-published" type="checkbox" checked> published rows</label>
<span id="row-count" aria-live="polite"></span>
</div>
${tableHtml(board)}
<h2>Reproduced vs published, PRO curves</h2>
${summaryPlots}
<h2>Per cell: records, training loss, heat-map panels</h2>
${detailsHtml(page, plotIndex)}
<script>${SCRIPT}</script>
</body>
</html>
`;
}
