import type { Config } from '../config.js';
import { badRequest } from '../outcome.js';

/** `_count`: the configured default when absent, capped at the configured maximum. */
export function pageSize(config: Config, countText: string | undefined): number {
  if (countText === undefined || countText === '') return config.defaultPageSize;
  if (!/^\d{1,9}$/.test(countText)) throw badRequest(`_count must be a whole number; got "${countText}"`, 'invalid');
  return Math.min(Number(countText), config.maxPageSize);
}
