import {
  createClient,
  createRouterTransport,
  type Client,
  type Interceptor,
  type ServiceImpl,
} from '@connectrpc/connect';
import { toConnectError } from '@fortress/kit/errors';
import { AuditService } from '@fortress/proto/audit/v1/audit_pb';

/** The error boundary every Fortress server runs (kit's interceptors): domain errors to codes. */
const boundary: Interceptor = (next) => async (req) => {
  try {
    return await next(req);
  } catch (err) {
    throw toConnectError(err);
  }
};

/** An in-process client of the AuditService handlers, behind the error boundary. */
export function auditClient(impl: ServiceImpl<typeof AuditService>): Client<typeof AuditService> {
  return createClient(
    AuditService,
    createRouterTransport(({ service }) => service(AuditService, impl), {
      router: { interceptors: [boundary] },
    }),
  );
}
