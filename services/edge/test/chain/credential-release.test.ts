import assert from 'node:assert/strict';
import { create } from '@bufbuild/protobuf';
import { Code, ConnectError, type Client } from '@connectrpc/connect';
import { metrics } from '@opentelemetry/api';
import {
  Decision,
  PrincipalKind,
  PrincipalSchema,
  Product,
  Tier,
} from '@fortress/proto/common/v1/common_pb';
import type { PolicyService } from '@fortress/proto/policy/v1/policy_pb';
import type { VaultService } from '@fortress/proto/vault/v1/vault_pb';
import { createLogger } from '@fortress/kit/log';
import {
  createCredentialRelease,
  SessionNotAudited,
  SessionRefused,
} from '../../src/chain/credential-release.js';
import type { Allowed } from '../../src/chain/decision-chain.js';

const facts = { requestId: 'req_1', product: Product.PAT, clientIp: '127.0.0.1', userAgent: 't' };
const allowedFor = (tier: Tier, deviceCompliant = tier === Tier.ZERO_TRUST): Allowed => ({
  principal: create(PrincipalSchema, {
    orgId: 'org_a',
    tier,
    kind: PrincipalKind.USER,
    subjectId: 'usr_a',
    deviceId: 'dev_a',
  }),
  decisionToken: 'tok',
  credentialRef: 'pat_a',
  policyVersion: '1',
  reservationId: '',
  maxTokensClamp: 0,
  obligations: undefined,
  deviceCompliant,
});

/** The vault and policy as the edge sees them, recording what was asked. */
function world(
  opts: { sessionAllowed?: boolean; resolveFails?: boolean; auditDown?: boolean } = {},
) {
  const calls: string[] = [];
  const secret = Buffer.from('sk-ant-canary');
  const vault = {
    openSession: (req: { ttlMs: number }) => {
      calls.push(`openSession(${req.ttlMs})`);
      return Promise.resolve({ sessionId: 'ses_1' });
    },
    resolveCredential: (req: { sessionId: string }) => {
      calls.push(`resolve(${req.sessionId})`);
      if (opts.resolveFails)
        return Promise.reject(new ConnectError('session_expired', Code.PermissionDenied));
      return Promise.resolve({ kind: 1, version: 1, material: { secret, fields: {} } });
    },
    archiveKey: (req: { sessionId: string; subjectId: string }) => {
      calls.push(`archiveKey(${req.sessionId},${req.subjectId})`);
      return Promise.resolve({ keyId: 'arch_202611', key: new Uint8Array(32).fill(7) });
    },
    closeSession: (req: { sessionId: string }) => {
      calls.push(`closeSession(${req.sessionId})`);
      return Promise.resolve({});
    },
  };
  const policy = {
    decide: (req: { action: string; deviceCompliant: boolean }) => {
      calls.push(`decide(${req.action},${req.deviceCompliant})`);
      return Promise.resolve(
        opts.sessionAllowed === false
          ? {
              decision: Decision.DENY,
              decisionToken: '',
              reasons: [
                {
                  code: 'device_noncompliant',
                  message: 'a vault session needs a device found compliant',
                },
              ],
            }
          : { decision: Decision.ALLOW, decisionToken: 'session-token', reasons: [] },
      );
    },
  };
  const chain = {
    recordPolicyDecision: (_p: unknown, _f: unknown, action: string, d: { allow: boolean }) => {
      calls.push(`audit(${action},${d.allow ? 'allow' : 'deny'})`);
      return Promise.resolve(!opts.auditDown);
    },
  };
  const release = createCredentialRelease({
    chain,
    vault: vault as unknown as Client<typeof VaultService>,
    policy: policy as unknown as Client<typeof PolicyService>,
    stages: metrics.getMeter('test').createHistogram('stages'),
    logger: createLogger({ service: 'test', level: 'silent' }),
    hopTimeoutMs: 1000,
  });
  return { calls, release };
}

describe('credential release', () => {
  it('resolves a SOHO or Bank credential directly: no session, no archive key', async () => {
    for (const tier of [Tier.SOHO, Tier.BANK]) {
      const w = world();
      const r = await w.release(allowedFor(tier), facts, { archiveKey: true });
      assert.equal(Buffer.from(r.material.secret).toString(), 'sk-ant-canary');
      assert.equal(r.archiveKey, undefined);
      assert.deepEqual(w.calls, ['resolve()']);
    }
  });

  it('opens a Zero Trust session for the request, resolves in it, and closes it', async () => {
    const w = world();
    const r = await w.release(allowedFor(Tier.ZERO_TRUST), facts, { archiveKey: true });
    assert.equal(r.archiveKey?.id, 'arch_202611');
    assert.deepEqual(w.calls, [
      'decide(vault:session.open,true)',
      'audit(vault:session.open,allow)',
      // A session for one request: seconds (three hop timeouts), not the vault's 15 minutes.
      'openSession(3000)',
      'resolve(ses_1)',
      'archiveKey(ses_1,usr_a)',
      'closeSession(ses_1)',
    ]);
  });

  it('closes the session when resolving fails', async () => {
    const w = world({ resolveFails: true });
    await assert.rejects(w.release(allowedFor(Tier.ZERO_TRUST), facts), ConnectError);
    assert.deepEqual(w.calls.at(-1), 'closeSession(ses_1)');
  });

  it('opens no session when policy refuses one, and says why', async () => {
    const w = world({ sessionAllowed: false });
    await assert.rejects(
      w.release(allowedFor(Tier.ZERO_TRUST, false), facts),
      (err: unknown) => err instanceof SessionRefused && err.reason?.code === 'device_noncompliant',
    );
    assert.deepEqual(w.calls, [
      'decide(vault:session.open,false)',
      'audit(vault:session.open,deny)',
    ]);
  });

  it('opens no session when its decision cannot be audited (fail closed)', async () => {
    const w = world({ auditDown: true });
    await assert.rejects(w.release(allowedFor(Tier.ZERO_TRUST), facts), SessionNotAudited);
    assert.ok(!w.calls.includes('openSession(3000)'));
  });
});
