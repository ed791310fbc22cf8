import type { CapabilityStatementRestResourceSearchParam } from 'fhir/r4';
import type { OpenAPIV3 } from 'openapi-types';

/** How a value of each FHIR search parameter type is written, for readers of the document. */
const VALUE_HINTS: Record<string, string> = {
  string: 'text; matches the start of a word, case and accents ignored (`:exact`, `:contains` change that)',
  token: '`[system|]code`, `system|` or `|code`; modifiers `:text`, `:not`, `:in`, `:not-in`, `:of-type`',
  date: 'a date or instant with an optional prefix: eq, ne, gt, lt, ge, le, sa, eb, ap (repeat for a range)',
  reference: '`[Type/]id` or an absolute URL; `:identifier` searches by the referenced identifier; chains with `.`',
  uri: 'a URI (`:below`, `:above` match by prefix)',
  number: 'a number with an optional prefix: eq, ne, gt, lt, ge, le',
  quantity: '`[prefix]number|system|code`',
  composite: 'the component values joined with `$`',
  special: 'see the parameter definition',
};

/**
 * The line about `type` of HL7's shared descriptions ("Multiple Resources: * [Patient](patient.html): ..."),
 * or the whole description when it is about one type.
 */
export function documentationFor(type: string, description: string | undefined): string {
  const text = (description ?? '').trim();
  if (!text.startsWith('Multiple Resources')) return text;
  const line = text.split(/\r?\n/).find((l) => l.startsWith(`* [${type}](`));
  return line ? line.replace(/^\* \[[^\]]+\]\([^)]*\):\s*/, '').trim() : '';
}

/** The component key of a type's search parameter: `Patient.family`. */
export function searchParamKey(type: string, code: string): string {
  return `${type}.${code}`;
}

/** One search parameter of a type as an OpenAPI query parameter. */
export function searchParameter(type: string, param: CapabilityStatementRestResourceSearchParam): OpenAPIV3.ParameterObject {
  const documentation = documentationFor(type, param.documentation);
  const lines = [
    documentation || `The ${param.name} of the ${type}.`,
    '',
    `FHIR ${param.type} parameter: ${VALUE_HINTS[param.type] ?? param.type}. Repeat it to AND values; separate values with commas to OR them; \`:missing=true|false\` works on every parameter.`,
    ...(param.definition ? ['', `Definition: ${param.definition}`] : []),
  ];
  return { name: param.name, in: 'query', required: false, description: lines.join('\n'), schema: { type: 'string' } };
}

/** Parameter codes every one of `types` offers: those a system-level search may use. */
export function sharedParamCodes(types: string[], searchParams: (type: string) => CapabilityStatementRestResourceSearchParam[]): string[] {
  const [first, ...rest] = types.map((type) => new Set(searchParams(type).map((p) => p.name)));
  if (!first) return [];
  return [...first].filter((code) => rest.every((codes) => codes.has(code)));
}
