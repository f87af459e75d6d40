// Compiles the stylesheet and copies GOV.UK Frontend's script and images into
// marketplace/static/build, the only place the app serves front-end files from.
import { cpSync, mkdirSync, rmSync } from "node:fs";
import { execFileSync } from "node:child_process";

const out = "marketplace/static/build";
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
execFileSync(
  "node_modules/.bin/sass",
  ["--no-source-map", "--style=compressed", "--quiet-deps", "--load-path=node_modules",
   "marketplace/assets/app.scss", `${out}/app.css`],
  { stdio: "inherit" },
);
cpSync("node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.js", `${out}/govuk-frontend.min.js`);
mkdirSync(`${out}/images`, { recursive: true });
for (const name of ["favicon.ico", "favicon.svg"]) {
  cpSync(`node_modules/govuk-frontend/dist/govuk/assets/images/${name}`, `${out}/images/${name}`);
}
console.log(`assets built in ${out}`);
