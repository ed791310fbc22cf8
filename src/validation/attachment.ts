import { createHash } from 'node:crypto';
import type { Attachment } from 'fhir/r4';
import { issue } from '../outcome.js';
import { primitiveProblem } from './primitives.js';
import type { WalkContext } from './walk-context.js';

/**
 * An Attachment that carries its `data` must state its `size` (bytes) and `hash` (base64 SHA-1)
 * truly, as HL7's validator checks (both errors, reported at the attachment). Only attachments
 * with data pay for the decoding; data that is not base64 is the primitive check's to report.
 */
export function checkAttachment(ctx: WalkContext, value: unknown, location: string): void {
  const { data, size, hash } = value as Attachment;
  if (typeof data !== 'string' || (typeof size !== 'number' && typeof hash !== 'string')) return;
  if (primitiveProblem('base64Binary', data)) return;
  const bytes = Buffer.from(data, 'base64');
  if (typeof size === 'number' && size !== bytes.length) {
    ctx.issues.push(issue('error', 'value', `size ${size} is not the length of the data: ${bytes.length} bytes`, [location]));
  }
  if (typeof hash === 'string') {
    const actual = createHash('sha1').update(bytes).digest('base64');
    if (actual !== hash.replace(/\s+/g, '')) {
      ctx.issues.push(issue('error', 'value', `hash ${JSON.stringify(hash.slice(0, 40))} is not the SHA-1 of the data, which is "${actual}"`, [location]));
    }
  }
}
