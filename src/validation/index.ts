import type { Issue } from '../outcome.js';

export interface ValidateOptions {
  /** Profiles to check besides those the resource claims in meta.profile ($validate's `profile`). */
  profiles?: string[];
  /**
   * What the resource is checked for. `store` (the default): a write, or $validate with mode
   * create/update; what the server could never resolve, such as a reference that is no
   * `Type/id`, URL, `#id` or `urn:`, is an error. `general`: $validate without a mode (R4's "no
   * action", general validation, as HL7's validator does): such a reference is a warning.
   */
  purpose?: ValidationPurpose;
}

export type ValidationPurpose = 'store' | 'general';

/** Checks a resource against the base R4 definitions and the profiles it claims or the server requires. */
export interface Validator {
  validate(resource: unknown, options?: ValidateOptions): Promise<Issue[]>;
  /** To be called after a StructureDefinition was written: every instance then reloads profiles. */
  profilesChanged(): Promise<void>;
}

export { createValidator, type ValidatorOptions } from './validator.js';
export { REPEATED_KEYS } from './repeated-keys.js';
