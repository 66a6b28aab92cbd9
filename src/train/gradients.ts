/**
 * Registers tfjs's gradient functions. `@tensorflow/tfjs-core`'s CommonJS build (what Deno loads) ships
 * without them, and its `dist/register_all_gradients` is extensionless ESM that Deno cannot load, so they
 * come from the union package `@tensorflow/tfjs` (same core version, same global engine). Import this
 * module for its side effect before computing gradients.
 *
 * @module
 */
import "@tensorflow/tfjs";
