import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { ARCHIVE_BUCKET } from '@fortress/harness/stack/stack';
import type { ServiceProcess } from '@fortress/harness/stack/service-process';
import {
  adminSession,
  ALLOWED_MODEL,
  archivedRecord,
  eventually,
  objectStoreClient,
  useStack,
  type TestStack,
} from './support/stack.js';

interface ArchivedRecord {
  request_id: string;
  org_id: string;
  pat_key_id: string;
  model: string;
  status_code: number;
  client_ip: string;
  received_at: string;
  completed_at: string;
  spend_microusd: number;
  usage: { input_tokens: number; output_tokens: number } | null;
  actor: { api_key_id: string };
  request: { body_base64: string };
  response: {
    body_base64: string;
    content_type: string;
    content_encoding: string;
    truncated: boolean;
  };
}

describe('PAT archive: every exchange sealed per org in the object store, read back by audit roles only', function () {
  this.timeout(120_000);
  let stack: TestStack;
  let org: Awaited<ReturnType<TestStack['seed']>>;
  let s3: S3Client;
  const tokens: Record<string, string> = {};

  const readArchive = async (requestId: string, token: string, edgeUrl = stack.edgeUrl) => {
    const r = await fetch(`${edgeUrl}/api/v1/archive/${requestId}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    return { status: r.status, json: (await r.json()) as Record<string, unknown> };
  };

  /** Waits until the exchange is archived, then reads it as the auditor. */
  const archived = async (requestId: string, token = tokens['auditor'] ?? '') =>
    (
      await eventually(async () => {
        const r = await readArchive(requestId, token);
        return r.status === 200 ? r : undefined;
      }, `request ${requestId} archived`)
    ).json as unknown as ArchivedRecord;

  const send = async (
    edgeUrl: string,
    prompt: string,
    opts: { stream?: boolean; orgKey?: string; gzip?: boolean } = {},
  ) => {
    const stream = opts.stream ?? false;
    const res = await fetch(`${edgeUrl}/v1/messages`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-api-key': opts.orgKey ?? org.orgKey,
        'anthropic-version': '2023-06-01',
        // fetch would decompress a gzip body; ask for the bytes as they travel.
        'accept-encoding': opts.gzip ? 'gzip' : 'identity',
      },
      body: JSON.stringify({
        model: ALLOWED_MODEL,
        max_tokens: 32,
        stream,
        messages: [{ role: 'user', content: prompt }],
      }),
    });
    const body = Buffer.from(await res.arrayBuffer());
    assert.equal(res.status, 200, body.toString());
    return {
      requestId: res.headers.get('x-fortress-request-id') ?? '',
      body,
      encoding: res.headers.get('content-encoding') ?? '',
    };
  };

  before(async () => {
    stack = await useStack();
    org = await stack.seed();
    for (const role of ['auditor', 'admin', 'viewer', 'owner'])
      tokens[role] = await adminSession(stack, org.orgId, role);
    s3 = objectStoreClient(stack);
  });
  after(() => s3?.destroy());

  it('archives the request and the response byte for byte, with who, model, usage, spend and times', async () => {
    const canary = `canary-prompt-${randomBytes(8).toString('hex')}`;
    const sent = await send(stack.edgeUrl, canary);
    const rec = await archived(sent.requestId);
    assert.equal(rec.request_id, sent.requestId);
    assert.equal(rec.org_id, org.orgId);
    assert.equal(rec.pat_key_id, org.patKeyId);
    assert.equal(rec.actor.api_key_id, org.orgKeyId);
    assert.equal(rec.model, ALLOWED_MODEL);
    assert.equal(rec.status_code, 200);
    assert.match(rec.client_ip, /127\.0\.0\.1/);
    assert.ok(Date.parse(rec.received_at) <= Date.parse(rec.completed_at));
    assert.ok(
      Buffer.from(rec.request.body_base64, 'base64').toString().includes(canary),
      'the prompt is archived',
    );
    assert.ok(
      Buffer.from(rec.response.body_base64, 'base64').equals(sent.body),
      'the archived response is the bytes the client received',
    );
    const reply = JSON.parse(sent.body.toString()) as {
      usage: { input_tokens: number; output_tokens: number };
    };
    assert.deepEqual(rec.usage && [rec.usage.input_tokens, rec.usage.output_tokens], [
      reply.usage.input_tokens,
      reply.usage.output_tokens,
    ]);
    assert.equal(rec.spend_microusd, reply.usage.input_tokens * 1 + reply.usage.output_tokens * 5);
    // The record names the caller; it never holds a credential.
    const plain = JSON.stringify(rec);
    assert.ok(!plain.includes(stack.sandboxAnthropicKey), 'the Anthropic key is archived');
    assert.ok(!plain.includes(org.orgKey), 'the org key is archived');
    // What the object store holds is sealed: neither the prompt nor the response in the clear.
    const { objectKey, segment, sealed } = await archivedRecord(
      stack,
      s3,
      org.orgId,
      sent.requestId,
    );
    assert.match(objectKey, new RegExp(`^pat/${org.orgId}/\\d{8}T\\d{6}Z-[0-9a-f]{12}\\.jsonl$`));
    assert.ok(!segment.includes(canary), 'the prompt is readable in the object store');
    assert.ok(!segment.includes(stack.sandboxAnthropicKey));
    assert.equal(sealed.alg, 'A256GCM');
  });

  it('archives a gzip response as the compressed bytes that travelled, marked as such', async () => {
    const sent = await send(stack.edgeUrl, 'compress me', { gzip: true });
    const rec = await archived(sent.requestId);
    const archivedBody = Buffer.from(rec.response.body_base64, 'base64');
    assert.equal(rec.response.content_encoding, 'gzip');
    // fetch hands the client the decompressed body; the archive keeps what travelled.
    assert.equal(gunzipSync(archivedBody).toString(), sent.body.toString());
  });

  it('archives a streamed response as the SSE bytes the client received', async () => {
    const sent = await send(stack.edgeUrl, 'stream me', { stream: true });
    const rec = await archived(sent.requestId);
    assert.match(rec.response.content_type, /text\/event-stream/);
    assert.ok(Buffer.from(rec.response.body_base64, 'base64').equals(sent.body));
    assert.equal(rec.response.truncated, false);
  });

  it('lets only the owner and the auditor read the archive, and only their own org’s', async () => {
    const sent = await send(stack.edgeUrl, 'who may read this');
    await archived(sent.requestId);
    assert.equal((await readArchive(sent.requestId, tokens['owner'] ?? '')).status, 200);
    for (const role of ['admin', 'viewer']) {
      const r = await readArchive(sent.requestId, tokens[role] ?? '');
      assert.equal(r.status, 403, `${role} read the archive`);
    }
    assert.equal((await fetch(`${stack.edgeUrl}/api/v1/archive/${sent.requestId}`)).status, 401);
    const other = await stack.seed();
    const otherAuditor = await adminSession(stack, other.orgId, 'auditor');
    assert.equal((await readArchive(sent.requestId, otherAuditor)).status, 404);
  });

  it('opens a record only with its own org’s key and as its own request: one planted in another org’s segment does not open', async () => {
    const sent = await send(stack.edgeUrl, 'mine alone');
    const mine = await archivedRecord(stack, s3, org.orgId, sent.requestId);
    const victim = await stack.seed();
    const auditor = await adminSession(stack, victim.orgId, 'auditor');
    // The victim org has an archive key and a record of its own.
    const theirs = (await send(stack.edgeUrl, 'theirs', { orgKey: victim.orgKey })).requestId;
    await archived(theirs, auditor);
    const segment = await archivedRecord(stack, s3, victim.orgId, theirs);
    // Their record replaced by a copy of ours, relabelled as theirs.
    const planted = JSON.stringify({ ...mine.sealed, org_id: victim.orgId, request_id: theirs });
    await s3.send(
      new PutObjectCommand({
        Bucket: ARCHIVE_BUCKET,
        Key: segment.objectKey,
        Body: `${planted}\n`,
      }),
    );
    const r = await readArchive(theirs, auditor);
    assert.equal(r.status, 409);
    assert.equal(r.json['code'], 'archive_tampered');
  });

  it('never blocks a request on the object store, spools sealed records through an outage, alerts, and loses none', async () => {
    const spool = mkdtempSync(join(tmpdir(), 'fortress-spool-'));
    const broken: Record<string, string> = {
      // Nothing listens there: every upload fails.
      FORTRESS_ARCHIVE_S3_ENDPOINT: 'http://127.0.0.1:9',
      FORTRESS_ARCHIVE_SPOOL_DIR: spool,
      FORTRESS_ARCHIVE_BEHIND_MS: '300',
    };
    let edge: ServiceProcess | undefined = await stack.startReplica('edge', broken);
    const canary = `canary-spooled-${randomBytes(8).toString('hex')}`;
    try {
      const url = `http://127.0.0.1:${edge.ports.httpPort}`;
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push((await send(url, `${canary} ${i}`)).requestId);
      // The orgs concerned are told the archive is behind.
      await eventually(async () => {
        const rows = await stack.auditRows(org.orgId);
        return rows.some(
          (r) => r.kind === 'notification' && JSON.stringify(r.event).includes('archive.behind'),
        )
          ? true
          : undefined;
      }, 'an archive.behind notification');
      const spooled = await eventually(() => {
        const text = readdirSync(spool)
          .filter((n) => !n.startsWith('.'))
          .map((f) => readFileSync(join(spool, f), 'utf8'))
          .join('');
        return ids.every((id) => text.includes(id)) ? text : undefined;
      }, 'five sealed records in the spool');
      assert.equal(spooled.split('\n').filter(Boolean).length, 5);
      assert.ok(!spooled.includes(canary), 'plaintext on disk');
      assert.equal((await readArchive(ids[0] ?? '', tokens['auditor'] ?? '')).status, 404);
      await edge.stop();
      edge = undefined;
      // A new edge on the same spool, with the object store back: everything arrives.
      edge = await stack.startReplica('edge', { FORTRESS_ARCHIVE_SPOOL_DIR: spool });
      for (const id of ids) {
        const rec = await archived(id);
        assert.ok(Buffer.from(rec.request.body_base64, 'base64').toString().includes(canary));
      }
      await eventually(
        () => (readdirSync(spool).length === 0 ? true : undefined),
        'the spool emptied',
      );
    } finally {
      await edge?.stop();
    }
  });

  it('archives the model listing and a single model too, as the client received them', async () => {
    // fetch would decompress a gzip body; ask for the bytes as they travel.
    const headers = {
      'x-api-key': org.orgKey,
      'anthropic-version': '2023-06-01',
      'accept-encoding': 'identity',
    };
    const list = await fetch(`${stack.edgeUrl}/v1/models`, { headers });
    const listBody = Buffer.from(await list.arrayBuffer());
    assert.equal(list.status, 200);
    const one = await fetch(`${stack.edgeUrl}/v1/models/${ALLOWED_MODEL}`, { headers });
    const oneBody = Buffer.from(await one.arrayBuffer());
    assert.equal(one.status, 200);
    for (const [res, body] of [
      [list, listBody],
      [one, oneBody],
    ] as const) {
      const record = await archived(res.headers.get('x-fortress-request-id') ?? '');
      assert.equal(record.status_code, 200);
      assert.equal(record.request.body_base64, '');
      assert.equal(
        Buffer.from(record.response.body_base64, 'base64').toString('utf8'),
        body.toString('utf8'),
        'the bytes the client got',
      );
    }
  });
});
