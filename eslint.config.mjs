// @ts-check
// ESLint with typescript-eslint's type-aware rules: `npm run lint` (= eslint . --max-warnings=0).
import eslint from '@eslint/js';
import { defineConfig } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default defineConfig(
  { ignores: ['node_modules/', 'dist/', '.cache/', 'coverage/', 'migrations/', 'data/', 'bench/results/', '.scratch*/'] },
  eslint.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      // One TypeScript program for everything tsconfig.json includes (src, test, bench, drizzle.config.ts).
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // From strictTypeChecked: `return promise` inside try/catch skips the catch (and finally) on rejection.
      '@typescript-eslint/return-await': ['error', 'error-handling-correctness-only'],
      // Leaving out keys with a rest sibling (`const { a: _a, ...rest } = o`) is how this code drops fields.
      '@typescript-eslint/no-unused-vars': ['error', { ignoreRestSiblings: true }],
      // `async` marks implementations of Promise-returning interfaces (renderers, stand-ins, fakes) even
      // without an await, and turns a synchronous throw into a rejection; missing awaits are no-floating-promises' job.
      '@typescript-eslint/require-await': 'off',
      // `let x: T | undefined` declared before a closure that reads it and assigned once later is deliberate
      // (the closure sees undefined until then; a const there would throw in its temporal dead zone).
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      // Passing on a rejection reason as it came (typed unknown) is fine; new reasons must still be Errors.
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingUnknown: true }],
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      // @types/jest types asymmetric matchers (expect.stringContaining, expect.any, ...) as `any`, and they
      // belong inside expected objects; reading an `any` is still reported by no-unsafe-member-access/-call/-return.
      '@typescript-eslint/no-unsafe-assignment': 'off',
    },
  },
  {
    // Plain JavaScript (jest.config.js, this file, bench/lib/heap-probe.mjs, src/launch.cjs) is outside tsconfig.json.
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { globals: globals.node },
  },
  {
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
    // The launcher loads esbuild and the compiled bot with require() on purpose (CommonJS, synchronous).
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
