import type { Config } from '../config.js';
import { restrictionFilter, type SearchRegistry } from '../search/index.js';
import type { ResourceStore } from '../store/index.js';
import { AccessPolicy } from './access.js';
import type { ResourceConditions } from './consent.js';
import { ConsentRules } from './consent-rules.js';
import type { Caller } from './context.js';

export { accessFields } from './access-fields.js';
export { unrestrictedCaller, type Caller, type RequestContext } from './context.js';
export type { AccessPolicy } from './access.js';

/** Compiles each request's access from its caller: scopes, compartments, labels, Consents. */
export interface Security {
  /** The policy of a caller, with the Consents as stored now (one counter read when authenticated). */
  accessFor(caller: Caller): Promise<AccessPolicy>;
  /** A policy that allows nothing: a request's until its caller is known. */
  readonly denyAll: AccessPolicy;
}

export function createSecurity(config: Config, registry: SearchRegistry, store: ResourceStore, warn: (message: string) => void): Security {
  const restriction = (type: string, query: [string, string][]) => restrictionFilter(registry, config, type, query);
  const has = (type: string, code: string) => registry.param(type, code) !== undefined;
  const conditions: ResourceConditions = {
    restriction,
    referenceParams: (type) => registry.params(type).filter((p) => p.type === 'reference').map((p) => p.code),
    dateParam: (type) => (has(type, 'date') ? 'date' : undefined),
    codeParam: (type) => (has(type, 'code') ? 'code' : has(type, 'type') ? 'type' : undefined),
  };
  const consents = new ConsentRules(store, conditions, config.consentDefault === 'permit', warn);
  const policy = (caller: Caller, consent?: ReturnType<ConsentRules['view']>) =>
    new AccessPolicy(caller, { restrictedLabels: config.restrictedLabels, restriction, consent });
  return {
    async accessFor(caller) {
      // Without authorization everything is allowed, Consents included: there is no one to decide for.
      if (!caller.authenticated || !ConsentRules.restricts(caller)) return policy(caller);
      await consents.refresh();
      return policy(caller, consents.view(caller));
    },
    denyAll: policy({ authenticated: true, scopes: [], purposeOfUse: [], grantedLabels: [], roles: [], breakGlass: false, address: '' }),
  };
}
