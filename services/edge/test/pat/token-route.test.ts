import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { create } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { Code, ConnectError, type Client } from '@connectrpc/connect';
import { metrics } from '@opentelemetry/api';
import {
  PrincipalKind,
  PrincipalSchema,
  Product,
  ReasonSchema,
} from '@fortress/proto/common/v1/common_pb';
import type { EventEnvelope } from '@fortress/proto/events/v1/events_pb';
import {
  AuthFailure,
  ExchangeTokenResponseSchema,
  type ExchangeTokenRequest,
  type ExchangeTokenResponse,
  type IdentityService,
} from '@fortress/proto/identity/v1/identity_pb';
import type { EventBus } from '@fortress/kit/event-bus';
import { createLogger } from '@fortress/kit/log';
import { createTokenRoute, TOKEN_EXCHANGE_ACTION } from '../../src/pat/token-route.js';
import { send, startServer } from '../support/http-server.js';

const KEY = `fk_live_${'K'.repeat(43)}`;
const JWT = 'eyJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ.eyJzdWIiOiJ1c2VyIn0.c2ln';
const TOKEN = `fk_tok_${'T'.repeat(43)}`;
const EXPIRES = new Date('2026-11-23T10:15:00Z');

const issued = () =>
  create(ExchangeTokenResponseSchema, {
    token: TOKEN,
    expiresAt: timestampFromDate(EXPIRES),
    principal: create(PrincipalSchema, {
      orgId: 'org_bank1',
      kind: PrincipalKind.USER,
      userId: 'oid-ada',
      email: 'ada@bank.example',
      apiKeyId: 'key_k1',
    }),
  });
const refusedFor = (orgId: string) =>
  create(ExchangeTokenResponseSchema, {
    failure: AuthFailure.IDP_TOKEN_INVALID,
    reason: create(ReasonSchema, {
      code: 'idp_wrong_audience',
      message: "the identity provider token is not issued for this organisation's audience",
      ruleId: 'identity',
    }),
    ...(orgId ? { principal: create(PrincipalSchema, { orgId }) } : {}),
  });

/** The route on a server, with an identity answering `answer` and a bus that may refuse. */
async function world(answer: () => Promise<ExchangeTokenResponse>, busFails = false) {
  const calls: ExchangeTokenRequest[] = [];
  const published: EventEnvelope[] = [];
  const logLines: string[] = [];
  const identity = {
    exchangeToken: (req: ExchangeTokenRequest) => {
      calls.push(req);
      return answer();
    },
  } as unknown as Client<typeof IdentityService>;
  const bus = {
    publish: (envelope: EventEnvelope) => {
      if (busFails) return Promise.reject(new Error('no ack'));
      published.push(envelope);
      return Promise.resolve();
    },
  } as unknown as EventBus;
  const route = createTokenRoute({
    identity,
    bus,
    logger: createLogger({
      service: 'edge',
      destination: new Writable({
        write(chunk: Buffer, _enc, done) {
          logLines.push(chunk.toString('utf8'));
          done();
        },
      }),
    }),
    stages: metrics.getMeter('test').createHistogram('stages'),
    hopTimeoutMs: 1000,
    auditAckTimeoutMs: 1000,
  });
  const server = await startServer((req, res) =>
    route(req, res, {
      requestId: 'req_1',
      product: Product.PAT,
      clientIp: '127.0.0.1',
      userAgent: 'test',
    }),
  );
  const post = async (headers: Record<string, string>) => {
    const seen = await send(server.port, { path: '/v1/fortress/token', headers }, (r) => r.end());
    return { ...seen, json: JSON.parse(seen.body ?? '{}') as Record<string, unknown> };
  };
  return { calls, published, logLines, post, close: () => server.close() };
}

const both = { 'x-api-key': KEY, authorization: `Bearer ${JWT}` };

describe('POST /v1/fortress/token', () => {
  it('hands out the token and its RFC 3339 expiry, uncacheable, after auditing the allow', async () => {
    const w = await world(() => Promise.resolve(issued()));
    try {
      const res = await w.post(both);
      assert.equal(res.status, 200);
      assert.deepEqual(res.json, { token: TOKEN, expires_at: '2026-11-23T10:15:00.000Z' });
      assert.equal(res.headers?.['cache-control'], 'no-store');
      assert.equal(res.headers?.['x-fortress-request-id'], 'req_1');
      assert.equal(w.calls[0]?.apiKey, KEY);
      assert.equal(w.calls[0]?.idpToken, JWT);
      assert.equal(w.published.length, 1);
      const p = w.published[0]?.payload;
      assert.equal(p?.case, 'decision');
      if (p?.case !== 'decision') return;
      assert.equal(p.value.action, TOKEN_EXCHANGE_ACTION);
      assert.equal(p.value.actor?.userId, 'oid-ada');
      assert.equal(p.value.resource, 'org_key:key_k1');
    } finally {
      await w.close();
    }
  });

  it('answers a refusal with 401 authentication_error and audits the deny under the org', async () => {
    const w = await world(() => Promise.resolve(refusedFor('org_bank1')));
    try {
      const res = await w.post(both);
      assert.equal(res.status, 401);
      assert.deepEqual(res.json['error'], {
        type: 'authentication_error',
        message: "the identity provider token is not issued for this organisation's audience",
      });
      const p = w.published[0]?.payload;
      assert.equal(p?.case, 'decision');
      if (p?.case !== 'decision') return;
      assert.equal(p.value.actor, undefined);
      assert.equal(p.value.reasons[0]?.code, 'idp_wrong_audience');
    } finally {
      await w.close();
    }
  });

  it('audits nothing for a refusal that names no org', async () => {
    const w = await world(() => Promise.resolve(refusedFor('')));
    try {
      assert.equal((await w.post(both)).status, 401);
      assert.equal(w.published.length, 0);
    } finally {
      await w.close();
    }
  });

  it('answers 401 without asking identity when no key is presented', async () => {
    const w = await world(() => Promise.resolve(issued()));
    try {
      const res = await w.post({ authorization: `Bearer ${JWT}` });
      assert.equal(res.status, 401);
      assert.equal((res.json['error'] as { type: string }).type, 'authentication_error');
      assert.equal(w.calls.length, 0);
    } finally {
      await w.close();
    }
  });

  const closed = [
    {
      name: 'identity cannot decide (its IdP unreachable)',
      answer: () => Promise.reject(new ConnectError('keys unavailable', Code.Unavailable)),
      busFails: false,
    },
    {
      name: 'the issue cannot be audited',
      answer: () => Promise.resolve(issued()),
      busFails: true,
    },
  ];
  for (const c of closed) {
    it(`fails closed with 503 and no token when ${c.name}`, async () => {
      const w = await world(c.answer, c.busFails);
      try {
        const res = await w.post(both);
        assert.equal(res.status, 503);
        assert.equal((res.json['error'] as { type: string }).type, 'api_error');
        assert.ok(!res.body?.includes(TOKEN));
        for (const line of w.logLines) {
          assert.ok(!line.includes(TOKEN) && !line.includes(JWT) && !line.includes(KEY));
        }
      } finally {
        await w.close();
      }
    });
  }
});
