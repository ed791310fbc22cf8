import { readdirSync } from 'node:fs';
import t from 'tap';
import { startTestServer } from '../helpers/server.js';
import { create, errors, fixture } from '../helpers/validation.js';

const names = readdirSync(new URL('../../fixtures/', import.meta.url)).filter((f) => f.endsWith('.json'));

t.test('every fixture (modelled on the spec examples) is stored without errors', async (t) => {
  const s = await startTestServer(t);
  t.ok(names.length >= 8);
  for (const name of names) {
    const { status, issues } = await create(s, fixture(name));
    t.same(errors(issues), [], name);
    t.equal(status, 201, name);
  }
});
