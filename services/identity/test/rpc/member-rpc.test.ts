import assert from 'node:assert/strict';
import { fromBinary, type JsonObject } from '@bufbuild/protobuf';
import { Code, ConnectError } from '@connectrpc/connect';
import { Product, Tier } from '@fortress/proto/common/v1/common_pb';
import {
  EventEnvelopeSchema,
  type ChangeEvent,
  type EventEnvelope,
} from '@fortress/proto/events/v1/events_pb';
import { remoteReason } from '@fortress/kit/errors';
import { createLogger } from '@fortress/kit/log';
import { createMemberRelay } from '../../src/jobs/member-relay.js';
import { startIdentityFixture, type IdentityFixture } from '../support/identity-fixture.js';

const ORG = 'org_members1';
const OTHER = 'org_members2';
const BY = { subjectId: 'usr_owner1', email: 'owner@acme.test', approvedBy: '' };

/** Expects a ConnectError with this code and reason. */
const failsWith = (code: Code, reason: string, field?: string) => (err: unknown) => {
  assert.ok(err instanceof ConnectError, String(err));
  assert.equal(err.code, code, err.message);
  assert.equal(remoteReason(err), reason);
  if (field) assert.equal(err.metadata.get('fortress-field'), field);
  return true;
};

/** Drains an org's outbox, returning the change events in order. */
async function drained(f: IdentityFixture, orgId: string): Promise<ChangeEvent[]> {
  const out: EventEnvelope[] = [];
  await f.app.members.drainOutbox(orgId, 1000, (bytes) => {
    out.push(fromBinary(EventEnvelopeSchema, bytes));
    return Promise.resolve();
  });
  return out.map((e) => {
    assert.equal(e.orgId, orgId);
    assert.equal(e.source, 'identity');
    assert.equal(e.payload.case, 'change');
    return e.payload.value;
  });
}

describe('Members (identity on PostgreSQL): the people who hold seats', function () {
  this.timeout(120_000);
  let f: IdentityFixture;
  before(async () => {
    f = await startIdentityFixture();
    await f.admin.createOrg({ id: ORG, name: 'Members One', tier: Tier.BANK });
    await f.admin.createOrg({ id: OTHER, name: 'Members Two', tier: Tier.SOHO });
  });
  after(() => f?.stop());

  const create = (externalId: string, products: Product[], orgId = ORG) =>
    f.admin.createMember({
      orgId,
      member: {
        externalId,
        email: `${externalId}@acme.test`,
        displayName: externalId,
        products,
        active: true,
      },
      changedBy: BY,
    });

  it('creates members with Fortress ids, and each change commits one change event', async () => {
    const ada = (await create('ada', [Product.PAT, Product.MCP])).member;
    assert.match(ada?.id ?? '', /^mbr_[A-Za-z0-9]+$/);
    assert.deepEqual(ada?.products, [Product.MCP, Product.PAT]);
    const [created] = await drained(f, ORG);
    assert.equal(created?.entityType, 'member');
    assert.equal(created?.entityId, ada?.id);
    assert.equal(created?.operation, 'create');
    assert.equal(created?.actor?.subjectId, BY.subjectId);
    assert.equal(created?.before, undefined);
    assert.deepEqual(created?.after, {
      id: ada?.id,
      external_id: 'ada',
      email: 'ada@acme.test',
      display_name: 'ada',
      products: ['mcp', 'pat'],
      active: true,
    } satisfies JsonObject);

    const off = await f.admin.updateMember({
      orgId: ORG,
      member: { ...ada, products: [Product.MCP], active: false },
      changedBy: { ...BY, approvedBy: 'usr_second1' },
    });
    assert.equal(off.member?.active, false);
    const [updated] = await drained(f, ORG);
    assert.equal(updated?.operation, 'update');
    assert.equal(updated?.approvedBy, 'usr_second1');
    assert.deepEqual((updated?.before as JsonObject)['products'], ['mcp', 'pat']);
    assert.deepEqual((updated?.after as JsonObject)['products'], ['mcp']);
    assert.equal((updated?.after as JsonObject)['active'], false);

    // The same again changes nothing and says nothing.
    await f.admin.updateMember({ orgId: ORG, member: off.member, changedBy: BY });
    assert.deepEqual(await drained(f, ORG), []);

    await f.admin.deleteMember({ orgId: ORG, id: ada?.id ?? '', changedBy: BY });
    const [deleted] = await drained(f, ORG);
    assert.equal(deleted?.operation, 'delete');
    assert.equal(deleted?.after, undefined);
    await assert.rejects(
      f.admin.getMember({ orgId: ORG, id: ada?.id ?? '' }),
      failsWith(Code.NotFound, 'member_not_found'),
    );
  });

  it('lists members in id order, a page at a time, and never another org’s', async () => {
    const ids = [];
    for (const name of ['bo', 'cy', 'di']) ids.push((await create(name, [Product.MCP])).member?.id);
    await create('elsewhere', [Product.PAT], OTHER);
    const seen: string[] = [];
    let pageToken = '';
    do {
      const page = await f.admin.listMembers({ orgId: ORG, pageSize: 2, pageToken });
      assert.ok(page.members.length <= 2);
      seen.push(...page.members.map((m) => m.externalId));
      pageToken = page.nextPageToken;
    } while (pageToken);
    assert.deepEqual(seen.sort(), ['bo', 'cy', 'di']);
    // An id of this org asked for under the other org is not found there.
    await assert.rejects(
      f.admin.getMember({ orgId: OTHER, id: ids[0] ?? '' }),
      failsWith(Code.NotFound, 'member_not_found'),
    );
    await assert.rejects(
      f.admin.deleteMember({ orgId: OTHER, id: ids[0] ?? '', changedBy: BY }),
      failsWith(Code.NotFound, 'member_not_found'),
    );
    assert.equal(
      (await f.admin.getMember({ orgId: ORG, id: ids[0] ?? '' })).member?.externalId,
      'bo',
    );
    await drained(f, ORG);
    await drained(f, OTHER);
  });

  it('refuses bad input and a taken external id, changing nothing', async () => {
    const before = (await f.admin.listMembers({ orgId: ORG })).members;
    await assert.rejects(
      create('bo', [Product.PAT]),
      failsWith(Code.AlreadyExists, 'external_id_taken'),
    );
    await assert.rejects(
      create('admin-seat', [Product.ADMIN]),
      failsWith(Code.InvalidArgument, 'invalid_argument', 'member.products[0]'),
    );
    await assert.rejects(
      f.admin.createMember({
        orgId: ORG,
        member: { externalId: 'x', email: 'not an email', products: [], active: true },
        changedBy: BY,
      }),
      failsWith(Code.InvalidArgument, 'invalid_argument', 'member.email'),
    );
    await assert.rejects(
      f.admin.createMember({
        orgId: ORG,
        member: { externalId: 'bad\nline', products: [], active: true },
        changedBy: BY,
      }),
      failsWith(Code.InvalidArgument, 'invalid_argument', 'member.external_id'),
    );
    await assert.rejects(
      f.admin.createMember({ orgId: ORG, member: { externalId: 'nobody', active: true } }),
      failsWith(Code.InvalidArgument, 'invalid_argument', 'changed_by.subject_id'),
    );
    await assert.rejects(
      f.admin.updateMember({
        orgId: ORG,
        member: { id: 'mbr_doesnotexist', externalId: 'z', active: true },
        changedBy: BY,
      }),
      failsWith(Code.NotFound, 'member_not_found'),
    );
    await assert.rejects(
      f.admin.getMember({ orgId: ORG, id: "mbr_x' OR 1=1" }),
      failsWith(Code.InvalidArgument, 'invalid_argument', 'id'),
    );
    assert.deepEqual((await f.admin.listMembers({ orgId: ORG })).members, before);
    assert.deepEqual(await drained(f, ORG), []);
  });

  it('relays events in order, keeps them through a failed publish, and sweeps orgs left behind', async () => {
    await create('eve', [Product.PAT]);
    await create('fay', [Product.MCP]);
    const published: string[] = [];
    let failing = true;
    const relay = createMemberRelay({
      store: f.app.members,
      publish: (bytes) => {
        if (failing) return Promise.reject(new Error('nats: no responders'));
        const e = fromBinary(EventEnvelopeSchema, bytes);
        published.push((e.payload.value as ChangeEvent).entityId + ':' + e.orgId);
        return Promise.resolve();
      },
      intervalMs: 60_000,
      logger: createLogger({ service: 'identity', level: 'silent' }),
    });
    await relay.sweep();
    assert.deepEqual(published, []);
    assert.deepEqual(await f.app.members.outboxOrgs(10), [ORG]);
    failing = false;
    await relay.sweep();
    assert.equal(published.length, 2);
    const members = (await f.admin.listMembers({ orgId: ORG })).members;
    const idOf = (ext: string) => members.find((m) => m.externalId === ext)?.id;
    assert.deepEqual(published, [`${idOf('eve')}:${ORG}`, `${idOf('fay')}:${ORG}`]);
    assert.deepEqual(await f.app.members.outboxOrgs(10), []);
    await relay.stop();
  });

  it('publishes an event made while its org is being drained in the same round, without a sweep', async () => {
    const published: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const relay = createMemberRelay({
      store: f.app.members,
      publish: async (bytes) => {
        await gate;
        published.push(
          (fromBinary(EventEnvelopeSchema, bytes).payload.value as ChangeEvent).entityId,
        );
      },
      intervalMs: 60_000,
      logger: createLogger({ service: 'identity', level: 'silent' }),
    });
    const first = (await create('gus', [Product.MCP])).member?.id;
    relay.nudge(ORG);
    const second = (await create('hal', [Product.PAT])).member?.id;
    relay.nudge(ORG);
    relay.nudge(ORG);
    release();
    await relay.stop();
    assert.deepEqual(published, [first, second]);
    assert.deepEqual(await f.app.members.outboxOrgs(10), []);
  });
});
