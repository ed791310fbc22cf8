import { SaxesParser, type SaxesTagNS } from 'saxes';
import { baseStructureDefinition } from '../fhir/structure-definitions.js';
import type { IssueCode } from '../outcome.js';

/**
 * Narrative.div, the only xhtml value of R4: well-formed XML (only XML's own entities), one
 * `<div>` root in the XHTML namespace, only the elements and attributes txt-1 allows, no
 * active content, `#` links and images that resolve, and some text or an image (txt-2).
 * The allowed names are read from txt-1's XPath in HL7's Narrative definition: it lists them.
 */
export const XHTML_NS = 'http://www.w3.org/1999/xhtml';
const XML_NS = 'http://www.w3.org/XML/1998/namespace';
const XMLNS_NS = 'http://www.w3.org/2000/xmlns/';
/** Enough to tell a client what to fix without echoing a whole narrative back. */
const MAX_PROBLEMS = 10;

export interface NarrativeProblem {
  code: IssueCode;
  text: string;
}

interface AllowedNames {
  elements: Set<string>;
  attributes: Set<string>;
}

let allowed: AllowedNames | undefined;
function allowedNames(): AllowedNames {
  if (allowed) return allowed;
  const div = baseStructureDefinition('Narrative')?.snapshot?.element.find((e) => e.path === 'Narrative.div');
  const xpath = div?.constraint?.find((c) => c.key === 'txt-1')?.xpath ?? '';
  // `local-name(.)=('a', 'abbr', ...)` lists the elements, `name(.)=('abbr', 'accesskey', ...)` the attributes.
  const lists = [...xpath.matchAll(/name\(\.\)=\(([^)]*)\)/g)].map((m) => new Set(m[1].match(/'[^']+'/g)?.map((s) => s.slice(1, -1))));
  if (lists.length !== 2 || lists[0].size === 0 || lists[1].size === 0) {
    throw new Error('txt-1 of Narrative.div does not list the allowed XHTML elements and attributes');
  }
  allowed = { elements: lists[0], attributes: lists[1] };
  return allowed;
}

/** Attributes that carry a URL, and the only element each may appear on. */
const URL_ATTRIBUTES: Record<string, string> = { href: 'a', src: 'img' };
/** Schemes whose URLs run code when followed (HL7's validator refuses the same ones). */
const ACTIVE_SCHEME = /^(javascript|vbscript):/i;

/**
 * The problems of one div; `containedIds` are the ids a `#id` link or image may name besides
 * the anchors (`id`, `a name`) of the narrative itself.
 */
export function narrativeProblems(div: string, containedIds: () => Iterable<string>): NarrativeProblem[] {
  const names = allowedNames();
  const problems: NarrativeProblem[] = [];
  const add = (code: IssueCode, text: string) => {
    if (problems.length < MAX_PROBLEMS && !problems.some((p) => p.text === text)) problems.push({ code, text });
  };
  const anchors = new Set<string>();
  const localLinks: string[] = [];
  let depth = 0;
  let roots = 0;
  let hasContent = false;

  const parser = new SaxesParser({ xmlns: true });
  parser.on('opentag', (tag: SaxesTagNS) => {
    if (depth === 0) {
      roots += 1;
      if (tag.local !== 'div') add('structure', `txt-1: the narrative must be one <div> element, not <${tag.name}>`);
    }
    depth += 1;
    if (tag.uri !== XHTML_NS) {
      const where = depth === 1 ? 'the <div>' : `<${tag.name}>`;
      add('structure', `txt-1: ${where} must be in the XHTML namespace: add xmlns="${XHTML_NS}"${tag.uri ? ` (not "${tag.uri}")` : ''}`);
    }
    if (depth > 1 && !names.elements.has(tag.local)) {
      add('invariant', `txt-1: <${tag.name}> is not allowed in a narrative; use only basic HTML formatting (p, b, table, a, img...)`);
    }
    for (const attribute of Object.values(tag.attributes)) {
      if (attribute.uri === XMLNS_NS || attribute.name === 'xmlns') continue; // namespace declarations
      if (attribute.uri === XML_NS && (attribute.local === 'lang' || attribute.local === 'space')) continue;
      const on = URL_ATTRIBUTES[attribute.name];
      if (attribute.prefix || !names.attributes.has(attribute.name) || (on !== undefined && on !== tag.local)) {
        const hint = attribute.name.startsWith('on') ? ' (no event handlers)' : '';
        add('invariant', `txt-1: the attribute ${attribute.name} is not allowed on <${tag.local}> in a narrative${hint}`);
        continue;
      }
      if (on === undefined) continue;
      const url = attribute.value.trim();
      // Browsers ignore whitespace and control characters inside a scheme ("java\tscript:").
      if (ACTIVE_SCHEME.test(url.replace(/[\s\u0000-\u001f]+/g, ''))) {
        add('invariant', `txt-1: ${attribute.name}="${url.slice(0, 40)}" is active content, which a narrative must not contain`);
      } else if (url.startsWith('#')) {
        localLinks.push(url.slice(1));
      }
      if (attribute.name === 'src' && url !== '') hasContent = true; // txt-2 counts an image as content
    }
    if (typeof tag.attributes.id?.value === 'string') anchors.add(tag.attributes.id.value);
    if (tag.local === 'a' && typeof tag.attributes.name?.value === 'string') anchors.add(tag.attributes.name.value);
  });
  parser.on('closetag', () => {
    depth -= 1;
  });
  const onText = (text: string) => {
    if (depth === 0) {
      if (text.trim() !== '') add('structure', 'txt-1: the narrative must be one <div> element, with nothing after it');
    } else if (!hasContent && text.trim() !== '') hasContent = true;
  };
  parser.on('text', onText);
  parser.on('cdata', onText);

  try {
    parser.write(div).close();
  } catch (error) {
    // saxes stops at the first well-formedness error; its message starts with line:column.
    const [, line, column, reason] = /^(\d+):(\d+): (.*?)\.?$/s.exec((error as Error).message) ?? [, '?', '?', (error as Error).message];
    const hint = reason.includes('entity') ? ' (only &lt; &gt; &amp; &quot; &apos; and numeric references such as &#160; are XML)' : '';
    return [{ code: 'structure', text: `the narrative is not well-formed XHTML at line ${line}, column ${column}: ${reason}${hint}` }];
  }
  if (roots > 1) add('structure', 'txt-1: the narrative must be one <div> element, with nothing after it');
  if (!hasContent) add('invariant', 'txt-2: the narrative must have some text (or an image), not only whitespace');
  if (localLinks.length > 0) {
    const ids = new Set(containedIds());
    for (const link of localLinks) {
      if (!anchors.has(link) && !ids.has(link)) {
        add('invariant', `the link "#${link.slice(0, 40)}" names nothing in the narrative or among the contained resources`);
      }
    }
  }
  return problems;
}
