/** The connector catalog (M2): one definition per SaaS vendor, looked up by type. */
import type { ConnectorDefinition } from '../types.js';
import { accounting } from './accounting.js';
import { github } from './github.js';
import { jira } from './jira.js';
import { salesforce } from './salesforce.js';
import { slack } from './slack.js';
import { zendesk } from './zendesk.js';

const CATALOG: readonly ConnectorDefinition[] = [
  zendesk,
  slack,
  github,
  jira,
  salesforce,
  accounting,
];
const BY_TYPE = new Map(CATALOG.map((def) => [def.type, def]));

/** The definition of a connector type, e.g. `zendesk`. */
export function connectorDefinition(type: string): ConnectorDefinition | undefined {
  return BY_TYPE.get(type);
}

/** Every connector of the catalog, in display order. */
export function listConnectorTypes(): ConnectorDefinition[] {
  return [...CATALOG];
}
