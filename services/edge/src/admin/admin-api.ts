import type { IncomingMessage, ServerResponse } from 'node:http';
import { PrincipalKind, type Principal } from '@fortress/proto/common/v1/common_pb';
import type { Logger } from '@fortress/kit/log';
import type { Allowed, DecisionChain, RequestFacts } from '../chain/decision-chain.js';
import { BodyTooLargeError, readBody } from '../http/read-body.js';
import { bearerToken } from './parse-body.js';
import { IDEMPOTENCY_KEY, type IdempotencyStore, type StoredResponse } from './idempotency.js';
import {
  PROBLEM_JSON,
  problemBody,
  problemOf,
  problems,
  ProblemError,
  sendProblem,
} from './problem.js';

/** What a handler is given: the admin, the path parameters, the query and the parsed body. */
export interface AdminCall {
  facts: RequestFacts;
  /** The authenticated admin (absent on the routes that sign in). */
  admin: Principal;
  /** The allow of the action, with its decision token when it touches a credential. */
  grant?: Allowed;
  params: string[];
  query: URLSearchParams;
  body: unknown;
  /** Set when the call runs as an approved change: the second admin, who approved it. */
  approvedBy?: Principal;
}

/** A handler's answer: a status and a JSON body (none for 204), or a streamed download. */
export interface AdminResult {
  status: number;
  body?: unknown;
  /** A body streamed as it is produced (exports); GET routes only, never replayed. */
  stream?: {
    contentType: string;
    /** Offered as an attachment under this name. */
    filename?: string;
    chunks: AsyncIterable<Uint8Array>;
  };
}

/** One route of the admin API. */
export interface AdminRoute {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** The path under the API root, with `{id}` segments captured as params. */
  path: string;
  /** The admin action policy decides (e.g. "admin:pat_keys.write"); "public" for sign-in. */
  action: string;
  /** The response carries a secret shown once: an idempotent retry is told, not replayed. */
  showsSecretOnce?: boolean;
  /**
   * Refuses a call that could not succeed (a malformed body, an unknown id) without changing
   * anything: run before a change is parked for approval, so none waits only to fail.
   */
  check?(call: AdminCall): void | Promise<void>;
  handle(call: AdminCall): Promise<AdminResult>;
}

/** What the admin API lends the approval workflow: its routes and the chain's decisions. */
export interface AdminRunner {
  /** The route `METHOD /path` (e.g. "DELETE /pat-keys/{id}"), or undefined. */
  route(key: string): AdminRoute | undefined;
  /**
   * Decides an admin action for an admin already authenticated (posture, policy, the audited
   * decision): the allow, or a problem thrown.
   */
  authorizeAs(
    principal: Principal,
    facts: RequestFacts,
    action: string,
    objectId: string,
  ): Promise<Allowed>;
}

/** The approval workflow as the admin API sees it: routes of its own, and a gate on mutations. */
export interface ApprovalGate {
  routes: AdminRoute[];
  /**
   * Parks an authorised mutation that its org marks critical: the answer to send (202 and the
   * approval), or undefined when the call runs now. A refusal is a thrown problem.
   */
  intercept(route: AdminRoute, call: AdminCall, path: string): Promise<AdminResult | undefined>;
}

/** One admin call to run, from REST or from an RPC. */
interface Invocation {
  route: CompiledRoute;
  facts: RequestFacts;
  params: string[];
  query: URLSearchParams;
  body: unknown;
  /** The body as it came (the Idempotency-Key fingerprint). */
  raw: string;
  /** The admin session token ("" when none). */
  token: string;
  idempotencyKey: string | undefined;
  path: string;
}

type CompiledRoute = AdminRoute & { match: (p: string) => string[] | undefined };

/** What the admin API needs. */
export interface AdminApiDeps {
  root: string;
  routes: AdminRoute[];
  chain: DecisionChain;
  idempotency: IdempotencyStore;
  logger: Logger;
  maxBodyBytes?: number;
  /** The approval workflow (S8), given the API's runner; without it nothing is ever parked. */
  approvals?: (runner: AdminRunner) => ApprovalGate;
}

const MUTATING = new Set(['POST', 'PUT', 'DELETE']);
/** Admin actions whose allow carries a decision token for a credential (a connector test). */
const CREDENTIAL_ACTIONS = new Set(['admin:connectors.test']);
const ID_SEGMENT = /^[A-Za-z0-9_-]{1,128}$/;

/** The object an admin action is decided on: the first path parameter, else the collection. */
export function objectIdOf(route: AdminRoute, params: readonly string[]): string {
  return params[0] ?? route.path.split('/')[1] ?? '';
}

/** Compiles "/pat-keys/{id}/usage" into a matcher returning the captured segments. */
function matcher(path: string): (p: string) => string[] | undefined {
  const parts = path.split('/');
  return (p) => {
    const got = p.split('/');
    if (got.length !== parts.length) return undefined;
    const params: string[] = [];
    for (let i = 0; i < parts.length; i++) {
      const want = parts[i] as string;
      const seg = got[i] as string;
      if (want.startsWith('{')) {
        if (!ID_SEGMENT.test(seg)) return undefined;
        params.push(seg);
      } else if (want !== seg) return undefined;
    }
    return params;
  };
}

/**
 * The admin REST API (`/api/v1/…`). Every call but sign-in goes through the same chain as
 * gateway traffic: identity authenticates the admin session token, posture and policy decide
 * the admin action with the built-in admin roles, and the decision is audited before anything
 * runs. Errors are RFC 9457 problem+json. Mutations accept an `Idempotency-Key`: a retry with
 * the same key and body gets the first response again, without running twice.
 */
export function createAdminApi(deps: AdminApiDeps) {
  const { logger } = deps;
  const limit = deps.maxBodyBytes ?? 64 * 1024;
  const byKey = new Map<string, AdminRoute>();
  const gate = deps.approvals?.({
    route: (key) => byKey.get(key),
    authorizeAs: (principal, facts, action, objectId) =>
      decide(principal, 0, facts, action, objectId),
  });
  const table = [...deps.routes, ...(gate?.routes ?? [])].map((r) => ({
    ...r,
    match: matcher(r.path),
  }));
  for (const r of table) byKey.set(`${r.method} ${r.path}`, r);

  const stored = (r: AdminResult): StoredResponse => ({
    status: r.status,
    contentType: 'application/json',
    body: r.body === undefined ? '' : JSON.stringify(r.body),
  });
  const send = (res: ServerResponse, facts: RequestFacts, r: StoredResponse, replayed = false) => {
    const body = r.body;
    res.writeHead(r.status, {
      ...(body ? { 'content-type': r.contentType } : {}),
      'content-length': Buffer.byteLength(body),
      'cache-control': 'no-store',
      'x-fortress-request-id': facts.requestId,
      ...(replayed ? { 'idempotent-replayed': 'true' } : {}),
    });
    res.end(body);
  };

  const readJson = async (req: IncomingMessage): Promise<{ raw: string; body: unknown }> => {
    let buf: Buffer;
    try {
      buf = await readBody(req, limit);
    } catch (err) {
      if (err instanceof BodyTooLargeError) throw new ProblemError(problems.tooLarge(limit));
      throw err;
    }
    if (buf.length === 0) return { raw: '', body: undefined };
    const type = String(req.headers['content-type'] ?? '')
      .split(';')[0]
      ?.trim()
      .toLowerCase();
    if (type !== 'application/json') throw new ProblemError(problems.unsupportedMediaType());
    const raw = buf.toString('utf8');
    try {
      return { raw, body: JSON.parse(raw) as unknown };
    } catch {
      throw new ProblemError(
        problems.badRequest('the body is not valid JSON', undefined, 'invalid_json'),
      );
    }
  };

  /** Identity, posture, policy and the audited decision; the admin, or a problem thrown. */
  const authorize = async (
    token: string,
    facts: RequestFacts,
    action: string,
    objectId: string,
  ): Promise<Allowed> => {
    if (!token)
      throw new ProblemError(
        problems.unauthenticated(
          'send an admin session token as Authorization: Bearer',
          'missing_token',
        ),
      );
    const auth = await deps.chain.authenticate(
      { apiKey: '', idpToken: '', sessionToken: token },
      facts,
      action,
    );
    if (!auth.ok) {
      if (auth.denial.kind === 'unavailable') throw new ProblemError(problems.unavailable());
      throw new ProblemError(
        problems.unauthenticated(auth.denial.message, auth.denial.reasons[0]?.code),
      );
    }
    if (auth.principal.kind !== PrincipalKind.ADMIN)
      throw new ProblemError(
        problems.unauthenticated('this token is not an admin session', 'not_an_admin_session'),
      );
    return decide(auth.principal, auth.us, facts, action, objectId);
  };

  /** Posture, policy and the audited decision for an authenticated admin. */
  async function decide(
    principal: Principal,
    identityUs: number,
    facts: RequestFacts,
    action: string,
    objectId: string,
  ): Promise<Allowed> {
    const authz = await deps.chain.authorize(
      principal,
      identityUs,
      facts,
      action,
      { type: 'admin', id: objectId, patKeyId: '' },
      undefined,
      CREDENTIAL_ACTIONS.has(action),
    );
    if (!authz.ok) {
      if (authz.denial.kind === 'unavailable') throw new ProblemError(problems.unavailable());
      const reason = authz.denial.reasons[0];
      throw new ProblemError(problems.forbidden(authz.denial.message, reason?.code ?? 'forbidden'));
    }
    return authz.allowed;
  }

  const serve = async (
    req: IncomingMessage,
    res: ServerResponse,
    facts: RequestFacts,
    url: string,
  ) => {
    const u = new URL(url, 'http://admin.invalid');
    const sub = u.pathname.slice(deps.root.length - 1);
    const candidates = table
      .map((r) => ({ r, params: r.match(sub) }))
      .filter((c) => c.params !== undefined);
    if (candidates.length === 0) {
      req.resume();
      throw new ProblemError(problems.notFound(`no admin route ${u.pathname}`, 'no_such_route'));
    }
    const hit = candidates.find((c) => c.r.method === req.method);
    if (!hit) {
      req.resume();
      throw new ProblemError(problems.methodNotAllowed(candidates.map((c) => c.r.method)));
    }
    const { r: route } = hit;
    const params = hit.params ?? [];
    const idemKey = req.headers['idempotency-key'];
    if (idemKey !== undefined && (typeof idemKey !== 'string' || !IDEMPOTENCY_KEY.test(idemKey))) {
      req.resume();
      throw new ProblemError(
        problems.badRequest(
          'Idempotency-Key must be 1–255 visible ASCII characters',
          'idempotency-key',
        ),
      );
    }
    const { raw, body } = await readJson(req);
    const { response, replayed, stream } = await execute({
      route,
      facts,
      params,
      query: u.searchParams,
      body,
      raw,
      token: bearerToken(req.headers['authorization']),
      idempotencyKey: idemKey,
      path: u.pathname,
    });
    if (stream) {
      await sendStream(res, facts, stream);
      return;
    }
    send(res, facts, response, replayed);
  };

  /** Streams a download, pausing for a slow client; an error midway cuts the connection. */
  const sendStream = async (
    res: ServerResponse,
    facts: RequestFacts,
    stream: NonNullable<AdminResult['stream']>,
  ) => {
    const chunks = stream.chunks[Symbol.asyncIterator]();
    // The first chunk comes before the headers, so a refusal can still be a problem.
    const first = await chunks.next();
    res.writeHead(200, {
      'content-type': stream.contentType,
      'cache-control': 'no-store',
      'x-fortress-request-id': facts.requestId,
      ...(stream.filename
        ? { 'content-disposition': `attachment; filename="${stream.filename}"` }
        : {}),
    });
    try {
      for (let r = first; !r.done; r = await chunks.next()) {
        if (!res.write(r.value)) await new Promise((resolve) => res.once('drain', resolve));
        if (res.destroyed) return;
      }
      res.end();
    } catch (err) {
      logger.error({ err, requestId: facts.requestId }, 'admin download failed midway');
      res.destroy();
    }
  };

  /**
   * Runs one admin call, however it arrived (REST or RPC): the chain for the admin action,
   * the Idempotency-Key, the handler. Answers with what to send; refusals are thrown problems.
   */
  const execute = async (
    inv: Invocation,
  ): Promise<{ response: StoredResponse; replayed: boolean; stream?: AdminResult['stream'] }> => {
    const { route, facts, params } = inv;
    const grant =
      route.action === 'public'
        ? undefined
        : await authorize(inv.token, facts, route.action, objectIdOf(route, params));
    const admin = grant?.principal;
    const call = async (principal: Principal | undefined) => {
      const c: AdminCall = {
        facts,
        admin: principal as Principal,
        ...(grant ? { grant } : {}),
        params,
        query: inv.query,
        body: inv.body,
      };
      // Authorised, but critical in its org: stored for a second admin instead of run.
      const parked =
        gate && principal && MUTATING.has(route.method)
          ? await gate.intercept(route, c, inv.path)
          : undefined;
      return parked ?? route.handle(c);
    };

    const idemKey = inv.idempotencyKey;
    if (!admin || !idemKey || !MUTATING.has(route.method)) {
      const result = await call(admin);
      return {
        response: stored(result),
        replayed: false,
        ...(result.stream ? { stream: result.stream } : {}),
      };
    }
    const claim = await deps.idempotency.claim(
      { orgId: admin.orgId, subjectId: admin.subjectId, key: idemKey },
      { method: route.method, path: inv.path, body: inv.raw },
    );
    switch (claim.kind) {
      case 'replay':
        return { response: claim.response, replayed: true };
      case 'in_flight':
        throw new ProblemError(
          problems.conflict(
            'a request with this Idempotency-Key is still running',
            'idempotency_key_in_flight',
          ),
        );
      case 'mismatch':
        throw new ProblemError(
          problems.unprocessable(
            'this Idempotency-Key was used for a different request',
            'idempotency_key_reused',
          ),
        );
      case 'claimed':
        break;
    }
    let result: AdminResult;
    try {
      result = await call(admin);
    } catch (err) {
      const p = problemOf(err);
      // A failure that changed nothing can be retried for real; a refusal is the answer.
      if (p.status >= 500) await claim.release().catch(() => undefined);
      else
        await claim
          .complete({
            status: p.status,
            contentType: PROBLEM_JSON,
            body: problemBody(facts.requestId, p),
          })
          .catch(() => undefined);
      throw err;
    }
    const response = stored(result);
    const replay = route.showsSecretOnce
      ? {
          status: 409,
          contentType: PROBLEM_JSON,
          body: problemBody(
            facts.requestId,
            problems.conflict(
              'this request already ran; the secret it returned was shown once and is not kept — list to find what it made, and rotate or replace it if the secret was lost',
              'idempotency_key_already_used',
            ),
          ),
        }
      : response;
    await claim.complete(replay).catch((err: unknown) => {
      // The change is made; only its replay is lost (a retry within a minute is told the key
      // is in flight, a later one runs again).
      logger.warn({ err, requestId: facts.requestId }, 'idempotent response not stored');
    });
    return { response, replayed: false };
  };

  return {
    /**
     * Runs the route `method path` (e.g. "PUT /pat-keys/{id}") for an RPC: the same chain,
     * idempotency and handler as its REST twin. A refusal is a thrown problem.
     */
    invoke: async (
      key: string,
      call: {
        facts: RequestFacts;
        token: string;
        params?: string[];
        query?: URLSearchParams;
        body?: unknown;
        idempotencyKey?: string | undefined;
      },
    ): Promise<unknown> => {
      const route = table.find((r) => `${r.method} ${r.path}` === key);
      if (!route) throw new Error(`no admin route ${key}`);
      const params = call.params ?? [];
      const raw = call.body === undefined ? '' : JSON.stringify(call.body);
      const path = params.reduce((p, v) => p.replace(/\{[^}]+\}/, v), route.path);
      const { response } = await execute({
        route,
        facts: call.facts,
        params,
        query: call.query ?? new URLSearchParams(),
        body: call.body,
        raw,
        token: call.token,
        idempotencyKey: call.idempotencyKey,
        path: `${deps.root.slice(0, -1)}${path}`,
      });
      if (response.status === 202) {
        // An RPC answers with the change's own message, which a parked change does not have yet.
        const id = (JSON.parse(response.body) as { approval?: { id?: string } }).approval?.id ?? '';
        throw new ProblemError(problems.approvalPending(id));
      }
      if (response.contentType === PROBLEM_JSON) {
        const p = JSON.parse(response.body) as {
          status: number;
          code: string;
          title: string;
          detail: string;
        };
        throw new ProblemError({
          status: p.status,
          code: p.code,
          title: p.title,
          detail: p.detail,
        });
      }
      return response.body ? (JSON.parse(response.body) as unknown) : undefined;
    },

    /** The edge server's handler for everything under the API root. */
    handle: async (req: IncomingMessage, res: ServerResponse, facts: RequestFacts, url: string) => {
      try {
        await serve(req, res, facts, url);
      } catch (err) {
        const p = problemOf(err);
        if (p.status >= 500)
          logger.error({ err, requestId: facts.requestId }, 'admin api request failed');
        sendProblem(res, facts.requestId, p);
      }
    },
  };
}

/** The admin API. */
export type AdminApi = ReturnType<typeof createAdminApi>;
