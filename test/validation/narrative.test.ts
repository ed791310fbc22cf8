import t, { type Test } from 'tap';
import { FHIR_JSON_HEADERS, startTestServer } from '../helpers/server.js';
import { create, errors, summary } from '../helpers/validation.js';

const X = 'http://www.w3.org/1999/xhtml';
const DIV = 'Patient.text.div';

/** Narrative.div (narrative.html, txt-1, txt-2), through create, update and $validate. */
t.test('narrative XHTML', async (t) => {
  const s = await startTestServer(t);
  const patient = (div: string, more: object = {}) => ({ resourceType: 'Patient', text: { status: 'generated', div }, ...more });
  const refused = async (t: Test, div: string, pattern: RegExp, code = 'invariant') => {
    const { status, issues } = await create(s, patient(div));
    t.equal(status, 422);
    t.same(summary(errors(issues)), [`error ${code} ${DIV}`]);
    t.match(errors(issues)[0].diagnostics, pattern);
  };

  t.test('basic formatting, tables, links, data: images and anchors pass', async (t) => {
    const div = `<div xmlns="${X}" xml:lang="en" lang="en"><h1 class="t">Peter</h1><p style="color:red">born <b>1974</b> &amp; <i>well</i>&#160;</p>`
      + '<table border="1"><caption>c</caption><tbody><tr><th scope="row">MRN</th><td colspan="1">12345</td></tr></tbody></table>'
      + '<a name="top">top</a> <a href="#top">up</a> <a href="https://example.org/p">more</a><img src="data:image/png;base64,iVBORw0KGgo=" alt="x"/></div>';
    const { status, issues } = await create(s, patient(div));
    t.same(errors(issues), []);
    t.equal(status, 201);
  });

  t.test('the root must be a div in the XHTML namespace', async (t) => {
    await refused(t, '<div>Peter</div>', /add xmlns="http:\/\/www.w3.org\/1999\/xhtml"/, 'structure');
    await refused(t, `<p xmlns="${X}">Peter</p>`, /one <div> element, not <p>/, 'structure');
  });

  t.test('an element of another namespace is refused', async (t) => {
    await refused(t, `<div xmlns="${X}"><p xmlns="http://example.org/ns">Peter</p></div>`, /<p> must be in the XHTML namespace/, 'structure');
  });

  t.test('malformed XML is refused with where it breaks', async (t) => {
    await refused(t, `<div xmlns="${X}"><p>Peter</div>`, /not well-formed XHTML at line 1, column \d+/, 'structure');
  });

  t.test('two roots, or text after the div, are refused', async (t) => {
    await refused(t, `<div xmlns="${X}">a</div><div xmlns="${X}">b</div>`, /only one root/, 'structure');
    await refused(t, `<div xmlns="${X}">a</div> b`, /outside of root/, 'structure');
  });

  t.test('HTML entities other than XML\'s are refused, with the numeric form as the fix', async (t) => {
    await refused(t, `<div xmlns="${X}">a&nbsp;b</div>`, /undefined entity.*&#160;/, 'structure');
  });

  for (const element of ['script', 'style', 'form', 'input', 'iframe', 'object', 'embed', 'body', 'link', 'base', 'font']) {
    t.test(`txt-1: <${element}> is refused`, async (t) => {
      await refused(t, `<div xmlns="${X}"><${element}></${element}>Peter</div>`, new RegExp(`txt-1: <${element}> is not allowed`));
    });
  }

  t.test('txt-1: event handler attributes are refused', async (t) => {
    await refused(t, `<div xmlns="${X}"><p onclick="steal()">Peter</p></div>`, /txt-1: the attribute onclick is not allowed on <p>.*no event handlers/);
  });

  t.test('txt-1: attributes outside the list, or href/src on other elements, are refused', async (t) => {
    await refused(t, `<div xmlns="${X}"><p data-x="1">Peter</p></div>`, /attribute data-x is not allowed/);
    await refused(t, `<div xmlns="${X}"><p href="https://example.org">Peter</p></div>`, /attribute href is not allowed on <p>/);
  });

  t.test('javascript: and vbscript: URLs are refused, whatever their case or the whitespace around and inside the scheme', async (t) => {
    await refused(t, `<div xmlns="${X}"><a href=" JavaScript:alert(1)">Peter</a></div>`, /href="JavaScript:alert\(1\)" is active content/);
    await refused(t, `<div xmlns="${X}"><img src="vbscript:x"/>Peter</div>`, /src="vbscript:x" is active content/);
    await refused(t, `<div xmlns="${X}"><a href="java&#9;script:alert(1)">Peter</a></div>`, /is active content/);
  });

  t.test('a #link must name an anchor of the narrative or a contained resource', async (t) => {
    await refused(t, `<div xmlns="${X}"><a href="#nowhere">Peter</a></div>`, /"#nowhere" names nothing/);
    const photo = patient(`<div xmlns="${X}"><img src="#pic"/>Peter</div>`, {
      contained: [{ resourceType: 'Binary', id: 'pic', contentType: 'image/png', data: 'iVBORw0KGgo=' }],
      photo: [{ url: '#pic' }],
    });
    const { status, issues } = await create(s, photo);
    t.same(errors(issues), []);
    t.equal(status, 201);
  });

  t.test('txt-2: whitespace only is refused; an image alone is content', async (t) => {
    await refused(t, `<div xmlns="${X}"> <p> </p> </div>`, /txt-2: the narrative must have some text/);
    const { status } = await create(s, patient(`<div xmlns="${X}"><img src="data:image/png;base64,iVBORw0KGgo="/></div>`));
    t.equal(status, 201);
  });

  t.test('update checks the narrative too', async (t) => {
    const response = await s.request({
      method: 'PUT',
      url: '/fhir/Patient/narrated',
      headers: FHIR_JSON_HEADERS,
      payload: { ...patient(`<div xmlns="${X}"><script>x()</script>Peter</div>`), id: 'narrated' },
    });
    t.equal(response.statusCode, 422);
    t.same(summary(errors(s.json(response).issue)), [`error invariant ${DIV}`]);
  });

  t.test('$validate reports narrative problems in its 200 report', async (t) => {
    const response = await s.request({ method: 'POST', url: '/fhir/Patient/$validate', headers: FHIR_JSON_HEADERS, payload: patient('<div>x</div>') });
    t.equal(response.statusCode, 200);
    t.same(summary(errors(s.json(response).issue)), [`error structure ${DIV}`]);
  });
});
