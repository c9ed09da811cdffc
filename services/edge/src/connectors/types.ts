/**
 * The shapes of the connector catalog (M2) and of the executor's inputs and outcomes (M4).
 * A connector definition is data: the vendor's auth schemes, pagination style, error-body
 * shape, test call and tools. Small pure functions appear only where data cannot say it
 * (mapping a vendor object onto a tool's output schema, reading a vendor error message).
 */

/** The credential kinds of M4. */
export type CredentialKind = 'api_key' | 'username_password' | 'oauth2' | 'app';

/** A JSON Schema (draft-07) as plain data. */
export type JsonSchema = Readonly<Record<string, unknown>>;

/** A path into a JSON value, e.g. `['meta', 'after_cursor']`; `[]` is the value itself. */
export type JsonPath = readonly (string | number)[];

/** A configured connector: the admin's non-secret choices for one vendor account. */
export interface ConnectorInstance {
  id: string;
  /** The connector type, e.g. `zendesk`: a key of the catalog. */
  type: string;
  /** The vendor API's origin (plus any path prefix), e.g. `https://acme.zendesk.com`. */
  baseUrl: string;
  /** Non-secret configuration, e.g. `realmId`, `apiVersion`, `tokenUrl`, `installationId`. */
  settings: Record<string, string>;
}

/**
 * Decrypted credential material as the vault releases it. `secret` is the API key, password,
 * OAuth access token (may be empty when only a refresh token is known) or the GitHub App's
 * private key (PEM). `fields` by kind:
 * - api_key: `username` (the Zendesk or Jira account email) where the vendor needs one;
 * - username_password: `username`, and for Salesforce's password grant `client_id`, `client_secret`;
 * - oauth2: `refresh_token`, `client_id`, `client_secret`, `expires_at` (ms epoch as text);
 * - app: `app_id`, `installation_id`.
 */
export interface CredentialMaterial {
  kind: CredentialKind;
  secret: Uint8Array;
  fields: Record<string, Uint8Array>;
}

/** MCP tool annotations (hints for clients; policy does not trust them). */
export interface ToolAnnotations {
  readOnlyHint: boolean;
  destructiveHint: boolean;
  idempotentHint: boolean;
  openWorldHint: boolean;
}

/** HTTP methods the catalog uses. */
export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/**
 * A request as data. In `path`, `{name}` is a tool argument and `{settings.name}` an instance
 * setting, each percent-encoded as one path segment. A `query` value that is exactly `{name}`
 * takes the argument (arrays joined with commas; omitted when absent); other values are literal.
 * In `body`, a string that is exactly `{name}` becomes the argument's value; an object or
 * array whose placeholders are all absent is dropped (see body-template.ts).
 */
export interface RequestTemplate {
  method: HttpMethod;
  path: string;
  query?: Readonly<Record<string, string>>;
  body?: unknown;
  /** How the body is sent; JSON unless said otherwise. */
  bodyEncoding?: 'json' | 'form';
  /** Values computed by a request function, rendered like arguments (they win over them). */
  values?: Readonly<Record<string, unknown>>;
}

/** What a request function sees. `page` is set for offset-in-request pagination. */
export interface RequestInputs {
  args: Readonly<Record<string, unknown>>;
  settings: Readonly<Record<string, string>>;
  page?: { offset: number; size: number };
}

/** A request: data, or a small pure function of the inputs for what data cannot say. */
export type RequestSpec = RequestTemplate | ((inputs: RequestInputs) => RequestTemplate);

/** How a connector's list endpoints page. */
export type PaginationStyle =
  /** The next page is asked for with a cursor the previous body carried (Zendesk, Slack, Jira). */
  | {
      style: 'cursor';
      sizeParam: string;
      maxPageSize: number;
      cursorParam: string;
      cursorPath: JsonPath;
      /** When set, more pages exist only while this is `true` (Zendesk's `meta.has_more`). */
      hasMorePath?: JsonPath;
    }
  /** RFC 8288 `Link: <…>; rel="next"` (GitHub). */
  | { style: 'link_header'; sizeParam: string; maxPageSize: number }
  /** The body carries the next page's URL or path (Salesforce `nextRecordsUrl`). */
  | { style: 'next_url'; nextUrlPath: JsonPath; maxPageSize: number }
  /** The request itself carries offset and size (QuickBooks `STARTPOSITION … MAXRESULTS …`). */
  | { style: 'offset_in_request'; maxPageSize: number };

/** What a tool's result mapping sees. */
export interface ResultInputs {
  args: Readonly<Record<string, unknown>>;
  /** The (last) response body; `undefined` for an empty body (204). */
  body: unknown;
  /** The collected items of a list tool, at most `limit`. */
  items: readonly unknown[];
  /** Whether the vendor had more items than were collected. */
  hasMore: boolean;
}

/** One action of a connector, exposed to MCP as `<connectorId>__<action>`. */
export interface ToolDefinition {
  action: string;
  title: string;
  description: string;
  annotations: ToolAnnotations;
  inputSchema: JsonSchema;
  outputSchema: JsonSchema;
  request: RequestSpec;
  /** For list tools: where each page's items are (first path present wins); `limit` arg caps. */
  list?: { itemsAt: readonly JsonPath[] };
  /** Maps the vendor's answer onto the output schema. */
  result(inputs: ResultInputs): Record<string, unknown>;
}

/** How a credential kind is presented to the vendor. */
export type AuthScheme =
  | { scheme: 'bearer' }
  /** HTTP Basic; `user` names what goes before the colon. */
  | { scheme: 'basic'; user: 'username' | 'username/token' }
  /** OAuth 2 bearer tokens refreshed at a token endpoint (RFC 6749 §6). */
  | {
      scheme: 'oauth2_refresh';
      /** Default token URL; `{baseUrl}` is the instance base URL. Setting `tokenUrl` overrides. */
      tokenUrl: string;
      /** Where the client id and secret go: HTTP Basic or the request body. */
      clientAuth: 'basic' | 'body';
      encoding: 'form' | 'json';
    }
  /** Salesforce's username-password OAuth flow: a token per login, cached, no refresh token. */
  | { scheme: 'oauth2_password'; tokenUrl: string }
  /** GitHub App: RS256 JWT → installation access token, cached until shortly before expiry. */
  | { scheme: 'github_app'; tokenPath: string };

/** A vendor's answer as the executor read it. */
export interface VendorResponse {
  status: number;
  headers: Headers;
  /** Parsed JSON, or the text when the body is not JSON, or `undefined` when empty. */
  body: unknown;
}

/** How a vendor says no. */
export interface ErrorShape {
  /** The vendor's human message from an error body (its real shape, e.g. `errorMessages[]`). */
  message(body: unknown): string | undefined;
  /** Whether a 2xx answer is still a failure (Slack's `{"ok":false}`); its HTTP status stands. */
  failedDespiteStatus?(body: unknown): boolean;
  /** Whether a failure means the credential was not accepted; default: status 401. */
  authFailure?(status: number, body: unknown): boolean;
}

/** A non-secret setting of an instance. */
export interface SettingDefinition {
  name: string;
  description: string;
  required: boolean;
  default?: string;
  /** A pattern the value must match (checked before any call). */
  pattern?: string;
}

/** The cheap call Test Connection makes, per credential kind where they differ. */
export interface TestConnectionSpec {
  request: RequestTemplate;
  byKind?: Partial<Record<CredentialKind, RequestTemplate>>;
  /** Reads a 2xx body; returns why it still means "not connected" (e.g. an anonymous user). */
  verify?(body: unknown): string | undefined;
}

/** One SaaS connector of the catalog. */
export interface ConnectorDefinition {
  /** The connector type and MCP tool prefix, e.g. `zendesk`. */
  type: string;
  title: string;
  description: string;
  /** A hint for the admin UI, e.g. `https://{subdomain}.zendesk.com`. */
  baseUrlHint: string;
  /** Set when the vendor has one public API origin (GitHub, Slack, QuickBooks). */
  defaultBaseUrl?: string;
  settings: readonly SettingDefinition[];
  /** The credential kinds this connector accepts, each with how it is presented. */
  auth: Readonly<Partial<Record<CredentialKind, AuthScheme>>>;
  /** Headers sent on every call; values may use `{settings.name}`. */
  headers?: Readonly<Record<string, string>>;
  pagination: PaginationStyle;
  errors: ErrorShape;
  testConnection: TestConnectionSpec;
  tools: readonly ToolDefinition[];
}

/** What a tool call came to. */
export type ToolOutcome = (
  | {
      kind: 'result';
      structuredContent: Record<string, unknown>;
      /** The JSON text of `structuredContent`, for MCP `content`. */
      text: string;
    }
  /** The vendor said no (404, 422, `ok:false`…): an MCP result with `isError: true`. */
  | { kind: 'business_error'; status: number; message: string }
  /** Network error, timeout, 5xx, or the credential refused even after a refresh: OFFLINE. */
  | { kind: 'unavailable'; reason: string }
) & {
  /** Set when an OAuth refresh happened: the caller stores it back, encrypted. */
  refreshedCredential?: CredentialMaterial;
};

/** What Test Connection came to. */
export type TestConnectionOutcome = ({ ok: true } | { ok: false; reason: string }) & {
  refreshedCredential?: CredentialMaterial;
};
