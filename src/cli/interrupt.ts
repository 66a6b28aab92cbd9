/**
 * Ctrl-C (and SIGTERM) for long-running commands: the first one asks the work to stop after the current
 * training step (its state is checkpointed, so nothing is lost); a second one quits at once.
 *
 * The first signal is handled in JavaScript, so it takes effect when the current step returns to the
 * event loop. Its handler then hands the signals back to the system's default action, so a second one
 * ends the process immediately, even in the middle of a long synchronous step.
 *
 * @module
 */

/** A listener for the first interrupt; dispose it when the work is done. */
export interface InterruptListener {
  /** Aborted on the first interrupt. */
  signal: AbortSignal;
  /** Removes the signal listeners (if the first interrupt has not already). */
  dispose(): void;
}

/**
 * Listens for SIGINT and SIGTERM: the first aborts `signal` and says so on stderr; after it, the next one
 * terminates the process at once (exit status 130 for Ctrl-C).
 *
 * @example
 * ```ts
 * const interrupt = listenForInterrupt("train");
 * try { await trainModel({ ..., signal: interrupt.signal }); } finally { interrupt.dispose(); }
 * ```
 */
export function listenForInterrupt(command: string): InterruptListener {
  const controller = new AbortController();
  const names: Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT"] : ["SIGINT", "SIGTERM"];
  const added: Deno.Signal[] = [];
  const dispose = () => {
    for (const name of added.splice(0)) Deno.removeSignalListener(name, onSignal);
  };
  function onSignal() {
    // Without listeners the default action applies again: the next Ctrl-C or SIGTERM ends the process.
    dispose();
    console.error(
      `\n${command}: interrupt received; stopping after the current training step and saving a checkpoint ` +
        "(press Ctrl-C again to quit at once)",
    );
    controller.abort();
  }
  for (const name of names) {
    try {
      Deno.addSignalListener(name, onSignal);
      added.push(name);
    } catch {
      // signal unavailable on this platform: no graceful interrupt for it
    }
  }
  return { signal: controller.signal, dispose };
}
