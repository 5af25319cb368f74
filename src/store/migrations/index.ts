import { foundation } from './0001_foundation.js';
import type { Migration } from './types.js';

/** Every migration, in the order they apply. Append; never edit one that has shipped. */
export const migrations: readonly Migration[] = [foundation];
