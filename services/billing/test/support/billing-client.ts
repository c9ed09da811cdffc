import {
  createClient,
  createRouterTransport,
  type Client,
  type Interceptor,
  type ServiceImpl,
} from '@connectrpc/connect';
import { toConnectError } from '@fortress/kit/errors';
import { BillingService } from '@fortress/proto/billing/v1/billing_pb';

/** The error boundary every Fortress server runs (kit's interceptors): domain errors to codes. */
const boundary: Interceptor = (next) => async (req) => {
  try {
    return await next(req);
  } catch (err) {
    throw toConnectError(err);
  }
};

/** An in-process client of the BillingService handlers, behind the error boundary. */
export function billingClient(
  impl: ServiceImpl<typeof BillingService>,
): Client<typeof BillingService> {
  return createClient(
    BillingService,
    createRouterTransport(({ service }) => service(BillingService, impl), {
      router: { interceptors: [boundary] },
    }),
  );
}
