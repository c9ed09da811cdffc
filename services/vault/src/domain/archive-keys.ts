/** Ids of archive keys: "arch_" and the UTC year and month they encrypt, e.g. "arch_202611". */
export const ARCHIVE_KEY_PREFIX = 'arch_';
const ARCHIVE_KEY_ID = /^arch_\d{6}$/;

/** The archive key id for objects written at `at`: one key per org and calendar month. */
export function archiveKeyId(at: Date): string {
  return `${ARCHIVE_KEY_PREFIX}${at.getUTCFullYear()}${String(at.getUTCMonth() + 1).padStart(2, '0')}`;
}

/** True for a well-formed archive key id. */
export function isArchiveKeyId(id: string): boolean {
  return ARCHIVE_KEY_ID.test(id);
}
