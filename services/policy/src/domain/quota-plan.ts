import { PAT_ACTIONS, connectorOf, type OrgModel, type RateLimit } from './model.js';
import type { DecisionInput } from './cedar-request.js';

/** One counter a request must fit into. */
export interface QuotaClaim {
  /** Redis key; the `{org}` hash tag keeps one org's keys in one cluster slot. */
  key: string;
  limit: number;
  amount: number;
  /** When the counter's window ends (ms since epoch): the reset time for Retry-After. */
  windowEndMs: number;
  /** `now`: counted at admission (calls); `later`: reserved, settled with the actual amount. */
  settle: 'now' | 'later';
  ruleId: string;
  kind: 'rate' | 'tokens' | 'spend';
  /** Spend: settling past this amount (the alert threshold of the cap) raises an alert. */
  alertAt?: number;
}

/** The worst case a request may consume, from the edge. */
export interface Demand {
  spendMicrousd: number;
  tokens: number;
}

/** Fixed windows aligned to the epoch; months are calendar months in UTC. */
function windowOf(now: number, ms: number): { id: string; end: number } {
  const start = Math.floor(now / ms) * ms;
  return { id: String(start), end: start + ms };
}

function monthOf(now: number): { id: string; end: number } {
  const d = new Date(now);
  return {
    id: `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, '0')}`,
    end: Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1),
  };
}

/** Whether a rate rule's scope covers the request. */
function inScope(scope: OrgModel['rules'][number]['scope'], input: DecisionInput): boolean {
  switch (scope.type) {
    case 'org':
      return true;
    case 'role':
      return input.principal.roles.includes(scope.id);
    case 'connector':
      return input.resourceType === 'tool' && connectorOf(input.resourceId) === scope.id;
    case 'pat_key':
      return input.resourceType === 'model' && input.principal.patKeyId === scope.id;
  }
}

/**
 * The counters an allowed request must fit into: every rate-limit rule in scope (per user, or
 * per role: each of the caller's roles the rule covers), and the PAT key's requests and tokens
 * per minute and monthly spend cap. Pure: the quota store applies the plan atomically.
 */
export function quotaPlan(model: OrgModel, input: DecisionInput, demand: Demand): QuotaClaim[] {
  const org = input.principal.orgId;
  const now = input.now.getTime();
  const claims: QuotaClaim[] = [];
  if (input.resourceType === 'admin') return claims;
  for (const rule of model.rules) {
    if (rule.condition.kind !== 'rate_limit' || !inScope(rule.scope, input)) continue;
    const c: RateLimit = rule.condition;
    const w = windowOf(now, c.windowSeconds * 1000);
    const subjects =
      c.per === 'user'
        ? [`user:${input.principal.subjectId}`]
        : (rule.scope.type === 'role' ? [rule.scope.id] : input.principal.roles).map(
            (r) => `role:${r}`,
          );
    for (const subject of subjects) {
      claims.push({
        key: `q:{${org}}:rule:${rule.id}:${subject}:${w.id}`,
        limit: c.limit,
        amount: 1,
        windowEndMs: w.end,
        settle: 'now',
        ruleId: `rule/${rule.id}`,
        kind: 'rate',
      });
    }
  }
  const pat = input.principal.patKeyId;
  const limits = model.patLimits.find((l) => l.patKeyId === pat);
  if (
    limits &&
    (PAT_ACTIONS as readonly string[]).includes(input.action) &&
    input.action !== 'pat:models.list'
  ) {
    const minute = windowOf(now, 60_000);
    const base = `q:{${org}}:pat:${pat}`;
    if (limits.requestsPerMinute > 0) {
      claims.push({
        key: `${base}:rpm:${minute.id}`,
        limit: limits.requestsPerMinute,
        amount: 1,
        windowEndMs: minute.end,
        settle: 'now',
        ruleId: `pat/${pat}/rpm`,
        kind: 'rate',
      });
    }
    if (limits.tokensPerMinute > 0) {
      claims.push({
        key: `${base}:tpm:${minute.id}`,
        limit: limits.tokensPerMinute,
        amount: demand.tokens,
        windowEndMs: minute.end,
        settle: 'later',
        ruleId: `pat/${pat}/tpm`,
        kind: 'tokens',
      });
    }
    if (limits.monthlySpendCapMicrousd > 0) {
      const month = monthOf(now);
      claims.push({
        key: `${base}:spend:${month.id}`,
        limit: limits.monthlySpendCapMicrousd,
        amount: demand.spendMicrousd,
        windowEndMs: month.end,
        settle: 'later',
        ruleId: `pat/${pat}/spend`,
        kind: 'spend',
        alertAt: Math.ceil((limits.monthlySpendCapMicrousd * limits.alertThresholdPercent) / 100),
      });
    }
  }
  return claims;
}
