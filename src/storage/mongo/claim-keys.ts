/**
 * Extra claims are kept as one MongoDB object so that each claim is set or removed by its own
 * path (`claims.<name>`) in a single atomic update. Claim names may be URLs
 * (`https://example.com/roles`), but MongoDB field names cannot contain "." nor start with "$",
 * so those characters (and "%", the escape itself) are percent-encoded in the stored key.
 */
export function encodeClaimKey(name: string): string {
  return name.replaceAll('%', '%25').replaceAll('.', '%2E').replaceAll('$', '%24');
}

export function decodeClaimKey(key: string): string {
  return key.replace(/%(25|2E|24)/g, (_match, code: string) => String.fromCharCode(Number.parseInt(code, 16)));
}
