/**
 * The project documents itself: every `docs/…` file that code, tests, benchmarks or the README cite must
 * exist, and every section they cite (`docs/x.md §3`, `docs/x.md §4.2–4.3`) must be a heading of it.
 */
import assert from "node:assert/strict";
import { join, relative } from "node:path";

const root = new URL("..", import.meta.url).pathname;

async function* sourceFiles(dir: string): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) yield* sourceFiles(path);
    else if (/\.(ts|md)$/.test(entry.name)) yield path;
  }
}

/** Every `docs/…` citation: file, optional section numbers, and where it is. */
async function citations(): Promise<{ file: string; sections: string[]; where: string }[]> {
  const found = [];
  const files = [join(root, "README.md"), join(root, "main.ts")];
  for (const dir of ["src", "tests", "benchmarks", "docs"]) {
    for await (const f of sourceFiles(join(root, dir))) files.push(f);
  }
  for (const path of files) {
    const text = await Deno.readTextFile(path);
    for (
      const m of text.matchAll(/docs\/([A-Za-z0-9_.-]+\.md)`?((?:,? (?:and )?§[0-9.]+(?:[–-][0-9.]+)?)*)/g)
    ) {
      if (path.endsWith("docs_test.ts")) continue;
      const sections = [...m[2].matchAll(/§([0-9.]+)/g)].map((s) => s[1].replace(/\.$/, ""));
      found.push({ file: m[1], sections, where: relative(root, path) });
    }
  }
  return found;
}

Deno.test("every docs/ file the code and the README cite exists, with the sections they cite", async () => {
  const cited = await citations();
  assert.ok(cited.length > 20, `only ${cited.length} citations found`);
  for (const { file, sections, where } of cited) {
    let text: string;
    try {
      text = await Deno.readTextFile(join(root, "docs", file));
    } catch {
      throw new Error(`${where} cites docs/${file}, which does not exist`);
    }
    for (const section of sections) {
      const heading = new RegExp(`^#{2,3} ${section.replaceAll(".", "\\.")}\\.? `, "m");
      assert.match(text, heading, `${where} cites docs/${file} §${section}`);
    }
  }
});

Deno.test("the project docs cover architecture, the original code, metrics, datasets and published numbers", async () => {
  for (const name of ["architecture", "original-code", "metrics", "datasets", "published-results"]) {
    const text = await Deno.readTextFile(join(root, "docs", `${name}.md`));
    assert.match(text, /^# /, name);
  }
  const architecture = await Deno.readTextFile(join(root, "docs", "architecture.md"));
  for (const layer of ["src/core/", "src/runs/", "src/pipeline/", "src/metrics/", "src/cli/"]) {
    assert.ok(architecture.includes(layer), `the layer diagram names ${layer}`);
  }
  // The README links the docs.
  const readme = await Deno.readTextFile(join(root, "README.md"));
  for (const name of ["architecture", "original-code", "metrics", "datasets"]) {
    assert.ok(readme.includes(`docs/${name}.md`), `README links docs/${name}.md`);
  }
});

Deno.test("relative links between the docs resolve", async () => {
  for await (const path of sourceFiles(join(root, "docs"))) {
    const text = await Deno.readTextFile(path);
    for (const m of text.matchAll(/\]\(([A-Za-z0-9_.-]+\.md)\)/g)) {
      await Deno.stat(join(root, "docs", m[1])).catch(() => {
        throw new Error(`${relative(root, path)} links ${m[1]}, which does not exist`);
      });
    }
  }
});
