// Small progressive enhancements; every page works without this file.
// A copy button that submits a form (the share tools) copies, then posts that form in the
// background so the server records the share; without script the form posts normally.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  const text = document.querySelector(button.dataset.copy)?.value;
  if (text && navigator.clipboard) {
    if (button.form && button.type === "submit") {
      event.preventDefault();
      const body = new FormData(button.form);
      if (button.name) body.append(button.name, button.value);
      fetch(button.form.action, { method: "POST", body, credentials: "same-origin",
                                  headers: { "X-Requested-With": "fetch" } });
    }
    navigator.clipboard.writeText(text).then(() => { button.textContent = button.dataset.copied || "Copied"; });
  }
});
document.addEventListener("submit", (event) => {
  const message = event.target.dataset.confirm;
  if (message && !window.confirm(message)) event.preventDefault();
});
// Wide screens show the header's links (CSS, through ::details-content); a browser without that
// selector gets them by the menu being opened while the screen is wide.
(() => {
  const menu = document.querySelector("details.menu");
  if (!menu || (window.CSS && CSS.supports("selector(::details-content)"))) return;
  const wide = window.matchMedia("(min-width: 64rem)");
  const follow = () => { menu.open = wide.matches; };
  follow();
  wide.addEventListener("change", follow);
})();
