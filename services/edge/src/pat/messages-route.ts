import type { IncomingMessage, ServerResponse } from 'node:http';
import { canonicalModel, priceOf, type PriceBook } from '@fortress/pricing/price-book';
import { parseBetas, requestShape, worstCase } from '@fortress/pricing/spend';
import type { RequestFacts } from '../chain/decision-chain.js';
import { errors, sendAnthropicError, type AnthropicError } from '../http/anthropic-error.js';
import { BodyTooLargeError, readBody } from '../http/read-body.js';
import type { Admission } from './admission.js';
import { relay, type RelayDeps } from './relay.js';

/** What the Messages routes need. */
export interface MessagesRouteDeps extends RelayDeps {
  admission: Admission;
  priceBook: PriceBook;
  maxBodyBytes: number;
  /** Response bytes kept per exchange for the archive (0: the archive is off). */
  archiveBodyBytes: number;
}

/** Parses a Messages request body enough to decide on it: a JSON object naming a model. */
function parseMessagesBody(
  body: Buffer,
): { json: Record<string, unknown>; model: string } | AnthropicError {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return errors.invalidRequest('the request body is not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return errors.invalidRequest('the request body must be a JSON object');
  }
  const json = parsed as Record<string, unknown>;
  const model = json['model'];
  if (typeof model !== 'string' || !model) return errors.invalidRequest('model: field required');
  return { json, model };
}

/**
 * `POST /v1/messages` and `POST /v1/messages/count_tokens`: authenticate, read and check the
 * body, authorise (posture, policy — which reserves the worst-case spend and tokens — and the
 * audited decision), fetch the real key, and relay the upstream response byte for byte. The
 * reservation is settled with the cost of the usage the upstream reported, however the
 * exchange ends (a client that disconnects mid-stream is still billed for what it used).
 */
export function createMessagesRoute(
  deps: MessagesRouteDeps,
  action: 'pat:messages.create' | 'pat:messages.count_tokens',
) {
  const { admission } = deps;
  const billed = action === 'pat:messages.create';

  return async function messages(
    req: IncomingMessage,
    res: ServerResponse,
    facts: RequestFacts,
    pathWithQuery: string,
  ): Promise<void> {
    const who = await admission.authenticate(req, res, facts, action);
    if (!who) return;

    let body: Buffer;
    try {
      body = await readBody(req, deps.maxBodyBytes);
    } catch (err) {
      if (err instanceof BodyTooLargeError) {
        res.setHeader('connection', 'close');
        return sendAnthropicError(res, facts.requestId, errors.tooLarge(deps.maxBodyBytes));
      }
      throw err;
    }
    const parsed = parseMessagesBody(body);
    if ('status' in parsed) return sendAnthropicError(res, facts.requestId, parsed);

    // Aliases resolve through the price book's explicit table, never by prefix: the allowlist
    // and the price apply to the exact model id.
    const model = canonicalModel(deps.priceBook, parsed.model);
    const price = priceOf(deps.priceBook, model, new Date());
    // The betas widen the window (long context) and so the bound; they are forwarded as sent.
    const shape = requestShape(parsed.json, body.length, parseBetas(req.headers['anthropic-beta']));
    const cost = billed && price ? worstCase(price, shape) : { spendMicrousd: 0, tokens: 0 };
    const admitted = await admission.admit(res, facts, who, action, model, {
      maxTokens: shape.maxTokens,
      ...cost,
    });
    if (!admitted) return;

    const sent = body;
    const clamp = admitted.allowed.maxTokensClamp;
    const clamped = billed && clamp > 0 && shape.maxTokens > clamp;
    if (clamped) body = Buffer.from(JSON.stringify({ ...parsed.json, max_tokens: clamp }));
    await relay(
      deps,
      req,
      res,
      facts,
      {
        method: 'POST',
        path: pathWithQuery,
        body,
        apiKey: admitted.apiKey,
        collectBytes: deps.archiveBodyBytes,
      },
      ({ tapped, response, ...end }) => {
        // Billed at the rates of the model that served, when the book knows it (an alias the
        // upstream has moved on), else at the rates the request was admitted with.
        const served = tapped?.model
          ? priceOf(deps.priceBook, tapped.model, new Date())
          : undefined;
        admitted.finish({
          ...end,
          ...(billed && tapped ? { tokens: tapped.tokens, price: served ?? price } : {}),
          ...(response
            ? {
                exchange: {
                  request: sent,
                  response: response.body,
                  responseTruncated: response.truncated,
                  responseContentType: response.contentType,
                  responseContentEncoding: response.contentEncoding,
                  ...(clamped ? { clampedMaxTokens: clamp } : {}),
                },
              }
            : {}),
        });
      },
    );
  };
}
