import assert from 'node:assert/strict';
import { callTool } from '../../src/connectors/call-tool.js';
import { nextLink } from '../../src/connectors/pagination.js';
import { renderBody, renderRequest } from '../../src/connectors/request-template.js';
import { testConnection } from '../../src/connectors/test-connection.js';
import {
  businessErrorOf,
  credential,
  deadline,
  instance,
  resultOf,
  unavailableReason,
} from './support.js';

/** A fetch that answers from a function and records what it was asked. */
function stubFetch(answer: (url: URL, init: RequestInit) => Response | Promise<Response>) {
  const calls: { url: URL; init: RequestInit }[] = [];
  const fn = (async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(input instanceof Request ? input.url : input);
    calls.push({ url, init: init ?? {} });
    return answer(url, init ?? {});
  }) as typeof fetch;
  return { fn, calls };
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  });

const githubKey = credential('api_key', 'ghp_exampleexampleexample');
const github = instance('github', 'https://api.github.example');
const issueArgs = { owner: 'acme', repo: 'web', issue_number: 1 };

describe('callTool', () => {
  it('reports a timeout as unavailable', async () => {
    const controller = new AbortController();
    const stub = stubFetch(
      (_url, init) =>
        new Promise((_resolve, reject) => {
          init.signal?.addEventListener('abort', () => reject(init.signal?.reason as Error));
          controller.abort(new DOMException('the deadline passed', 'TimeoutError'));
        }),
    );
    const outcome = await callTool({
      instance: github,
      credential: githubKey,
      action: 'get_issue',
      args: issueArgs,
      signal: controller.signal,
      fetch: stub.fn,
    });
    assert.equal(unavailableReason(outcome), 'GitHub did not answer in time');
  });

  it('rejects when the caller cancels, leaving the connector state alone', async () => {
    const controller = new AbortController();
    const stub = stubFetch(
      (_url, init) =>
        new Promise((_resolve, reject) => {
          init.signal?.addEventListener('abort', () => reject(init.signal?.reason as Error));
          controller.abort();
        }),
    );
    await assert.rejects(
      callTool({
        instance: github,
        credential: githubKey,
        action: 'get_issue',
        args: issueArgs,
        signal: controller.signal,
        fetch: stub.fn,
      }),
      { name: 'AbortError' },
    );
  });

  const refusals = [
    {
      name: 'an unknown connector type',
      inst: instance('fax', 'https://fax.example'),
      cred: githubKey,
      action: 'send',
      args: {},
      reason: 'unknown connector type "fax"',
    },
    {
      name: 'a missing required setting',
      inst: instance('accounting', 'https://qbo.example'),
      cred: credential('oauth2', 'at-0123456789'),
      action: 'list_invoices',
      args: {},
      reason: 'the Accounting (QuickBooks Online) setting "realmId" is required',
    },
    {
      name: 'a setting that does not match its pattern',
      inst: instance('accounting', 'https://qbo.example', { realmId: 'abc' }),
      cred: credential('oauth2', 'at-0123456789'),
      action: 'list_invoices',
      args: {},
      reason:
        'the Accounting (QuickBooks Online) setting "realmId" does not match ^[0-9]{1,20}$: "abc"',
    },
    {
      name: 'a credential kind the connector does not accept',
      inst: instance('zendesk', 'https://acme.zendesk.example'),
      cred: credential('app', 'pem', { app_id: '1', installation_id: '2' }),
      action: 'get_ticket',
      args: { id: 1 },
      reason: 'Zendesk does not accept "app" credentials',
    },
    {
      name: 'a base URL that is not a URL',
      inst: instance('zendesk', 'acme.zendesk.com'),
      cred: credential('api_key', 'token-0123456789', { username: 'a@b.example' }),
      action: 'get_ticket',
      args: { id: 1 },
      reason:
        'the Zendesk base URL "acme.zendesk.com" is not a URL (expected like https://{subdomain}.zendesk.com)',
    },
    {
      name: 'a base URL carrying credentials',
      inst: instance('zendesk', 'https://user:pw@acme.zendesk.example'),
      cred: credential('api_key', 'token-0123456789', { username: 'a@b.example' }),
      action: 'get_ticket',
      args: { id: 1 },
      reason: 'the Zendesk base URL must not carry credentials, a query or a fragment',
    },
  ];
  for (const c of refusals) {
    it(`reports ${c.name} as unavailable without calling the vendor`, async () => {
      const stub = stubFetch(() => json(200, {}));
      const outcome = await callTool({
        instance: c.inst,
        credential: c.cred,
        action: c.action,
        args: c.args,
        signal: deadline(),
        fetch: stub.fn,
      });
      assert.equal(unavailableReason(outcome), c.reason);
      assert.equal(stub.calls.length, 0);
      const test = await testConnection({
        instance: c.inst,
        credential: c.cred,
        signal: deadline(),
        fetch: stub.fn,
      });
      assert.deepEqual(test, { ok: false, reason: c.reason });
    });
  }

  it('answers invalid arguments with a 400 business error and no vendor call', async () => {
    const stub = stubFetch(() => json(200, {}));
    const outcome = await callTool({
      instance: github,
      credential: githubKey,
      action: 'get_issue',
      args: { owner: 'acme' },
      signal: deadline(),
      fetch: stub.fn,
    });
    const error = businessErrorOf(outcome);
    assert.equal(error.status, 400);
    assert.match(error.message, /^invalid arguments: "\/" is missing the property "repo"/);
    assert.equal(stub.calls.length, 0);
  });

  it('refuses a path value that is a dot segment', async () => {
    const stub = stubFetch(() => json(200, {}));
    const outcome = await callTool({
      instance: github,
      credential: githubKey,
      action: 'get_issue',
      args: { owner: 'acme', repo: '..', issue_number: 1 },
      signal: deadline(),
      fetch: stub.fn,
    });
    assert.equal(
      businessErrorOf(outcome).message,
      'invalid arguments: "repo" is not a usable path value',
    );
    assert.equal(stub.calls.length, 0);
  });

  it('encodes path values as one segment', async () => {
    const stub = stubFetch(() => json(200, { number: 1 }));
    await callTool({
      instance: github,
      credential: githubKey,
      action: 'get_issue',
      args: { owner: 'acme', repo: 'a.b_c-d', issue_number: 1 },
      signal: deadline(),
      fetch: stub.fn,
    });
    assert.equal(stub.calls[0]?.url.pathname, '/repos/acme/a.b_c-d/issues/1');
  });

  it('refuses to follow a next page on another origin', async () => {
    const stub = stubFetch(() =>
      json(200, [], { link: '<https://evil.example/steal?page=2>; rel="next"' }),
    );
    const outcome = await callTool({
      instance: github,
      credential: githubKey,
      action: 'list_issues',
      args: { owner: 'acme', repo: 'web' },
      signal: deadline(),
      fetch: stub.fn,
    });
    assert.equal(unavailableReason(outcome), 'GitHub pointed the next page at another origin');
    assert.equal(stub.calls.length, 1);
  });

  it('reports an answer that does not fit the output schema as unavailable', async () => {
    const stub = stubFetch(() => json(200, { title: 'no number' }));
    const outcome = await callTool({
      instance: github,
      credential: githubKey,
      action: 'get_issue',
      args: issueArgs,
      signal: deadline(),
      fetch: stub.fn,
    });
    assert.match(
      unavailableReason(outcome),
      /^GitHub answered in a shape github__get_issue cannot read: "\/issue\/number" should be integer/,
    );
  });

  it('passes a 429 on as a business error with the retry delay', async () => {
    const stub = stubFetch(() =>
      json(429, { message: 'API rate limit exceeded' }, { 'retry-after': '30' }),
    );
    const outcome = await callTool({
      instance: github,
      credential: githubKey,
      action: 'get_issue',
      args: issueArgs,
      signal: deadline(),
      fetch: stub.fn,
    });
    assert.deepEqual(businessErrorOf(outcome), {
      kind: 'business_error',
      status: 429,
      message: 'rate limited by GitHub; retry after 30 s: API rate limit exceeded',
    });
  });

  it('reports a 5xx with a text body as unavailable, the text cut short', async () => {
    const stub = stubFetch(() => new Response(`<html>${'x'.repeat(2000)}</html>`, { status: 502 }));
    const reason = unavailableReason(
      await callTool({
        instance: github,
        credential: githubKey,
        action: 'get_issue',
        args: issueArgs,
        signal: deadline(),
        fetch: stub.fn,
      }),
    );
    assert.ok(reason.startsWith('GitHub answered 502: <html>xxx'));
    assert.ok(reason.length < 600);
  });

  it('treats an unexpected redirect status as unavailable', async () => {
    const stub = stubFetch(() => new Response(null, { status: 304 }));
    const reason = unavailableReason(
      await callTool({
        instance: github,
        credential: githubKey,
        action: 'get_issue',
        args: issueArgs,
        signal: deadline(),
        fetch: stub.fn,
      }),
    );
    assert.equal(reason, 'GitHub answered with an unexpected 304');
  });

  it('sends static headers with settings filled in', async () => {
    const stub = stubFetch(() =>
      json(200, {
        number: 1,
        title: 't',
        state: 'open',
        html_url: '',
        created_at: '',
        updated_at: '',
      }),
    );
    resultOf(
      await callTool({
        instance: instance('github', 'https://ghe.example/api/v3', { apiVersion: '2026-03-10' }),
        credential: githubKey,
        action: 'get_issue',
        args: issueArgs,
        signal: deadline(),
        fetch: stub.fn,
      }),
    );
    const headers = stub.calls[0]?.init.headers as Record<string, string>;
    assert.equal(
      stub.calls[0]?.url.toString(),
      'https://ghe.example/api/v3/repos/acme/web/issues/1',
    );
    assert.equal(headers['x-github-api-version'], '2026-03-10');
    assert.equal(headers['accept'], 'application/vnd.github+json');
    assert.equal(headers['authorization'], 'Bearer ghp_exampleexampleexample');
    assert.equal(headers['user-agent'], 'fortress-gateway');
  });
});

describe('request templates', () => {
  it('drops an object whose placeholders are all absent', () => {
    const template = {
      ticket: { status: '{status}', comment: { body: '{comment}', public: true } },
    };
    assert.deepEqual(renderBody(template, { status: 'open' }, {}).value, {
      ticket: { status: 'open' },
    });
    assert.deepEqual(renderBody(template, { comment: 'hi' }, {}).value, {
      ticket: { comment: { body: 'hi', public: true } },
    });
  });

  it('keeps literal values and value types', () => {
    const rendered = renderBody(
      { state: 'closed', n: '{n}', list: '{list}', flag: false },
      { n: 3, list: ['a'] },
      {},
    );
    assert.deepEqual(rendered.value, { state: 'closed', n: 3, list: ['a'], flag: false });
  });

  it('drops nested arrays left empty by absent placeholders', () => {
    const adf = {
      type: 'doc',
      content: [{ type: 'paragraph', content: [{ type: 'text', text: '{d}' }] }],
    };
    assert.deepEqual(
      renderBody({ fields: { summary: '{s}', description: adf } }, { s: 'x' }, {}).value,
      {
        fields: { summary: 'x' },
      },
    );
  });

  it('omits absent query values and joins arrays', () => {
    const rendered = renderRequest(
      {
        method: 'GET',
        path: '/api/x',
        query: { a: '{a}', b: '{b}', c: 'literal', types: '{types}' },
      },
      { args: { a: 1, types: ['p', 'q'] }, settings: {} },
      'https://v.example/base/',
    );
    assert.ok(rendered.ok);
    assert.equal(
      rendered.request.url.toString(),
      'https://v.example/base/api/x?a=1&c=literal&types=p%2Cq',
    );
  });

  it('fills settings into paths', () => {
    const rendered = renderRequest(
      { method: 'GET', path: '/v3/company/{settings.realmId}/invoice/{id}' },
      { args: { id: '7/8' }, settings: { realmId: '42' } },
      'https://q.example',
    );
    assert.ok(rendered.ok);
    assert.equal(rendered.request.url.pathname, '/v3/company/42/invoice/7%2F8');
  });
});

describe('nextLink', () => {
  const cases = [
    {
      name: 'finds rel="next" among others',
      header: '<https://a/x?page=1>; rel="prev", <https://a/x?page=3>; rel="next"',
      next: 'https://a/x?page=3',
    },
    {
      name: 'reads unquoted and multi-valued rel',
      header: '<https://a/x?page=2>; rel="next last"',
      next: 'https://a/x?page=2',
    },
    {
      name: 'has none on the last page',
      header: '<https://a/x?page=1>; rel="first"',
      next: undefined,
    },
    { name: 'has none without a header', header: null, next: undefined },
  ];
  for (const c of cases) {
    it(c.name, () => assert.equal(nextLink(c.header), c.next));
  }
});
