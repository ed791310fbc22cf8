import { createHash } from 'node:crypto';
import t from 'tap';
import { FHIR_JSON_HEADERS, startTestServer } from '../helpers/server.js';
import { create, errors, summary } from '../helpers/validation.js';

const text = 'No acute findings.';
const data = Buffer.from(text).toString('base64');
const sha1 = createHash('sha1').update(text).digest('base64');
const report = (attachment: Record<string, unknown>) => ({
  resourceType: 'DocumentReference',
  status: 'current',
  content: [{ attachment: { contentType: 'text/plain', data, ...attachment } }],
});

t.test('an Attachment with data states its size and hash truly', async (t) => {
  const s = await startTestServer(t);

  t.test('the true size and SHA-1 are accepted', async (t) => {
    t.equal((await create(s, report({ size: Buffer.byteLength(text), hash: sha1 }))).status, 201);
    t.equal((await create(s, report({}))).status, 201, 'neither stated');
  });

  t.test('a size that is not the decoded length is an error at the attachment', async (t) => {
    const { status, issues } = await create(s, report({ size: 99, hash: sha1 }));
    t.equal(status, 422);
    t.same(summary(errors(issues)), ['error value DocumentReference.content[0].attachment']);
    t.match(errors(issues)[0].diagnostics, /size 99 is not the length of the data: 18 bytes/);
  });

  t.test('a hash that is not the SHA-1 of the data is an error at the attachment', async (t) => {
    const { status, issues } = await create(s, report({ size: 18, hash: 'AAAAAAAAAAAAAAAAAAAAAAAAAAA=' }));
    t.equal(status, 422);
    t.same(summary(errors(issues)), ['error value DocumentReference.content[0].attachment']);
    t.match(errors(issues)[0].diagnostics, new RegExp(`not the SHA-1 of the data, which is "${sha1.replace(/[+/]/g, '\\$&')}"`));
  });

  t.test('without data, size and hash describe a file elsewhere and are not checked', async (t) => {
    const { data: _d, ...byUrl } = report({ url: 'Binary/1', size: 3654, hash: sha1 }).content[0].attachment;
    t.equal((await create(s, { ...report({}), content: [{ attachment: byUrl }] })).status, 201);
  });

  t.test('$validate reports the same', async (t) => {
    const response = await s.request({ method: 'POST', url: '/fhir/DocumentReference/$validate', headers: FHIR_JSON_HEADERS, payload: report({ size: 1 }) });
    t.equal(response.statusCode, 200);
    t.same(summary(errors(s.json(response).issue)), ['error value DocumentReference.content[0].attachment']);
  });
});
