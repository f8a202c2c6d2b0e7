// ESLint: the recommended JavaScript and typescript-eslint rules; formatting is Prettier's (eslint-config-prettier).
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'lib/kernels/binaries.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      // require() where an import cannot do the job: the module object itself, to patch or spy on (an `import *` is a
      // copy), a package.json, and the untyped node-wav used by specs to write test audio.
      '@typescript-eslint/no-require-imports': ['error', { allow: ['^fs$', '^os$', '^worker_threads$', '/package\\.json$', '^node-wav$'] }],
    },
  },
  {
    // Specs read reference JSON (spec/fixtures) whose shape the fixture files, not the types, define.
    files: ['spec/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // The bin script and jest's config are plain CommonJS.
    files: ['**/*.js'],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', module: 'writable', __dirname: 'readonly', process: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  prettier,
);
