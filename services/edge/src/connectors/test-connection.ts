/**
 * `testConnection`: the cheap, real API call behind Test Connection (M3). It proves the
 * credentials are accepted, the API answers and basic read permission is granted.
 */
import { failureOf, prepare, type ExecutorOptions } from './call-setup.js';
import { renderRequest } from './request-template.js';
import type { TestConnectionOutcome } from './types.js';
import { send, type CallFailure } from './vendor-call.js';

/** Options of {@link testConnection}. */
export type TestConnectionOptions = ExecutorOptions;

/** Tests a connector instance with its credential. Rejects only when the caller cancels. */
export async function testConnection(opts: TestConnectionOptions): Promise<TestConnectionOutcome> {
  const prepared = prepare(opts);
  if (!prepared.ok)
    return { ok: false, reason: prepared.secrets.scrub(reasonOf(prepared.failure, '')) };
  const { def, call, secrets, session, settings, baseUrl } = prepared;
  let reason: string | undefined;
  try {
    const spec = def.testConnection;
    const template = spec.byKind?.[opts.credential.kind] ?? spec.request;
    const rendered = renderRequest(template, { args: {}, settings }, baseUrl);
    if (!rendered.ok) {
      reason = `the test call could not be built: ${rendered.error}`;
    } else {
      const answer = await send(call, rendered.request);
      reason = answer.ok
        ? spec.verify?.(answer.response.body)
        : reasonOf(answer.failure, def.title);
    }
  } catch (err: unknown) {
    reason = reasonOf(failureOf(err, def.title, opts.signal), def.title);
  }
  const refreshed = session.refreshed();
  const extra = refreshed === undefined ? {} : { refreshedCredential: refreshed };
  return reason === undefined
    ? { ok: true, ...extra }
    : { ok: false, reason: secrets.scrub(reason), ...extra };
}

function reasonOf(failure: CallFailure, title: string): string {
  return failure.kind === 'unavailable'
    ? failure.reason
    : `${title} answered ${failure.status}: ${failure.message}`;
}
