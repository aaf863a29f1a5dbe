// One's own API tokens: make one (its secret is shown here once, never again: only its hash is
// stored) and revoke one; each through /workspace/tokens… with the CSRF header, audited on the server.
import { postJSON, showError, clearErrors, showMadeToken } from "/static/workspace/common.mjs";

document.getElementById("sg-add-token")?.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  clearErrors();
  const f = ev.currentTarget;
  const button = f.querySelector("button[type=submit]");
  button.disabled = true;
  try {
    const done = await postJSON("/workspace/tokens", {
      label: f.elements.label.value, days: Number(f.elements.days.value), role: f.elements.role.value || null,
    });
    showMadeToken(done);
    f.reset();
  } catch (err) {
    showError(err);
  } finally {
    button.disabled = false;
  }
});

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
