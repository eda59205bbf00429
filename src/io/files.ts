/**
 * Reading YAML and JSON data files with stated limits: the only place the core's inputs touch
 * the disk. Every limit is far above any real scenario, profile or case file (the largest YAML
 * bundled is 11 KB, the validation cases 0.96 MB of JSON) and going over one is a UserError
 * naming it, so a hostile or generated file cannot hang the process, overflow the stack or run
 * it out of memory. Duplicate keys are rejected in one linear pass, in YAML and JSON alike.
 */
import { readFileSync, existsSync, statSync } from 'node:fs';
import { dirname, join, resolve, extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDocument, isMap, isSeq, isScalar, isAlias, type Node as YamlNode, type Document } from 'yaml';
import { UserError } from '../errors.js';
import { cachedParse } from './parse-cache.js';
import { formatInt } from '../units/format.js';

/** Limits on parsed input; each is named in the error that reports it. */
export const LIMITS = {
  /** A YAML file: 11× the largest bundled one (a scenario is 2 KB); parses in about 0.1–0.3 s (the yaml parser reads 0.5–2 MB/s here). */
  yamlBytes: 128 * 1024,
  /** A JSON file: 8× the validation cases file; JSON parses an order of magnitude faster than YAML. */
  jsonBytes: 8 * 1024 * 1024,
  /** Nesting of mappings and lists (a scenario nests 5 deep). */
  depth: 64,
  /** Entries in one mapping or list (the validation file holds 445 cases). */
  entries: 100_000,
  /** Values in the whole document with every alias expanded (guards against "billion laughs"). */
  nodes: 4_000_000,
  /** Alias uses (`*name`) in one YAML document. */
  aliases: 10_000,
} as const;

/** Longest run of indentation and block indicators at the start of a line (64 levels need about 130). */
const BLOCK_PREFIX_LIMIT = 1000;

export type Limits = { readonly [K in keyof typeof LIMITS]: number };

/**
 * Whether brackets ([ and {) outside quotes and comments nest deeper than `limit`: a linear
 * pre-check, so a file of 100,000 opening brackets is refused before a parser recurses into it.
 */
function flowDepth(text: string, limit: number): boolean {
  let depth = 0;
  let lineStart = true;
  let prefix = 0; // indentation and block indicators ("- ", "? ") at the start of the line
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x0a) {
      lineStart = true;
      prefix = 0;
      continue;
    }
    if (lineStart) {
      // Each block level takes at least one column: a prefix this long nests far past the limit.
      if (c === 0x20 || c === 0x09 || c === 0x2d || c === 0x3f) {
        if (++prefix > BLOCK_PREFIX_LIMIT) return true;
        continue;
      }
      lineStart = false;
    }
    if (c === 0x5b || c === 0x7b) {
      if (++depth > limit) return true;
    } else if (c === 0x5d || c === 0x7d) {
      if (depth > 0) depth--;
    } else if (c === 0x22 /* " */) {
      for (i++; i < text.length && text.charCodeAt(i) !== 0x22; i++) if (text.charCodeAt(i) === 0x5c) i++;
    } else if (c === 0x27 /* ' */ && depth > 0) {
      // Inside flow collections a quote opens a string; in block text an apostrophe may be prose.
      for (i++; i < text.length && text.charCodeAt(i) !== 0x27; i++);
    } else if (c === 0x23 /* # */ && (i === 0 || text.charCodeAt(i - 1) <= 0x20)) {
      const eol = text.indexOf('\n', i);
      i = eol === -1 ? text.length : eol;
    }
  }
  return false;
}

/** The repository root (holds hardware-profiles/, models/, scenarios/): the nearest folder above this module with clusterplan's package.json (src/io, dist/io or the dist/ bundle). */
export const packageRoot = findPackageRoot(dirname(fileURLToPath(import.meta.url)));

function findPackageRoot(start: string): string {
  for (let dir = start, i = 0; i < 6; i++, dir = dirname(dir)) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && /"name":\s*"clusterplan"/.test(readFileSync(pkg, 'utf8'))) return dir;
  }
  return resolve(start, '..', '..');
}

/** Reads a YAML or JSON file into a plain value, with a UserError naming the file on failure. */
export function readDataFile(file: string): unknown {
  if (!existsSync(file)) throw new UserError('file not found', file);
  const isJson = extname(file).toLowerCase() === '.json';
  const limit = isJson ? LIMITS.jsonBytes : LIMITS.yamlBytes;
  let text: string;
  try {
    const size = statSync(file).size;
    if (size > limit) throw tooLarge(size, limit, isJson, file);
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError(`cannot read file: ${(e as Error).message}`, file);
  }
  // A bundled file whose text is what the build parsed: its value from the build's cache.
  const cached = cachedParse(file, text, isJson);
  return cached ? cached.value : parseDataText(text, file);
}

function tooLarge(size: number, limit: number, isJson: boolean, file: string): UserError {
  const mb = (n: number) => `${(n / 1024 / 1024).toFixed(n < 1024 * 1024 ? 2 : 1)} MiB`;
  return new UserError(`file is ${mb(size)}, over the ${mb(limit)} limit for ${isJson ? 'JSON' : 'YAML'} input files`, file);
}

/** Parses YAML or JSON text (chosen by the file's extension) within LIMITS; errors name the line. */
export function parseDataText(text: string, file: string, limits: Limits = LIMITS): unknown {
  const isJson = extname(file).toLowerCase() === '.json';
  const bytes = Buffer.byteLength(text, 'utf8');
  const limit = isJson ? limits.jsonBytes : limits.yamlBytes;
  if (bytes > limit) throw tooLarge(bytes, limit, isJson, file);
  if (flowDepth(text, limits.depth)) throw depthError(file);
  const value = isJson ? parseJson(text, file) : parseYamlText(text, file);
  checkShape(value, file);
  return value;
}

function parseJson(text: string, file: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    if (e instanceof RangeError) throw depthError(file);
    throw new UserError(`malformed JSON: ${(e as Error).message}`, file);
  }
  checkJsonKeys(text, file);
  return value;
}

function depthError(file: string | undefined, field?: string): UserError {
  return new UserError(`nesting deeper than the limit of ${LIMITS.depth} levels`, file, field);
}

/** "line L, column C" of an offset, counted only when an error is reported. */
function lineCol(text: string, offset: number): string {
  let line = 1;
  let last = -1;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    last = i;
  }
  return `line ${line}, column ${offset - last}`;
}

/**
 * Rejects duplicate keys in JSON (JSON.parse keeps the last silently) in one pass over text that
 * JSON.parse has already accepted: a stack of key sets, one per open object.
 */
function checkJsonKeys(text: string, file: string): void {
  const stack: (Set<string> | null)[] = []; // a key set per open object, null per open array
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      const start = i;
      let escaped = false;
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i);
        if (d === 0x5c /* \ */) {
          escaped = true;
          i++;
        } else if (d === 0x22) break;
      }
      const keys = stack[stack.length - 1];
      if (expectKey && keys) {
        const key = escaped ? (JSON.parse(text.slice(start, i + 1)) as string) : text.slice(start + 1, i);
        if (keys.has(key)) throw new UserError(`malformed JSON at ${lineCol(text, start)}: object keys must be unique; ${JSON.stringify(key)} appears twice`, file);
        keys.add(key);
        expectKey = false;
      }
    } else if (c === 0x7b /* { */) {
      stack.push(new Set());
      expectKey = true;
    } else if (c === 0x5b /* [ */) {
      stack.push(null);
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
    } else if (c === 0x2c /* , */) {
      expectKey = stack[stack.length - 1] !== null && stack.length > 0;
    }
  }
}

function parseYamlText(text: string, file: string): unknown {
  let doc: Document.Parsed;
  try {
    doc = parseDocument(text, { uniqueKeys: false, prettyErrors: false });
  } catch (e) {
    if (e instanceof RangeError) throw depthError(file);
    throw e;
  }
  if (doc.errors.length > 0) {
    const err = doc.errors[0];
    // linePos is only filled in with prettyErrors (which makes the message multi-line): count from the offset.
    if (/call stack/i.test(err.message)) throw depthError(file);
    const at = err.pos ? ` at ${lineCol(text, err.pos[0])}` : '';
    throw new UserError(`malformed YAML${at}: ${err.message.split('\n')[0]}`, file);
  }
  return yamlValue(doc.contents, text, file);
}

/**
 * Builds the plain value of a YAML syntax tree in one pass, checking as it goes: duplicate keys
 * (a set per mapping, where yaml's own uniqueKeys compares every pair), the alias count, and the
 * depth before it recurses deeper. Aliases resolve to the value of the latest anchor of that name
 * before them, shared rather than copied (yaml's own toJS searches the whole document for every
 * alias, which is quadratic); checkShape bounds the expansion.
 */
function yamlValue(root: unknown, text: string, file: string): unknown {
  let aliases = 0;
  const anchors = new Map<string, unknown>();
  const building = new Set<string>();
  const at = (node: unknown) => lineCol(text, (node as { range?: [number] } | null)?.range?.[0] ?? 0);
  const convert = (node: unknown, depth: number): unknown => {
    if (depth > LIMITS.depth) throw depthError(file);
    if (node === null || node === undefined) return null;
    if (isAlias(node)) {
      if (++aliases > LIMITS.aliases) throw new UserError(`more than ${formatInt(LIMITS.aliases)} aliases (the limit on *name uses per file)`, file);
      if (building.has(node.source)) throw new UserError(`malformed YAML at ${at(node)}: alias *${node.source} refers to a value that contains it`, file);
      if (!anchors.has(node.source)) throw new UserError(`malformed YAML at ${at(node)}: alias *${node.source} has no anchor &${node.source} before it`, file);
      return anchors.get(node.source);
    }
    const anchor = (node as { anchor?: string }).anchor;
    if (anchor) building.add(anchor);
    let value: unknown;
    if (isScalar(node)) value = node.value;
    else if (isMap(node)) {
      const out: Record<string, unknown> = {};
      const keys = new Set<string>();
      for (const pair of node.items) {
        const k = pair.key as YamlNode | null;
        if (k !== null && !isScalar(k)) throw new UserError(`malformed YAML at ${at(k)}: a mapping key must be a plain value, not a list, mapping or alias`, file);
        const key = k === null || k.value === null ? '' : String(k.value);
        if (keys.has(key)) throw new UserError(`malformed YAML at ${at(k)}: map keys must be unique; ${JSON.stringify(key)} appears twice`, file);
        keys.add(key);
        const v = convert(pair.value, depth + 1);
        // defineProperty: assigning "__proto__" would set the prototype instead of adding a key.
        if (key === '__proto__') Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
        else out[key] = v;
      }
      value = out;
    } else if (isSeq(node)) {
      value = node.items.map((item) => convert(item, depth + 1));
    } else {
      throw new UserError(`malformed YAML at ${at(node)}: unsupported node`, file);
    }
    if (anchor) {
      building.delete(anchor);
      anchors.set(anchor, value);
    }
    return value;
  };
  return convert(root, 1);
}

/**
 * Bounds the parsed value: nesting depth, entries per collection and total values with aliases
 * expanded. Shared (aliased) values are measured once, so this stays linear in the file.
 */
function checkShape(root: unknown, file: string): void {
  const size = new Map<object, { nodes: number; height: number }>();
  const path: (string | number)[] = []; // joined only when an error is reported
  const at = () => path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('') || undefined;
  const measure = (v: unknown, depth: number): { nodes: number; height: number } => {
    if (v === null || typeof v !== 'object') return LEAF;
    const known = size.get(v);
    if (known) {
      if (depth + known.height > LIMITS.depth) throw depthError(file, at());
      return known;
    }
    if (depth > LIMITS.depth) throw depthError(file, at());
    const isList = Array.isArray(v);
    const keys = isList ? undefined : Object.keys(v);
    const count = isList ? v.length : keys!.length;
    if (count > LIMITS.entries) {
      throw new UserError(`${isList ? 'list' : 'mapping'} of ${formatInt(count)} entries, over the limit of ${formatInt(LIMITS.entries)}`, file, at());
    }
    let nodes = 1;
    let height = 0;
    for (let i = 0; i < count; i++) {
      const key = isList ? i : keys![i];
      path.push(key);
      const m = measure(isList ? v[i] : (v as Record<string, unknown>)[key as string], depth + 1);
      path.pop();
      nodes += m.nodes;
      if (m.height + 1 > height) height = m.height + 1;
      if (nodes > LIMITS.nodes) throw new UserError(`more than ${formatInt(LIMITS.nodes)} values with aliases expanded (the limit on document size)`, file);
    }
    const r = { nodes, height };
    size.set(v, r);
    return r;
  };
  measure(root, 1);
}

const LEAF = { nodes: 1, height: 0 };
