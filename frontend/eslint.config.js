// ESLint flat config: typescript-eslint (type-aware), the Rules of React (react-hooks) and Vite's
// fast-refresh boundary rule. `npm run lint` runs it with --max-warnings=0.
import js from "@eslint/js";
import reactHooks from "eslint-plugin-react-hooks";
import { reactRefresh } from "eslint-plugin-react-refresh";
import globals from "globals";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist", "node_modules", "coverage", "src/testing/fixtures"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ["**/*.{ts,tsx}"],
    languageOptions: {
      ecmaVersion: 2022,
      globals: { ...globals.browser },
    },
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": "error",
      "no-console": ["error", { allow: ["warn", "error"] }],
      eqeqeq: ["error", "smart"],
    },
  },
  {
    files: ["src/**/*.{ts,tsx}"],
    ...reactHooks.configs.flat.recommended,
  },
  {
    files: ["src/**/*.tsx"],
    ...reactRefresh.configs.vite(),
  },
  {
    // The registry maps kinds to lazy components; it has no component of its own to refresh.
    files: ["src/tasks/registry.tsx"],
    rules: { "react-refresh/only-export-components": "off" },
  },
  {
    files: ["vite.config.ts", "eslint.config.js", "scripts/**/*.{js,mjs,ts}", "src/testing/**"],
    languageOptions: { globals: { ...globals.node } },
  },
);
