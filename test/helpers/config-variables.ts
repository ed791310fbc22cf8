import { readFileSync } from 'node:fs';

/**
 * The environment variables src/config.ts reads, from its source: `env.NAME`, `env['NAME']` and
 * the helpers' `intFrom(env, 'NAME', ...)`-style calls.
 */
export function configVariables(): Set<string> {
  const source = readFileSync(new URL('../../src/config.ts', import.meta.url), 'utf8');
  const names = new Set<string>();
  const patterns = [/\benv\.([A-Z][A-Z0-9_]*)/g, /\benv\[['"]([A-Z][A-Z0-9_]*)['"]\]/g, /\w+From\(env, '([A-Z][A-Z0-9_]*)'/g];
  for (const pattern of patterns) for (const match of source.matchAll(pattern)) names.add(match[1]);
  return names;
}
