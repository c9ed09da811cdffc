import assert from 'node:assert/strict';

/** One answer of the admin REST API, read whole. */
export interface AdminReply {
  status: number;
  headers: Headers;
  /** The body as UTF-8 text. */
  text: string;
  /** The body parsed, when it is JSON; {} otherwise. */
  json: Record<string, unknown>;
  bytes: Buffer;
}

/** What to send. */
export interface AdminRequest {
  token?: string;
  body?: unknown;
  headers?: Record<string, string>;
}

/** Calls `method /api/v1{path}` on the edge at `edgeUrl`; every reply also goes to `seen`. */
export function adminRest(edgeUrl: () => string, seen: string[] = []) {
  return async (method: string, path: string, req: AdminRequest = {}): Promise<AdminReply> => {
    const res = await fetch(`${edgeUrl()}/api/v1${path}`, {
      method,
      headers: {
        ...(req.token ? { authorization: `Bearer ${req.token}` } : {}),
        ...(req.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...req.headers,
      },
      ...(req.body !== undefined ? { body: JSON.stringify(req.body) } : {}),
    });
    const bytes = Buffer.from(await res.arrayBuffer());
    const text = bytes.toString('utf8');
    seen.push(text);
    const json = /json/.test(res.headers.get('content-type') ?? '')
      ? (JSON.parse(text) as Record<string, unknown>)
      : {};
    return { status: res.status, headers: res.headers, text, json, bytes };
  };
}

/** Asserts an RFC 9457 problem with this status and code. */
export function assertProblem(r: AdminReply, status: number, code: string): void {
  assert.equal(r.status, status, r.text);
  assert.equal(r.headers.get('content-type'), 'application/problem+json');
  assert.equal(r.json['status'], status);
  assert.equal(r.json['code'], code, r.text);
  assert.equal(r.json['type'], `https://fortress.dev/problems/${code}`);
}
