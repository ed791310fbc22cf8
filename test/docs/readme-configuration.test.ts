import { readFileSync } from 'node:fs';
import t from 'tap';
import { configVariables } from '../helpers/config-variables.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

/** The rows of the table in the README's "Configuration" section, as lists of cells. */
function configurationRows(): string[][] {
  const start = readme.indexOf('\n## Configuration\n');
  const end = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, end === -1 ? undefined : end);
  return section
    .split('\n')
    .filter((line) => line.startsWith('|'))
    .slice(2) // the header and the |---| line
    .map((line) => line.slice(1, line.lastIndexOf('|')).split('|').map((cell) => cell.trim()));
}

/** Variable names written in backticks in the first cell of each row (`A` / `B`, `A` or `B`). */
function documented(): Set<string> {
  return new Set(configurationRows().flatMap(([first]) => [...first.matchAll(/`([A-Z][A-Z0-9_]*)`/g)].map((m) => m[1])));
}

t.test('every environment variable src/config.ts reads is in the README\'s Configuration table', async (t) => {
  const read = configVariables();
  t.ok(read.size > 20, 'config.ts is parsed');
  const table = documented();
  for (const name of read) t.ok(table.has(name), name);
});

t.test('every variable in the README\'s Configuration table is one src/config.ts reads', async (t) => {
  const read = configVariables();
  for (const name of documented()) t.ok(read.has(name), name);
});

t.test('every row of the Configuration table has a name, a default and a meaning', async (t) => {
  const rows = configurationRows();
  t.ok(rows.length > 20);
  for (const row of rows) {
    t.equal(row.length, 3, row[0]);
    t.ok(row.every((cell) => cell.length > 0), row[0]);
  }
});
