// Kept in its own file (no inline script) so the content security policy can forbid inline code.
import { initAll } from "./govuk-frontend.min.js";

initAll();

// A placement's home list follows the chosen contract: only that contract's homes are offered
// (none for a spot purchase, which gives the URN). Without this script every home is listed.
function followContract(contract, home) {
  const show = () => {
    for (const option of home.options) {
      if (option.dataset.contract) {
        option.hidden = option.disabled = option.dataset.contract !== contract.value;
      }
    }
    if (home.selectedOptions[0] && home.selectedOptions[0].disabled) {
      home.value = "";
    }
  };
  contract.addEventListener("change", show);
  show();
}

const contract = document.getElementById("contract_ref");
const home = document.getElementById("home");
if (contract && home) {
  followContract(contract, home);
}
