/**
 * Database failures that a retry can get past: a deadlock or serialization failure (the other
 * transaction won), a lock not available, the server restarting, a connection lost (SQLSTATE
 * classes 40, 55P03, 57P0x, 08).
 */
export function isTransientDatabaseError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^(40001|40P01|55P03|57P0[1-3]|08\d{3})$/.test(code);
}
