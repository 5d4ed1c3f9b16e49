/**
 * Generator for a tiny but real sentence-embedding model in transformers.js
 * layout, so the test suite can exercise the genuine embedding path
 * (tokenizer -> onnxruntime -> mean pooling) without network access or any
 * files outside the repository.
 *
 * The "model" is a static word-embedding table: the ONNX graph is a single
 * Gather of a token table by `input_ids`, and the caller mean-pools. The table
 * is generated from a seeded PRNG, with a few hand-made synonym groups whose
 * members share a direction, so tests can prove retrieval that keyword
 * matching alone could not explain.
 *
 * Usage as a CLI: `deno run -A tests/support/tiny_model.ts <dir>`
 *
 * @module
 */

export interface TinyModelOptions {
  /** Embedding width (hidden_size). Default 32; must be 16..4096. */
  dim?: number;
}

export const TINY_MODEL_DEFAULT_DIM = 32;

/**
 * Groups of words whose vectors are nearly identical (pairwise cosine > 0.9),
 * so tests can prove semantic (non-keyword) retrieval. Group directions are
 * reserved: any word outside a group has |cosine| < 0.2 to its members (other
 * groups' members: < 0.04). The first word of each group names the group.
 */
export const TINY_MODEL_SYNONYMS: readonly (readonly string[])[] = [
  ["database", "postgres", "postgresql"],
  ["bug", "defect", "error"],
  ["car", "automobile", "vehicle"],
  ["happy", "glad", "joyful"],
  ["deploy", "release", "ship"],
  ["cat", "kitten"],
  ["delete", "remove"],
  ["fast", "quick", "speedy"],
];

/**
 * Cross-lingual mappings: every CJK character of a key gets a vector close to
 * the synonym group named by the value (cosine > 0.9 to each member), so the
 * mean-pooled text "数据库" lands near "database" and "猫" near "cat".
 * Side effect worth knowing: any text containing 数, 据 or 库 (e.g. 数字)
 * leans towards "database" too; the tokenizer has no multi-character words.
 */
export const TINY_MODEL_CROSS_LINGUAL: Readonly<Record<string, string>> = {
  "数据库": "database",
  "猫": "cat",
};

// --- vocabulary -----------------------------------------------------------

const SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] as const;

/**
 * Function words carry little meaning; their rows are scaled down (like the
 * smooth-inverse-frequency weighting of real static models) so that content
 * words dominate a mean-pooled sentence.
 */
const FUNCTION_WORDS = `
  a an the and or but if then so of to in on at by for with from as into onto
  about over under up out off is are was were be been being am do does did
  doing have has had having it its this that these those there here i me my we
  us our you your he him his she her they them their what which who whom whose
  when where why how not no yes all any some each every both either neither can
  could will would shall should may might must just also very too than only such
  own same other more most
`;
const FUNCTION_WORD_SCALE = 0.25;

const COMMON_WORDS = `
  time year day week month hour minute second today tomorrow yesterday morning
  evening night people person man woman child children friend family team user
  customer manager engineer developer company business work job project task plan
  goal idea problem question answer issue reason result example case way thing
  part place world country city home house room office school book page word name
  number list line point fact story news note message email letter call meeting
  talk price cost money market sale product service order account payment bill
  invoice report document file folder image photo picture video music song game
  sport movie water food coffee tea bread fruit apple orange dog cat bird fish
  horse tree flower garden sun moon star sky rain snow wind weather summer winter
  spring autumn road street car bus train plane boat bike ticket trip travel
  hotel airport station map area side end start top bottom front back left right
  center north south east west get make go know take see come think look want
  give use find tell ask seem feel try leave need become keep let begin help show
  hear play run move live believe bring happen write provide sit stand lose pay
  meet include continue set learn change lead understand watch follow stop create
  speak read allow add spend grow open close walk win offer remember love
  consider appear buy wait serve die send expect build stay fall cut reach raise
  pass sell require decide return explain hope develop carry break receive agree
  support hit produce eat cover catch draw choose save store load fetch install
  update upgrade fix repair fail restart good new first last long great little
  old big high different small large next early young important few public bad
  able late hard easy simple slow hot cold warm cool full empty closed free busy
  ready sure true false real wrong strong weak sad angry tired sick healthy rich
  poor cheap expensive clean dirty dark bright heavy light short tall wide narrow
  deep safe dangerous quiet loud modern ancient beautiful ugly down red blue green
  yellow black white gray brown purple pink one two three four five six seven
  eight nine ten hundred thousand million
`;

const TECH_WORDS = `
  database postgres postgresql mysql sqlite redis mongodb sql table column row
  schema index vector embedding embeddings search query filter sort limit offset
  join select insert delete remove drop alter transaction commit rollback lock
  deadlock timeout latency throughput performance cache memory storage disk backup
  restore replica replication shard cluster node server client request response
  api endpoint route http https url json yaml xml csv config configuration setting
  settings option env environment variable secret key token password credential
  auth authentication authorization login logout session cookie admin role
  permission access deploy deployment release ship pipeline ci cd docker container
  kubernetes pod network port host domain dns proxy balancer gateway firewall ssl
  tls certificate migration migrate version downgrade patch bug defect error
  exception crash failure fault incident outage alert monitor monitoring log logs
  logging metric metrics trace debug debugger test tests testing unit integration
  benchmark code function method class object interface type module package
  library dependency import export compile compiler runtime typescript javascript
  deno npm python rust java git github branch merge rebase pull push repository
  repo review refactor feature hotfix script command terminal shell linux windows
  mac cpu gpu thread process async await promise callback event queue worker cron
  schedule stream socket websocket path directory upload download encode decode
  hash encrypt decrypt model llm prompt agent tool context chunk text string
  integer float boolean array null undefined
`;

/** Letters and digits (plus "##" forms) so any ASCII word tokenizes without [UNK]. */
const ASCII_PIECES = "abcdefghijklmnopqrstuvwxyz0123456789".split("");

/**
 * Single-character pieces spell out unknown words one token per character; a
 * long unknown word would swamp the sentence at full weight, so these rows are
 * scaled down. They still give an unknown identifier ("pgvector") a stable,
 * distinctive contribution, which is what a test querying it by name needs.
 */
const PIECE_SCALE = 0.35;

/** CJK Unified Ideographs, each its own token (BertNormalizer splits them). */
const CJK_FIRST = 0x4e00;
const CJK_LAST = 0x9fff;

/** Noise added to a synonym member, orthogonal to all group directions. With
 * |noise| = 0.2 two members have cosine >= (1 - 0.04) / (1 + 0.04) > 0.92,
 * and any word outside the group has |cosine| <= 0.2 / sqrt(1.04) < 0.2 to it. */
const SYNONYM_NOISE = 0.2;

interface VocabEntry {
  token: string;
  /** Row length: 0 for special tokens, else the weight described above. */
  scale: number;
  /** Synonym group index, when the token belongs to one. */
  group?: number;
}

function words(list: string): string[] {
  return list.split(/\s+/).filter((w) => w.length > 0);
}

function buildVocab(): VocabEntry[] {
  const entries: VocabEntry[] = [];
  const seen = new Set<string>();
  const add = (token: string, scale: number) => {
    if (seen.has(token)) return; // first category wins (e.g. "a" stays a function word)
    seen.add(token);
    entries.push({ token, scale });
  };
  for (const t of SPECIAL_TOKENS) add(t, 0);
  for (const w of words(FUNCTION_WORDS)) add(w, FUNCTION_WORD_SCALE);
  // Synonym words are added explicitly so editing a word list cannot drop one.
  for (
    const w of [
      ...words(COMMON_WORDS),
      ...words(TECH_WORDS),
      ...TINY_MODEL_SYNONYMS.flat(),
    ]
  ) {
    add(w, 1);
  }
  for (const c of ASCII_PIECES) add(c, PIECE_SCALE);
  for (const c of ASCII_PIECES) add("##" + c, PIECE_SCALE);
  for (let cp = CJK_FIRST; cp <= CJK_LAST; cp++) {
    add(String.fromCodePoint(cp), 1);
  }

  const groupOf = new Map<string, number>();
  TINY_MODEL_SYNONYMS.forEach((g, i) => g.forEach((w) => groupOf.set(w, i)));
  for (const [chars, word] of Object.entries(TINY_MODEL_CROSS_LINGUAL)) {
    const group = groupOf.get(word);
    if (group === undefined) {
      throw new Error(`cross-lingual target ${word} is in no synonym group`);
    }
    for (const c of chars) groupOf.set(c, group);
  }
  for (const e of entries) {
    const group = groupOf.get(e.token);
    if (group !== undefined) {
      if (e.scale !== 1) {
        throw new Error(`synonym ${e.token} must be a full-weight word`);
      }
      e.group = group;
    }
  }
  return entries;
}

// --- deterministic vectors ------------------------------------------------

/** FNV-1a over UTF-16 code units: seeds each row from its token string, so
 * adding a word to a list never changes any other word's vector. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Deterministic PRNG (mulberry32); also the benchmarks' source of synthetic data. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Random unit vector. Components are a sum of four uniforms (nearly Gaussian,
 * hence nearly isotropic) rather than Box-Muller, because +, * and sqrt are
 * exactly specified by IEEE 754 while log/cos may differ between engines;
 * this keeps the output byte-identical everywhere.
 */
function randomUnit(seedText: string, dim: number): Float64Array {
  const rand = mulberry32(fnv1a(seedText));
  const v = new Float64Array(dim);
  for (let i = 0; i < dim; i++) v[i] = rand() + rand() + rand() + rand() - 2;
  return normalize(v);
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

function normalize(v: Float64Array): Float64Array {
  const n = Math.sqrt(dot(v, v));
  if (n === 0) throw new Error("cannot normalize a zero vector");
  for (let i = 0; i < v.length; i++) v[i] /= n;
  return v;
}

/** v minus its projection on unit vector u. */
function reject(v: Float64Array, u: Float64Array): Float64Array {
  const d = dot(v, u);
  for (let i = 0; i < v.length; i++) v[i] -= d * u[i];
  return v;
}

/**
 * Group directions are made mutually orthogonal (Gram-Schmidt) so that
 * unrelated groups ("database" vs "kitten") are reliably dissimilar instead
 * of merely dissimilar on average.
 */
function groupBases(dim: number): Float64Array[] {
  const bases: Float64Array[] = [];
  for (const group of TINY_MODEL_SYNONYMS) {
    bases.push(randomOutside("group:" + group[0], dim, bases));
  }
  return bases;
}

/** Random unit vector orthogonal to every vector in `avoid` (orthonormal). */
function randomOutside(
  seedText: string,
  dim: number,
  avoid: Float64Array[],
): Float64Array {
  const v = randomUnit(seedText, dim);
  for (const b of avoid) reject(v, b);
  return normalize(v);
}

/**
 * Row-major [vocab, dim] float32 table.
 *
 * The group directions are reserved: every other row, and every synonym's
 * noise, is orthogonal to all of them. In 32 dimensions two random vectors
 * reach |cosine| 0.4 often enough that a distractor sentence could look like
 * "database" by accident; this way only group members carry a group's
 * meaning, and tests that rank by similarity are not at the mercy of chance.
 */
function buildTable(vocab: VocabEntry[], dim: number): Float32Array {
  const bases = groupBases(dim);
  const table = new Float32Array(vocab.length * dim);
  vocab.forEach((e, row) => {
    if (e.scale === 0) return; // special tokens stay zero: an all-unknown text pools to zero
    let v: Float64Array;
    if (e.group !== undefined) {
      const base = bases[e.group];
      const noise = randomOutside("noise:" + e.token, dim, bases);
      v = new Float64Array(dim);
      for (let i = 0; i < dim; i++) v[i] = base[i] + SYNONYM_NOISE * noise[i];
      normalize(v);
    } else {
      v = randomOutside("token:" + e.token, dim, bases);
    }
    for (let i = 0; i < dim; i++) table[row * dim + i] = v[i] * e.scale;
  });
  checkSynonyms(vocab, table, dim);
  return table;
}

/** Guards the documented promise (cosine > 0.9 within a group) against edits. */
function checkSynonyms(
  vocab: VocabEntry[],
  table: Float32Array,
  dim: number,
): void {
  const rowOf = new Map(vocab.map((e, i) => [e.token, i]));
  const vec = (t: string) => {
    const r = rowOf.get(t)!;
    return Float64Array.from(table.subarray(r * dim, (r + 1) * dim));
  };
  const members = TINY_MODEL_SYNONYMS.map((g) => [...g]);
  for (const [chars, word] of Object.entries(TINY_MODEL_CROSS_LINGUAL)) {
    members.find((g) => g.includes(word))!.push(...chars);
  }
  for (const g of members) {
    for (const a of g) {
      for (const b of g) {
        const c = dot(vec(a), vec(b));
        if (a !== b && !(c > 0.9)) {
          throw new Error(`synonyms ${a}/${b} have cosine ${c}`);
        }
      }
    }
  }
}

// --- ONNX protobuf encoding -----------------------------------------------
// Field numbers follow onnx/onnx.proto3; only what this graph needs.

const ONNX_FLOAT = 1;
const ONNX_INT8 = 3;
const ONNX_INT64 = 7;
const ATTR_INT = 2;

/** Minimal protobuf writer: varints (wire type 0) and length-delimited (2). */
class Pb {
  private chunks: Uint8Array[] = [];

  private raw(bytes: number[] | Uint8Array): void {
    this.chunks.push(
      bytes instanceof Uint8Array ? bytes : Uint8Array.from(bytes),
    );
  }

  private varintBytes(value: number): number[] {
    // Plain arithmetic, not bit ops: lengths may exceed 2^31 in principle.
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new Error(`bad varint ${value}`);
    }
    const out: number[] = [];
    while (value >= 0x80) {
      out.push((value % 0x80) | 0x80);
      value = Math.floor(value / 0x80);
    }
    out.push(value);
    return out;
  }

  int(field: number, value: number): this {
    this.raw(this.varintBytes(field * 8 + 0));
    this.raw(this.varintBytes(value));
    return this;
  }

  bytes(field: number, data: Uint8Array): this {
    this.raw(this.varintBytes(field * 8 + 2));
    this.raw(this.varintBytes(data.length));
    this.raw(data);
    return this;
  }

  str(field: number, s: string): this {
    return this.bytes(field, new TextEncoder().encode(s));
  }

  msg(field: number, m: Pb): this {
    return this.bytes(field, m.finish());
  }

  finish(): Uint8Array {
    const total = this.chunks.reduce((n, c) => n + c.length, 0);
    const out = new Uint8Array(total);
    let off = 0;
    for (const c of this.chunks) {
      out.set(c, off);
      off += c.length;
    }
    return out;
  }
}

/** ValueInfoProto for a tensor; string dims are symbolic (dim_param). */
function valueInfo(
  name: string,
  elemType: number,
  dims: (string | number)[],
): Pb {
  const shape = new Pb();
  for (const d of dims) {
    shape.msg(
      1,
      typeof d === "string" ? new Pb().str(2, d) : new Pb().int(1, d),
    );
  }
  const tensorType = new Pb().int(1, elemType).msg(2, shape);
  return new Pb().str(1, name).msg(2, new Pb().msg(1, tensorType));
}

/** TensorProto with raw_data (little-endian, as ONNX requires). */
function tensor(
  name: string,
  dataType: number,
  dims: number[],
  raw: Uint8Array,
): Pb {
  const t = new Pb();
  for (const d of dims) t.int(1, d);
  return t.int(2, dataType).str(8, name).bytes(9, raw);
}

function node(
  opType: string,
  inputs: string[],
  outputs: string[],
  attrs: Record<string, number> = {},
): Pb {
  const n = new Pb();
  for (const i of inputs) n.str(1, i);
  for (const o of outputs) n.str(2, o);
  n.str(3, opType.toLowerCase()).str(4, opType);
  for (const [k, v] of Object.entries(attrs)) {
    n.msg(5, new Pb().str(1, k).int(3, v).int(20, ATTR_INT));
  }
  return n;
}

function float32LE(values: Float32Array): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => view.setFloat32(i * 4, v, true));
  return out;
}

/** Symmetric int8 quantization with one scale per row (zero point 0). */
function quantizeRows(table: Float32Array, rows: number, dim: number) {
  const q = new Int8Array(table.length);
  const scales = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    const row = table.subarray(r * dim, (r + 1) * dim);
    const max = row.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
    // Zero rows get scale 1: any positive scale reproduces them exactly.
    const scale = Math.fround(max > 0 ? max / 127 : 1);
    scales[r] = scale;
    row.forEach((x, i) => {
      q[r * dim + i] = Math.max(-127, Math.min(127, Math.round(x / scale)));
    });
  }
  return { q, scales };
}

/**
 * Builds the ModelProto. fp32: last_hidden_state = Gather(table, input_ids).
 * Quantized: DequantizeLinear (per-row scales, axis 0) of an int8 table feeds
 * the same Gather, as in a real `model_quantized.onnx`.
 * attention_mask and token_type_ids are declared but unused: transformers.js
 * feeds whatever the session declares, and onnxruntime accepts unused inputs.
 */
function onnxModel(
  table: Float32Array,
  rows: number,
  dim: number,
  quantized: boolean,
): Uint8Array {
  const nodes: Pb[] = [];
  const initializers: Pb[] = [];
  if (quantized) {
    const { q, scales } = quantizeRows(table, rows, dim);
    const inputs = ["table_int8", "table_scale", "table_zero_point"];
    initializers.push(
      tensor(inputs[0], ONNX_INT8, [rows, dim], new Uint8Array(q.buffer)),
      tensor(inputs[1], ONNX_FLOAT, [rows], float32LE(scales)),
      tensor(inputs[2], ONNX_INT8, [rows], new Uint8Array(rows)),
    );
    nodes.push(node("DequantizeLinear", inputs, ["table"], { axis: 0 }));
  } else {
    initializers.push(
      tensor("table", ONNX_FLOAT, [rows, dim], float32LE(table)),
    );
  }
  // Nodes must be listed in topological order: Gather comes last.
  nodes.push(
    node("Gather", ["table", "input_ids"], ["last_hidden_state"], { axis: 0 }),
  );

  const graph = new Pb();
  for (const n of nodes) graph.msg(1, n);
  graph.str(2, "sage_tiny_static_embedding");
  for (const t of initializers) graph.msg(5, t);
  for (const input of ["input_ids", "attention_mask", "token_type_ids"]) {
    graph.msg(11, valueInfo(input, ONNX_INT64, ["batch", "seq"]));
  }
  graph.msg(
    12,
    valueInfo("last_hidden_state", ONNX_FLOAT, ["batch", "seq", dim]),
  );

  return new Pb()
    .int(1, 8) // ir_version 8: loaded by every onnxruntime since 1.10
    .str(2, "sage-tiny-model")
    .str(3, "1")
    .msg(7, graph)
    .msg(8, new Pb().str(1, "").int(2, 13)) // default domain, opset 13
    .finish();
}

// --- tokenizer and config files ------------------------------------------

function tokenizerJson(vocab: VocabEntry[]): string {
  const special = (token: string, id: number) => ({
    id,
    content: token,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  });
  const tokenizer = {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: SPECIAL_TOKENS.map((t, i) => special(t, i)),
    normalizer: {
      type: "BertNormalizer",
      clean_text: true,
      handle_chinese_chars: true,
      strip_accents: true,
      lowercase: true,
    },
    pre_tokenizer: { type: "BertPreTokenizer" },
    post_processor: {
      type: "TemplateProcessing",
      single: [
        { SpecialToken: { id: "[CLS]", type_id: 0 } },
        { Sequence: { id: "A", type_id: 0 } },
        { SpecialToken: { id: "[SEP]", type_id: 0 } },
      ],
      pair: [
        { SpecialToken: { id: "[CLS]", type_id: 0 } },
        { Sequence: { id: "A", type_id: 0 } },
        { SpecialToken: { id: "[SEP]", type_id: 0 } },
        { Sequence: { id: "B", type_id: 1 } },
        { SpecialToken: { id: "[SEP]", type_id: 1 } },
      ],
      special_tokens: {
        "[CLS]": { id: "[CLS]", ids: [2], tokens: ["[CLS]"] },
        "[SEP]": { id: "[SEP]", ids: [3], tokens: ["[SEP]"] },
      },
    },
    decoder: { type: "WordPiece", prefix: "##", cleanup: true },
    model: {
      type: "WordPiece",
      unk_token: "[UNK]",
      continuing_subword_prefix: "##",
      max_input_chars_per_word: 100,
      vocab: "@VOCAB@",
    },
  };
  // Serialized by hand so the vocab stays in id order: a JS object would move
  // integer-like keys ("0".."9") to the front.
  const vocabJson = "{\n" +
    vocab.map((e, id) => `      ${JSON.stringify(e.token)}: ${id}`).join(
      ",\n",
    ) +
    "\n    }";
  return JSON.stringify(tokenizer, null, 2).replace('"@VOCAB@"', vocabJson) +
    "\n";
}

const SPECIAL_TOKENS_MAP = {
  unk_token: "[UNK]",
  sep_token: "[SEP]",
  pad_token: "[PAD]",
  cls_token: "[CLS]",
  mask_token: "[MASK]",
};

function json(value: unknown): string {
  return JSON.stringify(value, null, 2) + "\n";
}

/**
 * Writes the model folder: config.json, tokenizer.json, tokenizer_config.json,
 * special_tokens_map.json, onnx/model.onnx (fp32) and onnx/model_quantized.onnx
 * (int8 table, for dtype "q8"). Deterministic: same output bytes every run.
 */
export async function writeTinyModel(
  dir: string,
  options: TinyModelOptions = {},
): Promise<void> {
  const dim = options.dim ?? TINY_MODEL_DEFAULT_DIM;
  // Groups need room to be orthogonal; below 16 the synonym guarantees fray.
  if (!Number.isInteger(dim) || dim < 16 || dim > 4096) {
    throw new Error(`dim must be an integer in 16..4096, got ${dim}`);
  }
  const vocab = buildVocab();
  const table = buildTable(vocab, dim);

  const config = {
    model_type: "bert",
    architectures: ["BertModel"],
    hidden_size: dim,
    vocab_size: vocab.length,
    num_hidden_layers: 0,
    num_attention_heads: 1,
    max_position_embeddings: 512,
    type_vocab_size: 2,
    pad_token_id: 0,
  };
  const tokenizerConfig = {
    tokenizer_class: "BertTokenizer",
    do_lower_case: true,
    model_max_length: 512,
    ...SPECIAL_TOKENS_MAP,
    clean_up_tokenization_spaces: true,
  };

  await Deno.mkdir(`${dir}/onnx`, { recursive: true });
  await Deno.writeTextFile(`${dir}/config.json`, json(config));
  await Deno.writeTextFile(`${dir}/tokenizer.json`, tokenizerJson(vocab));
  await Deno.writeTextFile(
    `${dir}/tokenizer_config.json`,
    json(tokenizerConfig),
  );
  await Deno.writeTextFile(
    `${dir}/special_tokens_map.json`,
    json(SPECIAL_TOKENS_MAP),
  );
  await Deno.writeFile(
    `${dir}/onnx/model.onnx`,
    onnxModel(table, vocab.length, dim, false),
  );
  await Deno.writeFile(
    `${dir}/onnx/model_quantized.onnx`,
    onnxModel(table, vocab.length, dim, true),
  );
}

if (import.meta.main) {
  const [dir, ...rest] = Deno.args;
  if (!dir || rest.length > 0) {
    console.error("usage: deno run -A tests/support/tiny_model.ts <dir>");
    Deno.exit(2);
  }
  await writeTinyModel(dir);
  console.log(`wrote tiny embedding model to ${dir}`);
}
