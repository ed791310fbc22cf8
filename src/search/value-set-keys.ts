import { pathTarget } from '../fhir/element-types.js';
import { expandValueSet } from '../fhir/value-sets.js';
import { badRequest } from '../outcome.js';
import { anySystem } from './encoding.js';
import { topLevelUnion, type SearchParam } from './registry.js';

/**
 * `:in` and `:not-in`: the ValueSets named by a token parameter's values, expanded from the R4
 * ValueSets shipped with the server, as the token keys a stored value is found by (see
 * encoding.ts). Codings are stored as `system|code`. A `code` element (Patient.gender) has no
 * system of its own, so it is stored as `=code`; its system is the one its required binding
 * implies (administrative-gender), and only codes of the ValueSet in that system match it.
 */
export const MAX_VALUE_SET_CODES = 10_000;

/** What a parameter's values are: codings (or anything else with a system) and/or plain codes. */
interface ValueShapes {
  coded: boolean;
  plain: boolean;
  /** `system|code` pairs a plain code can stand for (its required bindings); undefined: any system. */
  implied?: Set<string>;
}

const shapesByExpression = new Map<string, ValueShapes>();

const isPrimitive = (typeCode: string) => /^[a-z]/.test(typeCode);

function impliedMembers(valueSets: (string | undefined)[]): Set<string> | undefined {
  const implied = new Set<string>();
  for (const url of valueSets) {
    const expansion = url ? expandValueSet(url) : undefined;
    if (!expansion) return undefined;
    for (const member of expansion.members) implied.add(member);
  }
  return implied;
}

function valueShapes(expression: string): ValueShapes {
  let shapes = shapesByExpression.get(expression);
  if (!shapes) {
    const targets = topLevelUnion(expression).map(pathTarget);
    const plainParts = targets.filter((t) => t?.types.some(isPrimitive));
    shapes = {
      // A part whose type cannot be told is taken as coded: only exact `system|code` keys match it.
      coded: targets.some((t) => !t || t.types.some((type) => !isPrimitive(type))),
      plain: plainParts.length > 0,
      implied: impliedMembers(plainParts.map((t) => t!.requiredValueSet)),
    };
    shapesByExpression.set(expression, shapes);
  }
  return shapes;
}

const codeOf = (member: string) => member.slice(member.lastIndexOf('|') + 1);

/**
 * The keys of the union of the ValueSets `urls` (the values of one `name:in`/`name:not-in`),
 * for `param`. An unknown ValueSet, or one whose codes cannot be listed here (filters, external
 * code systems), is a 400 naming the parameter and the URL; more than 10,000 codes is too costly.
 */
export function valueSetKeys(name: string, urls: string[], param: SearchParam): string[] {
  const members = new Set<string>();
  for (const url of urls) {
    const expansion = expandValueSet(url);
    if (!expansion) {
      throw badRequest(
        `${name}: the ValueSet "${url}" is unknown here or its codes cannot be listed (only the R4 ValueSets shipped with the server are expanded)`,
        'not-supported', [name],
      );
    }
    for (const member of expansion.members) members.add(member);
  }
  if (members.size > MAX_VALUE_SET_CODES) {
    throw badRequest(`${name}: ${members.size} codes to match; at most ${MAX_VALUE_SET_CODES} can be searched at once`, 'too-costly', [name]);
  }
  const { coded, plain, implied } = valueShapes(param.expression ?? '');
  const keys = coded ? [...members] : [];
  if (plain) {
    const plainCodes = [...members].filter((m) => !implied || implied.has(m)).map((m) => anySystem(codeOf(m)));
    keys.push(...new Set(plainCodes));
  }
  return keys;
}
