import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { toBinary } from '@bufbuild/protobuf';
import { EventEnvelopeSchema } from '@fortress/proto/events/v1/events_pb';
import { CredentialStatus } from '@fortress/proto/vault/v1/vault_pb';
import { toMetadata } from '../../src/rpc/metadata.js';
import type { VaultApp } from '../../src/wiring.js';
import {
  credential,
  refusal,
  resolved,
  startVaultFixture,
  type VaultFixture,
} from '../support/vault-fixture.js';

const freshOrg = (p: string) => `org_${p}${randomBytes(4).toString('hex')}`;
const secret = () => `sk-ant-api03-${randomBytes(12).toString('hex')}`;
const DAY_MS = 86_400_000;

describe('credential lifecycle: rotation overlap, expiry notices, crypto-shredding, events', function () {
  this.timeout(60_000);
  let f: VaultFixture;
  before(async () => {
    f = await startVaultFixture();
  });
  after(() => f?.stop());

  /** Runs the worker until nothing of this org is due (it relays the outbox, sweeps, …). */
  const settle = async (app: VaultApp, orgId: string) => {
    for (let i = 0; i < 5; i++) await app.worker.kick(orgId);
  };
  /** Events this org published, as [kind, detail…]. */
  const eventsOf = (orgId: string) =>
    f.published
      .filter((e) => e.orgId === orgId)
      .map((e) =>
        e.payload.case === 'change'
          ? [e.payload.value.entityType, e.payload.value.operation]
          : e.payload.case === 'notification'
            ? [e.payload.value.type]
            : [],
      );

  const rotate = (app: VaultApp, orgId: string, s: string, overlapSeconds = 0) =>
    app.vault.rotate({
      orgId,
      id: 'pat_1',
      material: Buffer.from(s),
      lastFour: s.slice(-4),
      overlapSeconds,
      expiresAt: null,
      actorId: 'usr_admin',
    });

  it('serves the previous version of a rotated PAT key for 48 h, then refuses it with its own reason', async () => {
    const app = f.replica();
    const org = freshOrg('rot');
    const [s1, s2] = [secret(), secret()];
    await app.vault.put(credential(org, 'pat_1', s1));
    const before = Date.now();
    const out = await rotate(app, org, s2);
    assert.ok(out.ok);
    assert.deepEqual(
      [out.meta.version, out.meta.status, out.meta.last_four],
      [2, 'active', s2.slice(-4)],
    );
    assert.equal((await resolved(app, org, 'pat_1')).toString(), s2);
    assert.equal((await resolved(app, org, 'pat_1', { version: 1 })).toString(), s1);
    const { rows } = await f.fx.admin.query<{ overlap_until: Date; status: string }>(
      'SELECT status, overlap_until FROM vault.credentials WHERE org_id = $1 AND version = 1',
      [org],
    );
    const until = rows[0]?.overlap_until.getTime() ?? 0;
    assert.equal(rows[0]?.status, 'rotated');
    assert.ok(Math.abs(until - before - 48 * 3600_000) < 60_000, 'a 48 h overlap');
    // 48 hours later:
    await f.fx.admin.query(
      "UPDATE vault.credentials SET overlap_until = now() - interval '1 second' WHERE org_id = $1 AND version = 1",
      [org],
    );
    assert.equal(await refusal(app, org, 'pat_1', { version: 1 }), 'credential_version_retired');
    assert.equal((await resolved(app, org, 'pat_1')).toString(), s2, 'the new version serves on');
    // …and the sweep shreds the retired version; it is still refused with the same reason.
    await f.fx.admin.query('UPDATE vault.org_work SET sweep_due_at = now() WHERE org_id = $1', [
      org,
    ]);
    await settle(app, org);
    const left = await f.fx.admin.query(
      'SELECT version FROM vault.credentials WHERE org_id = $1 ORDER BY version',
      [org],
    );
    assert.deepEqual(left.rows, [{ version: 2 }]);
    assert.equal(await refusal(app, org, 'pat_1', { version: 1 }), 'credential_version_retired');
    assert.equal(await refusal(app, org, 'pat_1', { version: 3 }), 'credential_not_found');
  });

  it('takes the overlap a rotation asks for, and the shorter default for other kinds', async () => {
    const app = f.replica();
    const org = freshOrg('ovl');
    await app.vault.put(credential(org, 'pat_1', secret()));
    await rotate(app, org, secret(), 600);
    await app.vault.put(credential(org, 'cred_oauth', secret(), { kind: 'OAUTH2' }));
    await app.vault.rotate({
      orgId: org,
      id: 'cred_oauth',
      material: Buffer.from(secret()),
      lastFour: '',
      overlapSeconds: 0,
      expiresAt: null,
      actorId: 'usr_admin',
    });
    const { rows } = await f.fx.admin.query<{ id: string; s: number }>(
      `SELECT id, round(extract(epoch FROM overlap_until - rotated_at))::int AS s
       FROM vault.credentials WHERE org_id = $1 AND version = 1 ORDER BY id`,
      [org],
    );
    assert.deepEqual(rows, [
      { id: 'cred_oauth', s: 24 * 3600 },
      { id: 'pat_1', s: 600 },
    ]);
  });

  it('records every change as a change event, relayed once, with no secret in it', async () => {
    const app = f.replica();
    const org = freshOrg('evt');
    const secrets = [secret(), secret()];
    await app.vault.put(credential(org, 'pat_1', secrets[0] ?? ''));
    await rotate(app, org, secrets[1] ?? '');
    await app.rotation.rotate(org, 'usr_admin');
    await settle(app, org);
    await app.vault.delete(org, 'pat_1', 'usr_admin');
    await settle(app, org);
    assert.deepEqual(eventsOf(org), [
      ['credential', 'create'],
      ['credential', 'rotate'],
      ['data_key', 'rotate'],
      ['data_key', 'update'],
      ['credential', 'delete'],
    ]);
    const { rows } = await f.fx.admin.query(
      'SELECT count(*)::int AS n FROM vault.outbox WHERE org_id = $1',
      [org],
    );
    assert.deepEqual(rows, [{ n: 0 }], 'relayed events leave the outbox');
    const wire = f.published
      .filter((e) => e.orgId === org)
      .map((e) => Buffer.from(toBinary(EventEnvelopeSchema, e)));
    for (const s of secrets)
      for (const bytes of wire)
        assert.equal(bytes.indexOf(Buffer.from(s)), -1, 'a secret in an event');
    const rotateEvent = f.published.find(
      (e) =>
        e.orgId === org && e.payload.case === 'change' && e.payload.value.operation === 'rotate',
    );
    assert.ok(rotateEvent?.payload.case === 'change');
    assert.deepEqual(
      [rotateEvent.payload.value.before?.['version'], rotateEvent.payload.value.after?.['version']],
      [1, 2],
    );
  });

  it('sends credential.expiring once, seven days ahead, and not for credentials expiring later', async () => {
    const app = f.replica();
    const org = freshOrg('exp');
    await app.vault.put(
      credential(org, 'cred_soon', secret(), { expiresAt: new Date(Date.now() + 3 * DAY_MS) }),
    );
    await app.vault.put(
      credential(org, 'cred_later', secret(), { expiresAt: new Date(Date.now() + 30 * DAY_MS) }),
    );
    await settle(app, org);
    await settle(app, org);
    const notices = f.published.filter((e) => e.orgId === org && e.payload.case === 'notification');
    assert.equal(notices.length, 1);
    const n = notices[0];
    assert.ok(n?.payload.case === 'notification');
    assert.equal(n.payload.value.type, 'credential.expiring');
    assert.equal(n.payload.value.data?.['credential_id'], 'cred_soon');
    const { rows } = await f.fx.admin.query<{ days: number }>(
      `SELECT round(extract(epoch FROM sweep_due_at - now()) / 86400)::int AS days FROM vault.org_work WHERE org_id = $1`,
      [org],
    );
    assert.deepEqual(rows, [{ days: 23 }], 'the next sweep is when cred_later is 7 days out');
  });

  it('refuses an expired credential, and shows it as expired', async () => {
    const app = f.replica();
    const org = freshOrg('exd');
    await app.vault.put(
      credential(org, 'cred_1', secret(), { expiresAt: new Date(Date.now() + DAY_MS) }),
    );
    await f.fx.admin.query(
      "UPDATE vault.credentials SET expires_at = now() - interval '1 second' WHERE org_id = $1",
      [org],
    );
    assert.equal(await refusal(app, org, 'cred_1'), 'credential_expired');
    const meta = await app.creds.metadata(org, 'cred_1');
    assert.ok(meta);
    assert.equal(toMetadata(meta).status, CredentialStatus.EXPIRED);
  });

  it('crypto-shreds a deleted credential: every version and its wrapped key go at once', async () => {
    const app = f.replica();
    const org = freshOrg('del');
    await app.vault.put(credential(org, 'pat_1', secret()));
    await rotate(app, org, secret());
    await app.vault.put(credential(org, 'cred_keep', secret()));
    assert.equal(await app.vault.delete(org, 'pat_1', 'usr_admin'), true);
    const { rows } = await f.fx.admin.query('SELECT id FROM vault.credentials WHERE org_id = $1', [
      org,
    ]);
    assert.deepEqual(rows, [{ id: 'cred_keep' }]);
    for (const version of [0, 1, 2])
      assert.ok(['credential_not_found'].includes(await refusal(app, org, 'pat_1', { version })));
    assert.equal(await app.vault.delete(org, 'pat_1', 'usr_admin'), false);
  });

  it('crypto-shreds an org: wrapped data keys, credentials, configuration and sessions, nothing of others', async () => {
    const app = f.replica();
    const [org, other] = [freshOrg('shr'), freshOrg('keep')];
    await app.vault.put(credential(org, 'cred_1', secret()));
    await app.rotation.rotate(org, 'usr_admin');
    const s = secret();
    await app.vault.put(credential(other, 'cred_1', s));
    const shredded = await app.vault.shredOrg(org, 'usr_operator');
    assert.deepEqual(shredded, { credentials: 1, dataKeys: 2 });
    for (const t of ['credentials', 'data_keys', 'key_configs', 'rewrap_jobs']) {
      const { rows } = await f.fx.admin.query(
        `SELECT count(*)::int AS n FROM vault.${t} WHERE org_id = $1`,
        [org],
      );
      assert.deepEqual(rows, [{ n: 0 }], t);
    }
    assert.equal(await refusal(app, org, 'cred_1'), 'credential_not_found');
    assert.equal((await resolved(app, other, 'cred_1')).toString(), s);
    await settle(app, org);
    assert.deepEqual(eventsOf(org).at(-1), ['vault_org', 'delete']);
  });
});
