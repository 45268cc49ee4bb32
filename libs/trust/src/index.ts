// @fleetvisor/trust: keys, certificates, signed events and signed commands (ADR 0006).
export * from './canonical';
export * from './keys';
export * from './roles';
export * from './certificates';
export * from './verifier';
export * from './event-proof';
export * from './command-auth';
export * from './key-files';
export * from './config';
