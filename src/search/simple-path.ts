import r4Model from 'fhirpath/fhir-context/r4/index.js';

/**
 * A fast path for the commonest SearchParameter expressions: unions of plain element paths
 * (`AuditEvent.agent.who | AuditEvent.entity.what`). The FHIRPath engine spends most of a write's
 * time wrapping every node it visits; these paths are walked over the JSON directly. A path
 * qualifies only when every step is an element the R4 model knows and none is a choice type
 * (`value[x]`), so its result is the engine's: the values at the path, lists flattened.
 */
const model = r4Model as unknown as {
  path2Type: Record<string, string>;
  choiceTypePaths: Record<string, string[]>;
  pathsDefinedElsewhere: Record<string, string>;
};

/** `Type.a.b`, optionally ending in `.where(reference.matches('...'))` (the patient parameters). */
const PATH = /^([A-Z][A-Za-z]+(?:\.[a-z][A-Za-z0-9]*)+)(?:\.where\(reference\.matches\('([^'\\]*)'\)\))?$/;

interface SimplePath {
  root: string;
  steps: string[];
  /** Only values whose `reference` matches this (FHIRPath `matches`: anywhere in the string). */
  referenceMatches?: RegExp;
}

/** The steps of one path if each is a known, single-typed element. */
function knownSteps(text: string): SimplePath | undefined {
  const match = PATH.exec(text);
  if (!match) return undefined;
  const [root, ...steps] = match[1].split('.');
  let at = root;
  for (const step of steps) {
    const key = `${at}.${step}`;
    if (model.choiceTypePaths[key]) return undefined;
    const type = model.path2Type[key];
    if (!type) return undefined;
    at = model.pathsDefinedElsewhere[key] ?? (type === 'BackboneElement' || type === 'Element' ? key : type);
  }
  if (match[2] !== undefined && at !== 'Reference') return undefined;
  return { root, steps, referenceMatches: match[2] !== undefined ? new RegExp(match[2]) : undefined };
}

/** Splits a union at its top-level `|` (none is inside the quoted patterns this accepts). */
const unionParts = (expression: string) => expression.split(/\s+\|\s+/);

/** An evaluator for `expression` when it is a union of plain paths; undefined otherwise (use FHIRPath). */
export function compileSimplePath(expression: string): ((resource: unknown) => unknown[]) | undefined {
  const paths = unionParts(expression.trim()).map((p) => knownSteps(p.trim()));
  if (paths.some((p) => p === undefined)) return undefined;
  return (resource) => {
    const out: unknown[] = [];
    const type = (resource as { resourceType?: unknown } | null)?.resourceType;
    for (const path of paths as SimplePath[]) {
      // FHIRPath's type name at the head of a path filters by type (Resource and DomainResource: any).
      if (type !== path.root && path.root !== 'Resource' && path.root !== 'DomainResource') continue;
      let values: unknown[] = [resource];
      for (const step of path.steps) {
        const next: unknown[] = [];
        for (const value of values) {
          const child = (value as Record<string, unknown>)[step];
          if (child === undefined || child === null) continue;
          if (Array.isArray(child)) {
            for (const item of child) if (item !== undefined && item !== null) next.push(item);
          } else next.push(child);
        }
        values = next;
        if (values.length === 0) break;
      }
      const pattern = path.referenceMatches;
      if (pattern) values = values.filter((v) => typeof (v as { reference?: unknown }).reference === 'string' && pattern.test((v as { reference: string }).reference));
      out.push(...values);
    }
    return out;
  };
}
