import type { OperationOutcome, OperationOutcomeIssue } from 'fhir/r4';

export type IssueSeverity = OperationOutcomeIssue['severity'];
export type IssueCode = OperationOutcomeIssue['code'];
export type Issue = OperationOutcomeIssue;

/**
 * The one error type of the server: an HTTP status with the OperationOutcome issues that
 * explain it. Thrown anywhere below the routes; the error handler in rest/errors.ts answers it.
 */
export class FhirError extends Error {
  readonly status: number;
  readonly issues: Issue[];
  /** Extra response headers (e.g. Allow on 405). */
  readonly headers: Record<string, string>;

  constructor(status: number, issues: Issue[] | Issue, headers: Record<string, string> = {}) {
    const list = Array.isArray(issues) ? issues : [issues];
    super(list.map((i) => i.diagnostics ?? i.code).join('; '));
    this.status = status;
    this.issues = list;
    this.headers = headers;
  }
}

export function issue(
  severity: IssueSeverity,
  code: IssueCode,
  diagnostics: string,
  expression?: string[],
): Issue {
  const result: Issue = { severity, code, diagnostics };
  if (expression && expression.length > 0) result.expression = expression;
  return result;
}

/**
 * The OperationOutcome of these issues, with a generated narrative that repeats them for people
 * (a resource should have one: R4's dom-6, which HL7's validator warns about).
 */
export function outcome(issues: Issue[]): OperationOutcome {
  const list = issues.length > 0 ? issues : [issue('information', 'informational', 'All OK')];
  return { resourceType: 'OperationOutcome', text: narrativeOf(list), issue: list };
}

function narrativeOf(issues: Issue[]): OperationOutcome['text'] {
  const lines = issues.map((i) => `<p>${escapeXml(`${i.severity} (${i.code})${i.diagnostics ? `: ${i.diagnostics}` : ''}`)}</p>`);
  return { status: 'generated', div: `<div xmlns="http://www.w3.org/1999/xhtml">${lines.join('')}</div>` };
}

const escapeXml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export const badRequest = (diagnostics: string, code: IssueCode = 'invalid', expression?: string[]) =>
  new FhirError(400, issue('error', code, diagnostics, expression));

export const notFound = (diagnostics: string) => new FhirError(404, issue('error', 'not-found', diagnostics));

/** 401: no usable access token; `headers` carries WWW-Authenticate (security/tokens.ts). */
export const unauthorized = (diagnostics: string, headers: Record<string, string> = {}) =>
  new FhirError(401, issue('error', 'login', diagnostics), headers);

/** 403: a verified caller whose token does not allow the interaction. */
export const forbidden = (diagnostics: string, headers: Record<string, string> = {}) =>
  new FhirError(403, issue('error', 'forbidden', diagnostics), headers);

export const gone = (diagnostics: string) => new FhirError(410, issue('error', 'deleted', diagnostics));

export const conflict = (diagnostics: string) => new FhirError(409, issue('error', 'conflict', diagnostics));

export const preconditionFailed = (diagnostics: string) =>
  new FhirError(412, issue('error', 'conflict', diagnostics));

export const methodNotAllowed = (diagnostics: string, allow: string[]) =>
  new FhirError(405, issue('error', 'not-supported', diagnostics), { allow: allow.join(', ') });

/** 501: a request the server understood but has no implementation of (an operation it does not offer). */
export const notImplemented = (diagnostics: string) => new FhirError(501, issue('error', 'not-supported', diagnostics));

export const unprocessable = (issues: Issue[]) => new FhirError(422, issues);

/** True when the issues contain an error or fatal problem (warnings alone do not block a write). */
export function hasErrors(issues: Issue[]): boolean {
  return issues.some((i) => i.severity === 'error' || i.severity === 'fatal');
}
