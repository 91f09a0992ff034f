// Builds consortium/static/ from assets/ and the govuk-frontend package. Run by `make install`.
import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import * as sass from "sass";

const out = "consortium/static";
mkdirSync(out, { recursive: true });

const css = sass.compile("assets/app.scss", {
  loadPaths: ["node_modules"],
  style: "compressed",
  quietDeps: true,
  silenceDeprecations: ["import", "global-builtin", "mixed-decls"],
});
writeFileSync(`${out}/app.css`, css.css);
copyFileSync("node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.js", `${out}/govuk-frontend.min.js`);
copyFileSync("assets/app.mjs", `${out}/app.mjs`);
console.log(`built ${out}/app.css (${css.css.length} bytes)`);
