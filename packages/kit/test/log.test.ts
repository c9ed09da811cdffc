import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { TracerProvider } from '@opentelemetry/sdk-trace';
import { createLogger } from '../src/log.js';
import { Secret } from '../src/secret.js';

const CANARY = 'sk-ant-canary-7f3a9c';

/** A logger writing into memory, and the JSON lines it wrote so far. */
function memoryLogger() {
  const destination = new PassThrough();
  const logger = createLogger({ service: 'test', destination });
  const lines = (): Array<Record<string, unknown>> => {
    const text = (destination.read() as Buffer | null)?.toString('utf8') ?? '';
    return text
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  };
  return { logger, destination, lines };
}

/** Follows a dotted path through parsed JSON. */
function at(obj: unknown, path: string[]): unknown {
  return path.reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], obj);
}

const SENSITIVE = [
  'authorization',
  'x-api-key',
  'apiKey',
  'password',
  'secret',
  'token',
  'decisionToken',
];
const DEPTHS = [
  { name: 'top level', path: [] as string[] },
  { name: 'one level deep', path: ['req'] },
  { name: 'two levels deep', path: ['req', 'headers'] },
];

describe('createLogger', () => {
  describe('redaction', () => {
    for (const key of SENSITIVE) {
      for (const depth of DEPTHS) {
        it(`censors "${key}" at ${depth.name}`, () => {
          const { logger, lines } = memoryLogger();
          const fields = depth.path.reduceRight<Record<string, unknown>>(
            (inner, k) => ({ [k]: inner }),
            {
              [key]: CANARY,
              harmless: 'kept',
            },
          );
          logger.info(fields, 'request');
          const written = lines();
          assert.equal(written.length, 1);
          assert.equal(at(written[0], [...depth.path, key]), '[redacted]');
          assert.equal(at(written[0], [...depth.path, 'harmless']), 'kept');
          assert.ok(!JSON.stringify(written).includes(CANARY));
        });
      }
    }

    it('writes a Secret as "[redacted]" under any field name', () => {
      const { logger, lines } = memoryLogger();
      logger.info({ upstream: { credential: new Secret(CANARY) } }, 'resolved');
      const [line] = lines();
      assert.equal(at(line, ['upstream', 'credential']), '[redacted]');
      assert.ok(!JSON.stringify(line).includes(CANARY));
    });
  });

  it('writes one JSON object per line with service, level and message', () => {
    const { logger, lines } = memoryLogger();
    logger.warn({ requestId: 'req_1' }, 'slow hop');
    const [line] = lines();
    assert.equal(line?.['service'], 'test');
    assert.equal(line?.['level'], 'warn');
    assert.equal(line?.['msg'], 'slow hop');
    assert.equal(line?.['requestId'], 'req_1');
  });

  describe('trace ids', () => {
    const manager = new AsyncLocalStorageContextManager();
    const provider = new TracerProvider();

    before(() => {
      context.setGlobalContextManager(manager.enable());
    });
    after(async () => {
      context.disable();
      await provider.shutdown();
    });

    it('adds trace_id and span_id of the active span', () => {
      const { logger, lines } = memoryLogger();
      const span = provider.getTracer('test').startSpan('hop');
      context.with(trace.setSpan(context.active(), span), () => logger.info('inside'));
      span.end();
      const [line] = lines();
      assert.equal(line?.['trace_id'], span.spanContext().traceId);
      assert.equal(line?.['span_id'], span.spanContext().spanId);
      assert.match(String(line?.['trace_id']), /^[0-9a-f]{32}$/);
    });

    it('adds no trace fields when no span is active', () => {
      const { logger, lines } = memoryLogger();
      logger.info('outside');
      const [line] = lines();
      assert.equal(line?.['trace_id'], undefined);
      assert.equal(line?.['span_id'], undefined);
    });
  });
});
