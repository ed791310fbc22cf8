import { issue, type Issue } from '../outcome.js';
import type { Validator } from './index.js';

/** First layer only: the resource envelope. The structure layer is built in issue 4's work. */
export function createValidator(): Validator {
  return {
    validate(resource: unknown): Issue[] {
      if (typeof resource !== 'object' || resource === null || Array.isArray(resource)) {
        return [issue('error', 'structure', 'The body must be a JSON object (a FHIR resource)')];
      }
      return [];
    },
  };
}
