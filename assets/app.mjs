// Kept in its own file (no inline script) so the content security policy can forbid inline code.
import { initAll } from "./govuk-frontend.min.js";

initAll();
