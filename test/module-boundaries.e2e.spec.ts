// The lint gate really enforces the module boundaries of ADR 0001: each case lints a one-line file
// placed (by path only, nothing is written) in a project, through ESLint with the repo's config.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { ESLint } from 'eslint';
import { beforeAll, describe, expect, it } from 'vitest';
import { inheritedEnvironment } from '@fleetvisor/testing';

const root = path.resolve(__dirname, '..');
let eslint: ESLint;

async function boundaryErrors(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code + '\n', { filePath: path.join(root, file) });
  return (result?.messages ?? []).filter((m) => m.ruleId === '@nx/enforce-module-boundaries').map((m) => m.message);
}

describe('module boundaries (npm run lint)', () => {
  beforeAll(() => {
    // The Nx rule reads the cached project graph; `npm run lint` builds it the same way.
    execFileSync(process.execPath, [require.resolve('nx/bin/nx.js'), 'show', 'projects'], { cwd: root, env: { ...inheritedEnvironment(), NX_DAEMON: 'false' }, stdio: 'ignore' });
    eslint = new ESLint({ cwd: root });
  });

  it('libs/contracts may import nothing of ours', async () => {
    expect(await boundaryErrors('libs/contracts/src/probe.ts', "export { redactUrl } from '@fleetvisor/platform';")).toEqual([
      expect.stringMatching(/type:contracts" cannot depend on any libs/),
    ]);
  });

  it('a lib may not import an app, nor the test harness outside tests', async () => {
    expect(await boundaryErrors('libs/event-store/src/probe.ts', "export { COMMANDS } from '../../../apps/cli/src/commands';")).not.toEqual([]);
    expect(await boundaryErrors('libs/event-store/src/probe.ts', "export { createTestDatabase } from '@fleetvisor/testing';")).toEqual([
      expect.stringMatching(/type:lib" can only depend on libs tagged with "type:lib", "type:contracts"/),
    ]);
  });

  it('apps may import libs and contracts; tests may use the harness', async () => {
    expect(await boundaryErrors('apps/cli/src/probe.ts', "export { migrate } from '@fleetvisor/event-store';\nexport { fleetEvents } from '@fleetvisor/contracts';")).toEqual([]);
    expect(await boundaryErrors('libs/event-store/src/probe.spec.ts', "export { createTestDatabase } from '@fleetvisor/testing';")).toEqual([]);
  });
});
