import type { CapabilityStatementRestResourceSearchParam } from 'fhir/r4';
import type { Config } from '../config.js';
import type { ResourceStore } from '../store/index.js';
import type { Validator } from '../validation/index.js';
import type { SearchDeps } from './search.js';

/** What the interaction services work with; built once at start-up. */
export interface ServiceDeps {
  config: Config;
  store: ResourceStore;
  validator: Validator;
  /** The resource types this server stores (system history covers them). */
  storedTypes: string[];
  /** The search parameters of a type, as the CapabilityStatement lists them. */
  searchParams?: (type: string) => CapabilityStatementRestResourceSearchParam[];
  /** What searches need: conditional interactions and bundle entries search through it. */
  search: SearchDeps;
  /** Whether the database has multi-document transactions (not a standalone mongod). */
  transactions: boolean;
}
