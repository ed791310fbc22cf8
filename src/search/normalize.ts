/**
 * String search is case- and accent-insensitive (R4 search.html, "string"): values and query
 * text are folded the same way, so a prefix search is an index range on the folded value.
 */
export function foldText(text: string): string {
  return text
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .trim();
}

/** User text destined for $regex: every metacharacter escaped, so it only ever matches itself. */
export function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}
