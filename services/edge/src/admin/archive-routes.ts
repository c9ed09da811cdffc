import { ConnectError, type Client } from '@connectrpc/connect';
import type { AuditService } from '@fortress/proto/audit/v1/audit_pb';
import { remoteReason } from '@fortress/kit/errors';
import type { AdminRoute } from './admin-api.js';
import {
  archiveObjectKey,
  findRecord,
  openObject,
  openRecord,
  type SealedObject,
} from '../archive/archive-crypto.js';
import type { ArchiveKeys } from '../archive/archive-keys.js';
import type { ArchiveStore } from '../archive/archive-store.js';
import { problems, ProblemError } from './problem.js';

const notArchived = (requestId: string) =>
  new ProblemError(
    problems.notFound(`no archived exchange for request "${requestId}"`, 'not_archived'),
  );

/**
 * Reading the PAT archive back (`GET /api/v1/archive/{request_id}`): the one way to see an
 * archived request and response, for audit roles only (owner and auditor — `admin:archive.read`,
 * which the admin and viewer roles do not hold), audited like every admin call.
 *
 * The request's outcome in the audit log names the segment that holds its record; the record
 * is opened with the org's archive key from the vault, and a record of another org or request,
 * or altered, does not open. Requests archived before segments are objects of their own. A Zero
 * Trust org's records do not open here: the vault opens their key only inside a session of an
 * IdP-verified user on a compliant device (403 `session_required`).
 */
export function createArchiveRoutes(deps: {
  store: ArchiveStore;
  keys: ArchiveKeys;
  audit: Client<typeof AuditService>;
  hopTimeoutMs: number;
}): AdminRoute[] {
  /** Where the request's record is: the segment its outcome names, or an object of its own. */
  const locate = async (orgId: string, requestId: string) => {
    const r = await deps.audit.query(
      { orgId, requestId, kind: 'outcome', page: { pageSize: 10 } },
      { timeoutMs: deps.hopTimeoutMs },
    );
    for (const rec of r.records) {
      const p = rec.event?.payload;
      if (p?.case === 'outcome' && p.value.archiveObject) return p.value.archiveObject;
    }
    return undefined;
  };

  const keyFor = async (orgId: string, keyId: string): Promise<Uint8Array> => {
    try {
      return await deps.keys.forReading(orgId, keyId);
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
  };

  const open = async (
    orgId: string,
    keyId: string,
    decrypt: (key: Uint8Array) => Buffer,
  ): Promise<unknown> => {
    const key = await keyFor(orgId, keyId);
    let plain: Buffer;
    try {
      plain = decrypt(key);
    } catch {
      throw new ProblemError(
        problems.conflict('the archived object does not open: it was altered', 'archive_tampered'),
      );
    } finally {
      key.fill(0);
    }
    return JSON.parse(plain.toString('utf8')) as unknown;
  };

  return [
    {
      method: 'GET',
      path: '/archive/{request_id}',
      action: 'admin:archive.read',
      async handle({ admin, params }) {
        const requestId = params[0] as string;
        const segmentKey = await locate(admin.orgId, requestId);
        if (segmentKey) {
          const text = await deps.store.get(segmentKey);
          const sealed = text === undefined ? undefined : findRecord(text, requestId);
          if (!sealed) throw notArchived(requestId);
          if (sealed.org_id !== admin.orgId) throw notArchived(requestId);
          return {
            status: 200,
            body: await open(admin.orgId, sealed.key_id, (k) => openRecord(sealed, k)),
          };
        }
        // Archived before segments: an object of its own.
        const objectKey = archiveObjectKey(admin.orgId, requestId);
        const text = await deps.store.get(objectKey);
        if (text === undefined) throw notArchived(requestId);
        const sealed = JSON.parse(text) as SealedObject;
        if (sealed.org_id !== admin.orgId) throw notArchived(requestId);
        return {
          status: 200,
          body: await open(admin.orgId, sealed.key_id, (k) => openObject(sealed, k, objectKey)),
        };
      },
    },
  ];
}
