import Anthropic from '@anthropic-ai/sdk';
import {
  startFakeAnthropic,
  type FakeAnthropic,
  type FakeAnthropicOptions,
} from '../../src/anthropic/server.js';

/** The key every test server accepts. */
export const KEY = 'sk-ant-sandbox-test-key';

/** A catalog model the SDK does not print deprecation warnings for. */
export const MODEL = 'claude-haiku-4-5-20251001';

/** A running fake plus an official SDK client pointed at it. */
export interface Sandbox {
  readonly fake: FakeAnthropic;
  readonly client: Anthropic;
}

/** Starts a fake on port 0 and a client that never retries (so each call is one request). */
export async function startSandbox(options: Partial<FakeAnthropicOptions> = {}): Promise<Sandbox> {
  const fake = await startFakeAnthropic({ apiKeys: [KEY], ...options });
  return { fake, client: new Anthropic({ apiKey: KEY, baseURL: fake.url, maxRetries: 0 }) };
}

/** Raw HTTP call with the headers the SDK would send, minus anything a test overrides. */
export async function rawFetch(
  fake: FakeAnthropic,
  path: string,
  init: { method?: string; body?: unknown; headers?: Record<string, string | undefined> } = {},
): Promise<Response> {
  const headers: Record<string, string> = {};
  const merged = {
    'x-api-key': KEY,
    'anthropic-version': '2023-06-01',
    'content-type': 'application/json',
    ...init.headers,
  };
  for (const [name, value] of Object.entries(merged))
    if (value !== undefined) headers[name] = value;
  const body =
    init.body === undefined
      ? undefined
      : typeof init.body === 'string'
        ? init.body
        : JSON.stringify(init.body);
  return fetch(`${fake.url}${path}`, {
    method: init.method ?? (body === undefined ? 'GET' : 'POST'),
    headers,
    ...(body === undefined ? {} : { body }),
  });
}

/** One parsed SSE frame. */
export interface Frame {
  readonly event: string;
  readonly data: { type: string; [field: string]: unknown };
  readonly raw: string;
}

/** Splits an SSE body into frames, asserting nothing; tests check the shape. */
export function parseFrames(body: string): Frame[] {
  return body
    .split('\n\n')
    .filter((raw) => raw !== '')
    .map((raw) => {
      const event = /^event: (.*)$/m.exec(raw)?.[1] ?? '';
      const data = JSON.parse(/^data: (.*)$/m.exec(raw)?.[1] ?? 'null') as Frame['data'];
      return { event, data, raw };
    });
}

/** A basic messages body for raw calls. */
export function messageBody(
  text: string,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return { model: MODEL, max_tokens: 256, messages: [{ role: 'user', content: text }], ...extra };
}
