// ESLint for the extension: typescript-eslint's type-aware recommended rules on the TypeScript
// sources and tests, plus a few house rules. Formatting is prettier's job, not ESLint's.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    // Built output, installed packages, and the file generated from the report schema.
    ignores: ['lib/', 'node_modules/', '.yarn/', 'src/schema.ts']
  },
  js.configs.recommended,
  {
    files: ['**/*.ts', '**/*.mts'],
    extends: [tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: {
        // tsconfig.test.json covers src/ (tests included) and the vitest config.
        project: './tsconfig.test.json',
        tsconfigRootDir: import.meta.dirname
      }
    },
    rules: {
      eqeqeq: ['error', 'always'],
      'no-console': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }]
    }
  },
  {
    // `expect(spy.method)` hands a mock to vitest, which never calls it with a lost `this`.
    files: ['src/__tests__/**'],
    rules: { '@typescript-eslint/unbound-method': 'off' }
  },
  {
    // Node scripts and this config file.
    files: ['**/*.mjs'],
    languageOptions: { globals: globals.node }
  }
);
