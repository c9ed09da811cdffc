import { ConnectError } from '@connectrpc/connect';
import { remoteReason } from '@fortress/kit/errors';
import type { AdminRoute } from './admin-api.js';
import { archiveObjectKey, openRecord, type SealedObject } from '../archive/archive-crypto.js';
import type { ArchiveKeys } from '../archive/archive-keys.js';
import type { ArchiveStore } from '../archive/archive-store.js';
import { problems, ProblemError } from './problem.js';

/**
 * Reading the PAT archive back (`GET /api/v1/archive/{request_id}`): the one way to see an
 * archived request and response, for audit roles only (owner and auditor — `admin:archive.read`,
 * which the admin and viewer roles do not hold), audited like every admin call. The object is
 * opened with the org's archive key from the vault; an object of another org, or altered, does
 * not open. A Zero Trust org's objects do not open here: the vault opens their key only inside
 * a session of an IdP-verified user on a compliant device (403 `session_required`).
 */
export function createArchiveRoutes(deps: {
  store: ArchiveStore;
  keys: ArchiveKeys;
}): AdminRoute[] {
  return [
    {
      method: 'GET',
      path: '/archive/{request_id}',
      action: 'admin:archive.read',
      async handle({ admin, params }) {
        const requestId = params[0] as string;
        const objectKey = archiveObjectKey(admin.orgId, requestId);
        const text = await deps.store.get(objectKey);
        if (text === undefined)
          throw new ProblemError(
            problems.notFound(`no archived exchange for request "${requestId}"`, 'not_archived'),
          );
        const sealed = JSON.parse(text) as SealedObject;
        if (sealed.org_id !== admin.orgId)
          throw new ProblemError(problems.notFound('not archived for this org', 'not_archived'));
        let key: Uint8Array;
        try {
          key = await deps.keys.forReading(admin.orgId, sealed.key_id);
        } catch (err) {
          if (err instanceof ConnectError && remoteReason(err) === 'session_required')
            throw new ProblemError(
              problems.forbidden(
                "this is a Zero Trust org: its archive opens only inside a vault session, which needs a user verified by the org's IdP on a device found compliant; an admin sign-in does not carry one",
                'session_required',
              ),
            );
          throw err;
        }
        let plain: Buffer;
        try {
          plain = openRecord(sealed, key, objectKey);
        } catch {
          throw new ProblemError(
            problems.conflict(
              'the archived object does not open: it was altered',
              'archive_tampered',
            ),
          );
        } finally {
          key.fill(0);
        }
        return { status: 200, body: JSON.parse(plain.toString('utf8')) as unknown };
      },
    },
  ];
}
