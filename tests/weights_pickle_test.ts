import assert from "node:assert/strict";
import { type GlobalHandler, PickleError, PickleTuple, restrictedUnpickle } from "../src/weights/pickle.ts";

/** Assembles pickle bytes from opcodes (numbers) and latin-1 text (strings). */
function pk(...parts: (number | string)[]): Uint8Array {
  const out: number[] = [];
  for (const p of parts) {
    if (typeof p === "number") out.push(p);
    else for (const ch of p) out.push(ch.charCodeAt(0));
  }
  return Uint8Array.from(out);
}

/** BINUNICODE of an ASCII string. */
function str(s: string): (number | string)[] {
  return [0x58, s.length, 0, 0, 0, s];
}

const none = new Map<string, GlobalHandler>();

Deno.test("pickle: plain data opcodes build tuples, lists, dicts, numbers and strings", () => {
  // {'a': (1, -2, 300, 70000, True, None), 'b': [1.5, b'xy'], 'c': 2**70}
  const bytes = pk(
    0x80,
    2,
    0x7d,
    0x71,
    0, // PROTO 2, EMPTY_DICT, BINPUT 0
    0x28, // MARK
    ...str("a"),
    0x28,
    0x4b,
    1,
    0x4a,
    0xfe,
    0xff,
    0xff,
    0xff,
    0x4d,
    0x2c,
    0x01,
    0x4a,
    0x70,
    0x11,
    0x01,
    0x00,
    0x88,
    0x4e,
    0x74,
    ...str("b"),
    0x5d,
    0x28,
    0x47,
    0x3f,
    0xf8,
    0,
    0,
    0,
    0,
    0,
    0,
    0x43,
    2,
    "xy",
    0x65, // EMPTY_LIST, MARK, BINFLOAT, SHORT_BINBYTES, APPENDS
    ...str("c"),
    0x8a,
    9,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0x40, // LONG1 2**70
    0x75,
    0x2e, // SETITEMS, STOP
  );
  const value = restrictedUnpickle(bytes, { globals: none, source: "t.pkl" }) as Map<string, unknown>;
  assert.ok(value instanceof Map);
  const a = value.get("a") as PickleTuple;
  assert.ok(a instanceof PickleTuple);
  assert.deepEqual(a.items, [1, -2, 300, 70000, true, null]);
  const b = value.get("b") as unknown[];
  assert.equal(b[0], 1.5);
  assert.deepEqual(Array.from(b[1] as Uint8Array), [0x78, 0x79]);
  assert.equal(value.get("c"), 2n ** 70n);
});

Deno.test("pickle: the memo returns the same object (BINPUT/BINGET, MEMOIZE)", () => {
  // x = []; (x, x) with protocol 4 MEMOIZE
  const bytes = pk(0x80, 4, 0x5d, 0x94, 0x68, 0, 0x86, 0x2e);
  const t = restrictedUnpickle(bytes, { globals: none, source: "t.pkl" }) as PickleTuple;
  assert.equal(t.items[0], t.items[1]);
});

Deno.test("pickle: a global outside the allowed table is refused and nothing is called", () => {
  let called = 0;
  const globals = new Map<string, GlobalHandler>([["collections.OrderedDict", {
    call: () => (called++, new Map()),
  }]]);
  // os.system('id') as pickle.dumps writes it (protocol 2), followed by an allowed call that must not run.
  const bytes = pk(0x80, 2, "cposix\nsystem\n", 0x71, 0, ...str("id"), 0x85, 0x52, 0x2e);
  assert.throws(
    () => restrictedUnpickle(bytes, { globals, source: "evil.pkl" }),
    (e: Error) =>
      e instanceof PickleError && /evil\.pkl: refusing global 'posix\.system'/.test(e.message) &&
      /nothing in it was executed/.test(e.message) && /collections\.OrderedDict/.test(e.message),
  );
  const later = pk(0x80, 2, "ccollections\nOrderedDict\n", 0x29, 0x52, 0x30, "cbuiltins\neval\n", 0x2e);
  assert.throws(
    () => restrictedUnpickle(later, { globals, source: "x" }),
    /refusing global 'builtins\.eval'/,
  );
  assert.equal(called, 1); // only the allowed call that came before the refused global
});

Deno.test("pickle: STACK_GLOBAL (protocol 4) is checked against the same table", () => {
  const bytes = pk(0x80, 4, 0x8c, 8, "builtins", 0x8c, 4, "exec", 0x93, 0x2e);
  assert.throws(
    () => restrictedUnpickle(bytes, { globals: none, source: "s" }),
    /refusing global 'builtins\.exec'/,
  );
});

Deno.test("pickle: object-building opcodes outside the data subset are refused by name", () => {
  assert.throws(
    () => restrictedUnpickle(pk(0x80, 2, 0x28, "ios\nsystem\n", 0x2e), { globals: none, source: "i" }),
    /refusing opcode INST/,
  );
  assert.throws(
    () => restrictedUnpickle(pk(0x80, 2, 0x4e, 0x29, 0x81, 0x2e), { globals: none, source: "n" }),
    /refusing opcode NEWOBJ/,
  );
  assert.throws(
    () => restrictedUnpickle(pk(0x80, 2, 0x82, 1, 0x2e), { globals: none, source: "e" }),
    /refusing opcode EXT1/,
  );
});

Deno.test("pickle: REDUCE on a referenced-only global, BUILD without a handler and bad memo reads fail", () => {
  const globals = new Map<string, GlobalHandler>([["torch.FloatStorage", {}]]);
  assert.throws(
    () =>
      restrictedUnpickle(pk(0x80, 2, "ctorch\nFloatStorage\n", 0x29, 0x52, 0x2e), { globals, source: "r" }),
    /'torch\.FloatStorage' may be referenced but not called/,
  );
  assert.throws(
    () => restrictedUnpickle(pk(0x80, 2, 0x7d, 0x7d, 0x62, 0x2e), { globals, source: "b" }),
    /BUILD on a value whose type accepts no state/,
  );
  assert.throws(
    () => restrictedUnpickle(pk(0x80, 2, 0x68, 3, 0x2e), { globals, source: "g" }),
    /memo entry 3 read before it was written/,
  );
});

Deno.test("pickle: truncated input and a missing STOP are errors, not partial values", () => {
  assert.throws(
    () => restrictedUnpickle(pk(0x80, 2, 0x58, 10, 0, 0, 0, "ab"), { globals: none, source: "t" }),
    /truncated/,
  );
  assert.throws(() => restrictedUnpickle(pk(0x80, 2, 0x4e), { globals: none, source: "t" }), /no STOP/);
  assert.throws(
    () => restrictedUnpickle(pk(0x80, 2, 0xff, 0x2e), { globals: none, source: "t" }),
    /unknown opcode 0xff/,
  );
});

Deno.test("pickle: persistent ids go to persistentLoad and are refused without one", () => {
  const bytes = pk(0x80, 2, ...str("k"), 0x51, 0x2e);
  assert.equal(
    restrictedUnpickle(bytes, { globals: none, source: "p", persistentLoad: (pid) => `loaded:${pid}` }),
    "loaded:k",
  );
  assert.throws(
    () => restrictedUnpickle(bytes, { globals: none, source: "p" }),
    /persistent ids are not allowed/,
  );
});
