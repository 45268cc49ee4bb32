// Lint: strict TypeScript rules plus enforced module boundaries (Nx tags in each project.json):
//   type:app      -> may use libs (type:lib, type:contracts), never another app
//   type:lib      -> may use type:lib and type:contracts, never an app
//   type:contracts-> depends on nothing of ours
//   type:testing  -> test harness; only tests, benches and other harness code may import it
import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

export default [
  { ignores: ['node_modules/**', 'dist/**', '.nx/**', 'coverage/**', 'docs/**', 'bin/**', 'scripts/**', 'tmp/**'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.tsx'],
    plugins: { '@nx': nx },
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          allow: [],
          // The CLI loads @fleetvisor/devnet lazily (start-up time), tests import it statically.
          // FleetCore loads @fleetvisor/event-store (TypeORM) lazily: edge processes import the
          // messaging lib for its Nest transport and never open the event store.
          checkDynamicDependenciesExceptions: ['@fleetvisor/devnet', '@fleetvisor/event-store'],
          depConstraints: [
            { sourceTag: 'type:contracts', onlyDependOnLibsWithTags: [] },
            { sourceTag: 'type:lib', onlyDependOnLibsWithTags: ['type:lib', 'type:contracts'] },
            { sourceTag: 'type:testing', onlyDependOnLibsWithTags: ['type:lib', 'type:contracts'] },
            { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:lib', 'type:contracts'] },
          ],
        },
      ],
      'no-console': 'error',
      'no-restricted-syntax': [
        'error',
        {
          selector: "MemberExpression[object.name='process'][property.name='env']",
          message: 'Read configuration in the config module of the app (libs/platform envReader), not process.env.',
        },
      ],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Tests and benches may use the harness; the harness may read its own env.
    files: ['**/*.spec.ts', 'test/**/*.ts', 'bench/**/*.ts', 'apps/*/test/**/*.ts'],
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          // The CLI loads @fleetvisor/devnet lazily (start-up time), tests import it statically.
          // FleetCore loads @fleetvisor/event-store (TypeORM) lazily: edge processes import the
          // messaging lib for its Nest transport and never open the event store.
          checkDynamicDependenciesExceptions: ['@fleetvisor/devnet', '@fleetvisor/event-store'],
          depConstraints: [
            { sourceTag: 'type:contracts', onlyDependOnLibsWithTags: ['type:testing'] },
            { sourceTag: 'type:lib', onlyDependOnLibsWithTags: ['type:lib', 'type:contracts', 'type:testing'] },
            { sourceTag: 'type:testing', onlyDependOnLibsWithTags: ['type:lib', 'type:contracts', 'type:testing'] },
            { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:lib', 'type:contracts', 'type:testing'] },
            { sourceTag: '*', onlyDependOnLibsWithTags: ['*'] },
          ],
        },
      ],
    },
  },
  {
    files: ['**/config.ts', '**/*.config.ts', 'libs/platform/src/config.ts'],
    rules: { 'no-restricted-syntax': 'off' },
  },
];
