/**
 * Small file-system helpers shared by the data layer, the trainer and the CLI.
 *
 * @module
 */

/** Whether `path` exists (file, folder or link); other errors than NotFound propagate. */
export async function pathExists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}
