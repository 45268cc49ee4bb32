// Field schemas shared by events and commands. Names that end up in stream names, file names or
// NATS subjects are restricted to characters that are safe there (no '/', no whitespace, no
// leading '.', so no path traversal), and every string has a length limit.
import { Type, type StringOptions, type TLiteral, type TUnion } from '@sinclair/typebox';

/** Host name (a DNS label or FQDN-like name). Part of `host-<host>` and `service-<host>/<name>`. */
export const HOST_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]{0,119}$';
/** Service name as in lavavisor's config.yml `services:` (e.g. consumer-ETH1, provider1-LAV1). */
export const SERVICE_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$';
/** Cosmos chain id (CometBFT caps it at 50 characters). */
export const CHAIN_ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]{0,49}$';
/** Sealing worker instance name; may be an address such as 10.0.0.5:17890. */
export const WORKER_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._:@-]{0,99}$';
/** Version of a binary as it reports itself (0.23.2, v0.23.2, 1.2.3-rc.1+abc): safe as a file name. */
export const BINARY_VERSION_PATTERN = '^[0-9A-Za-z][0-9A-Za-z.+_-]{0,63}$';
/** Strict X.Y.Z, no prefix, no prerelease, no leading zeros (what the Lava chain accepts). */
export const STRICT_VERSION_PATTERN = '^(0|[1-9][0-9]{0,8})\\.(0|[1-9][0-9]{0,8})\\.(0|[1-9][0-9]{0,8})$';
/** A binary's file name (lavap, venus-worker). */
export const BINARY_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$';
/** An absolute POSIX path with no `..` segment and no control line breaks or NUL. */
export const ABSOLUTE_PATH_PATTERN = '^(?!.*/\\.\\.(/|$))/[^\\u0000\\r\\n]*$';
/** A sealing state name (Empty, PC1Done, ...). */
export const STATE_NAME_PATTERN = '^[A-Z][A-Za-z0-9]{0,63}$';

const opt = (o: StringOptions | undefined, base: StringOptions): StringOptions => ({ ...base, ...o });

export const HostName = (o?: StringOptions) =>
  Type.String(opt(o, { minLength: 1, maxLength: 120, pattern: HOST_NAME_PATTERN, description: 'Host name' }));
export const ServiceName = (o?: StringOptions) =>
  Type.String(opt(o, { minLength: 1, maxLength: 64, pattern: SERVICE_NAME_PATTERN, description: 'Service name, unique on its host' }));
export const ChainId = (o?: StringOptions) =>
  Type.String(opt(o, { minLength: 1, maxLength: 50, pattern: CHAIN_ID_PATTERN, description: 'Cosmos chain id, e.g. lava-testnet-2' }));
export const WorkerName = (o?: StringOptions) =>
  Type.String(opt(o, { minLength: 1, maxLength: 100, pattern: WORKER_NAME_PATTERN, description: 'Sealing worker instance name' }));
export const BinaryVersion = (o?: StringOptions) =>
  Type.String(opt(o, { minLength: 1, maxLength: 64, pattern: BINARY_VERSION_PATTERN, description: 'Binary version as reported by the binary' }));
export const StrictVersion = (o?: StringOptions) =>
  Type.String(opt(o, { minLength: 5, maxLength: 32, pattern: STRICT_VERSION_PATTERN, description: 'Strict X.Y.Z version' }));
export const BinaryName = (o?: StringOptions) =>
  Type.String(opt(o, { minLength: 1, maxLength: 64, pattern: BINARY_NAME_PATTERN, description: 'Binary file name' }));
export const AbsolutePath = (o?: StringOptions) =>
  Type.String(opt(o, { minLength: 1, maxLength: 1024, pattern: ABSOLUTE_PATH_PATTERN, description: 'Absolute path on the host' }));
export const StateName = (o?: StringOptions) =>
  Type.String(opt(o, { minLength: 1, maxLength: 64, pattern: STATE_NAME_PATTERN, description: 'Sealing state name' }));
/** Who asked for a change (user, token name, service); never a credential. */
export const Actor = (o?: StringOptions) =>
  Type.String(opt(o, { minLength: 1, maxLength: 200, description: 'Who asked for it (user or service name), never a credential' }));
/** Human-readable explanation; never holds a secret. */
export const Reason = (o?: StringOptions) => Type.String(opt(o, { minLength: 1, maxLength: 2000 }));
export const DateTime = (o?: StringOptions) => Type.String(opt(o, { format: 'date-time', minLength: 20, maxLength: 40 }));
export const DurationMs = (description?: string) => Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, ...(description ? { description } : {}) });
export const Pid = () => Type.Integer({ minimum: 1, maximum: 2_147_483_647, description: 'Operating system process id' });
export const ThreadIndex = () => Type.Integer({ minimum: 0, maximum: 65_535, description: 'Sealing thread index on its worker' });

/** A string enum as a union of literals (TypeBox checks it; JSON Schema sees anyOf of consts). */
export function StringEnum<const T extends readonly string[]>(values: T, description?: string): TUnion<TLiteral<T[number]>[]> {
  return Type.Union(
    values.map((v) => Type.Literal(v as T[number])),
    description ? { description } : {},
  );
}
