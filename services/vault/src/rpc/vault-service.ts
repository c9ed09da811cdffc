import { randomBytes } from 'node:crypto';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import type { HandlerContext, ServiceImpl } from '@connectrpc/connect';
import {
  ArchiveKeyResponseSchema,
  CloseSessionResponseSchema,
  CredentialKind,
  OpenSessionResponseSchema,
  ResolveCredentialResponseSchema,
  SecretFieldsSchema,
  type VaultService,
} from '@fortress/proto/vault/v1/vault_pb';
import { verifyDecisionToken } from '@fortress/kit/decision-token';
import {
  FailedPreconditionError,
  InvalidArgumentError,
  PermissionDeniedError,
  ResourceExhaustedError,
} from '@fortress/kit/errors';
import { peerIdKey } from '@fortress/kit/rpc-context';
import { spiffeId } from '@fortress/kit/tls';
import { requireId } from '@fortress/kit/validate';
import type { CryptoKey, KeyObject } from 'jose';
import { archiveKeyId, isArchiveKeyId } from '../domain/archive-keys.js';
import type { CredentialVault } from '../domain/credential-vault.js';
import type { OrgKeys } from '../domain/org-keys.js';
import type { SessionRegistry } from '../domain/sessions.js';
import { refusalError, tokenError } from './refusals.js';
import { createReplayGuard, verifySessionToken } from './session-token.js';

/** What the request-path RPCs need. */
export interface VaultRpcDeps {
  vault: CredentialVault;
  sessions: SessionRegistry;
  orgKeys: OrgKeys;
  /** Policy's public key, which verifies decision tokens. */
  decisionKey: CryptoKey | KeyObject;
  sessionTtlMs: number;
  /** Called when a session opened (a Zero Trust re-wrap may be waiting for one). */
  onSessionOpened?: (orgId: string) => void;
}

const EDGE = spiffeId('edge');

/** Copies bytes out of a buffer that is about to be zeroed. */
const copy = (b: Uint8Array) => new Uint8Array(b);

/** Refuses every caller but the edge (its mTLS identity). */
function requireEdge(ctx: HandlerContext, what: string): void {
  if (ctx.values.get(peerIdKey) !== EDGE)
    throw new PermissionDeniedError('caller_not_edge', `only the edge may ${what}`);
}

function required(fields: ReadonlyArray<readonly [string, string]>): void {
  for (const [field, value] of fields)
    if (!value) throw new InvalidArgumentError(field, `${field} is required`);
}

/**
 * The VaultService handlers. Plaintext leaves only toward the edge (its mTLS identity) and
 * only with a decision token that binds this org, credential and request; a Zero Trust org's
 * credentials also need a live session, opened by the edge with a session token from policy.
 */
export function createVaultRpc(deps: VaultRpcDeps): Partial<ServiceImpl<typeof VaultService>> {
  const replay = createReplayGuard();

  /**
   * Opens an archive key; undefined when it does not exist (yet). A Zero Trust org's keys open
   * only inside a live session (its subject's); other tiers need none.
   */
  const openArchiveKey = async (
    orgId: string,
    id: string,
    session: { sessionId: string; subjectId: string },
    signal: AbortSignal,
  ) => {
    const result = await deps.vault.resolve(
      {
        orgId,
        id,
        version: 0,
        sessionId: session.sessionId,
        subjectId: session.sessionId ? session.subjectId : 'system:archive',
      },
      signal,
    );
    if (!result.ok) {
      if (result.refusal === 'credential_not_found') return undefined;
      throw refusalError(result.refusal, id, 0);
    }
    try {
      return copy(fromBinary(SecretFieldsSchema, result.value.material).secret);
    } finally {
      result.value.material.fill(0);
    }
  };

  return {
    async archiveKey(req, ctx) {
      requireEdge(ctx, 'use archive keys');
      const orgId = requireId('org_id', req.orgId, 'org');
      if (req.keyId && !isArchiveKeyId(req.keyId))
        throw new InvalidArgumentError('key_id', 'key_id is not an archive key id');
      const keyId = req.keyId || archiveKeyId(new Date());
      if (req.sessionId && !req.subjectId)
        throw new InvalidArgumentError('subject_id', 'subject_id is required with session_id');
      const session = { sessionId: req.sessionId, subjectId: req.subjectId };
      let key = await openArchiveKey(orgId, keyId, session, ctx.signal);
      if (!key && !req.keyId) {
        // First use this month: make it. A replica that races us stores it first; then ours
        // is refused (it exists) and both read the one that was stored.
        const material = Buffer.from(
          toBinary(SecretFieldsSchema, create(SecretFieldsSchema, { secret: randomBytes(32) })),
        );
        await deps.vault.put(
          {
            orgId,
            id: keyId,
            label: `PAT archive key ${keyId.slice(5, 9)}-${keyId.slice(9)}`,
            kind: 'ARCHIVE_KEY',
            material,
            lastFour: '',
            expiresAt: null,
            actorId: 'system:archive',
          },
          ctx.signal,
        );
        material.fill(0);
        key = await openArchiveKey(orgId, keyId, session, ctx.signal);
      }
      if (!key) throw refusalError('credential_not_found', keyId, 0);
      return create(ArchiveKeyResponseSchema, { keyId, key });
    },

    async resolveCredential(req, ctx) {
      requireEdge(ctx, 'resolve credentials');
      required([
        ['org_id', req.orgId],
        ['credential_ref', req.credentialRef],
        ['request_id', req.requestId],
      ]);
      const verdict = await verifyDecisionToken(deps.decisionKey, req.decisionToken, {
        orgId: req.orgId,
        credentialRef: req.credentialRef,
        requestId: req.requestId,
      });
      if (!verdict.ok) throw tokenError(verdict.refusal);
      const result = await deps.vault.resolve(
        {
          orgId: req.orgId,
          id: req.credentialRef,
          version: req.version,
          sessionId: req.sessionId,
          subjectId: verdict.binding.subjectId,
        },
        ctx.signal,
      );
      if (!result.ok) throw refusalError(result.refusal, req.credentialRef, req.version);
      const resolved = result.value;
      try {
        const fields = fromBinary(SecretFieldsSchema, resolved.material);
        return create(ResolveCredentialResponseSchema, {
          kind:
            CredentialKind[resolved.kind as keyof typeof CredentialKind] ??
            CredentialKind.UNSPECIFIED,
          version: resolved.version,
          material: {
            secret: copy(fields.secret),
            fields: Object.fromEntries(Object.entries(fields.fields).map(([k, v]) => [k, copy(v)])),
          },
        });
      } finally {
        resolved.material.fill(0);
      }
    },

    async openSession(req, ctx) {
      requireEdge(ctx, 'open vault sessions');
      const p = req.principal;
      required([
        ['principal.org_id', p?.orgId ?? ''],
        ['principal.subject_id', p?.subjectId ?? ''],
        ['principal.device_id', p?.deviceId ?? ''],
        ['request_id', req.requestId],
      ]);
      const owner = {
        orgId: requireId('principal.org_id', p?.orgId ?? '', 'org'),
        subjectId: p?.subjectId ?? '',
        deviceId: p?.deviceId ?? '',
      };
      const verdict = await verifySessionToken(
        deps.decisionKey,
        req.decisionToken,
        { ...owner, requestId: req.requestId },
        replay,
      );
      if (!verdict.ok) throw tokenError(verdict.refusal);
      if ((await deps.orgKeys.config(owner.orgId)).tier !== 'zero_trust')
        throw new FailedPreconditionError(
          'session_not_applicable',
          `org "${owner.orgId}" is not a Zero Trust org; its credentials need no session`,
        );
      const ttlMs = req.ttlMs > 0 ? Math.min(req.ttlMs, deps.sessionTtlMs) : deps.sessionTtlMs;
      const opened = await deps.sessions.open(owner, ttlMs, ctx.signal);
      if (!opened)
        throw new ResourceExhaustedError('too_many_sessions', 'too many open vault sessions');
      deps.onSessionOpened?.(owner.orgId);
      return create(OpenSessionResponseSchema, {
        sessionId: opened.id,
        expiresAt: timestampFromDate(opened.expiresAt),
      });
    },

    closeSession(req, ctx) {
      requireEdge(ctx, 'close vault sessions');
      // Closing what is not open is not an error: the outcome (no session) is the same.
      if (req.orgId && req.sessionId) deps.sessions.close(req.orgId, req.sessionId);
      return Promise.resolve(create(CloseSessionResponseSchema, {}));
    },
  };
}
