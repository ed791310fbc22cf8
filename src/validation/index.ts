import type { Issue } from '../outcome.js';

export interface ValidateOptions {
  /** Profiles to check besides those the resource claims in meta.profile ($validate's `profile`). */
  profiles?: string[];
}

/** Checks a resource against the base R4 definitions and the profiles it claims or the server requires. */
export interface Validator {
  validate(resource: unknown, options?: ValidateOptions): Promise<Issue[]>;
  /** To be called after a StructureDefinition was written: every instance then reloads profiles. */
  profilesChanged(): Promise<void>;
}

export { createValidator, type ValidatorOptions } from './validator.js';
export { REPEATED_KEYS } from './repeated-keys.js';
