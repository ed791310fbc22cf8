import { visit } from 'jsonc-parser';
import { REPEATED_KEYS } from '../validation/index.js';

/**
 * Finding members that JSON.parse silently merged, without slowing every body down: the parse
 * counts the member names and string values it kept, and a scan counts the string tokens of the
 * text (names and values alike). They differ only when a repeated member was dropped; then, and
 * only then, the text is walked again to find where, and the objects concerned are marked.
 */
export interface ParseCounts {
  /** Calls of the reviver on an object member (the root's call included). */
  members: number;
  strings: number;
}

/** JSON.parse's reviver, counting what it keeps; `check` still vets each key. */
export function countingReviver(counts: ParseCounts, check: (key: string) => void) {
  return function (this: unknown, key: string, value: unknown): unknown {
    check(key);
    if (!Array.isArray(this)) counts.members += 1;
    if (typeof value === 'string') counts.strings += 1;
    return value;
  };
}

export function mayHaveRepeatedKeys(text: string, counts: ParseCounts): boolean {
  return stringTokens(text) !== counts.members - 1 + counts.strings;
}

/** Strings in a text JSON.parse accepted: its unescaped quotes, halved (outside strings there are no backslashes). */
function stringTokens(text: string): number {
  let quotes = 0;
  for (let i = text.indexOf('"'); i !== -1; i = text.indexOf('"', i + 1)) {
    let backslashes = 0;
    while (text.charCodeAt(i - 1 - backslashes) === 92) backslashes += 1;
    if (backslashes % 2 === 0) quotes += 1;
  }
  return quotes / 2;
}

/** Marks each object of `parsed` whose text repeated a member name; the names found, for a caller that refuses them outright. */
export function markRepeatedKeys(text: string, parsed: unknown): string[] {
  const open: Set<string>[] = [];
  const found: string[] = [];
  visit(text, {
    onObjectBegin: () => void open.push(new Set()),
    onObjectEnd: () => void open.pop(),
    onObjectProperty: (name, _offset, _length, _line, _column, pathTo) => {
      const seen = open[open.length - 1];
      if (!seen.has(name)) return void seen.add(name);
      found.push(name);
      // The path leads into the members JSON.parse kept; a repetition inside a dropped one has no object to mark.
      let holder: unknown = parsed;
      for (const step of pathTo()) holder = (holder as Record<string | number, unknown> | null)?.[step];
      if (typeof holder !== 'object' || holder === null || Array.isArray(holder)) return;
      const names = ((holder as Record<string, string[]>)[REPEATED_KEYS] ??= []);
      if (!names.includes(name)) names.push(name);
    },
  });
  return found;
}
