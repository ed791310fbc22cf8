import type { Config } from '../config.js';
import { parseInstantRange } from '../fhir/date-range.js';
import { r4ResourceTypes } from '../fhir/structure-definitions.js';
import { badRequest } from '../outcome.js';
import { pageSize } from '../services/page-size.js';
import type { Clause, DatePrefix, DateValue, IncludeSpec, NumberValue, SearchQuery, SortKey, ValueClause } from './ast.js';
import { anySystem, inSystem, ofType, referenceKey, systemOnly } from './encoding.js';
import { foldText } from './normalize.js';
import type { SearchParam, SearchRegistry } from './registry.js';
import { valueSetKeys } from './value-set-keys.js';

export type QueryEntries = [name: string, value: string][];

/** Parameters about the result, not the match. */
const RESULT_PARAMS = new Set([
  '_count', '_sort', '_total', '_summary', '_elements', '_include', '_revinclude', '_include:iterate',
  '_revinclude:iterate', '_format', '_pretty', '_cursor', '_type',
]);

const PREFIXES: DatePrefix[] = ['eq', 'ne', 'gt', 'lt', 'ge', 'le', 'sa', 'eb', 'ap'];

/** An unknown or unusable parameter: ignored (and reported) unless the client asked for strict handling. */
class Unusable extends Error {}

/** Splits on commas not escaped with a backslash; `\,` `\$` `\|` `\\` become the character. */
export function splitValues(text: string, separator = ','): string[] {
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '\\' && i + 1 < text.length) {
      current += ch + text[++i];
    } else if (ch === separator) {
      parts.push(current);
      current = '';
    } else current += ch;
  }
  parts.push(current);
  return parts;
}

const unescape = (text: string) => text.replace(/\\([\\,$|])/g, '$1');

/** Splits `a|b` at the first unescaped bar. */
function splitBar(text: string): [string, string] | undefined {
  const parts = splitValues(text, '|');
  if (parts.length < 2) return undefined;
  return [unescape(parts[0]), unescape(parts.slice(1).join('|'))];
}

function prefixed(name: string, text: string): { prefix: DatePrefix; rest: string } {
  const maybe = text.slice(0, 2) as DatePrefix;
  if (/^[a-z]{2}/.test(text)) {
    if (!PREFIXES.includes(maybe)) throw badRequest(`${name}: "${text.slice(0, 2)}" is not a search prefix (eq, ne, gt, lt, ge, le, sa, eb, ap)`, 'invalid', [name]);
    return { prefix: maybe, rest: text.slice(2) };
  }
  return { prefix: 'eq', rest: text };
}

function dateValue(name: string, text: string): DateValue {
  const { prefix, rest } = prefixed(name, text);
  const range = parseInstantRange(rest);
  if (!range) throw badRequest(`${name}: "${rest}" is not a FHIR date such as 2024, 2024-05 or 2024-05-01T10:00:00Z`, 'invalid', [name]);
  return { prefix, low: range.low, high: range.high };
}

function numberValue(name: string, text: string, quantity: boolean): NumberValue {
  const { prefix, rest } = prefixed(name, text);
  const [numberText, ...unit] = quantity ? splitValues(rest, '|') : [rest];
  if (!/^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(numberText)) {
    throw badRequest(`${name}: "${numberText}" is not a number`, 'invalid', [name]);
  }
  const value = Number(numberText);
  // The precision of the query value: 100 covers [99.5, 100.5), 1.50 covers [1.495, 1.505).
  const decimals = /\.(\d*)/.exec(numberText.split(/[eE]/)[0])?.[1]?.length ?? 0;
  const half = 0.5 * 10 ** -decimals;
  const result: NumberValue = { prefix, value, low: value - half, high: value + half };
  if (unit.length === 2 && unit[1] !== '') {
    const [system, code] = unit.map(unescape);
    result.unitKeys = [system ? inSystem(system, code) : anySystem(code)];
  }
  return result;
}

function tokenKeys(name: string, text: string): string[] {
  const bar = splitBar(text);
  if (!bar) return [anySystem(unescape(text))];
  const [system, code] = bar;
  if (code === '') {
    if (system === '') throw badRequest(`${name}: "|" alone names no system or code`, 'invalid', [name]);
    return [systemOnly(system)];
  }
  return [inSystem(system, code)];
}

function ofTypeKey(name: string, text: string): string {
  const parts = splitValues(text, '|').map(unescape);
  if (parts.length !== 3 || parts.some((p) => p === '')) {
    throw badRequest(`${name}:of-type needs system|code|value; got "${text}"`, 'invalid', [name]);
  }
  return ofType(parts[0], parts[1], parts[2]);
}

function booleanMissing(name: string, text: string): boolean {
  if (text !== 'true' && text !== 'false') throw badRequest(`${name}:missing must be true or false`, 'invalid', [name]);
  return text === 'true';
}

function valueClause(param: SearchParam, modifier: string | undefined, raw: string, name: string, baseUrl: string, registry: SearchRegistry, type: string): ValueClause {
  if (modifier === 'missing') return { kind: 'missing', param, missing: booleanMissing(name, raw) };
  const values = splitValues(raw);
  if (values.some((v) => v === '')) throw badRequest(`${name}: empty value`, 'invalid', [name]);
  switch (param.type) {
    case 'string': {
      if (modifier && modifier !== 'exact' && modifier !== 'contains') throw new Unusable();
      const mode = (modifier ?? 'prefix') as 'prefix' | 'exact' | 'contains';
      return { kind: 'string', param, mode, values: values.map((v) => (mode === 'exact' ? unescape(v) : foldText(unescape(v)))) };
    }
    case 'token': {
      if (param.code === '_id') {
        if (modifier && modifier !== 'not') throw new Unusable();
        return { kind: 'id', ids: values.map(unescape), not: modifier === 'not' };
      }
      if (modifier === 'text') return { kind: 'token', param, field: 'text', not: false, keys: [], texts: values.map((v) => foldText(unescape(v))) };
      if (modifier === 'of-type') return { kind: 'token', param, field: 'values', not: false, keys: values.map((v) => ofTypeKey(name, v)), texts: [] };
      if (modifier === 'in' || modifier === 'not-in') {
        // Several ValueSets are one set; `:not-in`, like `:not`, also matches resources without a value.
        return { kind: 'token', param, field: 'values', not: modifier === 'not-in', keys: valueSetKeys(name, values.map(unescape), param), texts: [] };
      }
      if (modifier && modifier !== 'not') throw new Unusable();
      return { kind: 'token', param, field: 'values', not: modifier === 'not', keys: values.flatMap((v) => tokenKeys(name, v)), texts: [] };
    }
    case 'date':
      if (modifier) throw new Unusable();
      return { kind: 'date', param, values: values.map((v) => dateValue(name, v)) };
    case 'number':
    case 'quantity':
      if (modifier) throw new Unusable();
      return { kind: 'number', param, values: values.map((v) => numberValue(name, v, param.type === 'quantity')) };
    case 'reference': {
      if (modifier === 'identifier') {
        return { kind: 'reference', param, keys: [], identifierKeys: values.flatMap((v) => tokenKeys(name, v)) };
      }
      if (modifier && !(param.target.includes(modifier) || registry.params(modifier).length > 0)) throw new Unusable();
      const keys = values.flatMap((v) => {
        const text = unescape(v);
        if (!/^[A-Za-z0-9\-.]{1,64}$/.test(text)) return [referenceKey(text, baseUrl)];
        if (modifier) return [`${modifier}/${text}`];
        // A bare id matches a reference to it of any type the parameter may point at (and a stored value that is just the id).
        return [...referenceTargets(param).map((target) => `${target}/${text}`), text];
      });
      return { kind: 'reference', param, keys, identifierKeys: [] };
    }
    case 'uri': {
      if (modifier && modifier !== 'below' && modifier !== 'above') throw new Unusable();
      return { kind: 'uri', param, mode: (modifier as 'below' | 'above') ?? 'equal', values: values.map(unescape) };
    }
    case 'composite':
      if (modifier) throw new Unusable();
      return { kind: 'composite', param, keys: values.map((v) => splitValues(v, '$').map(unescape).join('$')) };
    default:
      void type;
      throw new Unusable();
  }
}

/** The types a reference parameter may point at: its targets, or any resource type when it names none. */
function referenceTargets(param: SearchParam): string[] {
  const named = param.target.filter((t) => t !== 'Resource');
  return named.length > 0 && named.length === param.target.length ? named : r4ResourceTypes();
}

/** One search parameter (name may hold modifiers, chains and _has) on `type`, to a clause. */
function clauseFor(type: string, name: string, value: string, ctx: ParseContext, depth = 0): Clause {
  if (depth > 4) throw badRequest(`${name}: chains are limited to 4 levels`, 'too-costly', [name]);
  if (name.startsWith('_has:')) {
    const [, sourceType, refCode, ...rest] = name.split(':');
    const innerName = rest.join(':');
    const referenceParam = ctx.registry.param(sourceType ?? '', refCode ?? '');
    if (!referenceParam || referenceParam.type !== 'reference' || !innerName) throw new Unusable();
    return { kind: 'has', sourceType, referenceParam, inner: clauseFor(sourceType, innerName, value, ctx, depth + 1) };
  }
  const dot = name.indexOf('.');
  if (dot > 0) {
    const [code, modifier] = name.slice(0, dot).split(':');
    const param = ctx.registry.param(type, code);
    if (!param || param.type !== 'reference') throw new Unusable();
    const targets = modifier ? [modifier] : param.target.filter((t) => ctx.registry.params(t).length > 0);
    if (targets.length === 0 || (modifier && !ctx.registry.params(modifier).length)) throw new Unusable();
    const rest = name.slice(dot + 1);
    // Every candidate target type must know the chained parameter; unknown on all is unusable.
    const usable = targets.filter((t) => ctx.registry.param(t, rest.split(/[.:]/)[0]) || rest.startsWith('_has:'));
    if (usable.length === 0) throw new Unusable();
    return { kind: 'chain', param, targetTypes: usable, inner: clauseFor(usable[0], rest, value, ctx, depth + 1) };
  }
  const [code, modifier, ...extra] = name.split(':');
  const param = ctx.registry.param(type, code);
  if (!param || extra.length > 0) throw new Unusable();
  if (param.code !== '_id' && !param.evaluate) throw new Unusable();
  return valueClause(param, modifier, value, name, ctx.baseUrl, ctx.registry, type);
}

interface ParseContext {
  registry: SearchRegistry;
  baseUrl: string;
}

function parseSort(text: string, type: string, registry: SearchRegistry, ignored: string[]): SortKey[] {
  const keys: SortKey[] = [];
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const descending = part.startsWith('-');
    const code = descending ? part.slice(1) : part;
    const param = registry.param(type, code);
    if (code !== '_id' && (!param || param.type === 'composite' || !param.evaluate)) {
      ignored.push(`_sort=${part}`);
      continue;
    }
    keys.push({ code, descending });
  }
  return keys;
}

function parseInclude(text: string, iterate: boolean, name: string, registry: SearchRegistry): IncludeSpec {
  if (text === '*') return { sourceType: '*', code: '*', iterate };
  const [sourceType, code, targetType] = text.split(':');
  const known = sourceType && code && (code === '*' || registry.param(sourceType, code)?.type === 'reference');
  if (!known) throw badRequest(`${name}: "${text}" must be Type:parameter[:TargetType] naming a reference parameter`, 'invalid', [name]);
  return { sourceType, code, targetType, iterate };
}

/**
 * The query string (as ordered name/value pairs) to a SearchQuery. Malformed values are always
 * 400; unknown parameters or modifiers are 400 under strict handling and otherwise listed in
 * `ignored`.
 */
export function parseSearch(
  types: string[],
  entries: QueryEntries,
  options: { registry: SearchRegistry; config: Config; strict: boolean },
): SearchQuery {
  const { registry, config, strict } = options;
  const ctx: ParseContext = { registry, baseUrl: config.baseUrl };
  const single = (name: string) => entries.filter(([n]) => n === name).map(([, v]) => v).pop();
  const query: SearchQuery = {
    types,
    clauses: [],
    sort: [],
    count: pageSize(config, single('_count')),
    include: [],
    revinclude: [],
    ignored: [],
  };
  const total = single('_total');
  if (total !== undefined) {
    if (!['none', 'estimate', 'accurate'].includes(total)) throw badRequest(`_total must be none, estimate or accurate; got "${total}"`, 'invalid', ['_total']);
    query.total = total as SearchQuery['total'];
  }
  query.summary = single('_summary');
  query.elements = single('_elements');
  query.cursor = single('_cursor');
  const sortText = single('_sort');
  if (sortText) query.sort = parseSort(sortText, types[0], registry, query.ignored);

  for (const [name, value] of entries) {
    if (name === '_include' || name === '_include:iterate') {
      for (const v of value.split(',')) query.include.push(parseInclude(v, name.endsWith(':iterate'), name, registry));
      continue;
    }
    if (name === '_revinclude' || name === '_revinclude:iterate') {
      for (const v of value.split(',')) query.revinclude.push(parseInclude(v, name.endsWith(':iterate'), name, registry));
      continue;
    }
    if (RESULT_PARAMS.has(name)) continue;
    try {
      // System-level search: a parameter must apply to every type searched.
      const clauses = types.map((type) => clauseFor(type, name, value, ctx));
      query.clauses.push(clauses[0]);
    } catch (error) {
      if (!(error instanceof Unusable)) throw error;
      query.ignored.push(name);
    }
  }
  if (strict && query.ignored.length > 0) {
    throw badRequest(`Unknown or unsupported search parameters: ${query.ignored.join(', ')}`, 'not-supported', query.ignored);
  }
  return query;
}
