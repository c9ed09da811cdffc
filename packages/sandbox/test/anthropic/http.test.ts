import assert from 'node:assert/strict';
import { request } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { KEY, MODEL, messageBody, rawFetch, startSandbox, type Sandbox } from './helpers.js';

/** A raw node:http POST that, unlike fetch, leaves content-encoding undecoded. */
function postRaw(
  url: string,
  path: string,
  body: unknown,
  headers: Record<string, string>,
): Promise<{
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}> {
  return new Promise((resolve, reject) => {
    const payload = Buffer.from(JSON.stringify(body));
    const req = request(
      `${url}${path}`,
      {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'content-length': payload.length,
          'x-api-key': KEY,
          'anthropic-version': '2023-06-01',
          ...headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

describe('fake anthropic: transport', () => {
  let sandbox: Sandbox;
  before(async () => {
    sandbox = await startSandbox();
  });
  after(() => sandbox.fake.close());
  beforeEach(() => sandbox.fake.clearRequests());

  it('gzips JSON responses when the client accepts gzip, and only then', async () => {
    const zipped = await postRaw(sandbox.fake.url, '/v1/messages', messageBody('zip it'), {
      'accept-encoding': 'gzip, deflate',
    });
    assert.equal(zipped.status, 200);
    assert.equal(zipped.headers['content-encoding'], 'gzip');
    assert.equal(Number(zipped.headers['content-length']), zipped.body.length);
    const message = JSON.parse(gunzipSync(zipped.body).toString('utf8')) as { type: string };
    assert.equal(message.type, 'message');

    const plain = await postRaw(sandbox.fake.url, '/v1/messages', messageBody('plain'), {});
    assert.equal(plain.headers['content-encoding'], undefined);
    assert.equal((JSON.parse(plain.body.toString('utf8')) as { type: string }).type, 'message');

    const refused = await postRaw(sandbox.fake.url, '/v1/messages', messageBody('no gzip'), {
      'accept-encoding': 'gzip;q=0, identity',
    });
    assert.equal(refused.headers['content-encoding'], undefined);
  });

  it('gzips error envelopes too', async () => {
    const res = await postRaw(sandbox.fake.url, '/v1/messages', messageBody('FAKE_API_ERROR'), {
      'accept-encoding': 'gzip',
    });
    assert.equal(res.status, 500);
    assert.equal(res.headers['content-encoding'], 'gzip');
    assert.equal(
      (JSON.parse(gunzipSync(res.body).toString('utf8')) as { error: { type: string } }).error.type,
      'api_error',
    );
  });

  it('lets the SDK decode gzip: it asks for gzip and reads the message', async () => {
    const message = await sandbox.client.messages.create({
      model: MODEL,
      max_tokens: 32,
      messages: [{ role: 'user', content: 'gzip via sdk' }],
    });
    assert.match(sandbox.fake.requests[0]?.headers['accept-encoding'] ?? '', /\bgzip\b/);
    assert.equal(message.content[0]?.type, 'text');
  });

  it('sends request-id and anthropic-ratelimit-* headers, counting requests down', async () => {
    const first = await sandbox.client.messages
      .create({ model: MODEL, max_tokens: 32, messages: [{ role: 'user', content: 'one' }] })
      .withResponse();
    const second = await sandbox.client.messages
      .create({ model: MODEL, max_tokens: 32, messages: [{ role: 'user', content: 'two' }] })
      .withResponse();
    const h1 = first.response.headers;
    const h2 = second.response.headers;
    assert.notEqual(h1.get('request-id'), h2.get('request-id'));
    assert.equal(first.request_id, h1.get('request-id'));
    for (const kind of ['requests', 'tokens', 'input-tokens', 'output-tokens']) {
      assert.match(h1.get(`anthropic-ratelimit-${kind}-limit`) ?? '', /^\d+$/);
      assert.match(h1.get(`anthropic-ratelimit-${kind}-remaining`) ?? '', /^\d+$/);
      assert.match(
        h1.get(`anthropic-ratelimit-${kind}-reset`) ?? '',
        /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/,
      );
    }
    const remaining = (h: Headers): number =>
      Number(h.get('anthropic-ratelimit-requests-remaining'));
    // Both calls may straddle a minute boundary, where the window resets.
    if (
      h1.get('anthropic-ratelimit-requests-reset') === h2.get('anthropic-ratelimit-requests-reset')
    ) {
      assert.equal(remaining(h2), remaining(h1) - 1);
    }
  });

  it('records method, path, query, lowercased headers, body and time of each request', async () => {
    const before = Date.now();
    const res = await rawFetch(sandbox.fake, '/v1/messages?beta=true', {
      body: messageBody('record me'),
      headers: { 'X-Custom-Trace': 'abc' },
    });
    assert.equal(res.status, 200);
    assert.equal(sandbox.fake.requests.length, 1);
    const [recorded] = sandbox.fake.requests;
    assert.ok(recorded);
    assert.equal(recorded.method, 'POST');
    assert.equal(recorded.path, '/v1/messages');
    assert.equal(recorded.query, 'beta=true');
    assert.equal(recorded.headers['x-custom-trace'], 'abc');
    assert.deepEqual(JSON.parse(recorded.body.toString('utf8')), messageBody('record me'));
    assert.ok(recorded.receivedAt >= before && recorded.receivedAt <= Date.now());
    sandbox.fake.clearRequests();
    assert.equal(sandbox.fake.requests.length, 0);
  });

  it('keeps only the newest recordLimit requests', async () => {
    const small = await startSandbox({ recordLimit: 2 });
    try {
      for (const q of ['a', 'b', 'c']) await rawFetch(small.fake, `/v1/models?tag=${q}`);
      assert.deepEqual(
        small.fake.requests.map((r) => r.query),
        ['tag=b', 'tag=c'],
      );
    } finally {
      await small.fake.close();
    }
  });

  it('never passes keys or bodies to the logger', async () => {
    const lines: string[] = [];
    const capture = (fields: object, message: string): void => {
      lines.push(`${message} ${JSON.stringify(fields)}`);
    };
    const logged = await startSandbox({
      logger: { info: capture, error: capture, debug: capture },
    });
    try {
      await logged.client.messages.create({
        model: MODEL,
        max_tokens: 16,
        messages: [{ role: 'user', content: 'top secret prompt' }],
      });
      await rawFetch(logged.fake, '/v1/messages', { body: messageBody('FAKE_API_ERROR secret') });
    } finally {
      await logged.fake.close();
    }
    const all = lines.join('\n');
    assert.ok(
      lines.some((l) => l.startsWith('sandbox anthropic request ')),
      'requests are logged at debug',
    );
    assert.ok(!all.includes(KEY));
    assert.ok(!all.includes('secret'));
  });
});
