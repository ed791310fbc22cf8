import type { Issue } from '../outcome.js';

/** Checks a resource against the base R4 definitions and the profiles it claims. */
export interface Validator {
  validate(resource: unknown, options?: { profiles?: string[] }): Issue[];
}

export { createValidator } from './validator.js';
