import assert from 'node:assert/strict';
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { createConnectTransport, createGrpcWebTransport } from '@connectrpc/connect-node';
import { UserService } from '@fortress/proto/admin/v1/admin_pb';
import { Product, Tier } from '@fortress/proto/common/v1/common_pb';
import { adminSession, eventually, useStack, type TestStack } from './support/stack.js';
import { adminRest, assertProblem } from './support/admin-rest.js';

interface UserJson {
  id: string;
  external_id: string;
  email: string;
  display_name: string;
  products: string[];
  active: boolean;
}

/** An invoice as proto JSON shows it: zero counts are left out. */
interface InvoiceJson {
  invoice: { seats: { total?: number; bundle?: number; mcp_only?: number; pat_only?: number } };
}

/**
 * The org's users (`/api/v1/users`) end to end: identity keeps them, publishes every change
 * through its outbox to JetStream, the audit service records it in the change log and billing's
 * consumer turns it into seats — so the invoice counts exactly the users who hold each product.
 */
describe('admin API: users and the seats they hold', function () {
  this.timeout(120_000);
  let stack: TestStack;
  let orgId: string;
  let ownerToken: string;
  let viewerToken: string;

  const rest = adminRest(() => stack.edgeUrl);
  const call = (method: string, path: string, token: string, body?: unknown) =>
    rest(method, path, { token, ...(body !== undefined ? { body } : {}) });
  const seats = async () => {
    const r = await call('GET', '/billing/invoice', ownerToken);
    assert.equal(r.status, 200, r.text);
    // Proto JSON leaves zeros out.
    const s: InvoiceJson['invoice']['seats'] =
      (r.json as unknown as InvoiceJson).invoice.seats ?? {};
    return {
      total: s.total ?? 0,
      bundle: s.bundle ?? 0,
      mcp_only: s.mcp_only ?? 0,
      pat_only: s.pat_only ?? 0,
    };
  };
  /** Waits until billing has taken every change so far (the invoice shows `want`). */
  const seatsBecome = (want: Awaited<ReturnType<typeof seats>>) =>
    eventually(
      async () => {
        const got = await seats();
        return JSON.stringify(got) === JSON.stringify(want) ? got : undefined;
      },
      `seats ${JSON.stringify(want)}`,
    );

  before(async () => {
    stack = await useStack();
    orgId = (await stack.seed()).orgId;
    // The running cycle started yesterday, so every change lands in it.
    const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    await stack.operator.billing.setAccount({ orgId, tier: Tier.BANK, anchorDate: yesterday });
    ownerToken = await adminSession(stack, orgId, 'owner');
    viewerToken = await adminSession(stack, orgId, 'viewer');
  });

  it('creates, lists, changes and removes users; the invoice follows their products', async () => {
    assert.deepEqual(await seats(), { total: 0, bundle: 0, mcp_only: 0, pat_only: 0 });
    const created: UserJson[] = [];
    for (const [ext, products] of [
      ['00u1ada', ['mcp', 'pat']],
      ['00u2bo', ['mcp']],
      ['00u3cy', ['pat']],
    ] as const) {
      const r = await call('POST', '/users', ownerToken, {
        external_id: ext,
        email: `${ext}@acme.test`,
        display_name: ext,
        products,
      });
      assert.equal(r.status, 201, r.text);
      created.push(r.json as unknown as UserJson);
    }
    const [ada, bo, cy] = created as [UserJson, UserJson, UserJson];
    assert.match(ada.id, /^mbr_/);
    assert.deepEqual(ada.products, ['mcp', 'pat']);
    assert.equal(ada.active, true);
    await seatsBecome({ total: 3, bundle: 1, mcp_only: 1, pat_only: 1 });

    const list = await call('GET', '/users', viewerToken);
    assert.equal(list.status, 200, list.text);
    assert.deepEqual((list.json['users'] as UserJson[]).map((u) => u.external_id).sort(), [
      '00u1ada',
      '00u2bo',
      '00u3cy',
    ]);

    // bo gains PAT (a bundle now), cy is deactivated, ada is removed.
    const up = await call('PUT', `/users/${bo.id}`, ownerToken, {
      external_id: bo.external_id,
      email: bo.email,
      products: ['pat', 'mcp'],
    });
    assert.equal(up.status, 200, up.text);
    assert.deepEqual((up.json as unknown as UserJson).products, ['mcp', 'pat']);
    const off = await call('PUT', `/users/${cy.id}`, ownerToken, {
      external_id: cy.external_id,
      products: ['pat'],
      active: false,
    });
    assert.equal(off.status, 200, off.text);
    assert.equal((await call('DELETE', `/users/${ada.id}`, ownerToken)).status, 204);
    // The next cycle bills the seats held when it starts: bo's bundle alone.
    const running = await call('GET', '/billing/invoice', ownerToken);
    const end = (running.json['invoice'] as { cycle_end: string }).cycle_end;
    const nextStart = new Date(Date.parse(`${end}T00:00:00Z`) + 86_400_000)
      .toISOString()
      .slice(0, 10);
    const next = await eventually(async () => {
      const r = await call('GET', `/billing/invoice?cycle_start=${nextStart}`, ownerToken);
      assert.equal(r.status, 200, r.text);
      const s = (r.json as unknown as InvoiceJson).invoice.seats;
      return s.total === 1 ? s : undefined;
    }, 'the next cycle with one seat');
    assert.deepEqual([next.bundle, next.mcp_only ?? 0, next.pat_only ?? 0], [1, 0, 0]);
    assertProblem(await call('GET', `/users/${ada.id}`, ownerToken), 404, 'member_not_found');
  });

  it('keeps a change made while NATS is down and delivers it to billing and the change log after', async function () {
    this.timeout(90_000);
    const nextCycle = async () => {
      const running = await call('GET', '/billing/invoice', ownerToken);
      const end = (running.json['invoice'] as { cycle_end: string }).cycle_end;
      const start = new Date(Date.parse(`${end}T00:00:00Z`) + 86_400_000)
        .toISOString()
        .slice(0, 10);
      const r = await call('GET', `/billing/invoice?cycle_start=${start}`, ownerToken);
      return (r.json as unknown as InvoiceJson).invoice.seats;
    };
    assert.equal((await nextCycle()).total, 1);
    await stack.nats.kill();
    let created;
    try {
      // The edge fails closed without NATS (no audit, no admin call); identity does not need it
      // to commit a member, so the operator makes the change and its event waits in the outbox.
      created = await stack.operator.identityAdmin.createMember({
        orgId,
        member: { externalId: '00u9offline', products: [Product.PAT], active: true },
        changedBy: { subjectId: 'operator', email: '', approvedBy: '' },
      });
    } finally {
      await stack.nats.restart();
    }
    const seats = await eventually(
      async () => {
        const s = await nextCycle();
        return s.total === 2 ? s : undefined;
      },
      'the offline change in the next cycle',
      60_000,
    );
    assert.equal(seats.pat_only, 1);
    await eventually(
      async () => {
        const r = await call(
          'GET',
          `/changes?entity_type=member&entity_id=${created.member?.id}`,
          ownerToken,
        );
        const records = (r.json['records'] ?? []) as Array<{ action: string }>;
        return records.length === 1 && records[0]?.action === 'member.create' ? records : undefined;
      },
      'the offline change in the change log, once',
      30_000,
    );
  });

  it('records every change in the change log with before and after', async () => {
    type Change = {
      action: string;
      actor?: { subject_id?: string };
      event: { change: { before?: UserJson; after?: UserJson } };
    };
    const records = await eventually(async () => {
      const got = await call('GET', '/changes?entity_type=member', ownerToken);
      const r = (got.json['records'] ?? []) as Change[];
      return r.length >= 7 ? r : undefined;
    }, 'seven member changes in the change log');
    assert.deepEqual(records.map((x) => x.action).sort(), [
      'member.create',
      'member.create',
      'member.create',
      'member.create',
      'member.delete',
      'member.update',
      'member.update',
    ]);
    const gained = records.find(
      (x) => x.action === 'member.update' && x.event.change.after?.external_id === '00u2bo',
    );
    assert.deepEqual(gained?.event.change.before?.products, ['mcp']);
    assert.deepEqual(gained?.event.change.after?.products, ['mcp', 'pat']);
    assert.ok(
      records.every((x) => x.actor?.subject_id),
      'every change names its admin',
    );
  });

  it('serves users as admin RPCs too (Connect and gRPC-Web), through the same chain', async () => {
    const owner = { headers: { authorization: `Bearer ${ownerToken}` } };
    const viewer = { headers: { authorization: `Bearer ${viewerToken}` } };
    const failsWith = (code: Code, reason?: string) => (err: unknown) => {
      assert.ok(err instanceof ConnectError, String(err));
      assert.equal(err.code, code, err.message);
      if (reason) assert.equal(err.metadata.get('fortress-reason'), reason);
      return true;
    };
    for (const [i, transport] of [
      createConnectTransport({ baseUrl: stack.edgeUrl, httpVersion: '1.1' }),
      createGrpcWebTransport({ baseUrl: stack.edgeUrl, httpVersion: '1.1' }),
    ].entries()) {
      const users = createClient(UserService, transport);
      const created = (
        await users.createUser({ user: { externalId: `00urpc${i}`, products: ['mcp'] } }, owner)
      ).user;
      assert.match(created?.id ?? '', /^mbr_/);
      assert.equal(created?.active, true, 'active unless set');
      assert.deepEqual(created?.products, ['mcp']);
      const got = (await users.getUser({ id: created?.id ?? '' }, viewer)).user;
      assert.equal(got?.externalId, `00urpc${i}`);
      const off = (
        await users.updateUser(
          {
            user: {
              id: created?.id ?? '',
              externalId: `00urpc${i}`,
              products: ['mcp'],
              active: false,
            },
          },
          owner,
        )
      ).user;
      assert.equal(off?.active, false);
      const listed = await users.listUsers({ page: { pageSize: 500 } }, viewer);
      assert.ok(listed.users.some((u) => u.id === created?.id && u.active === false));
      await assert.rejects(
        users.createUser({ user: { externalId: `00urpc${i}` } }, owner),
        failsWith(Code.FailedPrecondition, 'external_id_taken'),
      );
      await assert.rejects(
        users.createUser({ user: { externalId: 'x', products: ['admin'] } }, owner),
        failsWith(Code.InvalidArgument),
      );
      await assert.rejects(
        users.deleteUser({ id: created?.id ?? '' }, viewer),
        failsWith(Code.PermissionDenied),
      );
      await assert.rejects(users.listUsers({}), failsWith(Code.Unauthenticated));
      await users.deleteUser({ id: created?.id ?? '' }, owner);
      await assert.rejects(
        users.getUser({ id: created?.id ?? '' }, owner),
        failsWith(Code.NotFound, 'member_not_found'),
      );
    }
  });

  it('refuses bad bodies, taken external ids and viewers, changing nothing', async () => {
    const before = (await call('GET', '/users', ownerToken)).json['users'];
    assertProblem(
      await call('POST', '/users', ownerToken, { external_id: 'x', products: ['admin'] }),
      400,
      'invalid_request',
    );
    assertProblem(
      await call('POST', '/users', ownerToken, { external_id: 'x', role: 'owner' }),
      400,
      'invalid_request',
    );
    assertProblem(
      await call('POST', '/users', ownerToken, { external_id: 'x', email: 'nope' }),
      400,
      'invalid_request',
    );
    assertProblem(
      await call('POST', '/users', ownerToken, { external_id: '00u2bo' }),
      409,
      'external_id_taken',
    );
    const denied = await call('POST', '/users', viewerToken, {
      external_id: 'v',
      products: ['mcp'],
    });
    assert.equal(denied.status, 403, denied.text);
    assertProblem(await call('GET', '/users/mbr_nobody', ownerToken), 404, 'member_not_found');
    assert.deepEqual((await call('GET', '/users', ownerToken)).json['users'], before);
  });
});
