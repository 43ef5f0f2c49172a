import { providerStatusError } from '../failures.js';
import { failureContext, type HttpRequest, type HttpResponse, type HttpTransport } from '../http.js';

/** A request to a storage provider (S3, OneDrive), which answers in its own terms: any non-2xx fails. */
export async function providerFetch(transport: HttpTransport, request: HttpRequest): Promise<HttpResponse> {
  const response = await transport.fetch(request);
  if (response.status < 200 || response.status > 299) {
    throw providerStatusError(response.status, response.body, failureContext(request));
  }
  return response;
}
