import { parseInstantRange } from '../fhir/date-range.js';

/**
 * The JSON form of each R4 primitive type: the JavaScript type it must have and the regular
 * expression of its lexical form (from the R4 data type pages).
 */
interface PrimitiveRule {
  json: 'string' | 'number' | 'boolean';
  pattern?: RegExp;
  /** A rule beyond the pattern: true when it holds; otherwise false, or the hint that explains why. */
  check?: (value: never) => boolean | string;
  /** How the problem is explained to the client. */
  hint: string;
}

const YEAR = '([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)';
const MONTH = '(0[1-9]|1[0-2])';
const DAY = '(0[1-9]|[1-2][0-9]|3[0-1])';
const TIME = '([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\\.[0-9]+)?';
const ZONE = '(Z|(\\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00))';

const DATE = new RegExp(`^${YEAR}(-${MONTH}(-${DAY})?)?$`);
const DATE_TIME = new RegExp(`^${YEAR}(-${MONTH}(-${DAY}(T${TIME}${ZONE})?)?)?$`);
const INSTANT = new RegExp(`^${YEAR}-${MONTH}-${DAY}T${TIME}${ZONE}$`);

/** The regular expressions accept 2023-02-31; the calendar does not. */
const realDate = (value: string) => parseInstantRange(value.replace(/T.*/, '')) !== undefined;
const isInt = (min: number) => (value: number) => Number.isInteger(value) && value >= min && value <= 2147483647;

const OID = /^urn:oid:[0-2](\.(0|[1-9][0-9]*))+$/;
const UUID = /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Any URI that claims to be an OID or a UUID must be one, as HL7's validator demands (the prefix test keeps other URIs free). */
function urnIsWellFormed(value: string): boolean | string {
  if (!value.startsWith('urn:')) return true;
  if (value.startsWith('urn:oid:')) return OID.test(value) || 'a valid OID after urn:oid: (such as urn:oid:1.2.3)';
  if (value.startsWith('urn:uuid:')) return UUID.test(value) || 'a lower-case UUID after urn:uuid:';
  return true;
}

const text: PrimitiveRule = { json: 'string', pattern: /^[ \r\n\t\S]+$/, hint: 'a non-empty string' };
const uri: PrimitiveRule = { json: 'string', pattern: /^\S+$/, check: urnIsWellFormed, hint: 'a URI without whitespace' };

const RULES: Record<string, PrimitiveRule> = {
  boolean: { json: 'boolean', hint: 'true or false' },
  integer: { json: 'number', check: isInt(-2147483648), hint: 'a whole number' },
  positiveInt: { json: 'number', check: isInt(1), hint: 'a whole number of at least 1' },
  unsignedInt: { json: 'number', check: isInt(0), hint: 'a whole number of at least 0' },
  decimal: { json: 'number', check: (v: number) => Number.isFinite(v), hint: 'a decimal number' },
  string: text,
  markdown: text,
  'System.String': text,
  code: { json: 'string', pattern: /^[^\s]+( [^\s]+)*$/, hint: 'a code (no leading, trailing or double spaces)' },
  id: { json: 'string', pattern: /^[A-Za-z0-9\-.]{1,64}$/, hint: 'an id: 1 to 64 letters, digits, "-" and "."' },
  uri,
  url: uri,
  canonical: uri,
  oid: { json: 'string', pattern: OID, hint: 'an OID such as urn:oid:1.2.3' },
  uuid: { json: 'string', pattern: UUID, hint: 'urn:uuid: and a lower-case UUID' },
  base64Binary: { json: 'string', pattern: /^(\s*([0-9a-zA-Z+/=]){4}\s*)+$/, hint: 'base64 text' },
  date: { json: 'string', pattern: DATE, check: realDate, hint: 'a date: YYYY, YYYY-MM or YYYY-MM-DD' },
  dateTime: { json: 'string', pattern: DATE_TIME, check: realDate, hint: 'a dateTime: YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm:ss with a time zone' },
  instant: { json: 'string', pattern: INSTANT, check: realDate, hint: 'an instant: YYYY-MM-DDThh:mm:ss(.sss) with a time zone' },
  time: { json: 'string', pattern: new RegExp(`^${TIME}$`), hint: 'a time: hh:mm:ss' },
  xhtml: { json: 'string', hint: 'XHTML inside one <div> element' }, // parsed and checked by narrative.ts
};

export function isPrimitiveType(code: string): boolean {
  return code in RULES;
}

/** Why a JSON value is not a valid primitive of the type, or undefined when it is. */
export function primitiveProblem(code: string, value: unknown): { code: 'structure' | 'value'; text: string } | undefined {
  const rule = RULES[code];
  if (!rule) return undefined;
  if (typeof value !== rule.json) {
    return { code: 'structure', text: `must be ${rule.hint} (a JSON ${rule.json}), not ${describe(value)}` };
  }
  if (rule.pattern && !rule.pattern.test(value as string)) return { code: 'value', text: `must be ${rule.hint}; got ${quote(value)}` };
  const verdict = rule.check ? rule.check(value as never) : true;
  if (verdict !== true) return { code: 'value', text: `must be ${typeof verdict === 'string' ? verdict : rule.hint}; got ${quote(value)}` };
  return undefined;
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `the ${typeof value} ${quote(value)}`;
}

/** A value as shown in diagnostics: short, so that a message never carries a whole record. */
export function quote(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}..."` : text;
}
