// Validation of every name that becomes a path, a stream id or a process argument. Names come
// from operators and config files: anything that could escape the home (`..`, `/`) is refused.
import { BINARY_NAME_PATTERN, CHAIN_ID_PATTERN, SERVICE_NAME_PATTERN, STRICT_VERSION_PATTERN } from '@fleetvisor/contracts';

const SERVICE_NAME = new RegExp(SERVICE_NAME_PATTERN);
const BINARY_NAME = new RegExp(BINARY_NAME_PATTERN);
const CHAIN_ID = new RegExp(CHAIN_ID_PATTERN);
const STRICT_VERSION = new RegExp(STRICT_VERSION_PATTERN);

export class InvalidNameError extends Error {
  override name = 'InvalidNameError';
}

function check(re: RegExp, value: unknown, what: string, hint: string): string {
  if (typeof value !== 'string' || !re.test(value) || value.includes('..')) {
    throw new InvalidNameError(`${what} ${JSON.stringify(value)} is not valid: ${hint}`);
  }
  return value;
}

export const validServiceName = (v: unknown): string =>
  check(SERVICE_NAME, v, 'service name', 'letters, digits, . _ - (max 64), starting with a letter or digit, no ".."');
export const validBinaryName = (v: unknown): string =>
  check(BINARY_NAME, v, 'binary name', 'letters, digits, . _ - (max 64), starting with a letter or digit, no ".."');
export const validChainId = (v: unknown): string => check(CHAIN_ID, v, 'chain id', 'letters, digits, . _ - (max 50)');
/** Versions we install are strict X.Y.Z (what the chain accepts); a leading `v` is dropped. */
export function validVersion(v: unknown): string {
  const s = typeof v === 'string' ? v.replace(/^v/, '') : v;
  return check(STRICT_VERSION, s, 'version', 'strict X.Y.Z');
}
