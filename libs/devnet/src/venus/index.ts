// A simulated venus-wallet for the service-runner's venus daily checks (see fake-venus-wallet.ts).
export { fakeVenusWalletScript, writeFakeVenusWallet, writeVenusWalletRepo, type FakeVenusWalletOptions } from './fake-venus-wallet';
