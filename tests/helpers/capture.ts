/**
 * Test helper: runs the CLI in-process and captures what it prints.
 *
 * @module
 */
import { main } from "../../main.ts";

/** Runs `main(argv)`, returning its exit code and what it wrote with console.log / console.error. */
export async function captureMain(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const log = console.log, error = console.error;
  const out: string[] = [], err: string[] = [];
  console.log = (...a: unknown[]) => out.push(a.join(" "));
  console.error = (...a: unknown[]) => err.push(a.join(" "));
  try {
    return { code: await main(argv), stdout: out.join("\n"), stderr: err.join("\n") };
  } finally {
    console.log = log;
    console.error = error;
  }
}
