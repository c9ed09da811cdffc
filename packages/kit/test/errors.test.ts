import assert from 'node:assert/strict';
import { Code, ConnectError } from '@connectrpc/connect';
import {
  AlreadyExistsError,
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
  PermissionDeniedError,
  remoteReason,
  ResourceExhaustedError,
  toConnectError,
  UnauthenticatedError,
  UnavailableError,
} from '../src/errors.js';

describe('toConnectError', () => {
  const domain = [
    {
      name: 'NotFoundError',
      err: new NotFoundError('credential_not_found', 'no credential "cred_1"'),
      code: Code.NotFound,
    },
    {
      name: 'AlreadyExistsError',
      err: new AlreadyExistsError('org_exists', 'org "org_1" exists'),
      code: Code.AlreadyExists,
    },
    {
      name: 'PermissionDeniedError',
      err: new PermissionDeniedError('not_edge', 'only the edge may'),
      code: Code.PermissionDenied,
    },
    {
      name: 'UnauthenticatedError',
      err: new UnauthenticatedError('no_token', 'no token'),
      code: Code.Unauthenticated,
    },
    {
      name: 'FailedPreconditionError',
      err: new FailedPreconditionError('revoked', 'revoked'),
      code: Code.FailedPrecondition,
    },
    {
      name: 'UnavailableError',
      err: new UnavailableError('kms_unavailable', 'kms did not answer'),
      code: Code.Unavailable,
    },
    {
      name: 'ResourceExhaustedError',
      err: new ResourceExhaustedError('spend_limit', 'limit reached'),
      code: Code.ResourceExhausted,
    },
  ];
  for (const c of domain) {
    it(`keeps the code, reason and message of a ${c.name}`, () => {
      const ce = toConnectError(c.err);
      assert.equal(ce.code, c.code);
      assert.equal(ce.rawMessage, c.err.message);
      assert.equal(remoteReason(ce), c.err.reason);
      assert.equal(c.err.name, c.name);
    });
  }

  it('adds the offending field of an InvalidArgumentError', () => {
    const ce = toConnectError(new InvalidArgumentError('org_id', 'org_id must be an id, got "x"'));
    assert.equal(ce.code, Code.InvalidArgument);
    assert.equal(remoteReason(ce), 'invalid_argument');
    assert.equal(ce.metadata.get('fortress-field'), 'org_id');
  });

  it('does not carry the cause of a domain error across the boundary', () => {
    const cause = new Error('connect ECONNREFUSED kms.internal:443 key=arn:aws:kms:secret');
    const ce = toConnectError(
      new UnavailableError('kms_unavailable', 'kms did not answer', { cause }),
    );
    assert.equal(ce.cause, undefined);
    assert.ok(!JSON.stringify([ce.message, [...ce.metadata]]).includes('ECONNREFUSED'));
  });

  it('passes a ConnectError through unchanged', () => {
    const original = new ConnectError('deadline', Code.DeadlineExceeded);
    assert.equal(toConnectError(original), original);
  });

  const internal = [
    { name: 'a plain Error', thrown: new Error('password=hunter2 at db.internal') as unknown },
    { name: 'a TypeError', thrown: new TypeError('cannot read "sk-ant-secret" of undefined') },
    { name: 'a thrown string', thrown: 'sk-ant-secret leaked' },
    { name: 'undefined', thrown: undefined },
  ];
  for (const c of internal) {
    it(`turns ${c.name} into a bare Internal "internal error"`, () => {
      const ce = toConnectError(c.thrown);
      assert.equal(ce.code, Code.Internal);
      assert.equal(ce.rawMessage, 'internal error');
      assert.equal(remoteReason(ce), undefined);
      assert.ok(
        !JSON.stringify([ce.message, [...ce.metadata], String(ce.cause)]).match(
          /hunter2|sk-ant|db\.internal/,
        ),
      );
    });
  }
});

describe('remoteReason', () => {
  it('is undefined for an error without a fortress reason', () =>
    assert.equal(remoteReason(new ConnectError('x', Code.Unknown)), undefined));
});
