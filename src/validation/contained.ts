/**
 * dom-3 natively: every contained resource must be referenced from elsewhere in the resource
 * (`#id`), or itself refer back to its container (`#`). HL7's FHIRPath for dom-3 uses
 * `descendants().as(canonical)`, which fhirpath.js rejects on collections, so it cannot be
 * evaluated as written.
 */
export function containedAreReferenced(resource: unknown): boolean {
  const contained = (resource as { contained?: unknown }).contained;
  if (!Array.isArray(contained) || contained.length === 0) return true;
  const references = new Set<string>();
  collectLocalReferences(resource, references);
  return contained.every((inner) => {
    const id = (inner as { id?: unknown } | null)?.id;
    if (typeof id === 'string' && references.has(`#${id}`)) return true;
    const back = new Set<string>();
    collectLocalReferences(inner, back);
    return back.has('#');
  });
}

/** Every string starting with `#` (references, canonicals, uris) anywhere in the value. */
function collectLocalReferences(value: unknown, into: Set<string>): void {
  if (typeof value === 'string') {
    if (value.startsWith('#')) into.add(value);
  } else if (Array.isArray(value)) {
    for (const item of value) collectLocalReferences(item, into);
  } else if (typeof value === 'object' && value !== null) {
    for (const item of Object.values(value)) collectLocalReferences(item, into);
  }
}
