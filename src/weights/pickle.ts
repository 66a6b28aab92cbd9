/**
 * A restricted Python pickle interpreter for files that are data, such as a PyTorch state_dict.
 *
 * A pickle is a program: its `GLOBAL` opcode imports any Python callable and `REDUCE` calls it, which is
 * how a malicious `.pt` file runs code under `torch.load`. This interpreter executes only the opcodes that
 * build plain data (numbers, strings, bytes, tuples, lists, dicts, the memo) and resolves a global only
 * through a table the caller supplies; a global outside the table, or an opcode outside the data subset
 * (`INST`, `OBJ`, `NEWOBJ`, extension codes, out-of-band buffers, …), stops the read with an error that
 * names it. Nothing a file says is ever looked up, imported or run.
 *
 * Opcode semantics follow CPython's `Lib/pickle.py` / `pickletools` (protocols 0–5, data subset).
 *
 * @module
 */

/** A Python tuple (kept distinct from a list, which is a JS array). */
export class PickleTuple {
  constructor(readonly items: PickleValue[]) {}
}

/** A global the caller allowed, as the stack holds it before `REDUCE` calls it. */
export class PickleGlobal {
  constructor(readonly module: string, readonly name: string, readonly handler: GlobalHandler) {}
  /** `module.name`. */
  get qualifiedName(): string {
    return `${this.module}.${this.name}`;
  }
}

/** A value the interpreter produces. `object` covers values built by the caller's handlers. */
export type PickleValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | PickleValue[]
  | PickleTuple
  | Map<PickleValue, PickleValue>
  | PickleGlobal
  | object;

/** What an allowed global may do. A handler without `call` can only be referenced (e.g. a storage type). */
export interface GlobalHandler {
  /** `REDUCE`: the value of calling the global with `args`. Must not have side effects. */
  call?(args: PickleValue[]): PickleValue;
  /** `BUILD` on a value this global's `call` returned: apply `state`, return the (possibly new) value. */
  build?(value: PickleValue, state: PickleValue): PickleValue;
}

/** Options of {@linkcode restrictedUnpickle}. */
export interface UnpickleOptions {
  /** Allowed globals by `module.name`. Every other global is refused. */
  globals: ReadonlyMap<string, GlobalHandler>;
  /** `BINPERSID`/`PERSID`: resolves a persistent id (PyTorch: a storage reference). Refused when absent. */
  persistentLoad?: (pid: PickleValue) => PickleValue;
  /** Name used in error messages (usually `file.pt:data.pkl`). */
  source: string;
}

/** The pickle is malformed, truncated, or asks for something outside the data subset. */
export class PickleError extends Error {
  override name = "PickleError";
}

/** Opcodes that exist in the pickle format but are refused here, with what they would do. */
const REFUSED_OPCODES: Record<number, string> = {
  0x69: "INST (instantiate a class by name)",
  0x6f: "OBJ (instantiate a class)",
  0x81: "NEWOBJ (cls.__new__)",
  0x92: "NEWOBJ_EX (cls.__new__)",
  0x82: "EXT1 (extension registry)",
  0x83: "EXT2 (extension registry)",
  0x84: "EXT4 (extension registry)",
  0x97: "NEXT_BUFFER (out-of-band buffer)",
  0x98: "READONLY_BUFFER (out-of-band buffer)",
  0x96: "BYTEARRAY8",
  0x8f: "EMPTY_SET",
  0x90: "ADDITEMS",
  0x91: "FROZENSET",
  0x56: "UNICODE (protocol 0 text)",
  0x53: "STRING (protocol 0 text)",
};

/**
 * Runs a pickle in the data subset and returns the value `STOP` leaves. Globals resolve only through
 * `options.globals`; anything else throws a {@linkcode PickleError} before any handler runs.
 *
 * @example
 * ```ts
 * // (1, 'a') pickled with protocol 2
 * const bytes = new Uint8Array([0x80, 2, 0x4b, 1, 0x8c, 1, 0x61, 0x86, 0x2e]);
 * const value = restrictedUnpickle(bytes, { globals: new Map(), source: "x.pkl" }); // PickleTuple [1, "a"]
 * ```
 */
export function restrictedUnpickle(bytes: Uint8Array, options: UnpickleOptions): PickleValue {
  const { source } = options;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const stack: PickleValue[] = [];
  const metastack: PickleValue[][] = []; // CPython's MARK: the stack below a mark
  const memo = new Map<number, PickleValue>();
  /** Values produced by an allowed global's `call`, so that `BUILD` finds their handler. */
  const builtBy = new WeakMap<object, GlobalHandler>();
  let pos = 0;
  let opStart = 0;

  const fail = (what: string): never => {
    throw new PickleError(`${source}: ${what} (at byte ${opStart})`);
  };
  const need = (n: number): void => {
    if (pos + n > bytes.length) fail(`truncated: needs ${n} more bytes, file ends at byte ${bytes.length}`);
  };
  const u8 = (): number => {
    need(1);
    return bytes[pos++];
  };
  const u16 = (): number => {
    need(2);
    const v = view.getUint16(pos, true);
    pos += 2;
    return v;
  };
  const u32 = (): number => {
    need(4);
    const v = view.getUint32(pos, true);
    pos += 4;
    return v;
  };
  const u64 = (): number => {
    need(8);
    const v = view.getBigUint64(pos, true);
    pos += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) fail(`length ${v} is too large`);
    return Number(v);
  };
  const take = (n: number): Uint8Array => {
    need(n);
    const out = bytes.subarray(pos, pos + n);
    pos += n;
    return out;
  };
  const line = (): string => {
    const end = bytes.indexOf(0x0a, pos);
    if (end < 0) fail("truncated: a text argument has no terminating newline");
    const text = new TextDecoder("latin1").decode(bytes.subarray(pos, end));
    pos = end + 1;
    return text;
  };
  const utf8 = (raw: Uint8Array): string => {
    try {
      return new TextDecoder("utf-8", { fatal: true }).decode(raw);
    } catch {
      return fail("a string is not valid UTF-8");
    }
  };
  const pop = (): PickleValue => {
    if (stack.length === 0) fail("stack underflow");
    return stack.pop()!;
  };
  const top = (): PickleValue => {
    if (stack.length === 0) fail("stack underflow");
    return stack[stack.length - 1];
  };
  const popMark = (): PickleValue[] => {
    if (metastack.length === 0) fail("no MARK to pop to");
    const items = stack.splice(0);
    stack.push(...metastack.pop()!);
    return items;
  };
  const global = (module: string, name: string): PickleGlobal => {
    const qualified = `${module}.${name}`;
    const handler = options.globals.get(qualified);
    if (!handler) {
      const allowed = [...options.globals.keys()].join(", ");
      fail(
        `refusing global '${qualified}': this file may only name ${allowed}; ` +
          "it is not a plain state_dict, and nothing in it was executed",
      );
    }
    return new PickleGlobal(module, name, handler!);
  };
  const memoGet = (index: number): PickleValue => {
    if (!memo.has(index)) fail(`memo entry ${index} read before it was written`);
    return memo.get(index)!;
  };
  const setItems = (target: PickleValue, items: PickleValue[]): void => {
    if (!(target instanceof Map)) fail("SETITEM(S) on a value that is not a dict");
    if (items.length % 2 !== 0) fail("SETITEMS with an odd number of items");
    for (let i = 0; i < items.length; i += 2) {
      (target as Map<PickleValue, PickleValue>).set(items[i], items[i + 1]);
    }
  };
  const appendItems = (target: PickleValue, items: PickleValue[]): void => {
    if (!Array.isArray(target)) fail("APPEND(S) on a value that is not a list");
    (target as PickleValue[]).push(...items);
  };
  const signedLittleEndian = (raw: Uint8Array): number | bigint => {
    if (raw.length === 0) return 0;
    let v = 0n;
    for (let i = raw.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(raw[i]);
    if (raw[raw.length - 1] & 0x80) v -= 1n << BigInt(8 * raw.length);
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  };

  while (true) {
    opStart = pos;
    if (pos >= bytes.length) fail("truncated: no STOP opcode");
    const op = bytes[pos++];
    switch (op) {
      case 0x80: // PROTO
        if (u8() > 5) fail("pickle protocol newer than 5");
        break;
      case 0x95: // FRAME: a length hint only
        u64();
        break;
      case 0x2e: // STOP
        return pop();
      case 0x28: // MARK
        metastack.push(stack.splice(0));
        break;
      case 0x30: // POP: the top value, or the mark when the stack above it is empty (CPython)
        if (stack.length > 0) stack.pop();
        else popMark();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        stack.push(top());
        break;
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x49: { // INT (text): "01"/"00" are True/False in protocol 0
        const text = line();
        if (text === "01" || text === "00") stack.push(text === "01");
        else if (/^[+-]?\d+$/.test(text)) stack.push(signedText(text));
        else fail(`INT argument '${text}' is not an integer`);
        break;
      }
      case 0x4c: { // LONG (text)
        const text = line().replace(/L$/, "");
        if (!/^[+-]?\d+$/.test(text)) fail(`LONG argument '${text}' is not an integer`);
        stack.push(signedText(text));
        break;
      }
      case 0x46: { // FLOAT (text)
        const v = Number(line());
        if (Number.isNaN(v)) fail("FLOAT argument is not a number");
        stack.push(v);
        break;
      }
      case 0x4a: // BININT
        need(4);
        stack.push(view.getInt32(pos, true));
        pos += 4;
        break;
      case 0x4b: // BININT1
        stack.push(u8());
        break;
      case 0x4d: // BININT2
        stack.push(u16());
        break;
      case 0x8a: // LONG1
        stack.push(signedLittleEndian(take(u8())));
        break;
      case 0x8b: { // LONG4
        need(4);
        const n = view.getInt32(pos, true);
        pos += 4;
        if (n < 0) fail("LONG4 with a negative length");
        stack.push(signedLittleEndian(take(n)));
        break;
      }
      case 0x47: // BINFLOAT: big-endian double
        need(8);
        stack.push(view.getFloat64(pos, false));
        pos += 8;
        break;
      case 0x58: // BINUNICODE
        stack.push(utf8(take(u32())));
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(utf8(take(u8())));
        break;
      case 0x8d: // BINUNICODE8
        stack.push(utf8(take(u64())));
        break;
      case 0x54: { // BINSTRING (Python 2 str)
        need(4);
        const n = view.getInt32(pos, true);
        pos += 4;
        if (n < 0) fail("BINSTRING with a negative length");
        stack.push(new TextDecoder("latin1").decode(take(n)));
        break;
      }
      case 0x55: // SHORT_BINSTRING
        stack.push(new TextDecoder("latin1").decode(take(u8())));
        break;
      case 0x42: // BINBYTES
        stack.push(take(u32()).slice());
        break;
      case 0x43: // SHORT_BINBYTES
        stack.push(take(u8()).slice());
        break;
      case 0x8e: // BINBYTES8
        stack.push(take(u64()).slice());
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push(new PickleTuple([]));
        break;
      case 0x74: // TUPLE
        stack.push(new PickleTuple(popMark()));
        break;
      case 0x85: // TUPLE1
        stack.push(new PickleTuple([pop()]));
        break;
      case 0x86: { // TUPLE2
        const b = pop(), a = pop();
        stack.push(new PickleTuple([a, b]));
        break;
      }
      case 0x87: { // TUPLE3
        const c = pop(), b = pop(), a = pop();
        stack.push(new PickleTuple([a, b, c]));
        break;
      }
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x6c: // LIST
        stack.push(popMark());
        break;
      case 0x61: { // APPEND
        const v = pop();
        appendItems(top(), [v]);
        break;
      }
      case 0x65: { // APPENDS
        const items = popMark();
        appendItems(top(), items);
        break;
      }
      case 0x7d: // EMPTY_DICT
        stack.push(new Map());
        break;
      case 0x64: { // DICT
        const items = popMark();
        const d = new Map<PickleValue, PickleValue>();
        setItems(d, items);
        stack.push(d);
        break;
      }
      case 0x73: { // SETITEM
        const v = pop(), k = pop();
        setItems(top(), [k, v]);
        break;
      }
      case 0x75: { // SETITEMS
        const items = popMark();
        setItems(top(), items);
        break;
      }
      case 0x63: { // GLOBAL "module\nname\n"
        const module = line();
        stack.push(global(module, line()));
        break;
      }
      case 0x93: { // STACK_GLOBAL
        const name = pop(), module = pop();
        if (typeof module !== "string" || typeof name !== "string") fail("STACK_GLOBAL needs two strings");
        stack.push(global(module as string, name as string));
        break;
      }
      case 0x52: { // REDUCE
        const args = pop(), callable = pop();
        if (!(callable instanceof PickleGlobal)) fail("REDUCE on a value that is not an allowed global");
        if (!(args instanceof PickleTuple)) fail("REDUCE arguments are not a tuple");
        const g = callable as PickleGlobal;
        if (!g.handler.call) fail(`'${g.qualifiedName}' may be referenced but not called`);
        const value = g.handler.call!((args as PickleTuple).items);
        if (value !== null && typeof value === "object") builtBy.set(value, g.handler);
        stack.push(value);
        break;
      }
      case 0x62: { // BUILD
        const state = pop(), target = pop();
        const handler = target !== null && typeof target === "object" ? builtBy.get(target) : undefined;
        if (!handler?.build) fail("BUILD on a value whose type accepts no state");
        stack.push(handler!.build!(target, state));
        break;
      }
      case 0x51: { // BINPERSID
        if (!options.persistentLoad) fail("persistent ids are not allowed in this file");
        stack.push(options.persistentLoad!(pop()));
        break;
      }
      case 0x50: { // PERSID (text id)
        if (!options.persistentLoad) fail("persistent ids are not allowed in this file");
        stack.push(options.persistentLoad!(line()));
        break;
      }
      case 0x70: { // PUT (text index)
        const text = line();
        if (!/^\d+$/.test(text)) fail(`PUT index '${text}' is not a number`);
        memo.set(Number(text), top());
        break;
      }
      case 0x71: // BINPUT
        memo.set(u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(u32(), top());
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x67: { // GET (text index)
        const text = line();
        if (!/^\d+$/.test(text)) fail(`GET index '${text}' is not a number`);
        stack.push(memoGet(Number(text)));
        break;
      }
      case 0x68: // BINGET
        stack.push(memoGet(u8()));
        break;
      case 0x6a: // LONG_BINGET
        stack.push(memoGet(u32()));
        break;
      default:
        if (op in REFUSED_OPCODES) {
          fail(
            `refusing opcode ${
              REFUSED_OPCODES[op]
            }: not part of the data a state_dict holds; nothing was executed`,
          );
        }
        fail(`unknown opcode 0x${op.toString(16).padStart(2, "0")}: not a pickle, or a damaged one`);
    }
  }

  function signedText(text: string): number | bigint {
    const v = BigInt(text);
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  }
}
