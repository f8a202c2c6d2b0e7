/**
 * A restricted pickle reader: the opcodes of protocols 2–5 that a saved state dict uses, nothing that runs code.
 * GLOBAL / STACK_GLOBAL resolve only names in the caller's allowlist (anything else is an error naming it), and
 * REDUCE / BUILD / BINPERSID are handed to the caller's TypeScript implementations: nothing is ever executed.
 * Values: None → null, int → number, float → number, str → string, bytes → Uint8Array, tuple and list → array,
 * dict → Map.
 * The values it returns are acyclic and nested at most MAX_DEPTH deep, so callers may walk them: a list or dict
 * cannot be changed once it is inside another (a state dict never needs that; a cycle always does).
 */
import { CheckpointError } from '../errors';

/** A module-level name the pickle referenced (only ever an allowlisted one). */
export class PickleGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
  ) {}
  get qualifiedName(): string {
    return `${this.module}.${this.name}`;
  }
}

export interface UnpickleHooks {
  /** `module.name` globals the pickle may reference. */
  allowed: ReadonlySet<string>;
  /** REDUCE: applies an allowlisted callable to its argument tuple. */
  reduce(fn: PickleGlobal, args: unknown[]): unknown;
  /** BUILD: sets state on an object; returns the object to leave on the stack. */
  build(obj: unknown, state: unknown): unknown;
  /** BINPERSID: resolves a persistent id (torch: a storage reference). */
  persistentLoad(pid: unknown): unknown;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
/** Deepest nesting of lists, tuples and dicts: a state dict needs 4. */
export const MAX_DEPTH = 100;
/**
 * Most lists, tuples and dicts, and most memo entries: a state dict needs about 5 and 10 a tensor. Each costs up to
 * 200 bytes for a byte or two of pickle, so this, not the pickle's size, bounds the memory a pickle can take.
 */
export const MAX_OBJECTS = 2 ** 18;
const isContainer = (v: unknown): v is object => Array.isArray(v) || v instanceof Map;

/** Runs the pickle in `bytes` and returns the value STOP leaves. `what` and `file` name it in errors. */
export function unpickle(bytes: Uint8Array, hooks: UnpickleHooks, file: string, what = 'pickle'): unknown {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const stack: unknown[] = [];
  const marks: number[] = [];
  const memo = new Map<number, unknown>();
  const depth = new WeakMap<object, number>(); // a container's nesting depth, when above 1
  const sealed = new WeakSet<object>(); // containers inside another: never changed again
  let made = 0;
  let pos = 0;
  let opPos = 0;

  const fail = (why: string): never => {
    throw new CheckpointError(`${what}: ${why} (at byte ${opPos})`, file);
  };
  const need = (n: number): number => {
    if (n < 0 || pos + n > bytes.length) fail('unexpected end of pickle data');
    const at = pos;
    pos += n;
    return at;
  };
  const u8 = () => bytes[need(1)];
  const u16 = () => view.getUint16(need(2), true);
  const u32 = () => view.getUint32(need(4), true);
  const u64 = () => {
    const v = view.getBigUint64(need(8), true);
    if (v > BigInt(bytes.length)) fail(`length ${v} is past the end of the pickle`);
    return Number(v);
  };
  const text = (n: number): string => {
    const at = need(n);
    try {
      return utf8.decode(bytes.subarray(at, at + n));
    } catch {
      return fail('invalid UTF-8 string');
    }
  };
  const line = (): string => {
    const end = bytes.indexOf(0x0a, pos);
    if (end < 0) fail('unterminated GLOBAL name');
    const s = text(end - pos);
    pos++; // the newline
    return s;
  };
  const pop = (): unknown => {
    if (stack.length <= (marks.length ? marks[marks.length - 1] : 0)) fail('stack underflow');
    return stack.pop();
  };
  const top = (): unknown => {
    if (stack.length === 0) fail('stack underflow');
    return stack[stack.length - 1];
  };
  /** Pops everything pushed since the innermost MARK. */
  const popMark = (): unknown[] => {
    const m = marks.pop();
    if (m === undefined) fail('no MARK on the stack');
    return stack.splice(m as number);
  };
  const get = (i: number): unknown => {
    if (!memo.has(i)) fail(`memo slot ${i} is empty`);
    return memo.get(i);
  };
  const global = (module: string, name: string): PickleGlobal => {
    const q = `${module}.${name}`;
    if (!hooks.allowed.has(q)) fail(`refusing global ${q}: a state dict never needs it (only ${[...hooks.allowed].join(', ')})`);
    return new PickleGlobal(module, name);
  };
  const asMap = (v: unknown, op: string): Map<unknown, unknown> => {
    if (!(v instanceof Map)) fail(`${op} on something that is not a dict`);
    return v as Map<unknown, unknown>;
  };
  const asList = (v: unknown, op: string): unknown[] => {
    if (!Array.isArray(v)) fail(`${op} on something that is not a list`);
    return v as unknown[];
  };
  /** Records that `items` go inside `into` (new, or on the stack and about to change): no cycle, bounded depth. */
  const place = <T extends object>(into: T, items: unknown[]): T => {
    let d = depth.get(into) ?? 1;
    for (const v of items) {
      if (!isContainer(v)) continue;
      sealed.add(v);
      d = Math.max(d, (depth.get(v) ?? 1) + 1);
    }
    if (sealed.has(into)) fail('a list or dict is changed after being put inside another (a cycle?)');
    if (d > MAX_DEPTH) fail(`values nested more than ${MAX_DEPTH} deep`);
    if (d > 1) depth.set(into, d);
    return into;
  };
  /** Counts a new list, tuple or dict. */
  const make = <T extends object>(c: T): T => {
    if (++made > MAX_OBJECTS) fail(`more than ${MAX_OBJECTS} lists, tuples and dicts`);
    return c;
  };
  /** A new tuple or list of `items`. */
  const tuple = (items: unknown[]): unknown[] => place(make(items), items);
  const remember = (i: number) => {
    if (memo.size >= MAX_OBJECTS && !memo.has(i)) fail(`more than ${MAX_OBJECTS} memo entries`);
    memo.set(i, top());
  };
  const setItems = (d: Map<unknown, unknown>, kv: unknown[]) => {
    if (kv.length % 2) fail('SETITEMS with an odd number of items');
    place(d, kv);
    for (let i = 0; i < kv.length; i += 2) d.set(kv[i], kv[i + 1]);
  };
  const safeInt = (v: bigint): number => {
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) fail(`integer ${v} is too large`);
    return Number(v);
  };
  const long = (n: number): number => {
    const at = need(n);
    let v = 0n;
    for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[at + i]);
    if (n > 0 && bytes[at + n - 1] & 0x80) v -= 1n << BigInt(8 * n); // two's complement
    return safeInt(v);
  };

  for (;;) {
    opPos = pos;
    const op = u8();
    switch (op) {
      case 0x80: // PROTO
        if (u8() > 5) fail('pickle protocol above 5');
        break;
      case 0x95: // FRAME: a length hint only
        u64();
        break;
      case 0x2e: // STOP
        if (stack.length !== 1 || marks.length) fail('STOP with a malformed stack');
        return stack[0];
      case 0x28: // MARK
        marks.push(stack.length);
        break;
      case 0x30: // POP
        pop();
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
      case 0x4a: // BININT
        stack.push(view.getInt32(need(4), true));
        break;
      case 0x4b: // BININT1
        stack.push(u8());
        break;
      case 0x4d: // BININT2
        stack.push(u16());
        break;
      case 0x8a: // LONG1
        stack.push(long(u8()));
        break;
      case 0x8b: // LONG4
        stack.push(long(u32()));
        break;
      case 0x47: // BINFLOAT (big-endian)
        stack.push(view.getFloat64(need(8), false));
        break;
      case 0x58: // BINUNICODE
        stack.push(text(u32()));
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(text(u8()));
        break;
      case 0x8d: // BINUNICODE8
        stack.push(text(u64()));
        break;
      case 0x42: // BINBYTES
      case 0x43: // SHORT_BINBYTES
      case 0x8e: {
        // BINBYTES8
        const n = op === 0x43 ? u8() : op === 0x42 ? u32() : u64();
        const at = need(n);
        stack.push(bytes.slice(at, at + n));
        break;
      }
      case 0x29: // EMPTY_TUPLE
        stack.push(make([]));
        break;
      case 0x85: // TUPLE1
        stack.push(tuple([pop()]));
        break;
      case 0x86: {
        // TUPLE2
        const b = pop();
        stack.push(tuple([pop(), b]));
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = pop();
        const b = pop();
        stack.push(tuple([pop(), b, c]));
        break;
      }
      case 0x74: // TUPLE
      case 0x6c: // LIST
        stack.push(tuple(popMark()));
        break;
      case 0x5d: // EMPTY_LIST
        stack.push(make([]));
        break;
      case 0x7d: // EMPTY_DICT
        stack.push(make(new Map()));
        break;
      case 0x64: {
        // DICT
        const d = make(new Map<unknown, unknown>());
        setItems(d, popMark());
        stack.push(d);
        break;
      }
      case 0x73: {
        // SETITEM
        const v = pop();
        const k = pop();
        place(asMap(top(), 'SETITEM'), [k, v]).set(k, v);
        break;
      }
      case 0x75: {
        // SETITEMS
        const kv = popMark();
        setItems(asMap(top(), 'SETITEMS'), kv);
        break;
      }
      case 0x61: {
        // APPEND
        const v = pop();
        place(asList(top(), 'APPEND'), [v]).push(v);
        break;
      }
      case 0x65: {
        // APPENDS
        const vs = popMark();
        const list = place(asList(top(), 'APPENDS'), vs);
        for (const v of vs) list.push(v); // not push(...vs): a spread of 10^5 items overflows the stack
        break;
      }
      case 0x71: // BINPUT
        remember(u8());
        break;
      case 0x72: // LONG_BINPUT
        remember(u32());
        break;
      case 0x94: // MEMOIZE
        remember(memo.size);
        break;
      case 0x68: // BINGET
        stack.push(get(u8()));
        break;
      case 0x6a: // LONG_BINGET
        stack.push(get(u32()));
        break;
      case 0x63: {
        // GLOBAL "module\nname\n"
        const module = line();
        stack.push(global(module, line()));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') fail('STACK_GLOBAL needs two strings');
        stack.push(global(module as string, name as string));
        break;
      }
      case 0x52: {
        // REDUCE
        const args = pop();
        const fn = pop();
        if (!(fn instanceof PickleGlobal)) fail('REDUCE on something that is not a global');
        if (!Array.isArray(args)) fail('REDUCE arguments are not a tuple');
        stack.push(hooks.reduce(fn as PickleGlobal, args as unknown[]));
        break;
      }
      case 0x62: {
        // BUILD
        const state = pop();
        stack.push(hooks.build(pop(), state));
        break;
      }
      case 0x51: // BINPERSID
        stack.push(hooks.persistentLoad(pop()));
        break;
      default:
        fail(`unsupported pickle opcode 0x${op.toString(16).padStart(2, '0')} (a state dict does not need it)`);
    }
  }
}
