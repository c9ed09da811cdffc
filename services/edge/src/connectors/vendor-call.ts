/**
 * One authenticated request to a vendor and what its answer means: success, a business error
 * (the vendor said no), or unavailability (5xx, credentials refused even after one recovery).
 */
import type { AuthSession } from './auth/auth-session.js';
import type { RenderedRequest } from './request-template.js';
import type { ConnectorDefinition, VendorResponse } from './types.js';
import { exchange } from './vendor-http.js';

/** Longest vendor message passed on; the rest is cut. */
const MAX_MESSAGE = 500;

/** What a failed call comes to. */
export type CallFailure =
  | { kind: 'business_error'; status: number; message: string }
  | { kind: 'unavailable'; reason: string };

/** A vendor answer that succeeded, or the failure it means. */
export type CallResult =
  { ok: true; response: VendorResponse } | { ok: false; failure: CallFailure };

/** Everything one tool call shares across its requests. */
export interface VendorCall {
  def: ConnectorDefinition;
  session: AuthSession;
  /** Headers every request carries (Accept, API version…). */
  headers: Readonly<Record<string, string>>;
  fetch: typeof fetch;
  signal: AbortSignal;
}

/** Sends a request with credentials; on a refusal, recovers once and resends. */
export async function send(call: VendorCall, request: RenderedRequest): Promise<CallResult> {
  for (;;) {
    const headers: Record<string, string> = { ...call.headers, ...(await call.session.headers()) };
    if (request.contentType !== undefined) headers['content-type'] = request.contentType;
    const response = await exchange(
      call.fetch,
      {
        method: request.method,
        url: request.url,
        headers,
        ...(request.body === undefined ? {} : { body: request.body }),
      },
      call.signal,
    );
    const verdict = judge(call.def, response);
    if (verdict === 'ok') return { ok: true, response };
    if (verdict === 'auth') {
      if (await call.session.recover()) continue;
      const detail = messageOf(call.def, response);
      return {
        ok: false,
        failure: {
          kind: 'unavailable',
          reason: `${call.def.title} did not accept the credentials (${response.status}): ${detail}`,
        },
      };
    }
    return { ok: false, failure: verdict };
  }
}

/** Classifies an answer: fine, a credential refusal, or a failure. */
function judge(def: ConnectorDefinition, response: VendorResponse): 'ok' | 'auth' | CallFailure {
  const { status, body } = response;
  const failed = status >= 400 || def.errors.failedDespiteStatus?.(body) === true;
  if (!failed) {
    if (status >= 300)
      return { kind: 'unavailable', reason: `${def.title} answered with an unexpected ${status}` };
    return 'ok';
  }
  const authFailure = def.errors.authFailure
    ? def.errors.authFailure(status, body)
    : status === 401;
  if (authFailure) return 'auth';
  const message = messageOf(def, response);
  if (status >= 500)
    return { kind: 'unavailable', reason: `${def.title} answered ${status}: ${message}` };
  if (status === 429) {
    const retryAfter = response.headers.get('retry-after');
    const wait = retryAfter ? `; retry after ${retryAfter} s` : '';
    return {
      kind: 'business_error',
      status,
      message: `rate limited by ${def.title}${wait}: ${message}`,
    };
  }
  return { kind: 'business_error', status, message };
}

/** The vendor's message from an error answer, cut to a readable length. */
function messageOf(def: ConnectorDefinition, response: VendorResponse): string {
  const fromShape = def.errors.message(response.body);
  const raw =
    fromShape ??
    (typeof response.body === 'string' && response.body.trim() !== ''
      ? response.body.trim()
      : `HTTP ${response.status}`);
  return raw.length > MAX_MESSAGE ? `${raw.slice(0, MAX_MESSAGE)}…` : raw;
}
