import { fileURLToPath } from 'node:url';

/** The repository root (services are started from here). */
export const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
