import assert from 'node:assert/strict';
import { DescribeKeyCommand, EncryptCommand, GenerateDataKeyCommand } from '@aws-sdk/client-kms';
import type { KmsServer } from '../../src/kms/server.js';
import {
  closeTestServers,
  createKey,
  expectError,
  kmsClient,
  startTestKms,
} from './kms-fixture.js';

const AUTHORIZATION =
  'AWS4-HMAC-SHA256 Credential=AKIDRAW/20260101/us-east-1/kms/aws4_request, ' +
  'SignedHeaders=host;x-amz-date, Signature=0000';

/** A raw AWS JSON 1.1 call, to check the wire format without the SDK in between. */
async function rawCall(
  server: KmsServer,
  target: string,
  body: string,
  headers: Record<string, string> = { authorization: AUTHORIZATION },
): Promise<{ status: number; headers: Headers; json: Record<string, unknown> }> {
  const response = await fetch(`${server.url}/`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': target, ...headers },
    body,
  });
  return {
    status: response.status,
    headers: response.headers,
    json: (await response.json()) as Record<string, unknown>,
  };
}

describe('kms wire protocol', () => {
  let server: KmsServer;

  beforeEach(async () => {
    server = await startTestKms();
  });

  afterEach(closeTestServers);

  it('answers with the AWS JSON content type, a request id and base64 blobs', async () => {
    const { keyId } = await createKey(kmsClient(server));
    const response = await rawCall(
      server,
      'TrentService.Encrypt',
      JSON.stringify({ KeyId: keyId, Plaintext: Buffer.from('hi').toString('base64') }),
    );
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'application/x-amz-json-1.1');
    assert.match(response.headers.get('x-amzn-requestid') ?? '', /^[0-9a-f-]{36}$/);
    assert.equal(typeof response.json['CiphertextBlob'], 'string');
    assert.ok(Buffer.from(String(response.json['CiphertextBlob']), 'base64').length > 2);
  });

  it('rejects a request without Authorization with MissingAuthenticationTokenException', async () => {
    const response = await rawCall(server, 'TrentService.CreateKey', '{}', {});
    assert.equal(response.status, 403);
    assert.equal(response.json['__type'], 'MissingAuthenticationTokenException');
    assert.equal(response.headers.get('x-amzn-errortype'), 'MissingAuthenticationTokenException');
    assert.ok(response.headers.get('x-amzn-requestid'));
    assert.deepEqual(server.calls(), { CreateKey: 1 });
  });

  const malformed = [
    {
      name: 'an unknown operation',
      target: 'TrentService.MakeCoffee',
      body: '{}',
      type: 'UnknownOperationException',
    },
    {
      name: 'another service target',
      target: 'DynamoDB_20120810.ListTables',
      body: '{}',
      type: 'UnknownOperationException',
    },
    {
      name: 'a body that is not JSON',
      target: 'TrentService.CreateKey',
      body: '{',
      type: 'SerializationException',
    },
    {
      name: 'a mistyped field',
      target: 'TrentService.DescribeKey',
      body: '{"KeyId":7}',
      type: 'SerializationException',
    },
    {
      name: 'a missing required field',
      target: 'TrentService.DescribeKey',
      body: '{}',
      type: 'ValidationException',
    },
  ];
  for (const { name, target, body, type } of malformed) {
    it(`answers ${type} with HTTP 400 for ${name}`, async () => {
      const response = await rawCall(server, target, body);
      assert.equal(response.status, 400);
      assert.equal(response.json['__type'], type);
      assert.equal(typeof response.json['message'], 'string');
      assert.equal(response.headers.get('x-amzn-errortype'), type);
    });
  }

  it('rejects credentials scoped to another region with InvalidSignatureException', async () => {
    const elsewhere = kmsClient(server, 'AKIDOWNER', { region: 'eu-west-1' });
    await expectError(
      elsewhere.send(new DescribeKeyCommand({ KeyId: 'alias/x' })),
      'InvalidSignatureException',
    );
  });

  it('exposes the request id to the SDK on errors', async () => {
    const error = await expectError(
      kmsClient(server).send(new DescribeKeyCommand({ KeyId: 'alias/missing' })),
      'NotFoundException',
    );
    assert.match(error.$metadata?.requestId ?? '', /^[0-9a-f-]{36}$/);
    assert.match(error.message, /alias\/missing/);
  });
});

describe('kms request logging', () => {
  afterEach(closeTestServers);

  it('logs one line per request with status and error type but no plaintext or data key', async () => {
    const lines: Record<string, unknown>[] = [];
    const capture = (fields: Record<string, unknown>, msg: string): void => {
      lines.push({ ...fields, msg });
    };
    const server = await startTestKms({ logger: { info: capture, error: capture } });
    const client = kmsClient(server);
    const { keyId } = await createKey(client);
    const secret = Buffer.from('very secret plaintext');
    await client.send(new EncryptCommand({ KeyId: keyId, Plaintext: secret }));
    const { Plaintext } = await client.send(
      new GenerateDataKeyCommand({ KeyId: keyId, KeySpec: 'AES_256' }),
    );
    await expectError(
      client.send(new DescribeKeyCommand({ KeyId: 'alias/none' })),
      'NotFoundException',
    );

    assert.deepEqual(
      lines.map(({ operation, status, errorType }) => [operation, status, errorType]),
      [
        ['CreateKey', 200, undefined],
        ['Encrypt', 200, undefined],
        ['GenerateDataKey', 200, undefined],
        ['DescribeKey', 400, 'NotFoundException'],
      ],
    );
    const text = JSON.stringify(lines);
    for (const forbidden of [
      secret.toString('base64'),
      secret.toString(),
      Buffer.from(Plaintext ?? []).toString('base64'),
    ]) {
      assert.equal(text.includes(forbidden), false);
    }
  });
});

describe('kms control routes', () => {
  let server: KmsServer;

  beforeEach(async () => {
    server = await startTestKms();
  });

  afterEach(closeTestServers);

  async function control(method: string, path: string, body?: unknown): Promise<Response> {
    return fetch(`${server.url}${path}`, {
      method,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  }

  it('switches faults over HTTP so an out-of-process SDK call sees them', async () => {
    const client = kmsClient(server);
    const { keyId } = await createKey(client);
    const set = await control('POST', '/__fault', {
      mode: 'unavailable',
      operations: ['DescribeKey'],
    });
    assert.equal(set.status, 200);
    assert.deepEqual(await set.json(), {
      mode: 'unavailable',
      latencyMs: 0,
      operations: ['DescribeKey'],
      remaining: null,
    });
    assert.equal(server.faults.current().mode, 'unavailable');
    await expectError(
      client.send(new DescribeKeyCommand({ KeyId: keyId })),
      'ServiceUnavailableException',
    );

    const cleared = await control('DELETE', '/__fault');
    assert.equal(((await cleared.json()) as { mode: string }).mode, 'none');
    const { KeyMetadata } = await client.send(new DescribeKeyCommand({ KeyId: keyId }));
    assert.equal(KeyMetadata?.KeyId, keyId);
  });

  it('refuses an invalid fault with HTTP 400 and leaves the fault unchanged', async () => {
    const response = await control('POST', '/__fault', { mode: 'sideways' });
    assert.equal(response.status, 400);
    assert.equal(((await response.json()) as { __type: string }).__type, 'ValidationException');
    assert.equal(
      ((await (await control('GET', '/__fault')).json()) as { mode: string }).mode,
      'none',
    );
  });

  it('reports and resets call counts over HTTP', async () => {
    await createKey(kmsClient(server));
    assert.deepEqual(await (await control('GET', '/__calls')).json(), { CreateKey: 1 });
    assert.equal((await control('DELETE', '/__calls')).status, 200);
    assert.deepEqual(server.calls(), {});
  });
});
