// One's own API tokens: make one (its secret is shown here once, never again: only its hash is
// stored) and revoke one; each through /workspace/tokens… with the CSRF header, audited on the server.
import { postJSON, showError, clearErrors } from "/static/workspace/common.mjs";

const made = document.getElementById("sg-token-made");

document.getElementById("sg-add-token")?.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  clearErrors();
  const f = ev.currentTarget;
  const button = f.querySelector("button[type=submit]");
  button.disabled = true;
  try {
    const done = await postJSON("/workspace/tokens", { label: f.elements.label.value });
    document.getElementById("sg-token-secret").textContent = done.token;
    made.dataset.prefix = done.prefix;
    made.hidden = false;
    f.reset();
  } catch (err) {
    showError(err);
  } finally {
    button.disabled = false;
  }
});
// the secret leaves the page when the person says they copied it (the list then shows the new token)
document.getElementById("sg-token-done")?.addEventListener("click", () => location.reload());

for (const b of document.querySelectorAll("#sg-tokens [data-revoke]")) {
  b.addEventListener("click", async () => {
    clearErrors();
    b.disabled = true;
    try {
      await postJSON(`/workspace/tokens/${encodeURIComponent(b.dataset.revoke)}/revoke`, {});
      location.reload();
    } catch (err) {
      showError(err);
      b.disabled = false;
    }
  });
}
