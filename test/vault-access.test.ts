import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Code, ConnectError } from '@connectrpc/connect';
import { generateKeyPair, importJWK, SignJWT, type JWK } from 'jose';
import { Decision } from '@fortress/proto/common/v1/common_pb';
import { operatorClients, type OperatorClients } from '@fortress/harness/stack/operator-clients';
import { remoteReason } from '@fortress/kit/errors';
import { ALLOWED_MODEL, useStack, type TestStack } from './support/stack.js';

/** Expects a PERMISSION_DENIED with the given stable reason. */
const deniedWith = (reason: string) => (err: unknown) => {
  assert.ok(err instanceof ConnectError, String(err));
  assert.equal(err.code, Code.PermissionDenied, err.message);
  assert.equal(remoteReason(err), reason);
  assert.ok(!err.message.includes('sk-ant'), 'no secret in the error');
  return true;
};

describe('the vault releases a credential only to the edge with a valid decision token', () => {
  let stack: TestStack;
  let asEdge: OperatorClients;
  let org: Awaited<ReturnType<TestStack['seed']>>;
  let token: string;
  const requestId = 'req_vaulttest0001';

  /** A token the real policy service signs for this org, credential and request. */
  async function decisionToken(): Promise<string> {
    const auth = await stack.operator.identity.authenticate({ apiKey: org.orgKey });
    assert.ok(auth.principal);
    const decision = await stack.operator.policy.decide({
      principal: auth.principal,
      action: 'pat:messages.create',
      resource: { type: 'model', id: ALLOWED_MODEL },
      context: { requestId },
    });
    assert.equal(decision.decision, Decision.ALLOW);
    return decision.decisionToken;
  }

  /** Signs a token with the policy's real key, with claims of our choosing. */
  async function signWithPolicyKey(claims: Record<string, string>, exp: number): Promise<string> {
    const jwk = JSON.parse(
      readFileSync(join(stack.dataDir, 'keys', 'decision-signing.jwk'), 'utf8'),
    ) as JWK;
    const key = await importJWK(jwk, 'EdDSA');
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'EdDSA', kid: jwk.kid ?? '' })
      .setIssuer('fortress-policy')
      .setAudience('vault')
      .setSubject('someone')
      .setIssuedAt(exp - 60)
      .setExpirationTime(exp)
      .sign(key);
  }

  const resolve = (
    clients: OperatorClients,
    overrides: Partial<{ decisionToken: string; orgId: string; credentialRef: string }> = {},
  ) =>
    clients.vault.resolveCredential({
      decisionToken: token,
      orgId: org.orgId,
      credentialRef: org.patKeyId,
      requestId,
      ...overrides,
    });

  before(async function () {
    this.timeout(120_000);
    stack = await useStack();
    asEdge = operatorClients(stack.tlsDir, stack.urls, 'edge');
    org = await stack.seed();
    token = await decisionToken();
  });

  it('releases the secret to the edge with a token bound to this org, credential and request', async () => {
    const res = await resolve(asEdge);
    assert.equal(Buffer.from(res.material?.secret ?? []).toString(), stack.sandboxAnthropicKey);
  });

  it('refuses a caller whose mTLS identity is not the edge, even with a valid token', async () => {
    await assert.rejects(resolve(stack.operator), deniedWith('caller_not_edge'));
  });

  it('refuses a missing token', async () => {
    await assert.rejects(
      resolve(asEdge, { decisionToken: '' }),
      deniedWith('decision_token_missing'),
    );
  });

  it('refuses a token signed by another key', async () => {
    const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
    const forged = await new SignJWT({ org: org.orgId, cred: org.patKeyId, rid: requestId })
      .setProtectedHeader({ alg: 'EdDSA' })
      .setIssuer('fortress-policy')
      .setAudience('vault')
      .setSubject('x')
      .setExpirationTime('30s')
      .sign(privateKey);
    await assert.rejects(
      resolve(asEdge, { decisionToken: forged }),
      deniedWith('decision_token_invalid'),
    );
  });

  it('refuses an expired token signed by the real policy key', async () => {
    const expired = await signWithPolicyKey(
      { org: org.orgId, cred: org.patKeyId, rid: requestId },
      Math.floor(Date.now() / 1000) - 120,
    );
    await assert.rejects(
      resolve(asEdge, { decisionToken: expired }),
      deniedWith('decision_token_expired'),
    );
  });

  it('refuses a token presented for another credential or another org', async () => {
    const other = await stack.seed();
    await assert.rejects(
      resolve(asEdge, { credentialRef: other.patKeyId }),
      deniedWith('decision_token_wrong_binding'),
    );
    await assert.rejects(
      resolve(asEdge, { orgId: other.orgId, credentialRef: other.patKeyId }),
      deniedWith('decision_token_wrong_binding'),
    );
  });

  it('refuses a token for another request id', async () => {
    await assert.rejects(
      asEdge.vault.resolveCredential({
        decisionToken: token,
        orgId: org.orgId,
        credentialRef: org.patKeyId,
        requestId: 'req_other',
      }),
      deniedWith('decision_token_wrong_binding'),
    );
  });

  it('gives the admin API metadata only, never the secret', async () => {
    const meta = await stack.operator.vaultAdmin.getCredential({
      orgId: org.orgId,
      id: org.patKeyId,
    });
    const text = JSON.stringify(meta, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v));
    assert.ok(!text.includes(stack.sandboxAnthropicKey));
    assert.equal(meta.credential?.lastFour, stack.sandboxAnthropicKey.slice(-4));
  });
});
