import type { Denial } from '../chain/decision-chain.js';
import { RpcCode, RpcFailure } from './jsonrpc.js';

/**
 * A chain denial as the JSON-RPC error of the seeds: code -32602, message "Policy denied",
 * `data.reason` naming why (plus the rule and a stable code for programs). A device check
 * failure and a rate limit are policy denials too; a dependency that is down is not — that is
 * an internal error, and the request failed closed.
 */
export function denialFailure(d: Denial): RpcFailure {
  const first = d.reasons[0];
  if (d.kind === 'unavailable')
    return new RpcFailure(RpcCode.INTERNAL_ERROR, 'Fortress could not decide on this request', {
      reason: 'a dependency of the access decision is unavailable; the request was refused',
      code: 'dependency_unavailable',
    });
  return new RpcFailure(RpcCode.INVALID_PARAMS, 'Policy denied', {
    reason: d.message,
    code: d.kind === 'device_noncompliant' ? 'device_noncompliant' : (first?.code ?? 'denied'),
    ...(first?.ruleId ? { ruleId: first.ruleId } : {}),
    ...(d.deviceId ? { deviceId: d.deviceId } : {}),
    ...(d.retryAfter ? { retryAfter: d.retryAfter.toISOString() } : {}),
  });
}
