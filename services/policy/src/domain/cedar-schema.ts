import { ADMIN_ACTIONS, MCP_ACTIONS, PAT_ACTIONS } from './model.js';

const q = (s: string) => JSON.stringify(s);

/** The context attribute that carries the local clock of the org's i-th time zone. */
export const zoneKey = (i: number) => `tz${i}`;

/**
 * The Cedar schema of an org: fixed entity and action types, plus one clock record in the
 * request context per IANA time zone the org's rules use (zone names cannot be attribute names).
 */
export function cedarSchema(zoneCount: number): string {
  const clocks = Array.from({ length: zoneCount }, (_, i) => `    ${zoneKey(i)}: Clock,`).join(
    '\n',
  );
  const adminActions = ADMIN_ACTIONS.map(
    (
      a,
    ) => `  action ${q(a)} in [${q(a.endsWith('.read') ? 'admin:read' : 'admin:write')}] appliesTo {
    principal: [Principal], resource: [AdminObject], context: Ctx,
  };`,
  ).join('\n');
  return `namespace Fortress {
  type Clock = { day: Long, prevDay: Long, minute: Long };
  type Ctx = {
    ip?: ipaddr,
    patKey: String,
    maxTokens: Long,
${clocks}
  };
  entity Role;
  entity AdminRole;
  entity Principal in [Role, AdminRole] tags String;
  entity Connector;
  entity Tool in [Connector] { destructive: Bool };
  entity Model;
  entity AdminObject;
  action "gateway";
  action "admin";
  action "admin:read" in ["admin"];
  action "admin:write" in ["admin"];
  action ${PAT_ACTIONS.map(q).join(', ')} in ["gateway"] appliesTo {
    principal: [Principal], resource: [Model], context: Ctx,
  };
  action ${MCP_ACTIONS.map(q).join(', ')} in ["gateway"] appliesTo {
    principal: [Principal], resource: [Tool], context: Ctx,
  };
${adminActions}
}`;
}
