/**
 * Reference rewriting of a transaction (http.html#trules): the entries' `fullUrl`s
 * (`urn:uuid:...`, or absolute URLs of resources the transaction creates) are replaced by the
 * `Type/id` the server assigned, wherever they appear in the bundle's resources: references,
 * `Attachment.url`, any other uri element holding one, and links in narrative XHTML.
 */

/** fullUrl → `Type/id`. */
export type IdMap = Map<string, string>;

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The same value with every mapped fullUrl replaced; `div` strings (narrative) are searched inside. */
export function rewriteReferences<T>(value: T, ids: IdMap): T {
  if (ids.size === 0) return value;
  const inText = new RegExp([...ids.keys()].sort((a, b) => b.length - a.length).map(escapeRegExp).join('|'), 'g');
  const walk = (node: unknown, key: string | undefined): unknown => {
    if (typeof node === 'string') {
      const exact = ids.get(node);
      if (exact !== undefined) return exact;
      if (key === 'div') return node.replace(inText, (found) => ids.get(found) ?? found);
      return node;
    }
    if (Array.isArray(node)) return node.map((item) => walk(item, key));
    if (node && typeof node === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(node)) out[k] = walk(v, k);
      return out;
    }
    return node;
  };
  return walk(value, undefined) as T;
}

/**
 * The conditional references of a resource (`Patient?identifier=...`): reference strings of a
 * stored type followed by a query, which the transaction resolves to the one match.
 */
export function conditionalReferences(value: unknown, isType: (type: string) => boolean): Set<string> {
  const found = new Set<string>();
  const walk = (node: unknown, key: string | undefined) => {
    if (typeof node === 'string') {
      if (key === 'reference') {
        const match = /^([A-Z][A-Za-z]+)\?(.+)$/.exec(node);
        if (match && isType(match[1])) found.add(node);
      }
      return;
    }
    if (Array.isArray(node)) for (const item of node) walk(item, key);
    else if (node && typeof node === 'object') for (const [k, v] of Object.entries(node)) walk(v, k);
  };
  walk(value, undefined);
  return found;
}
