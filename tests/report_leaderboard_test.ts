import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { readRunRecords } from "../src/runs/store.ts";
import type { RunRecord } from "../src/runs/record.ts";
import { writeReport } from "../src/report/write_report.ts";
import {
  buildLeaderboard,
  LEADERBOARD_RESULTS_SCHEMA,
  type LeaderboardResults,
  type LeaderboardRun,
  MEAN_CATEGORY,
  recordValues,
} from "../src/report/leaderboard_data.ts";
import { escapeHtml, scopeSvgIds } from "../src/report/leaderboard_html.ts";
import { barsSpec, methodColours, proSpec } from "../src/report/leaderboard_plots.ts";
import { PRO_CURVE_POINTS } from "../src/eval/metric_set.ts";
import { FASHION_MNIST_PUBLISHED, TABLE2_MNIST } from "../src/report/published.ts";
import { writeFakeRuns } from "./helpers/leaderboard_runs.ts";
import { findChromium, launchChromium } from "./helpers/chromium.ts";
import type { Page } from "playwright-core";

interface Fixture {
  out: string;
  runsDir: string;
  records: RunRecord[];
  html: string;
  results: LeaderboardResults;
}

let fixture: Promise<Fixture> | null = null;

/** The metric columns of the fixture's records, in display order. */
const METRIC_COLUMNS = ["image-AUROC", "AP", "PR-AUC/trap", "pixel-AUROC/all", "AU-PRO@0.3"];

/**
 * One report for every test: 18 synthetic records (2 categories × 3 models × 3 seeds) and 4 MNIST
 * records (2 digits × VT-ADL × 2 seeds, so that published rows appear), from the real pipeline.
 */
function reportFixture(): Promise<Fixture> {
  fixture ??= (async () => {
    const out = await Deno.makeTempDir({ prefix: "leaderboard_" });
    globalThis.addEventListener("unload", () => Deno.removeSync(out, { recursive: true }));
    const runsDir = await writeFakeRuns(out);
    await writeFakeRuns(out, { dataset: "mnist", categories: ["0", "1"], models: ["vtadl"], seeds: [0, 1] });
    await writeReport({ runsDir, outDir: out });
    const { records } = await readRunRecords(runsDir);
    return {
      out,
      runsDir,
      records,
      html: await Deno.readTextFile(join(out, "leaderboard", "index.html")),
      results: JSON.parse(await Deno.readTextFile(join(out, "leaderboard", "results.json"))),
    };
  })();
  return fixture;
}

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** Runs whose records are the ones given, with placeholder paths. */
function asRuns(records: RunRecord[]): LeaderboardRun[] {
  return records.map((record) => ({
    record,
    path: `../runs/${record.runId}/result.json`,
    sha256: "0".repeat(64),
  }));
}

Deno.test("leaderboard rows are dataset × category × method with mean ± std over the seeds' records", async () => {
  const { records } = await reportFixture();
  const board = buildLeaderboard(asRuns(records));
  const ours = board.rows.filter((r) => r.kind === "ours" && r.category !== MEAN_CATEGORY);
  assert.equal(ours.length, 2 * 3 + 2 * 1);
  assert.equal(new Set(ours.map((r) => r.id)).size, ours.length, "row ids are unique");
  for (const row of ours) {
    const recs = records.filter((r) =>
      r.dataset.name === row.dataset && r.dataset.category === row.category &&
      row.methodId.startsWith(`${r.model}/`)
    );
    assert.equal(row.runs.length, recs.length);
    const auroc = recs.sort((a, b) => a.seed - b.seed).map((r) =>
      r.metrics.find((m) => m.key === "imageAuroc")!.value
    );
    const cell = row.cells["image-AUROC"];
    assert.deepEqual(cell.values, auroc);
    assert.ok(Math.abs(cell.mean - mean(auroc)) < 1e-12);
    const std = Math.sqrt(auroc.reduce((a, v) => a + (v - mean(auroc)) ** 2, 0) / (auroc.length - 1));
    assert.ok(Math.abs(cell.std - std) < 1e-12);
  }
  // pixel AUROC and the VT-ADL code's "PRO" are one number: one column by variant name; the metrics come
  // first (fields other work adds to records follow them)
  assert.deepEqual(board.columns.slice(0, 5), METRIC_COLUMNS);
});

Deno.test("leaderboard cells link every record they came from with its path and SHA-256", async () => {
  const { html, out, records } = await reportFixture();
  for (const r of records) {
    const file = join(out, "runs", r.runId, "result.json");
    const hash = sha256(await Deno.readFile(file));
    assert.ok(html.includes(`href="../runs/${r.runId}/result.json"`), `link to ${r.runId}`);
    assert.ok(html.includes(`data-sha256="${hash}"`), `hash of ${r.runId}`);
  }
});

Deno.test("a metric without a record is an empty cell, never filled in", async () => {
  const { records } = await reportFixture();
  // An image-only record (no masks, as MNIST in the paper): no pixel metrics.
  const imageOnly = records.filter((r) => r.dataset.name === "synthetic" && r.model === "ae-mse").map((
    r,
  ) => ({
    ...r,
    metrics: r.metrics.filter((m) => m.key === "imageAuroc"),
  }));
  const board = buildLeaderboard(asRuns(imageOnly));
  assert.ok(board.rows.length > 0);
  for (const row of board.rows) {
    assert.ok(row.cells["image-AUROC"]);
    for (const column of METRIC_COLUMNS.slice(1)) assert.equal(row.cells[column], undefined, column);
  }
  assert.ok(!board.columns.some((c) => METRIC_COLUMNS.slice(1).includes(c)));
});

Deno.test("published values appear as rows beside ours, with source and tag", async () => {
  const { records } = await reportFixture();
  const board = buildLeaderboard(asRuns(records));
  const published = board.rows.filter((r) =>
    r.kind === "published" && r.dataset === "mnist" && r.category !== MEAN_CATEGORY
  );
  // Table II: every published column has a value for digits 0 and 1
  assert.equal(published.length, 2 * TABLE2_MNIST.columns.length);
  const vtadl = published.find((r) => r.category === "0" && r.methodId === "published:vtadl")!;
  const column = TABLE2_MNIST.columns.find((c) => c.id === "vtadl")!;
  assert.equal(vtadl.cells["image-AUROC"].mean, column.values["0"]);
  assert.equal(vtadl.source, column.source);
  assert.deepEqual(vtadl.cells["image-AUROC"].runs, []);
  assert.equal(board.rows.filter((r) => r.kind === "published" && r.dataset === "synthetic").length, 0);
});

Deno.test("a mean row averages the categories a method covers, ± over per-seed means, and says its coverage", async () => {
  const { records } = await reportFixture();
  const board = buildLeaderboard(asRuns(records));
  const rowsOf = (category: string) =>
    board.rows.filter((r) =>
      r.dataset === "synthetic" && r.category === category && r.methodId.startsWith("vtadl/")
    );
  const [alpha] = rowsOf("alpha"), [beta] = rowsOf("beta"), [meanRow] = rowsOf(MEAN_CATEGORY);
  const cell = meanRow.cells["AU-PRO@0.3"];
  const a = alpha.cells["AU-PRO@0.3"], b = beta.cells["AU-PRO@0.3"];
  assert.deepEqual(cell.values, [a.mean, b.mean]);
  assert.ok(Math.abs(cell.mean - (a.mean + b.mean) / 2) < 1e-12);
  const perSeed = a.values.map((v, i) => (v + b.values[i]) / 2);
  const m = mean(perSeed);
  const std = Math.sqrt(perSeed.reduce((s, v) => s + (v - m) ** 2, 0) / (perSeed.length - 1));
  assert.ok(Math.abs(cell.std - std) < 1e-12);
  // the synthetic dataset has 3 categories of its own; alpha and beta make 5 rows
  assert.deepEqual(cell.coverage, { categories: 2, of: 5 });
  assert.equal(cell.runs.length, 6);

  // one seed missing in one category: no ± (the per-seed means would not be comparable)
  const partial = records.filter((r) => !(r.dataset.category === "beta" && r.seed === 2));
  const [partialMean] = buildLeaderboard(asRuns(partial)).rows.filter((r) =>
    r.dataset === "synthetic" && r.category === MEAN_CATEGORY && r.methodId.startsWith("vtadl/")
  );
  assert.equal(partialMean.cells["AU-PRO@0.3"].std, 0);
});

Deno.test("a dataset whose sources print only means gets published mean rows marked as such", async () => {
  const { records } = await reportFixture();
  const fashion = records.filter((r) => r.dataset.name === "mnist").map((r) => ({
    ...r,
    dataset: { ...r.dataset, name: "fashion-mnist" as const },
  }));
  const board = buildLeaderboard(asRuns(fashion));
  const published = board.rows.filter((r) => r.kind === "published");
  assert.equal(published.length, FASHION_MNIST_PUBLISHED.columns.length, "means only: no per-class rows");
  for (const row of published) {
    assert.equal(row.category, MEAN_CATEGORY);
    const col = FASHION_MNIST_PUBLISHED.columns.find((c) => `published:${c.id}` === row.methodId)!;
    assert.equal(row.cells["image-AUROC"].mean, col.printedMean);
    assert.match(row.cells["image-AUROC"].publishedMetric!, /printed mean only$/);
  }
});

Deno.test("record fields outside the base schema become columns: metric variants by name, numbers by path", async () => {
  const { records } = await reportFixture();
  const extended = {
    ...records[0],
    efficiency: {
      protocol: { name: "smoke", warmupRuns: 1, timedRuns: 3, batchSize: 8 },
      parameters: 1234,
      latencyMs: { median: 12.5, mean: 13 },
      backend: "cpu",
    },
    dialectValues: [{ variant: "au-pro/ader-200", definition: "AU-PRO@0.3", value: 0.61, label: "x" }],
    breakdowns: { integrationLimit: 0.3, rows: [{ defectType: "crack", imageAuroc: 0.9 }] },
  };
  const values = recordValues(extended as RunRecord);
  assert.equal(values.get("efficiency.parameters"), 1234);
  assert.equal(values.get("efficiency.latencyMs.median"), 12.5);
  assert.equal(values.get("au-pro/ader-200"), 0.61);
  const extras = [...values.keys()].filter((k) => !records[0].metrics.some((m) => m.definition === k));
  assert.deepEqual(extras.sort(), [
    "au-pro/ader-200",
    "efficiency.latencyMs.mean",
    "efficiency.latencyMs.median",
    "efficiency.parameters",
  ], "no settings (protocol, integrationLimit), strings or per-defect rows");
  assert.equal(values.has("seed"), false, "base fields are not metrics");
  const board = buildLeaderboard(asRuns([extended as RunRecord]));
  assert.ok(board.columns.includes("efficiency.parameters") && board.columns.includes("au-pro/ader-200"));
});

Deno.test("results.json has one entry per dataset, category, method and metric, with its runs", async () => {
  const { results, records, out } = await reportFixture();
  assert.equal(results.schema, LEADERBOARD_RESULTS_SCHEMA);
  assert.equal(results.recordCount, records.length);
  const keys = results.entries.map((e) => `${e.dataset}|${e.category}|${e.methodId}|${e.metric}`);
  assert.equal(new Set(keys).size, keys.length, "no duplicate entry");
  const ours = results.entries.filter((e) => e.kind === "ours");
  assert.equal(
    ours.filter((e) => METRIC_COLUMNS.includes(e.metric)).length,
    (6 + 2 + 3 + 1) * 5,
    "category and mean rows × 5 metrics",
  );
  for (const e of ours) {
    assert.equal(e.n, e.runs.length);
    assert.equal(e.coverage === null, e.category !== MEAN_CATEGORY);
    assert.equal(e.source, null);
    for (const run of e.runs) {
      const bytes = await Deno.readFile(join(out, "leaderboard", run.path));
      assert.equal(sha256(bytes), run.sha256);
    }
  }
  const pub = results.entries.filter((e) => e.kind === "published");
  assert.ok(pub.length > 0 && pub.every((e) => e.source !== null && e.runs.length === 0 && e.n === 1));
});

Deno.test("run records keep the PRO curve from FPR 0 past the AU-PRO limit, at most a few hundred points", async () => {
  const { records } = await reportFixture();
  for (const r of records) {
    const curve = r.curves?.pro;
    assert.ok(curve, `${r.runId} has a PRO curve`);
    assert.equal(curve.fpr.length, curve.pro.length);
    assert.ok(curve.fpr.length >= 2 && curve.fpr.length <= PRO_CURVE_POINTS);
    assert.equal(curve.fpr[0], 0);
    assert.ok(curve.fpr.at(-1)! > curve.integrationLimit || curve.pro.at(-1) === 1);
    for (let i = 1; i < curve.fpr.length; i++) assert.ok(curve.fpr[i] >= curve.fpr[i - 1]);
  }
});

Deno.test("a method has one colour in every plot, ours before published", async () => {
  const { records } = await reportFixture();
  const board = buildLeaderboard(asRuns(records));
  const colours = methodColours(board);
  const mnist = board.rows.filter((r) => r.dataset === "mnist");
  const colourIn = (spec: unknown, method: string) => {
    const text = JSON.stringify(spec);
    const scale = JSON.parse(text.match(/"scale":(\{"domain":\[[^\]]*\],"range":\[[^\]]*\]\})/)![1]);
    return scale.range[scale.domain.indexOf(method)];
  };
  const ours = mnist.find((r) => r.kind === "ours")!.method;
  const bars = barsSpec("mnist", "image-AUROC", mnist, colours);
  const pro = proSpec("mnist 0", mnist.filter((r) => r.kind === "ours" && r.category === "0"), colours);
  assert.equal(colourIn(bars, ours), colours.get(ours));
  assert.equal(colourIn(pro, ours), colours.get(ours));
  const order = [...colours.keys()];
  const firstPublished = order.findIndex((m) => m.endsWith("(published)"));
  assert.ok(order.slice(0, firstPublished).every((m) => !m.endsWith("(published)")));
});

Deno.test("inline SVG ids are made unique per plot", () => {
  const svg = '<svg><clipPath id="clip1"/><g clip-path="url(#clip1)"/><use href="#clip1"/></svg>';
  assert.equal(
    scopeSvgIds(svg, "p3"),
    '<svg><clipPath id="p3-clip1"/><g clip-path="url(#p3-clip1)"/><use href="#p3-clip1"/></svg>',
  );
  assert.equal(escapeHtml(`<a href="x">&'`), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
});

/**
 * Evaluates a JavaScript expression in the page (a string: the test is type-checked without DOM types).
 * `visibleRows()` is the table's shown rows.
 */
function inPage<T>(page: Page, expression: string): Promise<T> {
  return page.evaluate(
    `(() => { const visibleRows = () => [...document.querySelectorAll("#leaderboard tbody tr:not([hidden])")]; return ${expression}; })()`,
  ) as Promise<T>;
}

const chromiumPath = await findChromium();
if (!chromiumPath) {
  console.log(
    "report_leaderboard_test: skipping the browser test: no chromium found (apt-get install chromium, or set CHROMIUM_PATH)",
  );
}

Deno.test({
  name:
    "the leaderboard page loads without errors, sorts and filters by keyboard, shows plots and resolves links",
  ignore: !chromiumPath,
  // playwright keeps its pipe to the browser process across the test's awaits
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const { out, records } = await reportFixture();
    const rowCount = buildLeaderboard(asRuns(records)).rows.length;
    const pageUrl = new URL(`file://${join(out, "leaderboard", "index.html")}`);
    const browser = await launchChromium(chromiumPath!);
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      // a loaded CI machine can take longer than playwright's 30 s default for a full-page screenshot
      page.setDefaultTimeout(180_000);
      const errors: string[] = [];
      page.on("console", (m) => {
        if (m.type() === "error" || m.type() === "warning") errors.push(`${m.type()}: ${m.text()}`);
      });
      page.on("pageerror", (e) => errors.push(`page error: ${e.message}`));
      page.on("requestfailed", (r) => errors.push(`request failed: ${r.url()}`));
      await page.goto(pageUrl.href);
      const shot = Deno.env.get("LEADERBOARD_SCREENSHOT");
      if (shot) await page.screenshot({ path: shot, fullPage: true });

      // sort by image-AUROC with the header button: ascending, then descending
      const header = page.locator("th", { hasText: "image-AUROC" });
      const column = await inPage<number>(
        page,
        `[...document.querySelectorAll("#leaderboard thead th")].findIndex((th) => th.textContent.trim() === "image-AUROC")`,
      );
      assert.ok(column > 0);
      const values = () =>
        inPage<string[]>(page, `visibleRows().map((tr) => tr.cells[${column}].dataset.value)`);
      await header.locator("button").click();
      assert.equal(await header.getAttribute("aria-sort"), "ascending");
      const asc = (await values()).map(Number);
      assert.equal(asc.length, rowCount);
      assert.deepEqual(asc, [...asc].sort((a, b) => a - b));
      await header.locator("button").click();
      assert.equal(await header.getAttribute("aria-sort"), "descending");
      const desc = (await values()).map(Number);
      assert.deepEqual(desc, [...asc].reverse());

      // by keyboard: focus the "method" header button and press Enter
      const method = page.locator("th", { hasText: /^method$/ });
      await method.locator("button").focus();
      await page.keyboard.press("Enter");
      assert.equal(await method.getAttribute("aria-sort"), "ascending");
      assert.equal(await header.getAttribute("aria-sort"), "none");
      const methods = await inPage<string[]>(page, "visibleRows().map((tr) => tr.cells[2].dataset.value)");
      assert.deepEqual(methods, [...methods].sort((a, b) => a.localeCompare(b)));

      // filter: dataset select and text
      await page.selectOption("#filter-dataset", "mnist");
      const datasets = await inPage<string[]>(page, "visibleRows().map((tr) => tr.dataset.dataset)");
      assert.ok(datasets.length > 0 && datasets.every((d) => d === "mnist"));
      await page.selectOption("#filter-dataset", "");
      await page.fill("#filter-text", "AE MSE+SSIM");
      assert.equal(await page.locator("#leaderboard tbody tr:not([hidden])").count(), 3, "alpha, beta, mean");
      await page.fill("#filter-text", "");

      // every plot has rendered marks with geometry
      const plots = await inPage<{ kind: string; marks: number }[]>(
        page,
        `[...document.querySelectorAll("figure.plot")].map((f) => ({
          kind: f.dataset.kind,
          marks: [...f.querySelectorAll("svg g.role-mark path, svg g.role-mark line, svg g.role-mark rect")]
            .filter((m) => { const b = m.getBBox(); return b.width > 0 || b.height > 0; }).length,
        }))`,
      );
      // bars: synthetic + mnist; PRO: 2 + 2 categories; loss: 8 rows of ours
      assert.equal(plots.filter((p) => p.kind === "bars").length, 2);
      assert.equal(plots.filter((p) => p.kind === "pro").length, 4);
      assert.equal(plots.filter((p) => p.kind === "loss").length, 8);
      for (const p of plots) assert.ok(p.marks > 0, `${p.kind} plot has marks`);

      // panels: the embedded ones decoded; the others are files beside the page (lazy, checked below)
      const embedded = await inPage<boolean[]>(
        page,
        `[...document.images].filter((i) => i.src.startsWith("data:")).map((i) => i.complete && i.naturalWidth > 0)`,
      );
      assert.equal(embedded.length, 8, "one embedded panel per row of ours");
      assert.ok(embedded.every((ok) => ok));

      // every link resolves to an existing file
      const hrefs = await inPage<string[]>(
        page,
        `[...document.querySelectorAll("a[href]")].map((a) => a.href)
          .concat([...document.images].map((i) => i.src).filter((src) => !src.startsWith("data:")))`,
      );
      assert.ok(hrefs.length > 0);
      for (const href of new Set(hrefs)) {
        const url = new URL(href);
        assert.equal(url.protocol, "file:", `${href} is a local file`);
        const stat = await Deno.stat(fileURLToPath(url)).catch(() => null);
        assert.ok(stat?.isFile, `${href} exists`);
      }

      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
    }
  },
});
