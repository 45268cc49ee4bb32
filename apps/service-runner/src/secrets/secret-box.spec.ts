import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { KeyringPasswordStore, seal, unseal } from './secret-box';

const dir = mkdtempSync(path.join(tmpdir(), 'fv-secrets-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('keyring password at rest', () => {
  it('round-trips with the passphrase and keeps only ciphertext on disk', () => {
    const store = new KeyringPasswordStore(dir);
    store.set('hunter2-keyring-pw', { passphrase: 'correct horse battery' });
    const onDisk = readFileSync(store.file, 'utf8');
    expect(onDisk).not.toContain('hunter2');
    expect(onDisk).not.toContain(Buffer.from('hunter2-keyring-pw').toString('base64'));
    expect(store.get({ passphrase: 'correct horse battery' })).toBe('hunter2-keyring-pw');
    expect(() => store.get({ passphrase: 'wrong passphrase!' })).toThrow(/cannot decrypt/);
  });

  it('works with a key file, and detects tampering', () => {
    const keyFile = path.join(dir, 'key');
    writeFileSync(keyFile, 'k'.repeat(32));
    const sealed = seal('pw', { keyFile });
    expect(unseal(sealed, { keyFile })).toBe('pw');
    const f = JSON.parse(sealed) as { data: string };
    f.data = Buffer.from('xx').toString('base64');
    expect(() => unseal(JSON.stringify(f), { keyFile })).toThrow(/altered/);
    expect(() => seal('pw', { passphrase: 'short' })).toThrow(/at least 8/);
  });
});
