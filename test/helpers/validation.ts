import { readFileSync } from 'node:fs';
import type { OperationOutcomeIssue } from 'fhir/r4';
import { FHIR_JSON_HEADERS, type TestServer } from './server.js';

/** A fixture of fixtures/ as a fresh object (tests change copies freely). */
export function fixture<T = any>(name: string): T {
  return JSON.parse(readFileSync(new URL(`../../fixtures/${name}`, import.meta.url), 'utf8')) as T;
}

/** POST [type] with the resource; the reply's status and OperationOutcome issues (warnings too). */
export async function create(s: TestServer, resource: any): Promise<{ status: number; issues: OperationOutcomeIssue[] }> {
  const response = await s.request({
    method: 'POST',
    url: `/fhir/${resource.resourceType}`,
    headers: { ...FHIR_JSON_HEADERS, prefer: 'return=OperationOutcome' },
    payload: resource,
  });
  const body = s.json(response);
  return { status: response.statusCode, issues: body.issue ?? [] };
}

export const errors = (issues: OperationOutcomeIssue[]) => issues.filter((i) => i.severity === 'error');
export const warnings = (issues: OperationOutcomeIssue[]) => issues.filter((i) => i.severity === 'warning');

/** The issues as `severity code expression` lines: compact to compare exactly. */
export const summary = (issues: OperationOutcomeIssue[]) => issues.map((i) => `${i.severity} ${i.code} ${i.expression?.[0] ?? ''}`);
