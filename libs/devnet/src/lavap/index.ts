// Simulated lavap binaries and a loopback release server for them (see README.md).
export { writeFakeLavap, fakeLavapScript, sha256Hex, providerConfigYaml, consumerConfigYaml, type FakeLavapBehaviour, type FakeLavapOptions } from './fake-lavap';
export { startLavapReleaseServer, goPlatform, type LavapReleaseServer, type LavapReleaseServerOptions, type FakeLavapRelease } from './release-server';
