// ESLint flat config. The layer rules of ../shared/specs/style.md ("Layout for this project")
// are enforced with no-restricted-imports so CI fails when a layer reaches outward.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

const restrict = (patterns) => ({ 'no-restricted-imports': ['error', { patterns }] });
const ADAPTERS = { group: ['**/adapters/**'], message: 'Only src/main.ts may import adapters/ (style.md layout).' };
const OUTER = (layers) => ({
  group: layers.map((l) => `**/src/${l}/**`).concat(layers.map((l) => `../${l}/**`)),
  message: `This layer may not import ${layers.join(', ')} (style.md dependency direction).`,
});

export default tseslint.config(
  { ignores: ['node_modules/**', 'var/**', 'coverage/**', 'certs-dev/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node }, ecmaVersion: 2022, sourceType: 'module' },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-properties': ['error', { object: 'process', property: 'env', message: 'Read configuration through src/config (style.md convention 4).' }],
    },
  },
  // process.env is read only by the config module, the CLI entry and test/script harnesses.
  { files: ['src/config/**', 'test/**', 'scripts/**', 'bin/**', 'jest.config.js', 'src/cli/**'], rules: { 'no-restricted-properties': 'off' } },
  { files: ['src/domain/**'], rules: restrict([ADAPTERS, OUTER(['ports', 'use-cases', 'api', 'auth', 'store', 'queue', 'config'])]) },
  { files: ['src/ports/**'], rules: restrict([ADAPTERS, OUTER(['use-cases', 'api', 'auth', 'store', 'queue', 'config'])]) },
  { files: ['src/use-cases/**'], rules: restrict([ADAPTERS, OUTER(['api', 'auth', 'store', 'queue'])]) },
  { files: ['src/config/**'], rules: restrict([ADAPTERS, OUTER(['domain', 'ports', 'use-cases', 'api', 'auth', 'store', 'queue'])]) },
  { files: ['src/lib/**'], rules: restrict([ADAPTERS, OUTER(['ports', 'use-cases', 'api', 'auth', 'store', 'queue', 'config'])]) },
  { files: ['src/api/**', 'src/auth/**', 'src/store/**', 'src/queue/**', 'src/http.ts', 'src/cli/**'], rules: restrict([ADAPTERS]) },
  {
    files: ['adapters/**'],
    rules: restrict([
      { group: ['**/src/use-cases/**', '**/src/api/**', '**/src/store/**', '**/src/queue/**', '**/src/auth/**', '**/src/config/**', '**/src/main*'], message: 'Adapters import only src/domain, src/ports and src/lib (style.md).' },
    ]),
  },
  {
    // Simulators must never share code with the adapter they simulate (style.md convention 6).
    files: ['adapters/**/simulator/**'],
    rules: restrict([
      { group: ['**/*.mapper*', '**/*.client*', '**/src/use-cases/**', '**/src/api/**', '**/src/store/**', '**/src/queue/**', '**/src/config/**'], message: 'Simulators must not import mappers or clients of our adapters.' },
    ]),
  },
  { files: ['test/**', 'scripts/**'], rules: { '@typescript-eslint/no-non-null-assertion': 'off' } },
);
