import assert from 'node:assert/strict';
import type pg from 'pg';
import { inTenant } from '@fortress/kit/pg';
import {
  startPgFixture,
  type PgFixture,
} from '../../../../../packages/kit/test/support/pg-fixture.js';
import { itHardensTheSchema } from '../../../../../packages/kit/test/support/schema-hardening.js';
import { createDeviceStore, type DeviceStore } from '../../../src/adapters/pg/device-store.js';

const ORG_A = 'org_aaa111';
const ORG_B = 'org_bbb222';

/** Writes a device verdict as the MDM sync would, inside the org's tenant transaction. */
function putDevice(
  pool: pg.Pool,
  orgId: string,
  deviceId: string,
  compliant: boolean,
  validFor: string,
  reason: string | null = null,
) {
  return inTenant(pool, orgId, (db) =>
    db.query(
      `INSERT INTO devices (org_id, device_id, compliant, reason, last_checked_at, valid_until)
       VALUES ($1, $2, $3, $4, now(), now() + $5::interval)`,
      [orgId, deviceId, compliant, reason, validFor],
    ),
  );
}

describe('device store on PostgreSQL', function () {
  this.timeout(120_000);
  let fx: PgFixture;
  let pool: pg.Pool;
  let store: DeviceStore;

  before(async () => {
    fx = await startPgFixture(['posture']);
    pool = fx.runtimePool('posture');
    store = createDeviceStore(pool);
    await putDevice(pool, ORG_A, 'dev_shared', true, '15 minutes');
    await putDevice(pool, ORG_A, 'dev_expired', true, '-1 minute');
    await putDevice(pool, ORG_B, 'dev_shared', false, '15 minutes', 'disk not encrypted');
    for (const org of [ORG_A, ORG_B]) {
      await inTenant(pool, org, (db) =>
        db.query(
          "INSERT INTO providers (org_id, provider, endpoint, credential_ref) VALUES ($1, 'intune', 'https://graph.example', 'cred_mdm')",
          [org],
        ),
      );
    }
  });
  after(() => fx?.stop());

  describe('schema', () =>
    itHardensTheSchema('posture', ['devices', 'providers'], () => fx, ORG_A));

  describe('validVerdict', () => {
    it("returns the org's own current verdict", async () => {
      const verdict = await store.validVerdict(ORG_A, 'dev_shared');
      assert.equal(verdict?.compliant, true);
      assert.equal(verdict?.reason, null);
      assert.ok(verdict && verdict.validUntil > new Date());
    });

    it("keeps two orgs' devices of the same id apart", async () => {
      const verdict = await store.validVerdict(ORG_B, 'dev_shared');
      assert.deepEqual([verdict?.compliant, verdict?.reason], [false, 'disk not encrypted']);
    });

    it('returns nothing for an expired verdict', async () => {
      assert.equal(await store.validVerdict(ORG_A, 'dev_expired'), undefined);
    });

    it('returns nothing for a device only another org has', async () => {
      await putDevice(pool, ORG_B, 'dev_only_b', true, '15 minutes');
      assert.equal(await store.validVerdict(ORG_A, 'dev_only_b'), undefined);
    });
  });

  describe('tenant isolation', () => {
    it("shows a tenant none of another org's rows, even when it names the org", async () => {
      const { rows } = await inTenant(pool, ORG_A, (db) =>
        db.query('SELECT device_id FROM devices WHERE org_id = $1', [ORG_B]),
      );
      assert.deepEqual(rows, []);
    });

    it('refuses to INSERT a device for another org than app.org_id (WITH CHECK)', async () => {
      await assert.rejects(
        inTenant(pool, ORG_A, (db) =>
          db.query(
            "INSERT INTO devices (org_id, device_id, compliant, last_checked_at, valid_until) VALUES ($1, 'dev_x', true, now(), now() + interval '1 hour')",
            [ORG_B],
          ),
        ),
        /row-level security/,
      );
    });

    it("cannot mark another org's device compliant", async () => {
      const updated = await inTenant(pool, ORG_A, (db) =>
        db.query('UPDATE devices SET compliant = true WHERE org_id = $1', [ORG_B]),
      );
      assert.equal(updated.rowCount, 0);
      assert.equal((await store.validVerdict(ORG_B, 'dev_shared'))?.compliant, false);
    });
  });
});
