import { PickleGlobal, UnpickleHooks, unpickle } from '../../lib/weights/unpickle';
import { errorOf } from './helpers';

/** Pickles written by CPython's pickle.dumps (hex pasted from python3), so the reader is checked against the real writer. */
const PY = {
  // {'int': 5, 'neg': -7, 'big': 65535, 'i32': -2**31, 'long': 2**40, 'neglong': -2**40-3, 'float': 1.5, 'str': 'héllo ✓', 'none': None,
  //  't': True, 'f': False, 'tuple': (1, 'a', (2.0,)), 'empty': (), 'list': [1, [2, 3], {}], 'nested': {'k': (4, 5)}, 'shared_a': s, 'shared_b': s}
  p2: '80027d7100285803000000696e7471014b0558030000006e656771024af9ffffff580300000062696771034dffff580300000069333271044a0000008058040000006c6f6e6771058a0600000000000158070000006e65676c6f6e6771068a06fdfffffffffe5805000000666c6f61747107473ff800000000000058030000007374727108580a00000068c3a96c6c6f20e29c93710958040000006e6f6e65710a4e580100000074710b88580100000066710c8958050000007475706c65710d4b01580100000061710e47400000000000000085710f8771105805000000656d70747971112958040000006c69737471125d7113284b015d7114284b024b03657d71156558060000006e657374656471167d711758010000006b71184b044b058671197358080000007368617265645f61711a5d711b284b014b026558080000007368617265645f62711c681b752e',
  p4: '800495f4000000000000007d94288c03696e74944b058c036e6567944af9ffffff8c03626967944dffff8c03693332944a000000808c046c6f6e67948a060000000000018c076e65676c6f6e67948a06fdfffffffffe8c05666c6f617494473ff80000000000008c03737472948c0a68c3a96c6c6f20e29c93948c046e6f6e65944e8c017494888c016694898c057475706c65944b018c016194474000000000000000859487948c05656d70747994298c046c697374945d94284b015d94284b024b03657d94658c066e6573746564947d948c016b944b044b058694738c087368617265645f61945d94284b014b02658c087368617265645f6294681b752e',
  p5: '800595f4000000000000007d94288c03696e74944b058c036e6567944af9ffffff8c03626967944dffff8c03693332944a000000808c046c6f6e67948a060000000000018c076e65676c6f6e67948a06fdfffffffffe8c05666c6f617494473ff80000000000008c03737472948c0a68c3a96c6c6f20e29c93948c046e6f6e65944e8c017494888c016694898c057475706c65944b018c016194474000000000000000859487948c05656d70747994298c046c697374945d94284b015d94284b024b03657d94658c066e6573746564947d948c016b944b044b058694738c087368617265645f61945d94284b014b02658c087368617265645f6294681b752e',
  bytes3: '80037d7100580100000062710143030001ff7102732e', // {'b': b'\x00\x01\xff'}
  eval4: '80049515000000000000008c086275696c74696e73948c046576616c9493942e', // builtins.eval, STACK_GLOBAL
  exploit2: '800263706f7369780a73797374656d0a7100580a0000006563686f2070776e656471018571025271032e', // __reduce__ → os.system('echo pwned')
};
const hex = (h: string) => Uint8Array.from(Buffer.from(h, 'hex'));
const ascii = (s: string) => Uint8Array.from(Buffer.from(s, 'latin1'));

const calls: string[] = [];
const hooks = (allowed: string[] = []): UnpickleHooks => ({
  allowed: new Set(allowed),
  reduce: (fn, args) => {
    calls.push(`${fn.qualifiedName}(${JSON.stringify(args)})`);
    return 'reduced';
  },
  build: (obj) => obj,
  persistentLoad: (pid) => ({ pid }),
});
const load = (b: Uint8Array, allowed?: string[]) => unpickle(b, hooks(allowed), 'ckpt.bin', 'data.pkl');

beforeEach(() => calls.splice(0));

describe('unpickle: values CPython writes', () => {
  it.each(['p2', 'p4', 'p5'] as const)('reads every state-dict value type (%s)', (p) => {
    const v = load(hex(PY[p])) as Map<string, unknown>;
    expect(Object.fromEntries(v)).toEqual({
      int: 5,
      neg: -7,
      big: 65535,
      i32: -(2 ** 31),
      long: 2 ** 40,
      neglong: -(2 ** 40) - 3,
      float: 1.5,
      str: 'héllo ✓',
      none: null,
      t: true,
      f: false,
      tuple: [1, 'a', [2.0]],
      empty: [],
      list: [1, [2, 3], new Map()],
      nested: new Map([['k', [4, 5]]]),
      shared_a: [1, 2],
      shared_b: [1, 2],
    });
    expect(v.get('shared_a')).toBe(v.get('shared_b')); // memo: the same object
  });

  it('reads bytes (protocol 3)', () => {
    expect((load(hex(PY.bytes3)) as Map<string, Uint8Array>).get('b')).toEqual(new Uint8Array([0, 1, 255]));
  });
});

describe('unpickle: refuses anything that could run code', () => {
  it('refuses a foreign GLOBAL (os.system via __reduce__) before any call', () => {
    expect(errorOf(() => load(hex(PY.exploit2)))).toMatch(/^ckpt.bin: data.pkl: refusing global posix.system: a state dict never needs it/);
    const os = ascii('\x80\x02cos\nsystem\nX\x02\x00\x00\x00ls\x85R.');
    expect(errorOf(() => load(os, ['collections.OrderedDict']))).toMatch(/refusing global os.system: .*\(only collections.OrderedDict\)/);
    expect(calls).toEqual([]);
  });

  it('refuses a foreign STACK_GLOBAL (builtins.eval)', () => {
    expect(errorOf(() => load(hex(PY.eval4)))).toMatch(/refusing global builtins.eval/);
  });

  it('gives allowed globals to the hooks instead of running them', () => {
    const b = ascii('\x80\x02ctorch._utils\n_rebuild_tensor_v2\n)R.');
    expect(load(b, ['torch._utils._rebuild_tensor_v2'])).toBe('reduced');
    expect(calls).toEqual(['torch._utils._rebuild_tensor_v2([])']);
    const g = load(ascii('\x80\x02ctorch\nFloatStorage\n.'), ['torch.FloatStorage']);
    expect(g).toBeInstanceOf(PickleGlobal);
  });

  it('rejects opcodes a state dict does not use (INST, OBJ, NEWOBJ, EXT1) naming the opcode', () => {
    expect(errorOf(() => load(ascii('\x80\x02(ios\nsystem\n.')))).toMatch(/unsupported pickle opcode 0x69/);
    expect(errorOf(() => load(ascii('\x80\x02(o.')))).toMatch(/unsupported pickle opcode 0x6f/);
    expect(errorOf(() => load(ascii('\x80\x02)}\x81.')))).toMatch(/unsupported pickle opcode 0x81/);
    expect(errorOf(() => load(ascii('\x80\x02\x82\x01.')))).toMatch(/unsupported pickle opcode 0x82/);
  });

  it('rejects malformed pickles: truncated, stack underflow, bad REDUCE, no STOP', () => {
    expect(errorOf(() => load(hex(PY.p2).subarray(0, 100)))).toMatch(/unexpected end of pickle data/);
    expect(errorOf(() => load(ascii('\x80\x02s.')))).toMatch(/stack underflow/);
    expect(errorOf(() => load(ascii('\x80\x02K\x01)R.')))).toMatch(/REDUCE on something that is not a global/);
    expect(errorOf(() => load(ascii('\x80\x02K\x01K\x02.')))).toMatch(/STOP with a malformed stack/);
    expect(errorOf(() => load(ascii('\x80\x02h\x05.')))).toMatch(/memo slot 5 is empty/);
    expect(errorOf(() => load(ascii('\x80\x02]K\x01s.')))).toMatch(/stack underflow|SETITEM on something that is not a dict/);
    expect(errorOf(() => load(ascii('\x80\x02cos')))).toMatch(/unterminated GLOBAL name/);
  });
});

// Issue 14, class 6: no stack overflow, cycle or unbounded nesting whatever the pickle says.
describe('unpickle: structures built to break the reader', () => {
  it('APPENDS of 300000 items (no argument spreading)', () => {
    const list = load(ascii(`\x80\x02](${'K\x01'.repeat(300000)}e.`)) as number[];
    expect(list.length).toBe(300000);
    expect(list[299999]).toBe(1);
  });

  it('refuses a list or dict that would contain itself, directly or through another', () => {
    expect(errorOf(() => load(ascii('\x80\x02]q\x00h\x00a.')))).toMatch(
      /^ckpt.bin: data.pkl: a list or dict is changed after being put inside another \(a cycle\?\)/,
    );
    expect(errorOf(() => load(ascii('\x80\x02}q\x00K\x01]q\x01h\x00as.')))).toMatch(/a list or dict is changed after being put inside another/); // d[1] = [d]
    expect(errorOf(() => load(ascii('\x80\x02]q\x00]q\x01h\x00a0h\x01a.')))).toMatch(/changed after being put inside another/); // b = [a]; a.append(b)
  });

  it('bounds its memory: at most 2^18 lists, tuples and dicts, and 2^18 memo entries', () => {
    expect(errorOf(() => load(ascii(`\x80\x02${'}'.repeat(300000)}.`)))).toMatch(/more than 262144 lists, tuples and dicts/);
    expect(errorOf(() => load(ascii(`\x80\x04N${'\x94'.repeat(300000)}.`)))).toMatch(/more than 262144 memo entries/);
  });

  it('refuses nesting deeper than 100 levels, however it is built', () => {
    expect(load(ascii(`\x80\x02${'('.repeat(100)}${'l'.repeat(100)}.`))).toBeInstanceOf(Array);
    expect(errorOf(() => load(ascii(`\x80\x02${'('.repeat(200000)}${'l'.repeat(200000)}.`)))).toMatch(/values nested more than 100 deep/);
    expect(errorOf(() => load(ascii(`\x80\x02${']'.repeat(101)}${'a'.repeat(100)}.`)))).toMatch(/values nested more than 100 deep/);
  });
});
